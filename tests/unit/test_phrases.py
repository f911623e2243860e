"""Phrases on a fake store whose trigram lists span many small blocks. Random picks
(``catalog.phrases.draws``, through ``catalog.fetch.sample``): only matches, each as likely, within
the filters, from the phrase index alone while sampling pays, and by enumerating the matches when it
does not. Matches (``catalog.phrases.matching``): proved by the lists while they are cheaper, by the
candidates' records when a list would cost a block a candidate."""

import random
from collections import Counter

import pytest

from catalog import fetch, grams, keys, phrases
from catalog.parse.songs import query as songs_query
from catalog.plan import Plan, plan
from catalog.query import Window
from tests.support import catalog_data
from tests.support.fake_store import FakeStore

OWNERS, SONGS = catalog_data.build(240)
for number, song in enumerate(SONGS):
    # "alpha beta" in 30 songs: each of its trigrams is held by 120 songs or more
    song.update(title="alpha beta" if number % 8 == 0 else ("alpha gamma" if number % 2 else "delta beta"), archived=False)
    song.pop("description", None), song.pop("album", None), song.pop("nftName", None)
SONGS[8]["genres"] = ["Funk"]  # the one "alpha beta" song in Funk
SONGS[16]["title"] = "alpha beta delta"  # the one song where "beta" comes before "delta"
SONGS[41]["title"] = "delta betaxyz"  # a rare word after a common one
CALLER = catalog_data.NICK
SCOPE = "songs|archived=false"
BLOCK_BYTES = 300
"""About 11 postings a block: each list of the phrases below spans 10 to 14 blocks."""


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    monkeypatch.setattr(grams, "MAX_BLOCK_BYTES", BLOCK_BYTES)
    monkeypatch.setattr(phrases, "POSTINGS_PER_BLOCK", BLOCK_BYTES // grams.POSTING_BYTES)
    return FakeStore(OWNERS + SONGS)


def planned(**params: str) -> Plan:
    return plan(songs_query({name: [value] for name, value in params.items()}, CALLER))


def expected(**params: str) -> set[str]:
    return set(catalog_data.expected(OWNERS, SONGS, params, CALLER))


def test_draws_are_matches_each_as_likely(store: FakeStore) -> None:
    chosen = planned(phrase="alpha beta")
    pool = {catalog_data.song_id(number) for number in range(0, 240, 8)}
    assert expected(phrase="alpha beta") == pool
    rng = random.Random(11)
    draws: Counter[str] = Counter()
    for _ in range(2000):  # a bound, so that draws that find nothing fail the test rather than hang it
        if sum(draws.values()) >= 40 * len(pool):
            break
        drawn = phrases.draws(store, chosen.query, chosen.low, chosen.high, rng)
        assert drawn is not None and not drawn.none
        records = store.batch_get([keys.record_key("songs", keys.id_of_sort_key(key)) for key in drawn.keys])
        draws.update(record["id"] for record in records if chosen.query.matches(record))  # as fetch.sample keeps them
    assert sum(draws.values()) >= 40 * len(pool), "the draws stopped finding matches"
    assert set(draws) == pool
    each = sum(draws.values()) / len(pool)
    chi_square = sum((draws[song_id] - each) ** 2 / each for song_id in pool)
    assert chi_square < 70, draws  # beyond the 0.999 quantile for 29 degrees of freedom (58.3)


def test_a_random_pick_of_a_common_phrase_reads_the_index_and_one_record(store: FakeStore) -> None:
    rng = random.Random(3)
    pool = expected(phrase="beta")
    for _ in range(30):
        store.reads.clear()
        picked = fetch.sample(store, planned(phrase="beta"), rng)
        assert picked is not None and picked["id"] in pool
        assert store.partitions_queried() == [], "no entry enumerated"
        blocks = sum(max(1, read.returned) for read in store.reads if read.call != "batch_get")
        assert blocks <= phrases.SAMPLED_BLOCKS + 2, store.reads  # the lists hold 20 blocks


def test_a_random_pick_keeps_to_the_other_filters_and_the_time_bounds(store: FakeStore) -> None:
    rng = random.Random(5)
    for params in ({"phrase": "beta", "genres": "Jazz"}, {"phrase": "beta", "newerThan": SONGS[100]["createdAt"]},
                   {"phrase": "alpha beta", "olderThan": SONGS[60]["createdAt"]}):  # fmt: skip
        pool = expected(**params)
        assert pool, params
        picks = {fetch.sample(store, planned(**params), rng)["id"] for _ in range(12 * len(pool))}  # type: ignore[index]
        assert picks == pool, params


def test_a_phrase_too_rare_for_sampling_is_found_by_enumerating_and_none_by_the_heads(store: FakeStore) -> None:
    assert expected(phrase="alpha beta", genres="Funk") == {SONGS[8]["id"]}
    for seed in range(5):  # its draws find "alpha beta" songs of other genres, then it enumerates
        store = FakeStore(OWNERS + SONGS)  # a store a request
        picked = fetch.sample(store, planned(phrase="alpha beta", genres="Funk"), random.Random(seed))
        assert picked is not None and picked["id"] == SONGS[8]["id"]
        heads = [key for read in store.reads for key in read.keys if key[0] == grams.head_partition(SCOPE)]
        assert len(heads) == len(set(heads)), "the heads the draws read serve the count it falls back to"
    store.reads.clear()
    assert fetch.sample(store, planned(phrase="beta alpha"), random.Random(2)) is None
    assert [read.call for read in store.reads] == ["batch_get"], "the heads alone: 'a a' is in no text"


def test_two_common_words_are_driven_by_the_span_across_their_space(store: FakeStore) -> None:
    """Each word is in 120 songs or more, the pair in 30: the span ``pha be`` drives, not a trigram."""
    matched = phrases.matching(store, planned(phrase="alpha beta").query)
    assert matched is not None and matched.estimate == 30
    assert {key.rsplit("\x01", 1)[1] for key, _ in matched.found} == expected(phrase="alpha beta")


def _heads_read(store: FakeStore) -> list[str]:
    return [sk for read in store.reads for pk, sk in read.keys if pk == grams.head_partition(SCOPE)]


def _records_read(store: FakeStore) -> list[str]:
    return [pk for read in store.reads if read.call == "batch_get" for pk, _ in read.keys if pk.startswith("songs#")]


def test_a_phrase_its_spans_narrow_to_one_song_is_proved_by_its_record_not_by_trigram_lists(store: FakeStore) -> None:
    """The spans ``pha be`` (30 songs) and ``eta de`` (1) leave one candidate: its record proves the
    phrase (one item), where the trigrams the spans leave would cost a head and a block each."""
    params = {"phrase": "alpha beta delta"}
    assert expected(**params) == {SONGS[16]["id"]}
    assert fetch.count(store, planned(**params)) == 1
    assert sorted(_heads_read(store)) == sorted(gram for gram, _ in grams.spans("alpha beta delta")), "no trigram's head"
    assert _records_read(store) == [f"songs#{SONGS[16]['id']}"]
    store.reads.clear()
    page = fetch.page(store, planned(**params), Window(0, 25))
    assert [record["id"] for record in page.records] == [SONGS[16]["id"]]
    assert _records_read(store) == [f"songs#{SONGS[16]['id']}"], "the record read to prove the match is the page's"
    store.reads.clear()
    assert fetch.listed_counts(store, planned(**params)) == catalog_data.genre_counts(OWNERS, SONGS, params, CALLER)
    assert store.partitions_queried() == [], "the genres from the record, no entry read"


def test_a_record_proves_every_filter_left_when_a_list_would_cost_a_block_a_candidate(store: FakeStore) -> None:
    params = {"phrase": "alpha beta delta", "genres": "-" + SONGS[16]["genres"][0]}
    assert expected(**params) == set()
    assert fetch.count(store, planned(**params)) == 0
    assert len(_records_read(store)) == 1, "the candidate's record, no block of the genre's list"


def test_a_phrase_its_spans_leave_many_candidates_is_proved_by_the_trigram_lists(store: FakeStore) -> None:
    """``pha be`` leaves 30 candidates, more than the 2 trigrams it leaves: their heads are read, and
    their lists (about 14 blocks each) prove the phrase for fewer items than 30 records."""
    assert fetch.count(store, planned(phrase="alpha beta")) == len(expected(phrase="alpha beta"))
    assert len(_heads_read(store)) == len(grams.required("alpha beta"))
    assert _records_read(store) == []


def test_a_common_phrase_whose_list_outgrew_its_head_is_drawn_at_uniform_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list of more blocks than a head lists (``grams.MAX_DIRECTORY``): no block can be drawn, but the
    phrase is in half the scope's songs, so a few draws at uniform positions of the scope find one
    (exact rejection sampling), where counting its matches would read every block of its lists."""
    monkeypatch.setattr(grams, "MAX_BLOCK_BYTES", BLOCK_BYTES)
    monkeypatch.setattr(grams, "MAX_DIRECTORY", 4)
    store = FakeStore(OWNERS + SONGS)
    pool = expected(phrase="beta")
    assert 100 <= len(pool) <= 140
    heads = store.gram_heads(SCOPE, [gram for gram, _ in grams.required("beta")])
    assert all(head.directory is None for head in heads.values()), "the heads stopped listing the blocks"
    rng = random.Random(7)
    picks: Counter[str] = Counter()
    counted = 0
    for _ in range(12 * len(pool)):
        store.reads.clear()
        picked = fetch.sample(store, planned(phrase="beta"), rng)
        assert picked is not None and picked["id"] in pool
        assert store.partitions_queried() == [], "no entry enumerated"
        counted += any(read.call.startswith("gram_") for read in store.reads)  # all 8 draws missed: counted
        picks[picked["id"]] += 1
    assert counted <= 0.03 * sum(picks.values()), "8 draws, each a match half the time, all miss 0.4% of the time"
    each = sum(picks.values()) / len(pool)
    chi_square = sum((picks[song_id] - each) ** 2 / each for song_id in pool)
    assert chi_square < 1.5 * len(pool), picks  # beyond the 0.999 quantile for 119 degrees of freedom (about 170)


def test_a_rare_word_after_a_common_one_is_driven_by_its_rare_trigram_not_by_the_long_span(store: FakeStore) -> None:
    """``lta be`` (some 90 songs, 9 blocks) is the phrase's only span; ``xyz`` is held by one song. The
    span's list has more blocks than the phrase has trigrams, so their heads are read too and the
    rarest drives: one block, not the span's nine."""
    assert expected(phrase="delta betaxyz") == {SONGS[41]["id"]}
    assert fetch.count(store, planned(phrase="delta betaxyz")) == 1
    blocks = sum(read.returned or 1 for read in store.reads if read.call.startswith("gram_"))
    assert blocks <= 3, store.reads
