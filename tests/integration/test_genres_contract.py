"""Get Song Genres and Get Song Genre Count (issue 16), through the handlers, on moto and on DynamoDB Local.

Every filter of the songs list (``test_songs_contract.FILTERS``), in both orders, paged 2 at a time to
the end and one page past it, must answer exactly the genres the oracle ranks
(``catalog_data.expected_genres``: by how many selected songs carry each, ties by name), and the genre
count their number. The shapes counters answer read no entry and at most the scope's genres + 1 items.
"""

import json
from collections.abc import Iterator

import pytest

from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.integration.test_songs_contract import FILTERS
from tests.support import catalog_data
from tests.support.api_client import CALLER, InProcessApi
from tests.support.backends import BACKENDS, table_on
from tests.support.stream_feed import drain

OWNERS, SONGS = catalog_data.build()
GENRES, GENRE_COUNT = "/v1/songs/genres", "/v1/songs/genres/count"
PAGE = 2


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[InProcessApi]:
    with table_on(request.param, request) as (client, name), pytest.MonkeyPatch.context() as patch:
        report = import_lines(CatalogWriter(client, name), [json.dumps(r) for r in OWNERS + SONGS], progress=False)
        assert not report.rejected
        drain(client, name)
        yield InProcessApi(client, name, patch)


def all_pages(api: InProcessApi, params: dict[str, str]) -> list[str]:
    """Every page of ``PAGE`` genres, and the page after the last one, which must be empty."""
    names, offset = [], 0
    while True:
        answer = api.get(GENRES, {**params, "offset": str(offset), "limit": str(PAGE)})
        assert answer.status == 200, answer.body
        names += answer.body
        if len(answer.body) < PAGE:
            past = api.get(GENRES, {**params, "offset": str(offset + PAGE), "limit": str(PAGE)})
            assert (past.status, past.body) == (200, [])
            return names
        offset += PAGE


def test_the_oracle_ranks_by_count_then_name_and_the_catalog_has_ties() -> None:
    counts = catalog_data.genre_counts(OWNERS, SONGS, {})
    ranked = catalog_data.expected_genres(OWNERS, SONGS, {})
    assert [counts[genre] for genre in ranked] == sorted(counts.values(), reverse=True)
    tied = [genre for genre in ranked if list(counts.values()).count(counts[genre]) > 1]
    assert tied == sorted(tied) and len(tied) >= 2, "a tie, so the tie-break is tested both ways"
    assert catalog_data.expected_genres(OWNERS, SONGS, {"sortOrder": "asc"}) == sorted(counts, key=lambda g: (counts[g], g))


@pytest.mark.parametrize("order", [None, "asc", "desc"])
@pytest.mark.parametrize("name", FILTERS)
def test_genres_of_every_filter_paged_to_the_end_and_their_count(api: InProcessApi, name: str, order: str | None) -> None:
    params = {key: value for key, value in FILTERS[name].items() if key != "sortOrder"}
    if order:
        params["sortOrder"] = order
    want = catalog_data.expected_genres(OWNERS, SONGS, params, CALLER)
    assert all_pages(api, params) == want
    whole = api.get(GENRES, {**params, "limit": "100"})
    assert whole.body == want, "one page or many, the same order"
    assert api.get(GENRE_COUNT, params).body == {"count": len(want)}


def test_a_genres_filter_selects_songs_and_answers_every_genre_they_carry(api: InProcessApi) -> None:
    answer = api.get(GENRES, {"genres": "Jazz"})
    carried = {genre for song in SONGS if "Jazz" in song["genres"] and not song["archived"] for genre in song["genres"]}
    assert answer.body[0] == "Jazz" and set(answer.body) == carried == {"Jazz", "Pop"}
    assert api.get(GENRES, {"genres": "Jazz", "sortOrder": "asc"}).body[-1] == "Jazz"


def test_counters_answer_each_facet_alone_reading_at_most_the_scopes_genres_plus_one_items(api: InProcessApi) -> None:
    scope = {
        "false": catalog_data.genre_counts(OWNERS, SONGS, {}),
        "true": catalog_data.genre_counts(OWNERS, SONGS, {"archived": "true"}),
    }
    for params in ({}, {"archived": "true"}, {"genres": "Pop"}, {"genres": "Rock"}, {"genres": "pop", "archived": "true"},
                   {"moods": "Calm"}, {"mintingStatuses": "Minted"}, {"ownerIds": catalog_data.NAMED}, {"ownerIds": "me"}):  # fmt: skip
        bound = len(scope[params.get("archived", "false")]) + 1
        for route in (GENRES, GENRE_COUNT):
            answer = api.get(route, params)
            assert answer.status == 200, answer.body
            meter = answer.meter
            assert (meter.entries, meter.records) == (0, 0) and 1 <= meter.items <= bound, (route, params, meter)
    assert api.get(GENRES).meter.items == 1, "no filter: the scope's with item alone"
    assert api.get(GENRES, {"mintingStatuses": "Minted"}).meter.items == 2, "a status: and its with item"


def test_an_empty_page_reads_nothing_and_an_offset_past_the_end_is_empty(api: InProcessApi) -> None:
    empty = api.get(GENRES, {"limit": "0", "moods": "Calm"})
    assert (empty.status, empty.body, empty.meter.items) == (200, [], 0)
    assert api.get(GENRES, {"offset": "10000"}).body == []
    assert api.get(GENRE_COUNT, {"offset": "-1", "limit": "x"}).body == {"count": 4}, "the count ignores paging"


@pytest.mark.parametrize("route", [GENRES, GENRE_COUNT])
@pytest.mark.parametrize(
    ("params", "cause"),
    [({"ids": "123456789"}, "Invalid UUID string: 123456789"), ({"ownerIds": "-nope"}, "Invalid UUID string: nope"),
     ({"sortOrder": "most"}, "Invalid value for parameter 'sortOrder': 'most' is not one of asc, desc"),
     ({"archived": ""}, "Invalid value for parameter 'archived': '' is not one of true, false"),
     ({"mintingStatuses": "Bogus"}, "Invalid value for parameter 'mintingStatuses': 'Bogus' is not a minting status"),
     ({"newerThan": "x"}, "Invalid value for parameter 'newerThan': 'x' is not an ISO-8601 date-time")],
)  # fmt: skip
def test_bad_input_is_422_as_on_the_songs_list(api: InProcessApi, route: str, params: dict, cause: str) -> None:
    answer = api.get(route, params)
    assert (answer.status, answer.body) == (422, {"code": 422, "description": "Unprocessable Entity", "cause": cause})


@pytest.mark.parametrize("params", [{"offset": "-1"}, {"limit": "101"}, {"limit": ""}])
def test_bad_paging_is_422_on_the_list(api: InProcessApi, params: dict) -> None:
    answer = api.get(GENRES, params)
    assert answer.status == 422 and f"'{next(iter(params))}'" in answer.body["cause"]


def test_me_without_an_authenticated_caller_is_401(api: InProcessApi) -> None:
    for route in (GENRES, GENRE_COUNT):
        answer = api.get(route, {"ownerIds": "me"}, caller=None)
        assert (answer.status, answer.body["cause"]) == (401, "'me' needs an authenticated caller")


def test_the_etag_is_the_bodys_and_if_none_match_gets_304(api: InProcessApi) -> None:
    first = api.get(GENRES, {"moods": "Calm"})
    same = api.get(GENRES, {"moods": "Calm", "limit": "25"})
    other = api.get(GENRES, {"moods": "Upbeat"})
    assert first.headers["ETag"] == same.headers["ETag"] != other.headers["ETag"]
    held = api.get(GENRES, {"moods": "Calm"}, headers={"if-none-match": f"W/{first.headers['ETag']}"})
    assert (held.status, held.body, held.headers["ETag"]) == (304, None, first.headers["ETag"])
