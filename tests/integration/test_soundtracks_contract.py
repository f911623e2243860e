"""The soundtracks resource through the handlers, on moto and DynamoDB Local, against a plain-Python oracle."""

import json
import math
from collections import Counter
from collections.abc import Iterator

import pytest

from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.support import soundtrack_data
from tests.support.api_client import InProcessApi, follow_links
from tests.support.backends import BACKENDS, table_on
from tests.support.stream_feed import drain

RECORDS = soundtrack_data.build()
BY_ID = {record["uuid"]: record for record in RECORDS}
LIST, COUNT, RANDOM = "/api/v1/soundtracks", "/api/v1/soundtracks/count", "/api/v1/soundtracks/random"


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[InProcessApi]:
    with table_on(request.param, request) as (client, name), pytest.MonkeyPatch.context() as patch:
        report = import_lines(CatalogWriter(client, name), [json.dumps(r) for r in RECORDS], progress=False)
        assert not report.rejected
        drain(client, name)
        yield InProcessApi(client, name, patch)


def all_pages(api: InProcessApi, params: dict[str, str], size: int = 5) -> list[str]:
    """Every page in turn, checking the paging headers of each."""
    ids, number = [], 1
    while True:
        answer = api.get(LIST, {**params, "page": str(number), "size": str(size)})
        assert answer.status == 200, answer.body
        total = int(answer.headers["X-Pagination-Item-Total"])
        assert answer.headers["X-Pagination-Page-Index"] == str(number)
        assert answer.headers["X-Pagination-Page-Size"] == str(len(answer.body))
        assert answer.headers["X-Pagination-Page-Total"] == str(math.ceil(total / size))
        ids += [item["uuid"] for item in answer.body]
        if not answer.body:
            assert len(ids) == total
            return ids
        number += 1


def eq(field, value):
    return lambda r: r.get(field) == value


FILTERS = {
    "name": ({"name": "Track 03"}, eq("name", "Track 03")),
    "name contains": ({"name": "*Reprise"}, lambda r: "Reprise" in r["name"]),
    "name not contains": ({"name": "!*Reprise"}, lambda r: "Reprise" not in r["name"]),
    "name not equal": ({"name": "!Track 01"}, lambda r: r["name"] != "Track 01"),
    "artist case-sensitive": ({"artist": "hildur"}, eq("artist", "hildur")),
    "artist in": ({"artist": ":Hildur,Ólafur"}, lambda r: r.get("artist") in ("Hildur", "Ólafur")),
    "artist not in": ({"artist": "!:Hildur,Ramin"}, lambda r: r.get("artist") not in ("Hildur", "Ramin")),
    "album": ({"album": "Westworld"}, eq("album", "Westworld")),
    "album contains": ({"album": "*Season"}, lambda r: "Season" in (r.get("album") or "")),
    "duration": ({"duration": "150000"}, eq("duration", 150_000)),
    "duration greater": ({"duration": ">180000"}, lambda r: r.get("duration") is not None and r["duration"] > 180_000),
    "duration at least": ({"duration": ">=180000"}, lambda r: r.get("duration") is not None and r["duration"] >= 180_000),
    "duration less": ({"duration": "<150000"}, lambda r: r.get("duration") is not None and r["duration"] < 150_000),
    "duration at most": ({"duration": "<=150000"}, lambda r: r.get("duration") is not None and r["duration"] <= 150_000),
    "duration between": ({"duration": "150000::210000"},
                         lambda r: r.get("duration") is not None and 150_000 <= r["duration"] <= 210_000),
    "duration in": ({"duration": ":120000,270000"}, lambda r: r.get("duration") in (120_000, 270_000)),
    "duration not equal": ({"duration": "!120000"}, lambda r: r.get("duration") != 120_000),
    "release_date": ({"release_date": "2019-02-15"}, eq("release_date", "2019-02-15")),
    "release_date after": ({"release_date": ">2020-01-01"}, lambda r: (r.get("release_date") or "") > "2020-01-01"),
    "release_date between": ({"release_date": "2019-01-01::2020-12-31"},
                             lambda r: "2019-01-01" <= (r.get("release_date") or "0") <= "2020-12-31"),
    "combined": ({"artist": "Hildur", "duration": ">=150000", "name": "!*Reprise"},
                 lambda r: r.get("artist") == "Hildur" and (r.get("duration") or 0) >= 150_000 and "Reprise" not in r["name"]),
    "empty value ignored": ({"name": "", "unknown": "x"}, lambda r: True),
}  # fmt: skip


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_and_operator_pages_exactly_the_matching_soundtracks(api: InProcessApi, name: str) -> None:
    params, predicate = FILTERS[name]
    want = soundtrack_data.expected(RECORDS, predicate)
    assert want, "a filter case that selects nothing proves little"
    assert all_pages(api, params) == want
    assert api.get(COUNT, params).body == {"count": len(want)}


@pytest.mark.parametrize("sort", ["created_at", "name,desc", "duration"])
@pytest.mark.parametrize("name", ["album", "duration between", "name contains", "artist not in"])
def test_following_next_links_pages_like_page_numbers(api: InProcessApi, name: str, sort: str) -> None:
    params, _ = FILTERS[name]
    pages = follow_links(api, LIST, {**params, "sort": sort, "size": "4"})
    assert [item["uuid"] for answer in pages for item in answer.body] == all_pages(api, {**params, "sort": sort}, 4)
    for number, answer in enumerate(pages, start=1):
        assert answer.headers["X-Pagination-Page-Index"] == str(number)
        assert answer.headers["X-Pagination-Item-Total"] == pages[0].headers["X-Pagination-Item-Total"]


SORTS = ["created_at", "updated_at", "name", "duration", "artist", "album", "release_date"]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_field_in_both_directions_and_both_syntaxes(api: InProcessApi, sort: str, descending: bool) -> None:
    want = soundtrack_data.expected(RECORDS, lambda r: True, sort, descending)
    direction = "desc" if descending else "asc"
    assert all_pages(api, {"sort": sort, "order": direction}) == want
    assert all_pages(api, {"sort": f"{sort},{direction.upper()}"}, size=20) == want


def test_a_filter_with_another_sort_order(api: InProcessApi) -> None:
    want = soundtrack_data.expected(RECORDS, lambda r: r.get("artist") == "Ramin", "duration", True)
    assert all_pages(api, {"artist": "Ramin", "sort": "duration,desc"}, size=3) == want


def test_default_order_is_created_at_ascending_with_ties_by_uuid(api: InProcessApi) -> None:
    ids = all_pages(api, {})
    assert ids == soundtrack_data.expected(RECORDS, lambda r: True)
    tied = sorted(soundtrack_data.soundtrack_id(n) for n in (6, 7))
    assert ids.index(tied[0]) + 1 == ids.index(tied[1])


def test_paging_defaults_clamp_and_past_the_end(api: InProcessApi) -> None:
    default = api.get(LIST)
    assert len(default.body) == 10 and default.headers["X-Pagination-Page-Index"] == "1"
    clamped = api.get(LIST, {"size": "50"})
    assert len(clamped.body) == 20 and clamped.headers["X-Pagination-Page-Total"] == str(math.ceil(len(RECORDS) / 20))
    last = api.get(LIST, {"size": "20", "page": "2"})
    assert len(last.body) == len(RECORDS) - 20 and last.headers["X-Pagination-Page-Size"] == str(len(RECORDS) - 20)
    assert len(api.get(LIST, {"size": "9999999999"}).body) == 20
    assert api.get(LIST, {"page": "99999999999"}).body == []
    past = api.get(LIST, {"size": "20", "page": "9"})
    assert past.body == []
    assert past.headers["X-Pagination-Page-Index"] == "9" and past.headers["X-Pagination-Page-Size"] == "0"
    assert past.headers["X-Pagination-Item-Total"] == str(len(RECORDS))


def test_soundtrack_json_is_snake_case_with_its_own_href(api: InProcessApi) -> None:
    record = RECORDS[0]
    answer = api.get(f"{LIST}/{record['uuid'].upper()}")
    assert answer.status == 200 and answer.meter.items == 1
    expected = {key: value for key, value in record.items() if key != "kind"}
    expected["href"] = f"/api/v1/soundtracks/{record['uuid']}"
    assert answer.body == expected
    assert list(answer.body)[:3] == ["uuid", "href", "name"]
    assert "album" not in api.get(f"{LIST}/{RECORDS[3]['uuid']}").body  # absent optional fields omitted


def test_unknown_and_malformed_ids(api: InProcessApi) -> None:
    unknown = api.get(f"{LIST}/00000000-0000-4000-8000-000000000000")
    assert unknown.status == 404 and set(unknown.body) == {"code", "description", "cause"}
    malformed = api.get(f"{LIST}/not-a-uuid")
    assert (malformed.status, malformed.body["cause"]) == (422, "Invalid UUID string: not-a-uuid")


@pytest.mark.parametrize(
    ("route", "params", "named"),
    [(LIST, {"name": ">Track"}, "name"), (LIST, {"artist": "a::b"}, "artist"), (LIST, {"duration": "abc"}, "duration"),
     (LIST, {"duration": "*12"}, "duration"), (LIST, {"release_date": "2018-13-40"}, "release_date"),
     (LIST, {"release_date": "<2018"}, "release_date"), (LIST, {"duration": "1::x"}, "duration"),
     (LIST, {"sort": "colour"}, "sort"), (LIST, {"sort": "name", "order": "sideways"}, "order"),
     (LIST, {"sort": "name,UP"}, "sort"), (LIST, {"page": "0"}, "page"), (LIST, {"page": "x"}, "page"),
     (LIST, {"size": "0"}, "size"), (LIST, {"size": "-3"}, "size"), (COUNT, {"duration": ">x"}, "duration"),
     (RANDOM, {"release_date": "yesterday"}, "release_date"), (LIST, {"release_date": "2018-W01-1"}, "release_date"),
     (LIST, {"artist": ":" + ",".join(["x"] * 101)}, "artist"),
     # Checked even where the direction in `sort` wins: the document declares its values (issue 17).
     (LIST, {"sort": "name,DESC", "order": "sideways"}, "order"), (LIST, {"size": "1" * 19}, "size"),
     (LIST, {"page": "２"}, "page"), (LIST, {"duration": "５"}, "duration")],
)  # fmt: skip
def test_bad_filters_sorts_and_pages_are_4xx_naming_the_parameter(api: InProcessApi, route, params, named) -> None:
    answer = api.get(route, params)
    assert 400 <= answer.status < 500, answer.body
    assert answer.body["code"] == answer.status and f"'{named}'" in answer.body["cause"]


def test_random_is_uniform_over_a_small_filtered_set(api: InProcessApi) -> None:
    params = {"album": "Westworld", "duration": "<=180000"}
    pool = set(
        soundtrack_data.expected(RECORDS, lambda r: r.get("album") == "Westworld" and (r.get("duration") or 10**9) <= 180_000)
    )
    draws = Counter(api.get(RANDOM, params).body["uuid"] for _ in range(60 * len(pool)))
    assert set(draws) == pool
    assert sum((draws[i] - 60) ** 2 / 60 for i in pool) < 30, draws


def test_a_range_is_counted_from_buckets_and_a_page_reads_entries_until_it_is_full(api: InProcessApi) -> None:
    params = {"duration": ">=150000"}
    matching = len(soundtrack_data.expected(RECORDS, lambda r: (r.get("duration") or 0) >= 150_000))
    counted = api.get(COUNT, params)
    assert counted.body == {"count": matching}
    # the counter item, then at most one edge item per finer level (the range is open above): no entry
    assert counted.meter.entries == 0 and counted.meter.items <= 3, counted.meter
    answer = api.get(LIST, {**params, "size": "4", "page": "2"})
    assert answer.headers["X-Pagination-Item-Total"] == str(matching)
    # the total from the same buckets, then entries in created_at order until the page is full, then its records
    assert answer.meter.items <= 3 + len(RECORDS) + len(answer.body)
    assert answer.meter.records == len(answer.body)


def test_random_reads_two_items_and_404s_when_nothing_matches(api: InProcessApi) -> None:
    for params in ({}, {"artist": "Ramin"}):
        answer = api.get(RANDOM, params)
        assert answer.status == 200 and answer.meter.items == 2
    assert api.get(RANDOM, {"artist": "Nobody"}).status == 404


@pytest.mark.parametrize("params", [{}, {"artist": "Hildur"}, {"artist": "Hildur", "sort": "duration,desc"}])
def test_a_page_with_one_exact_filter_reads_the_page_and_what_it_skips(api: InProcessApi, params: dict) -> None:
    answer = api.get(LIST, {**params, "size": "3", "page": "2"})
    assert len(answer.body) == 3
    skipped, returned = 3, 3
    if "sort" in params:  # an order without a whole-record index: compact entries (one look-ahead), then records
        expected = {"entries": skipped + returned + 1, "records": returned}
    else:  # skipped compact entries, then the page and one look-ahead as whole records in one Query
        expected = {"entries": skipped, "records": returned + 1}
    meter = answer.meter
    assert {"entries": meter.entries, "records": meter.records} == expected
    assert meter.items == 1 + meter.entries + meter.records, "and one counter item for the totals"
