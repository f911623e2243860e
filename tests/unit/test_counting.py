"""Which DynamoDB stream records the counter function counts, and in which cells (``catalog.counting``,
``catalog.cells``): pure functions of the records, no table. Applying them to a table is
tests/integration/test_counting.py.
"""

import pytest

from catalog import cells, counting, keys
from catalog.counting import MAX_ACTIONS, Change, StreamViewError, change_of, gatherings
from catalog.declarations import SONGS
from tests.support.stream_records import ARCHIVED, SCOPE, partitions, song, stream_record

# -- which records count ----------------------------------------------------------------------------


def test_a_new_song_counts_one_in_each_of_its_partitions() -> None:
    new = song(genres=["Pop", "Rock"], moods=["Calm"])
    change = change_of(stream_record("INSERT", new=new))
    assert partitions(change.deltas) == {f"{SCOPE}|all": 1, f"{SCOPE}|owner=o1": 1, f"{SCOPE}|status=Minted": 1,
                                         f"{SCOPE}|genre=Pop": 1, f"{SCOPE}|genre=Rock": 1, f"{SCOPE}|mood=Calm": 1}  # fmt: skip
    assert change.deltas == dict(cells.of(SONGS, new)), "and every other cell of the layout, once"
    assert (f"{SCOPE}|genre=Pop", "createdAt:2024-03-05", "T12:01") in change.deltas


def test_a_removed_song_counts_minus_one_in_each_of_its_old_partitions() -> None:
    change = change_of(stream_record("REMOVE", old=song()))
    assert partitions(change.deltas) == {f"{SCOPE}|all": -1, f"{SCOPE}|owner=o1": -1, f"{SCOPE}|status=Minted": -1,
                                         f"{SCOPE}|genre=Pop": -1}  # fmt: skip
    assert change.deltas == {cell: -1 for cell in cells.of(SONGS, song())}


def test_a_song_whose_genres_change_moves_between_the_genres_only() -> None:
    change = change_of(stream_record("MODIFY", old=song(genres=["Pop", "Rock"]), new=song(genres=["Rock", "Jazz"])))
    assert partitions(change.deltas) == {f"{SCOPE}|genre=Pop": -1, f"{SCOPE}|genre=Jazz": 1}
    assert {pk for pk, _, _ in change.deltas} == {f"{SCOPE}|genre=Pop", f"{SCOPE}|genre=Jazz", f"{SCOPE}|status=Minted",
                                                  f"{SCOPE}|all", f"{SCOPE}|owner=o1"}  # fmt: skip
    assert change.deltas[(f"{SCOPE}|genre=Jazz", keys.WITH, '["genre=Rock"]')] == 1
    assert change.deltas[(f"{SCOPE}|genre=Pop", keys.WITH, '["genre=Rock"]')] == -1
    for listing in (f"{SCOPE}|all", f"{SCOPE}|owner=o1", f"{SCOPE}|status=Minted"):  # a genre's count in each
        assert change.deltas[(listing, keys.WITH, '["genre=Pop"]')] == -1
        assert change.deltas[(listing, keys.WITH, '["genre=Jazz"]')] == 1
        assert (listing, keys.WITH, '["genre=Rock"]') not in change.deltas


def test_a_songs_genres_are_listed_in_its_scopes_and_its_owners_with_items_once_each() -> None:
    new = song(genres=["Pop", "Rock", "Pop"], ownerId="o7")
    found = cells.of(SONGS, new)
    assert {cell: n for cell, n in found.items() if cell[0] in (f"{SCOPE}|all", f"{SCOPE}|owner=o7") and cell[1] == keys.WITH} == {
        (f"{SCOPE}|all", keys.WITH, '["genre=Pop"]'): 1, (f"{SCOPE}|all", keys.WITH, '["genre=Rock"]'): 1,
        (f"{SCOPE}|owner=o7", keys.WITH, '["genre=Pop"]'): 1, (f"{SCOPE}|owner=o7", keys.WITH, '["genre=Rock"]'): 1,
    }  # fmt: skip
    assert cells.listed_in(SONGS, {"PK": "p", "SK": keys.WITH, '["genre=Pop"]': 2, '["genre=Rock"]': 0,
                                   '["genre=a\\"b"]': 1, '["mood=Calm"]': 4, "overflow:genre": 1}) == {"Pop": 2, 'a"b': 1}  # fmt: skip
    owner_pop = frozenset([("owner", "o7"), ("genre", "Pop")])
    assert cells.cell_of(SONGS, False, owner_pop) == (f"{SCOPE}|owner=o7", keys.WITH, '["genre=Pop"]')
    assert cells.cell_of(SONGS, False, owner_pop | {("genre", "Rock")}) is None, "an owner with two genres: not counted"
    assert cells.cell_of(SONGS, False, frozenset([("owner", "o7"), ("mood", "Calm")])) is None
    assert cells.overflows(SONGS, owner_pop) == set(), "an owner's genres count every song, however many genres"
    assert cells.overflows(SONGS, frozenset([("genre", "Pop"), ("mood", "Calm")])) == {"genre", "mood"}


def test_an_archived_song_moves_every_partition_to_the_other_scope() -> None:
    change = change_of(stream_record("MODIFY", old=song(), new=song(archived=True)))
    assert partitions(change.deltas) == {f"{SCOPE}|all": -1, f"{SCOPE}|owner=o1": -1, f"{SCOPE}|status=Minted": -1,
                                         f"{SCOPE}|genre=Pop": -1, f"{ARCHIVED}|all": 1, f"{ARCHIVED}|owner=o1": 1,
                                         f"{ARCHIVED}|status=Minted": 1, f"{ARCHIVED}|genre=Pop": 1}  # fmt: skip


def test_a_song_whose_creation_time_changes_moves_between_buckets_only() -> None:
    change = change_of(stream_record("MODIFY", old=song(), new=song(createdAt="2025-01-02T03:04:05.000000")))
    assert partitions(change.deltas) == {}
    assert change.deltas[(f"{SCOPE}|all", keys.COUNT, "createdAt:2024")] == -1
    assert change.deltas[(f"{SCOPE}|all", keys.COUNT, "createdAt:2025")] == 1
    assert change.deltas[(f"{SCOPE}|genre=Pop", "createdAt:2025-01-02", "T03:04")] == 1


def test_a_song_rewritten_within_the_same_partitions_counts_nothing() -> None:
    assert change_of(stream_record("MODIFY", old=song(), new=song(title="Other", genres=["Pop", "Pop"]))).deltas == {}


def test_a_soundtrack_counts_in_the_partitions_of_its_facets() -> None:
    soundtrack = {"uuid": "t1", "name": "Main Title", "artist": "Hildur", "duration": 201000}
    change = change_of(stream_record("INSERT", new=soundtrack, collection="soundtracks"))
    assert partitions(change.deltas) == {"soundtracks|all": 1, "soundtracks|name=Main Title": 1,
                                         "soundtracks|artist=Hildur": 1, "soundtracks|duration=201000": 1}  # fmt: skip
    assert change.deltas[("soundtracks|artist=Hildur", "duration:000000000", "201")] == 1


@pytest.mark.parametrize("sk", ["record", "posting#genre=Pop", "count", "applied"])
@pytest.mark.parametrize("event", ["INSERT", "MODIFY", "REMOVE"])
def test_items_other_than_all_postings_count_nothing(sk: str, event: str) -> None:
    record = stream_record(event, old=song() if event != "INSERT" else None, new=song() if event != "REMOVE" else None, sk=sk)
    assert change_of(record).deltas == {}


def test_an_all_posting_without_the_image_it_needs_is_an_error() -> None:
    record = stream_record("REMOVE", old=song())
    del record["dynamodb"]["OldImage"]  # a KEYS_ONLY or NEW_IMAGE stream
    with pytest.raises(StreamViewError):
        change_of(record)


def test_gatherings_fit_dynamodbs_limit_and_keep_stream_order() -> None:
    changes = [Change(str(n), f"e{n}", {(f"p{n % 70}", "count", "n"): 1, (f"own{n}", "count", "n"): 1}) for n in range(300)]
    changes.append(Change("none", "e-none", {}))
    packed = gatherings(changes)
    assert [change.event_id for group in packed for change in group] == [f"e{n}" for n in range(300)]
    assert all(len(group) + 2 <= MAX_ACTIONS for group in packed)  # the markers and the deltas items


def test_deltas_survive_their_items_and_updates_fit_an_expression() -> None:
    deltas = {(f"p{n % 3}", "day", f"a{n}"): n - 250 for n in range(500) if n != 250}
    texts = counting.encode(deltas)
    assert counting.decode(texts) == deltas
    planned = counting.updates(deltas)
    assert all(len(attributes) <= counting.MAX_ATTRIBUTES for _, attributes in planned)
    for begin, end in counting.moves(planned, 0):  # an item at most once per transaction
        assert len({key for key, _ in planned[begin:end]}) == end - begin <= MAX_ACTIONS - 1
