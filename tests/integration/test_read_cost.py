"""Read cost is part of the contract: each request reads close to what it returns.

The store counts every item DynamoDB reads (compact index entries, whole records, counters). The
catalog here is 40x the page, so bounds that hold prove reads independent of catalog size. These
run on DynamoDB Local, the real engine: moto reads the same items (the contract tests run on both)
but scans its whole table on every Query, which makes a catalog of this size slow to load there.
"""

import json
from collections.abc import Iterator

import pytest

from devtools.sample_catalog import generate
from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.support.api_client import InProcessApi, follow_links
from tests.support.backends import table_on
from tests.support.stream_feed import drain

RECORDS = generate(song_count=200, owner_count=12, seed=7)
SONGS = [record for record in RECORDS if record["kind"] == "song"]
LIMIT = 5


@pytest.fixture(scope="module", params=["dynamodb-local"])
def api(request: pytest.FixtureRequest) -> Iterator[InProcessApi]:
    with table_on(request.param, request) as (client, name), pytest.MonkeyPatch.context() as patch:
        import_lines(CatalogWriter(client, name), [json.dumps(record) for record in RECORDS], progress=False)
        drain(client, name)
        yield InProcessApi(client, name, patch)


def page(api: InProcessApi, **params: str):
    answer = api.get("/v1/songs", {"limit": str(LIMIT), **params})
    assert answer.status == 200 and len(answer.body) == LIMIT, "the bound is only meaningful on a full page"
    assert answer.meter.records <= LIMIT + 1, "whole records are read for the page (and one look-ahead) only"
    return answer


def test_an_empty_page_reads_nothing(api: InProcessApi) -> None:
    answer = api.get("/v1/songs", {"limit": "0", "offset": "30"})
    assert (answer.status, answer.body, answer.meter.items) == (200, [], 0)


def test_get_reads_exactly_one_item(api: InProcessApi) -> None:
    assert api.get(f"/v1/songs/{SONGS[0]['id']}").meter.items == 1


def test_default_page_is_one_query_of_the_page_and_one_look_ahead(api: InProcessApi) -> None:
    meter = page(api).meter
    assert (meter.items, meter.records) == (LIMIT + 1, LIMIT + 1)


def test_deep_offsets_skip_compact_entries_then_read_the_page(api: InProcessApi) -> None:
    meter = page(api, offset="20").meter
    assert (meter.entries, meter.records) == (20, LIMIT + 1)


@pytest.mark.parametrize("params", [{"genres": "Pop"}, {"moods": "Calm"}, {"archived": "true"}, {"sortOrder": "desc"}])
def test_one_include_value_reads_the_page_only(api: InProcessApi, params: dict) -> None:
    meter = page(api, **params).meter
    assert (meter.items, meter.records) == (LIMIT + 1, LIMIT + 1)


@pytest.mark.parametrize(
    ("name", "values"),
    [("genres", ["Pop", "Rock", "Jazz"]), ("moods", ["Calm", "Dark"]), ("mintingStatuses", ["Minted", "Pending"])],
)
def test_several_include_values_read_compact_entries_per_value_then_the_page(api: InProcessApi, name: str, values: list) -> None:
    meter = page(api, **{name: ",".join(values)}).meter
    assert meter.records == LIMIT
    assert meter.entries <= len(values) * (LIMIT + 1)


def test_owner_filter_reads_per_owner(api: InProcessApi) -> None:
    owners = sorted({song["ownerId"] for song in SONGS})[:2]
    meter = page(api, ownerIds=",".join(owners), sortOrder="desc").meter
    assert meter.records == LIMIT and meter.entries <= len(owners) * (LIMIT + 1)


def test_ids_filter_reads_one_posting_per_id_and_nothing_else(api: InProcessApi) -> None:
    ids = [song["id"] for song in SONGS if not song["archived"]][:8]
    answer = api.get("/v1/songs", {"limit": str(LIMIT), "ids": ",".join(ids)})
    assert answer.status == 200 and len(answer.body) == LIMIT
    assert (answer.meter.items, answer.meter.records) == (len(ids), len(ids)), "each posting is a whole record"


def test_phrase_never_reads_records_of_songs_it_does_not_return(api: InProcessApi) -> None:
    answer = api.get("/v1/songs", {"phrase": "lights", "limit": "100"})
    assert answer.status == 200 and answer.body
    assert answer.meter.records == len(answer.body)


def test_time_ranges_are_key_conditions(api: InProcessApi) -> None:
    ordered = sorted(song["createdAt"] for song in SONGS if not song["archived"])
    meter = page(api, newerThan=ordered[100]).meter
    assert (meter.items, meter.records) == (LIMIT + 1, LIMIT + 1), "the page from the bound on, nothing before it"
    meter = page(api, newerThan=ordered[50], olderThan=ordered[150], offset="10", sortOrder="desc").meter
    assert (meter.entries, meter.records) == (10, LIMIT + 1)


def test_counts_never_read_records(api: InProcessApi) -> None:
    for params in ({}, {"genres": "Pop"}, {"archived": "true"}, {"ownerIds": SONGS[0]["ownerId"]}):
        assert api.get("/v1/songs/count", params).meter.items == 1, "one counter"
    owners = ",".join(sorted({song["ownerId"] for song in SONGS})[:3])
    for params in ({"mintingStatuses": "Minted,Pending,Released"}, {"ownerIds": owners}):
        assert api.get("/v1/songs/count", params).meter.items == 3, "single-valued: disjoint partitions, counters add up"
    for params in ({"moods": "-Calm"}, {"mintingStatuses": "-Minted"}):
        assert api.get("/v1/songs/count", params).meter.items == 2, "two counters: all minus the excluded value"
    several = api.get("/v1/songs/count", {"genres": "-Pop,-Rock", "moods": "-Calm"}).meter
    in_excluded = sum(
        1 for song in SONGS if not song["archived"] and ({"Pop", "Rock"} & set(song["genres"]) or "Calm" in song.get("moods", []))
    )
    assert several.records == 0 and several.entries <= 3 * in_excluded, "excluded partitions only, not the catalog"
    for params in ({"genres": "Pop,Rock"}, {"genres": "Pop", "moods": "-Calm"}, {"phrase": "a"}, {"newerThan": "2023-01-01"}):
        assert api.get("/v1/songs/count", params).meter.records == 0, params


@pytest.mark.parametrize("params", [{}, {"genres": "Rock"}, {"ownerIds": SONGS[0]["ownerId"]}, {"archived": "true"}])
def test_random_reads_a_counter_and_one_posting_with_no_filter_or_one_include_value(api: InProcessApi, params: dict) -> None:
    for _ in range(10):
        answer = api.get("/v1/songs/random", params)
        assert answer.status == 200
        assert answer.meter.items == 2


@pytest.mark.parametrize("params", [{}, {"sortOrder": "desc"}, {"genres": "Pop"}])
def test_a_cursor_page_costs_the_page_at_any_depth(api: InProcessApi, params: dict) -> None:
    pages = follow_links(api, "/v1/songs", {**params, "limit": str(LIMIT)})
    assert len(pages) > 3, "deep enough to tell a skip from a seek"
    for answer in pages:
        assert (answer.meter.items, answer.meter.records) == (len(answer.body) + 1, len(answer.body) + 1) or (
            answer is pages[-1] and answer.meter.items == len(answer.body)
        ), "the page and one look-ahead; the last page has nothing to look ahead to"


def test_a_filtered_cursor_page_costs_what_the_first_page_costs(api: InProcessApi) -> None:
    pages = follow_links(api, "/v1/songs", {"genres": "Pop,Rock", "moods": "-Calm", "limit": str(LIMIT)})
    assert len(pages) > 3
    for answer in pages:
        assert answer.meter.records == len(answer.body)
        assert answer.meter.entries <= 6 * (LIMIT + 1), "entries of the page's stretch, not of the pages before"


def test_two_include_facets_are_driven_by_the_smaller_partition_its_counter_says(api: InProcessApi) -> None:
    """A common mood and a rare genre: without its counters the planner would drive by the mood (the
    first facet, as many values); the counters say the genre's partition is the smaller."""
    listed = [song for song in SONGS if not song["archived"]]

    def size(field: str, value: str) -> int:
        return sum(value in song.get(field, []) for song in listed)

    common = max({m for song in listed for m in song.get("moods", [])}, key=lambda mood: size("moods", mood))
    rare = min({g for song in listed for g in song["genres"]}, key=lambda genre: size("genres", genre))
    assert size("genres", rare) < size("moods", common), "the catalog must make the choice matter"
    both = sum(rare in song["genres"] and common in song.get("moods", []) for song in listed)

    counted = api.get("/v1/songs/count", {"genres": rare, "moods": common})
    assert counted.body == {"count": both}
    assert counted.meter.records == 0 and counted.meter.entries <= size("genres", rare), "the rare genre's entries"
    assert counted.meter.items <= size("genres", rare) + 2, "and the two candidates' counters, read first"

    picked = api.get("/v1/songs/random", {"genres": rare, "moods": common})
    if both:
        assert picked.status == 200 and rare in picked.body["genres"] and common in picked.body["moods"]
