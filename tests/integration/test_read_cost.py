"""Read cost is part of the contract: each request reads close to what it returns.

The store counts every item DynamoDB reads (index entries, postings, counters, records). The
catalog here is 40x the page, so bounds that hold prove reads independent of catalog size.
"""

import json
from collections.abc import Iterator

import pytest
from catalog.writer import CatalogWriter

from devtools.importer import import_lines
from devtools.sample_catalog import generate
from tests.api_client import InProcessApi
from tests.conftest import BACKENDS, table_on
from tests.stream_feed import drain

RECORDS = generate(song_count=200, owner_count=12, seed=7)
SONGS = [record for record in RECORDS if record["kind"] == "song"]
LIMIT = 5


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[InProcessApi]:
    with table_on(request.param, request) as (client, name), pytest.MonkeyPatch.context() as patch:
        import_lines(CatalogWriter(client, name), [json.dumps(record) for record in RECORDS], progress=False)
        drain(client, name)
        yield InProcessApi(client, name, patch)


def page(api: InProcessApi, **params: str):
    answer = api.get("/v1/songs", {"limit": str(LIMIT), **params})
    assert answer.status == 200 and len(answer.body) == LIMIT, "the bound is only meaningful on a full page"
    assert answer.meter.records == LIMIT, "full records are read for the page only"
    return answer


def test_get_reads_exactly_one_item(api: InProcessApi) -> None:
    assert api.get(f"/v1/songs/{SONGS[0]['id']}").meter.items == 1


@pytest.mark.parametrize("offset", [0, 20])
def test_default_page_reads_offset_plus_limit_entries_and_the_page(api: InProcessApi, offset: int) -> None:
    answer = page(api, offset=str(offset))
    assert answer.meter.items == offset + LIMIT + LIMIT


@pytest.mark.parametrize(
    ("name", "values"),
    [("genres", ["Pop"]), ("genres", ["Pop", "Rock", "Jazz"]), ("moods", ["Calm", "Dark"]),
     ("mintingStatuses", ["Minted", "Pending"])],
)  # fmt: skip
def test_include_filters_read_per_included_value_not_per_catalog(api: InProcessApi, name: str, values: list) -> None:
    answer = page(api, **{name: ",".join(values)})
    assert answer.meter.items <= len(values) * LIMIT + LIMIT


def test_owner_filter_reads_per_owner(api: InProcessApi) -> None:
    owners = sorted({song["ownerId"] for song in SONGS})[:2]
    answer = page(api, ownerIds=",".join(owners), sortOrder="desc")
    assert answer.meter.items <= len(owners) * LIMIT + LIMIT


def test_ids_filter_reads_one_small_item_per_id(api: InProcessApi) -> None:
    ids = [song["id"] for song in SONGS if not song["archived"]][:8]
    answer = page(api, ids=",".join(ids))
    assert answer.meter.items <= len(ids) + LIMIT


def test_phrase_never_reads_records_of_songs_it_does_not_return(api: InProcessApi) -> None:
    answer = api.get("/v1/songs", {"phrase": "lights", "limit": "100"})
    assert answer.status == 200 and answer.body
    assert answer.meter.records == len(answer.body)


def test_time_ranges_are_key_conditions(api: InProcessApi) -> None:
    ordered = sorted(song["createdAt"] for song in SONGS if not song["archived"])
    answer = page(api, newerThan=ordered[100])
    assert answer.meter.items == LIMIT + LIMIT


def test_counts_never_read_records(api: InProcessApi) -> None:
    assert api.get("/v1/songs/count").meter.items == 1
    assert api.get("/v1/songs/count", {"genres": "Pop"}).meter.items == 1
    assert api.get("/v1/songs/count", {"archived": "true"}).meter.items == 1
    for params in ({"genres": "Pop,Rock"}, {"moods": "-Calm"}, {"phrase": "a"}, {"newerThan": "2023-01-01"}):
        assert api.get("/v1/songs/count", params).meter.records == 0, params


@pytest.mark.parametrize("params", [{}, {"genres": "Rock"}, {"ownerIds": SONGS[0]["ownerId"]}, {"archived": "true"}])
def test_random_reads_at_most_three_items_with_no_filter_or_one_include_value(api: InProcessApi, params: dict) -> None:
    for _ in range(10):
        answer = api.get("/v1/songs/random", params)
        assert answer.status == 200
        assert answer.meter.items <= 3
