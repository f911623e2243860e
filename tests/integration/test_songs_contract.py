"""The Get Songs / Get Song Count contract, through the handlers, on moto and on DynamoDB Local.

Modelled on the reference server's route tests: every filter, paged 5 at a time in both sort
orders, must return exactly the songs the contract selects (``catalog_data.expected``).
"""

from collections import Counter
from collections.abc import Iterator

import pytest

from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.support import catalog_data
from tests.support.api_client import CALLER, InProcessApi, follow_links
from tests.support.backends import BACKENDS, table_on
from tests.support.stream_feed import drain

OWNERS, SONGS = catalog_data.build()
BY_ID = {song["id"]: song for song in SONGS}
PAGE = 5
A, B = SONGS[1]["id"], SONGS[2]["id"]
ARCHIVED = next(song["id"] for song in SONGS if song["archived"])


def _lines(records: list[dict]) -> list[str]:
    import json

    return [json.dumps(record) for record in records]


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[InProcessApi]:
    with table_on(request.param, request) as (client, name), pytest.MonkeyPatch.context() as patch:
        report = import_lines(CatalogWriter(client, name), _lines(OWNERS + SONGS), progress=False)
        assert not report.rejected
        drain(client, name)
        yield InProcessApi(client, name, patch)


def all_pages(api: InProcessApi, params: dict[str, str], caller: str = CALLER) -> list[str]:
    ids, offset = [], 0
    while True:
        answer = api.get("/v1/songs", {**params, "offset": str(offset), "limit": str(PAGE)}, caller)
        assert answer.status == 200, answer.body
        assert len(answer.body) <= PAGE
        ids += [song["id"] for song in answer.body]
        if len(answer.body) < PAGE:
            return ids
        offset += PAGE


FILTERS = {
    "default": {},
    "archived explicit false": {"archived": "false"},
    "archived true": {"archived": "TRUE"},
    "ids include": {"ids": f"{A},{B},{ARCHIVED}"},
    "ids exclude": {"ids": f"-{A}, -{B}"},
    "ids include and exclude": {"ids": f"{A},+{B},-{B}"},
    "ownerIds include": {"ownerIds": catalog_data.NAMED},
    "ownerIds several": {"ownerIds": f"{catalog_data.NAMED},{catalog_data.BOTH}"},
    "ownerIds exclude": {"ownerIds": f"-{catalog_data.NICK}"},
    "ownerIds me": {"ownerIds": "me"},
    "ownerIds -me": {"ownerIds": "-me"},
    "genres include": {"genres": "Pop"},
    "genres case-sensitive": {"genres": "pop"},
    "genres several": {"genres": "Rock,+Jazz"},
    "genres exclude": {"genres": "-Pop"},
    "genres include and exclude": {"genres": "Pop,-Rock"},
    "genres same value both ways": {"genres": "Pop,-Pop"},
    "genres empty item": {"genres": ""},
    "moods include": {"moods": "Calm"},
    "moods exclude keeps songs without moods": {"moods": "-Calm"},
    "mintingStatuses include": {"mintingStatuses": "Minted"},
    "mintingStatuses several": {"mintingStatuses": "Minted,Pending"},
    "mintingStatuses exclude": {"mintingStatuses": "-Minted,-Released"},
    "olderThan newest": {"olderThan": max(song["createdAt"] for song in SONGS if not song["archived"])},
    "newerThan oldest": {"newerThan": min(song["createdAt"] for song in SONGS if not song["archived"])},
    "time window": {"newerThan": SONGS[5]["createdAt"], "olderThan": SONGS[25]["createdAt"]},
    "combination": {"genres": "Pop,Jazz", "moods": "-Upbeat", "ownerIds": f"-{catalog_data.NICK}"},
    "everything": {"genres": "-Rock", "mintingStatuses": "Minted,Pending,Distributed,Released",
                   "newerThan": SONGS[2]["createdAt"], "phrase": "song"},
}  # fmt: skip


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("name", FILTERS)
def test_pages_of_five_return_exactly_the_selected_songs(api: InProcessApi, name: str, order: str) -> None:
    params = {**FILTERS[name], "sortOrder": order}
    want = catalog_data.expected(OWNERS, SONGS, params, CALLER)
    assert all_pages(api, params) == want
    if name not in ("genres same value both ways", "genres empty item", "genres case-sensitive"):
        assert want, "a filter case that selects nothing proves little"


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("name", FILTERS)
def test_following_next_links_returns_exactly_the_selected_songs(api: InProcessApi, name: str, order: str) -> None:
    params = {**FILTERS[name], "sortOrder": order, "limit": str(PAGE)}
    pages = follow_links(api, "/v1/songs", params)
    assert [song["id"] for answer in pages for song in answer.body] == catalog_data.expected(OWNERS, SONGS, params, CALLER)
    assert all(len(answer.body) == PAGE for answer in pages[:-1])


def test_the_oracle_agrees_on_a_few_hand_checked_facts() -> None:
    default = catalog_data.expected(OWNERS, SONGS, {})
    assert all(not BY_ID[song_id]["archived"] for song_id in default)
    assert [BY_ID[i]["createdAt"] for i in default] == sorted(BY_ID[i]["createdAt"] for i in default)
    assert catalog_data.expected(OWNERS, SONGS, {"genres": "Pop,-Pop"}) == []


@pytest.mark.parametrize(
    ("name", "ids"),
    [("title", [0]), ("description", [5]), ("album", [9]), ("nftName", [13]),
     ("owner nickname", [30]), ("owner first name", [31]), ("owner last name", [32])],
)  # fmt: skip
def test_phrase_finds_each_searchable_field_case_insensitively(api: InProcessApi, name: str, ids: list[int]) -> None:
    found = set(all_pages(api, {"phrase": "zEbRa"}))
    assert {SONGS[number]["id"] for number in ids} <= found
    assert SONGS[33]["id"] not in found, "names are not searched when the owner has a nickname"
    assert found == set(catalog_data.expected(OWNERS, SONGS, {"phrase": "zebra"}))


def test_phrase_matches_the_full_name_and_literally(api: InProcessApi) -> None:
    full_name = set(all_pages(api, {"phrase": "maria lopez"}))
    assert full_name and all(BY_ID[i]["ownerId"] == catalog_data.NAMED for i in full_name)
    assert all_pages(api, {"phrase": "%"}) == [] and all_pages(api, {"phrase": "s_ng"}) == []


def test_ties_in_created_at_are_ordered_by_id_in_both_directions(api: InProcessApi) -> None:
    tied = sorted([SONGS[20]["id"], SONGS[21]["id"]])
    ascending = all_pages(api, {})
    descending = all_pages(api, {"sortOrder": "desc"})
    assert ascending.index(tied[0]) + 1 == ascending.index(tied[1])
    assert descending == ascending[::-1]


def test_count_takes_every_filter(api: InProcessApi) -> None:
    for params in FILTERS.values():
        answer = api.get("/v1/songs/count", params)
        assert answer.status == 200
        assert answer.body == {"count": len(catalog_data.expected(OWNERS, SONGS, params, CALLER))}, params


@pytest.mark.parametrize("others", [{}, {"genres": "Pop"}, {"genres": "Pop,Jazz"}, {"ids": f"{A},{B}"}, {"phrase": "song"}])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_an_empty_or_inverted_time_window_matches_nothing(api: InProcessApi, others: dict, order: str) -> None:
    # Found by the schemathesis run (tests/e2e/test_fuzz.py): newerThan after olderThan was a DynamoDB
    # ValidationException (BETWEEN with its bounds reversed), answered 500.
    early, late = SONGS[5]["createdAt"], SONGS[25]["createdAt"]
    for window in ({"newerThan": late, "olderThan": early}, {"newerThan": early, "olderThan": early}):
        params = {**others, **window, "sortOrder": order}
        page = api.get("/v1/songs", params)
        assert (page.status, page.body, page.headers.get("Link")) == (200, [], None)
        assert api.get("/v1/songs/count", params).body == {"count": 0}
        assert api.get("/v1/songs/random", params).status == 404
        assert catalog_data.expected(OWNERS, SONGS, params, CALLER) == []


def test_count_ignores_paging(api: InProcessApi) -> None:
    assert api.get("/v1/songs/count", {"limit": "1", "offset": "3"}).body == api.get("/v1/songs/count").body


def test_get_returns_the_song_as_the_contract_spells_it(api: InProcessApi) -> None:
    song = SONGS[4]  # has album, track, duration, language; no moods key at all? (4 % 5 == 4: [])
    answer = api.get(f"/v1/songs/{song['id'].upper()}")
    assert answer.status == 200
    expected = {key: value for key, value in song.items() if key != "kind"}
    assert answer.body == expected
    assert list(answer.body)[:5] == ["id", "archived", "ownerId", "createdAt", "title"]
    assert answer.meter.items == 1


def test_get_finds_archived_songs(api: InProcessApi) -> None:
    assert api.get(f"/v1/songs/{ARCHIVED}").body["archived"] is True


def test_get_unknown_is_404_in_the_error_shape(api: InProcessApi) -> None:
    unknown = "00000000-0000-4000-8000-00000000dead"
    answer = api.get(f"/v1/songs/{unknown}")
    assert answer.status == 404
    assert answer.body == {"code": 404, "description": "Not Found", "cause": f"Entity with id {unknown} not found"}


@pytest.mark.parametrize("path", ["/v1/songs/123456789", "/v1/songs?ids=123456789", "/v1/songs/count?ownerIds=123456789",
                                  "/v1/songs/random?ids=123456789"])  # fmt: skip
def test_malformed_uuid_anywhere_is_the_contract_422(api: InProcessApi, path: str) -> None:
    route, _, query = path.partition("?")
    answer = api.get(route, dict([query.split("=")]) if query else None)
    assert answer.status == 422
    assert answer.body == {"code": 422, "description": "Unprocessable Entity", "cause": "Invalid UUID string: 123456789"}


@pytest.mark.parametrize(
    ("route", "name", "value"),
    [("/v1/songs", "offset", "-1"), ("/v1/songs", "offset", "abc"), ("/v1/songs", "limit", "1000"),
     ("/v1/songs", "limit", "2.5"), ("/v1/songs", "sortOrder", "newest"), ("/v1/songs", "archived", "maybe"),
     ("/v1/songs", "olderThan", "last week"), ("/v1/songs", "newerThan", "2022-02-30"),
     ("/v1/songs", "mintingStatuses", "Bogus"), ("/v1/songs/count", "archived", "2"),
     ("/v1/songs/count", "newerThan", "x"), ("/v1/songs/random", "mintingStatuses", "-nope")],
)  # fmt: skip
def test_bad_input_is_a_4xx_naming_the_parameter(api: InProcessApi, route: str, name: str, value: str) -> None:
    answer = api.get(route, {name: value})
    assert 400 <= answer.status < 500
    assert set(answer.body) == {"code", "description", "cause"}
    assert answer.body["code"] == answer.status and f"'{name}'" in answer.body["cause"]


def test_me_without_an_authenticated_caller_is_401(api: InProcessApi) -> None:
    answer = api.get("/v1/songs", {"ownerIds": "me"}, caller=None)
    assert answer.status == 401 and answer.body["code"] == 401


def test_random_is_uniform_over_a_small_filtered_set(api: InProcessApi) -> None:
    params = {"genres": "Jazz"}
    pool = set(catalog_data.expected(OWNERS, SONGS, params))
    draws = Counter(api.get("/v1/songs/random", params).body["id"] for _ in range(60 * len(pool)))
    assert set(draws) == pool
    # chi-square with len(pool) - 1 degrees of freedom; 30 is beyond the 0.999 quantile for <= 10
    expected_each = 60
    chi_square = sum((draws[song_id] - expected_each) ** 2 / expected_each for song_id in pool)
    assert chi_square < 30, draws


@pytest.mark.parametrize(
    "params",
    [
        {"genres": "Pop,Rock", "moods": "Calm"},
        {"genres": "Pop,Rock", "moods": "Calm,Upbeat"},
        {"genres": "Pop,Rock", "mintingStatuses": "Minted"},
    ],
)
def test_random_is_uniform_when_counters_choose_which_facet_drives(api: InProcessApi, params: dict[str, str]) -> None:
    """Two facets include values: their counters choose the driving partitions, several of them (a song
    in two of them is drawn through either: the moods drive the second case, 25 postings against 26),
    and every match stays equally likely."""
    pool = set(catalog_data.expected(OWNERS, SONGS, params))
    assert 2 <= len(pool) <= 12
    draws = Counter(api.get("/v1/songs/random", params).body["id"] for _ in range(60 * len(pool)))
    assert set(draws) == pool
    chi_square = sum((draws[song_id] - 60) ** 2 / 60 for song_id in pool)
    assert chi_square < 32, draws  # beyond the 0.999 quantile for <= 11 degrees of freedom (31.3)


def test_random_with_filters_that_need_rejection_stays_within_the_filters(api: InProcessApi) -> None:
    params = {"genres": "Pop,Rock", "moods": "-Calm", "ownerIds": f"-{catalog_data.NICK}"}
    pool = set(catalog_data.expected(OWNERS, SONGS, params))
    draws = Counter(api.get("/v1/songs/random", params).body["id"] for _ in range(40 * len(pool)))
    assert set(draws) == pool


def test_random_with_no_match_is_404(api: InProcessApi) -> None:
    answer = api.get("/v1/songs/random", {"genres": "Polka"})
    assert answer.status == 404 and answer.body["code"] == 404


def test_random_returns_archived_songs_only_when_asked(api: InProcessApi) -> None:
    for _ in range(20):
        assert api.get("/v1/songs/random", {"archived": "true"}).body["archived"] is True
        assert api.get("/v1/songs/random").body["archived"] is False
