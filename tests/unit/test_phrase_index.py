"""What a batch of stream records changes in the phrase index (``catalog.phrase_index.edits_of``): per
record, its first old image against its last new one."""

from catalog import grams, keys
from catalog.phrase_index import edits_of
from tests.support.stream_records import SCOPE, song, stream_record


def indexed(number: int, title: str, **fields: object) -> dict:
    return song(number, title=title, search=[title.lower()], **fields)


def key(number: int, **fields: object) -> str:
    record = song(number, **fields)
    return keys.sort_key(record["createdAt"], record["id"])


def test_a_new_song_puts_each_of_its_grams_and_facet_values() -> None:
    new = indexed(1, "Love")
    edits = edits_of([stream_record("INSERT", new=new)])
    values = [grams.facet_gram("status", new["mintingStatus"])] + [grams.facet_gram("genre", genre) for genre in new["genres"]]
    assert set(edits) == {(SCOPE, gram) for gram in ("lov", "ove", "ve\x03", *values)}
    assert edits[(SCOPE, "lov")].puts == {key(1): ((0, 0),)} and not edits[(SCOPE, "lov")].removes
    assert edits[(SCOPE, values[0])].puts == {key(1): ()}


def test_changed_genres_move_the_song_between_their_lists_only() -> None:
    edits = edits_of(
        [stream_record("MODIFY", old=indexed(1, "Love", genres=["Pop"]), new=indexed(1, "Love", genres=["Rock", "Pop"]))]
    )
    assert set(edits) == {(SCOPE, grams.facet_gram("genre", "Rock"))} and edits[
        (SCOPE, grams.facet_gram("genre", "Rock"))
    ].puts == {key(1): ()}
    edits = edits_of([stream_record("MODIFY", old=indexed(1, "Love", moods=["Calm"]), new=indexed(1, "Love"))])
    assert set(edits) == {(SCOPE, grams.facet_gram("mood", "Calm"))} and edits[
        (SCOPE, grams.facet_gram("mood", "Calm"))
    ].removes == {key(1)}


def test_a_retitled_song_removes_the_grams_it_lost_and_puts_those_it_gained_or_moved() -> None:
    edits = edits_of([stream_record("MODIFY", old=indexed(1, "Love"), new=indexed(1, "Glove"))])
    assert edits[(SCOPE, "glo")].puts == {key(1): ((0, 0),)}
    assert edits[(SCOPE, "lov")].puts == {key(1): ((0, 1),)}  # moved by one
    assert edits[(SCOPE, "ve\x03")].puts == {key(1): ((0, 3),)} and not edits[(SCOPE, "ve\x03")].removes


def test_records_of_one_song_in_a_batch_count_as_their_first_old_and_last_new_image() -> None:
    batch = [
        stream_record("INSERT", new=indexed(1, "Love")),
        stream_record("MODIFY", old=indexed(1, "Love"), new=indexed(1, "Dove")),
        stream_record("REMOVE", old=indexed(1, "Dove")),
    ]
    assert edits_of(batch) == {}


def test_archiving_moves_the_postings_to_the_other_scope_and_other_items_change_nothing() -> None:
    edits = edits_of([
        stream_record("MODIFY", old=indexed(1, "Love"), new=indexed(1, "Love", archived=True)),
        stream_record("MODIFY", old=indexed(2, "Love"), new=indexed(2, "Love"), sk="posting#genre=Pop"),
    ])  # fmt: skip
    archived = "songs|archived=true"
    assert edits[(SCOPE, "lov")].removes == {key(1)} and edits[(archived, "lov")].puts == {key(1): ((0, 0),)}
    assert all(key(2) not in change.removes | set(change.puts) for change in edits.values())
