"""Counts answered from counters (``catalog.tally``): exact, and reading what the filter's values cost.

On moto and DynamoDB Local, a catalog spread over years, days and minutes (with minutes holding
several songs, so that ranges end inside busy buckets), songs of one to four genres and moods, every
minting status. After an import, a re-import that changes genres, moods, archived flags and creation
times, deletions, and a replay of the whole stream, every count of a long list of filters equals
the plain-Python oracle's (``catalog_data.expected``), and the counts the layout answers read no
entry but those of a range's edge minutes, and a bounded number of items. So do the genres of the
matching songs and their number (``catalog_data.expected_genres``), in both orders.
"""

import itertools
import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from catalog.declarations import SONGS
from devtools.local.streams import StreamFeeder, filter_patterns, streams_client
from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.support import catalog_data, soundtrack_data
from tests.support.api_client import InProcessApi
from tests.support.backends import BACKENDS, table_on
from tests.support.stream_feed import deliver_to_handler, drain

GENRES = ["Pop", "Rock", "Jazz", "Folk", "Soul", "Funk"]
MOODS = ["Calm", "Dark", "Happy", "Epic", "Tense"]
STATUSES = ["Minted", "Pending", "Released", "Distributed"]
OWNER_IDS = [f"2b000000-0000-4000-8000-{number:012d}" for number in range(6)]
OWNERS = [{"kind": "owner", "id": owner, "nickname": f"Owner {n}"} for n, owner in enumerate(OWNER_IDS)]
COUNT = "/v1/songs/count"
MAX_ITEMS = 64
"""The issue's bound on a count's reads, at any catalog size."""


def song(number: int, rng: random.Random) -> dict:
    # Spread over 2021-2024; every fifth song in one busy minute, every seventh on one busy day.
    created = datetime(2021, 1, 1) + timedelta(seconds=rng.randrange(4 * 365 * 24 * 3600), microseconds=rng.randrange(10**6))
    if number % 5 == 0:
        created = datetime(2023, 6, 15, 10, 30, rng.randrange(60), rng.randrange(10**6))
    elif number % 7 == 0:
        created = datetime(2023, 6, 15, rng.randrange(24), rng.randrange(60), rng.randrange(60))
    record = {
        "kind": "song", "id": catalog_data.song_id(1000 + number), "archived": number % 6 == 1,
        "ownerId": OWNER_IDS[number % len(OWNER_IDS)], "createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "title": f"Song {number}", "genres": rng.sample(GENRES, rng.choice([1, 1, 2, 3, 4])),
        "coverRemixSample": False, "audioEncodingStatus": "Completed", "mintingStatus": STATUSES[number % len(STATUSES)],
        "marketplaceStatus": "Selling",
    }  # fmt: skip
    moods = rng.sample(MOODS, rng.choice([0, 1, 2, 3]))
    if moods:
        record["moods"] = moods
    return record


SONG_LINES = [song(number, random.Random(number)) for number in range(140)]


def changed(songs: list[dict]) -> list[dict]:
    """Other genres, moods, archived flags and creation times for some songs."""
    out = []
    for number, record in enumerate(songs):
        record = dict(record)
        if number % 3 == 0:
            record["genres"] = [GENRES[(number // 3) % len(GENRES)]]
        if number % 4 == 0:
            record["moods"] = MOODS[: 1 + number % 3]
        if number % 5 == 0:
            record["archived"] = not record["archived"]
        if number % 8 == 0:
            record["createdAt"] = record["createdAt"].replace("2023", "2022")
        out.append(record)
    return out


def bounds(songs: list[dict]) -> list[str]:
    """Times a range may start or end at: songs' own createdAt (exclusive bounds then drop exactly that
    song), inside the busy minute and day, at year and day boundaries."""
    times = sorted(record["createdAt"] for record in songs)
    return [times[len(times) // 3], times[2 * len(times) // 3], "2023-06-15T10:30:30.000000", "2023-06-15T12:00:00.000000",
            "2022-01-01T00:00:00.000000", times[0], times[-1]]  # fmt: skip


def shapes(songs: list[dict]) -> list[tuple[dict[str, str], bool]]:
    """(filters, whether counters answer them) for a count: every kind the layout promises, and some it does not."""
    low, high, *others = bounds(songs)
    owners = ",".join(OWNER_IDS[:3])
    answered = [
        {}, {"archived": "true"}, {"genres": "Pop"}, {"moods": "Dark"}, {"mintingStatuses": "Minted,Pending,Released"},
        {"genres": "Pop,Rock"}, {"genres": "Pop,Rock,Jazz"}, {"genres": ",".join(GENRES[:5])}, {"moods": "Calm,Dark,Happy"},
        {"genres": "-Rock"}, {"genres": "-Rock,-Jazz"}, {"moods": "-Calm,-Dark", "mintingStatuses": "-Minted"},
        {"moods": "-Calm", "mintingStatuses": "-Minted,-Pending"}, {"genres": "Pop", "moods": "-Calm"},
        {"genres": "Pop", "moods": "Calm"}, {"genres": "-Pop", "moods": "-Calm"}, {"genres": "Pop,Jazz", "mintingStatuses": "Minted"},
        {"genres": "Pop,-Rock"}, {"genres": "Pop,-Pop"}, {"ownerIds": owners}, {"ownerIds": f"-{OWNER_IDS[0]}"},
        {"genres": "Pop", "archived": "true", "moods": "-Dark"}, {"genres": "No Such Genre,Pop"},
        {"newerThan": low}, {"olderThan": high}, {"newerThan": low, "olderThan": high}, {"archived": "true", "newerThan": low},
        {"mintingStatuses": "Minted,Pending,Released", "olderThan": high}, {"ownerIds": owners, "newerThan": low, "olderThan": high},
        {"genres": "Jazz", "newerThan": low}, {"moods": "Calm", "olderThan": high},
        {"ownerIds": OWNER_IDS[0], "genres": "Pop"}, {"ownerIds": f"{OWNER_IDS[0]},{OWNER_IDS[1]}", "genres": "-Pop"},
    ]  # fmt: skip
    answered += [{"newerThan": a, "olderThan": b} for a, b in itertools.permutations(others, 2)]
    enumerated = [
        {"genres": "Pop,Rock", "moods": "Calm"}, {"ownerIds": OWNER_IDS[0], "genres": "Pop,Rock"}, {"genres": "Pop,Jazz", "newerThan": low},
        {"genres": "-Pop,-Rock", "moods": "-Calm"}, {"phrase": "song 1"}, {"ids": SONG_LINES[3]["id"]},
    ]  # fmt: skip
    return [(params, True) for params in answered] + [(params, False) for params in enumerated]


def assert_counts_exact(api: InProcessApi, songs: list[dict]) -> None:
    for params, by_counters in shapes(songs):
        answer = api.get(COUNT, params)
        assert answer.body == {"count": len(catalog_data.expected(OWNERS, songs, params))}, params
        if by_counters:
            ranged = "newerThan" in params or "olderThan" in params
            assert answer.meter.records == 0 and answer.meter.items <= MAX_ITEMS, (params, answer.meter)
            if not ranged:
                assert answer.meter.entries == 0, (params, answer.meter)


GENRES_PATH, GENRE_COUNT_PATH = "/v1/songs/genres", "/v1/songs/genres/count"


def genre_shapes(songs: list[dict]) -> list[tuple[dict[str, str], str]]:
    """(filters, how the genres of the matching songs are read): ``one`` (counters: no filter, archived or one
    value of one facet, at most the scope's genres + 1 items), ``counters`` (other facet filters), ``range``
    (range buckets, per genre), ``entries``."""
    low, high, *_ = bounds(songs)
    one = [{}, {"archived": "true"}, {"genres": "Pop"}, {"genres": "Soul"}, {"genres": "Rock", "archived": "true"},
           {"moods": "Dark"}, {"moods": "Tense", "archived": "true"}, {"mintingStatuses": "Minted"},
           {"ownerIds": OWNER_IDS[1]}, {"ownerIds": OWNER_IDS[2], "archived": "true"}, {"genres": "No Such Genre"}]  # fmt: skip
    counters = [{"genres": "Pop,Rock"}, {"genres": "-Rock"}, {"mintingStatuses": "Minted,Pending"}, {"moods": "-Calm"},
                {"ownerIds": ",".join(OWNER_IDS[:3])}, {"ownerIds": f"-{OWNER_IDS[0]}"},
                {"genres": "Pop,Jazz", "mintingStatuses": "Minted"}]  # fmt: skip
    ranged = [{"newerThan": low}, {"newerThan": low, "olderThan": high}, {"archived": "true", "olderThan": high}]
    # Sets the layout does not count once a genre is added: two moods, a genre and a mood, an owner and a genre.
    entries = [{"genres": "Pop", "moods": "Calm"}, {"genres": "Pop", "moods": "-Calm"}, {"ownerIds": OWNER_IDS[0], "genres": "Pop"},
               {"moods": "-Calm,-Dark", "mintingStatuses": "-Minted"}, {"phrase": "song 1"}, {"genres": "Jazz", "newerThan": low},
               {"ids": ",".join(record["id"] for record in songs[:9])}]  # fmt: skip
    return ([(p, "one") for p in one] + [(p, "counters") for p in counters] + [(p, "range") for p in ranged]
            + [(p, "entries") for p in entries])  # fmt: skip


def assert_genres_exact(api: InProcessApi, songs: list[dict]) -> None:
    """Issue 16: the genres of the matching songs and their number, as the oracle ranks them, from counters
    where the layout answers (no entry read; at most the scope's genres + 1 items for one value)."""
    for params, how in genre_shapes(songs):
        scope_genres = len(catalog_data.genre_counts(OWNERS, songs, {"archived": params.get("archived", "false")}))
        for order in ("desc", "asc") if how != "entries" else ("asc",):  # both orders of every filter: the contract test
            answer = api.get(GENRES_PATH, {**params, "sortOrder": order, "limit": "100"})
            assert answer.body == catalog_data.expected_genres(OWNERS, songs, {**params, "sortOrder": order}), (params, order)
        counted = api.get(GENRE_COUNT_PATH, params)
        assert counted.body == {"count": len(catalog_data.genre_counts(OWNERS, songs, params))}, params
        meter = answer.meter
        if how != "entries":
            assert meter.records == 0 and (how == "range" or meter.entries == 0), (params, meter)
        if how == "one":
            assert meter.items <= scope_genres + 1, (params, meter, scope_genres)


def run_import(client: Any, name: str, records: list[dict]) -> None:
    report = import_lines(CatalogWriter(client, name), [json.dumps(record) for record in records], progress=False)
    assert not report.rejected, report.rejected
    drain(client, name)


@pytest.fixture(params=BACKENDS)
def table(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    with table_on(request.param, request) as made:
        yield made


def test_counts_from_counters_stay_exact_through_changes_deletions_and_replays(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, name = table
    api = InProcessApi(client, name, monkeypatch)
    songs = SONG_LINES
    run_import(client, name, OWNERS + songs)
    assert_counts_exact(api, songs)
    assert_genres_exact(api, songs)

    songs = changed(songs)
    run_import(client, name, OWNERS + songs)
    assert_counts_exact(api, songs)
    assert_genres_exact(api, songs)

    writer = CatalogWriter(client, name)
    gone = {record["id"] for record in songs[::9]}
    for song_id in gone:
        assert writer.delete_record(SONGS, song_id)
    writer.flush()
    drain(client, name)
    songs = [record for record in songs if record["id"] not in gone]
    assert_counts_exact(api, songs)
    assert_genres_exact(api, songs)

    replay = StreamFeeder(
        client, streams_client(client), name, deliver_to_handler(client, name), batch_size=23, patterns=filter_patterns()
    )
    assert replay.drain() > 0
    assert_counts_exact(api, songs)
    assert_genres_exact(api, songs)


def test_a_song_with_more_genres_than_combinations_take_turns_those_counts_to_the_entries(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, name = table
    api = InProcessApi(client, name, monkeypatch)
    many = dict(SONG_LINES[2], id=catalog_data.song_id(9999), archived=False, genres=[f"G{n}" for n in range(12)] + ["Pop"])
    songs = [*SONG_LINES[:40], many]
    run_import(client, name, OWNERS + songs)
    for params in ({"genres": "Pop,Rock"}, {"genres": "-Pop,-G3"}, {"genres": "Pop", "moods": "Calm"}):
        answer = api.get(COUNT, params)
        assert answer.body == {"count": len(catalog_data.expected(OWNERS, songs, params))}, params
        assert answer.meter.entries > 0, "combinations of genres are not counted while such a song is in the scope"
    single = api.get(COUNT, {"genres": "G5"})
    assert (single.body, single.meter.items) == ({"count": 1}, 1), "a value's own counter still is"
    for params, combined in (({}, False), ({"ownerIds": many["ownerId"]}, False), ({"genres": "Pop"}, True),
                             ({"mintingStatuses": many["mintingStatus"]}, True), ({"moods": "Calm"}, True)):  # fmt: skip
        answer = api.get(GENRES_PATH, {**params, "limit": "100"})
        assert answer.body == catalog_data.expected_genres(OWNERS, songs, params), params
        assert (answer.meter.entries > 0) == combined, "a genre's count in the scope and an owner's count every song"


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"duration": ">=150000"}, lambda r: (r.get("duration") or -1) >= 150_000),
        ({"duration": "<150000"}, lambda r: r.get("duration") is not None and r["duration"] < 150_000),
        ({"duration": "120000::180000"}, lambda r: r.get("duration") is not None and 120_000 <= r["duration"] <= 180_000),
        ({"duration": ">9500"}, lambda r: (r.get("duration") or -1) > 9_500),
        ({"release_date": "2019-01-01::2020-12-31"}, lambda r: "2019-01-01" <= (r.get("release_date") or "") <= "2020-12-31"),
        ({"release_date": "<=2019-02-15"}, lambda r: r.get("release_date") is not None and r["release_date"] <= "2019-02-15"),
        ({"artist": ":Hildur,Ramin", "duration": ">=150000"},
         lambda r: r.get("artist") in ("Hildur", "Ramin") and (r.get("duration") or -1) >= 150_000),
    ],
)  # fmt: skip
def test_soundtrack_ranges_are_counted_from_buckets(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, params, predicate
) -> None:
    client, name = table
    records = soundtrack_data.build()
    run_import(client, name, records)
    answer = InProcessApi(client, name, monkeypatch).get("/api/v1/soundtracks/count", params)
    assert answer.body == {"count": len(soundtrack_data.expected(records, predicate))}, params
    assert answer.meter.entries == 0 and answer.meter.items <= 2 * 5, answer.meter  # per value: the counter, two per finer level


@pytest.mark.dynamodb_local
def test_random_within_a_range_is_uniform_and_reads_a_bounded_number_of_items(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk down the buckets is the same code on both engines: on DynamoDB Local only, which meters reads."""
    with table_on("dynamodb-local", request) as (client, name):
        _random_within_a_range(client, name, monkeypatch)


def _random_within_a_range(client: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run_import(client, name, OWNERS + SONG_LINES)
    api = InProcessApi(client, name, monkeypatch)
    low, high = "2023-06-15T10:30:20.000000", "2023-06-15T14:00:00.000000"  # the busy minute's end and the busy day
    for params in ({"newerThan": low, "olderThan": high}, {"genres": "Pop", "newerThan": low, "olderThan": high}):
        pool = set(catalog_data.expected(OWNERS, SONG_LINES, params))
        assert len(pool) >= 3, params
        draws: Counter[str] = Counter()
        for _ in range(40 * len(pool)):
            answer = api.get("/v1/songs/random", params)
            assert answer.meter.items <= MAX_ITEMS, answer.meter
            draws[answer.body["id"]] += 1
        assert set(draws) == pool, params
        chi_square = sum((draws[i] - 40) ** 2 / 40 for i in pool)
        assert chi_square < 3 * len(pool) + 10, (params, draws)  # far above the mean (len(pool) − 1)
