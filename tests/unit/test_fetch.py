"""Carrying out a plan (``catalog.fetch``) on a fake store: which partitions and key ranges are read,
and what a page, a count and a random pick return (the contract's oracle, ``tests.support.catalog_data``)."""

import random

import pytest

from catalog import fetch, keys
from catalog.parse.songs import query as songs_query
from catalog.plan import Plan, plan, resume
from catalog.query import Window
from tests.support import catalog_data
from tests.support.fake_store import FakeStore

OWNERS, SONGS = catalog_data.build()
CALLER = catalog_data.NICK


@pytest.fixture
def store() -> FakeStore:
    return FakeStore(OWNERS + SONGS)


def planned(**params: str) -> Plan:
    return plan(songs_query({name: [value] for name, value in params.items()}, CALLER))


def expected(**params: str) -> list[str]:
    return catalog_data.expected(OWNERS, SONGS, params, CALLER)


def ids(records: list[dict]) -> list[str]:
    return [record["id"] for record in records]


def partition(facet: str | None = None, value: str | None = None, *, archived: bool = False) -> str:
    return keys.partition("songs", "archived", archived, keys.path(facet, value))


def test_an_include_facet_reads_its_values_partitions_merged_in_order_each_song_once(store: FakeStore) -> None:
    chosen = planned(genres="Pop,Rock")
    page = fetch.page(store, chosen, Window(0, 100))

    assert ids(page.records) == expected(genres="Pop,Rock") and page.next_after is None
    assert len(set(ids(page.records))) == len(page.records), "a song in Pop and in Rock once"
    assert sorted(store.partitions_queried()) == [partition("genre", "Pop"), partition("genre", "Rock")]
    assert {read.index for read in store.reads if read.call == "query"} == {keys.LISTING_INDEX}
    [records_read] = [read for read in store.reads if read.call == "batch_get"]
    assert [pk for pk, _ in records_read.keys] == [f"songs#{song_id}" for song_id in ids(page.records)], "only what is returned"


def test_a_page_reads_one_record_past_its_window_and_says_where_the_next_one_starts(store: FakeStore) -> None:
    chosen = planned()
    assert chosen.unthinned and chosen.partitions == (partition(),)
    first = fetch.page(store, chosen, Window(0, 4))

    [read] = store.reads
    assert (read.call, read.index, read.partition, read.page_size) == ("query", keys.PAGES_INDEX, partition(), 5)
    assert ids(first.records) == expected()[:4]
    assert first.next_after == keys.sort_key(first.records[-1]["createdAt"], first.records[-1]["id"])

    everything = expected()
    served = ids(first.records)
    position: str | None = first.next_after
    while position is not None:
        following = fetch.page(store, resume(chosen, position), Window(0, 4))
        served += ids(following.records)
        position = following.next_after
    assert served == everything


def test_an_offset_on_an_unthinned_plan_skips_entries_by_their_keys_then_reads_the_window(store: FakeStore) -> None:
    page = fetch.page(store, planned(), Window(offset=5, limit=3))

    skipped, read = store.reads
    assert (skipped.index, skipped.page_size, skipped.returned) == (keys.LISTING_INDEX, 5, 5)
    assert (read.index, read.page_size) == (keys.PAGES_INDEX, 4)
    assert ids(page.records) == expected()[5:8]


def test_an_offset_past_the_end_reads_the_skipped_keys_only(store: FakeStore) -> None:
    page = fetch.page(store, planned(), Window(offset=1000, limit=3))

    assert page == fetch.Page([], None)
    assert [read.index for read in store.reads] == [keys.LISTING_INDEX]


def test_time_bounds_are_the_key_range_read(store: FakeStore) -> None:
    newer, older = SONGS[8]["createdAt"], SONGS[20]["createdAt"]
    chosen = planned(newerThan=newer, olderThan=older)
    page = fetch.page(store, chosen, Window(0, 100))

    assert ids(page.records) == expected(newerThan=newer, olderThan=older) != []
    assert (chosen.low, chosen.high) == (keys.after(newer), keys.before(older))
    assert {(read.low, read.high) for read in store.reads if read.call == "query"} == {(chosen.low, chosen.high)}


def test_ids_read_their_records_directly_and_keep_those_of_the_scope(store: FakeStore) -> None:
    archived = next(song["id"] for song in SONGS if song["archived"])
    wanted = [SONGS[1]["id"], SONGS[2]["id"], archived]
    page = fetch.page(store, planned(ids=",".join(wanted)), Window(0, 25))

    assert ids(page.records) == expected(ids=",".join(wanted)) and archived not in ids(page.records)
    [read] = store.reads
    assert read.call == "batch_get" and {pk for pk, _ in read.keys} == {f"songs#{song_id}" for song_id in wanted}


def test_a_count_counters_answer_reads_counters_and_no_entry(store: FakeStore) -> None:
    assert fetch.count(store, planned(genres="Jazz")) == len(expected(genres="Jazz"))
    assert store.partitions_queried() == []


def test_a_count_counters_cannot_answer_reads_the_entries_of_the_driving_partition(store: FakeStore) -> None:
    assert fetch.count(store, planned(phrase="z")) == len(expected(phrase="z"))  # one character: no index
    assert store.partitions_queried() == [partition()]


def test_a_count_of_exclusions_only_is_the_scope_s_counter_less_the_excluded_entries(store: FakeStore) -> None:
    params = {"genres": "-Pop,-Rock", "moods": "-Calm"}
    assert fetch.count(store, planned(**params)) == len(expected(**params))
    excluded = {partition("genre", "Pop"), partition("genre", "Rock"), partition("mood", "Calm")}
    assert set(store.partitions_queried()) == excluded, "the excluded records are read, never the rest of the scope"
    assert (keys.counter_key(partition())["PK"], keys.counter_key(partition())["SK"]) in {
        key for read in store.reads if read.call == "get" for key in read.keys
    }, "the scope's counter"


def test_listed_counts_count_each_matching_record_once_per_genre(store: FakeStore) -> None:
    for params in ({"moods": "Calm"}, {"genres": "Pop,Rock"}, {}):
        assert fetch.listed_counts(store, planned(**params)) == catalog_data.genre_counts(OWNERS, SONGS, params, CALLER), params


@pytest.mark.parametrize("params", [{}, {"moods": "Calm"}, {"genres": "-Pop"}, {"newerThan": SONGS[20]["createdAt"]}])
@pytest.mark.parametrize("phrase", [catalog_data.PHRASE, "ze", "song", "nothing like it"])
def test_the_genres_of_a_phrase_are_counted_from_the_index(store: FakeStore, phrase: str, params: dict[str, str]) -> None:
    counted = fetch.listed_counts(store, planned(phrase=phrase, **params))
    assert counted == catalog_data.genre_counts(OWNERS, SONGS, {"phrase": phrase, **params}, CALLER)
    assert store.partitions_queried() == [], "no compact entry"
    assert not [key for read in store.reads if read.call == "batch_get" for key, _ in read.keys if key.startswith("songs#")]


@pytest.mark.parametrize("phrase", [catalog_data.PHRASE, "ze", "maria lopez", "zebra qq"])
def test_a_phrase_count_reads_the_phrase_index_and_no_entry(store: FakeStore, phrase: str) -> None:
    assert fetch.count(store, planned(phrase=phrase)) == len(expected(phrase=phrase))
    assert store.partitions_queried() == []
    assert {read.call for read in store.reads} <= {"batch_get", "gram_prefix", "gram_block", "gram_floor", "gram_between"}


@pytest.mark.parametrize(
    "params",
    [{"genres": "Pop"}, {"genres": "Pop,Jazz", "moods": "-Calm"}, {"mintingStatuses": "Minted,Pending"},
     {"genres": "-pop", "moods": "Upbeat"}, {"genres": "Polka"}],
)  # fmt: skip
@pytest.mark.parametrize("phrase", [catalog_data.PHRASE, "ze", "song"])
def test_a_phrase_with_facet_filters_reads_the_index_alone(store: FakeStore, phrase: str, params: dict[str, str]) -> None:
    """Counts, pages and random picks: the facet values' lists of the index filter the matches, no entry is read."""
    wanted = expected(phrase=phrase, **params)
    assert fetch.count(store, planned(phrase=phrase, **params)) == len(wanted)
    page = fetch.page(store, planned(phrase=phrase, **params), Window(1, 3))
    assert ids(page.records) == wanted[1:4]
    picked = fetch.sample(store, planned(phrase=phrase, **params), random.Random(4))
    assert (picked is not None and picked["id"] in wanted) if wanted else picked is None
    assert store.partitions_queried() == [], "no compact entry"
    records = [key for read in store.reads if read.call == "batch_get" for key, _ in read.keys if key.startswith("songs#")]
    assert len(records) <= 3 + 1 + 8, "the page's records and the random pick's draws"


def test_a_counted_page_gives_the_window_and_the_total(store: FakeStore) -> None:
    page, total = fetch.counted_page(store, planned(moods="Calm"), Window(2, 3))
    assert total == len(expected(moods="Calm"))
    assert ids(page.records) == expected(moods="Calm")[2:5]


def test_a_random_pick_is_a_matching_record_read_at_a_position(store: FakeStore) -> None:
    rng = random.Random(7)
    picks = {record["id"] for record in (fetch.sample(store, planned(genres="Jazz"), rng) for _ in range(40)) if record}

    assert picks == set(expected(genres="Jazz")), "every match can be drawn, and nothing else"
    assert {read.partition for read in store.reads if read.call == "slot"} == {partition("genre", "Jazz")}


def test_nothing_matching_picks_nothing_and_an_empty_window_reads_nothing(store: FakeStore) -> None:
    assert fetch.sample(store, planned(genres="Polka"), random.Random(1)) is None
    store.reads.clear()
    assert fetch.page(store, planned(), Window(0, 0)) == fetch.Page([], None)
    assert store.reads == []
