"""The phrase index's layout (``catalog.grams``): trigrams of texts, the grams that prove a phrase, and
posting blocks that decode to what was encoded and stay within their size."""

import uuid

import pytest

from catalog import grams, keys


def test_every_substring_of_two_characters_or_more_starts_a_gram() -> None:
    texts = ["love me", "zebra", "go"]
    found = grams.grams_of(texts)
    for number, text in enumerate(texts):
        for start in range(len(text) - 1):
            piece = (text + grams.END)[start : start + grams.GRAM]
            assert (number, start) in found[piece], (text, start)
    assert found["lov"] == ((0, 0),) and found["go\x03"] == ((2, 0),)


@pytest.mark.parametrize("phrase", ["abc", "abcd", "maria lopez", "a much longer phrase of words"])
def test_the_required_grams_cover_the_phrase_with_its_spans_first(phrase: str) -> None:
    needed = grams.required(phrase)
    covered: set[int] = set()
    for gram, offset in needed:
        text = gram.removeprefix(grams.SPAN)
        assert phrase[offset : offset + len(text)] == text
        covered.update(range(offset, offset + len(text)))
    assert covered == set(range(len(phrase)))
    assert needed[: len(grams.spans(phrase))] == grams.spans(phrase)
    assert len(needed) <= len(phrase) // grams.GRAM + 1, "no more lists to read than the trigrams alone"


def test_spans_spare_the_trigrams_they_cover() -> None:
    assert grams.required("owl crystal") == [(grams.SPAN + "owl cr", 0), ("yst", 6), ("tal", 8)]
    assert grams.required("zebra") == [("zeb", 0), ("bra", 2)]


def test_a_space_between_enough_characters_makes_a_span_in_texts_and_phrases() -> None:
    assert grams.spans("maria lopez") == [(grams.SPAN + "ria lo", 2)]
    assert grams.spans("al lopez") == [] and grams.spans("maria l") == []  # too few characters on a side
    assert grams.spans("the zebra crossing") == [(grams.SPAN + "the ze", 0), (grams.SPAN + "bra cr", 6)]
    assert grams.grams_of(["a maria lopez"])[grams.SPAN + "ria lo"] == ((0, 4),)
    assert not grams.indexable("a\x04b")


def test_one_character_and_the_end_marker_are_not_indexed() -> None:
    assert not grams.indexable("a") and not grams.indexable("ab\x03") and grams.indexable("ab")


def _postings(count: int) -> list[tuple[str, grams.Positions]]:
    ids = [str(uuid.UUID(int=number * 7919 + 1, version=4)) for number in range(count)]
    ids[3] = "not-a-uuid"  # kept as text
    ids[5] = ids[5].upper()  # not the canonical form: kept as text, so that it decodes as given
    return sorted((keys.sort_key(f"2024-03-{number % 28 + 1:02d}T12:00:00.{number:06d}", item_id), ((0, number), (2, 1)))
                  for number, item_id in enumerate(ids))  # fmt: skip


def test_blocks_decode_to_what_was_encoded() -> None:
    postings = _postings(40)
    assert grams.decode(grams.encode(postings)) == postings
    assert grams.decode(b"") == []


def test_sort_values_of_every_form_decode_as_they_were() -> None:
    """Instants are kept as microseconds; other values (a missing one, years before 1000, a value
    that only looks like an instant, a name) as text, in any mix."""
    values = [keys.MISSING, "0999-12-31T23:59:59.999999", "2024-02-30T00:00:00.000000", "2024-03-01T00:00:00.000000",
              "2024-03-01T00:00:00.000000", "2024-03-01T00:00:00.000001", "9999-12-31T23:59:59.999999", "Zebra Theme", "ünïcode"]  # fmt: skip
    ids = [str(uuid.UUID(int=number + 1, version=4)) for number in range(len(values))]
    postings: list[tuple[str, grams.Positions]] = sorted(
        (keys.sort_key(value, item_id), ((1, number),)) for number, (value, item_id) in enumerate(zip(values, ids, strict=True))
    )
    assert grams.decode(grams.encode(postings)) == postings
    assert grams.decode(grams.encode(postings[::-1])) == postings[::-1]  # out of order: the text form still round-trips


def test_an_instant_costs_fewer_bytes_than_its_text() -> None:
    """The bytes a posting takes, the measure of how many a block holds and a read returns."""
    postings = _postings(200)
    as_text = [(key.replace("T", " ", 1), positions) for key, positions in postings]  # not an instant's stored form
    assert grams.decode(grams.encode(as_text)) == as_text
    assert len(grams.encode(postings)) < 0.85 * len(grams.encode(as_text))


def test_blocks_are_cut_within_their_size_in_key_order() -> None:
    postings = _postings(300)
    runs = grams.packed(postings, 1000)
    assert len(runs) > 5
    assert [posting for run, _ in runs for posting in run] == postings
    for run, data in runs:
        assert data == grams.encode(run) and len(data) <= 1000
        assert grams.decode(data) == run


def test_a_gram_s_items_list_their_blocks_until_they_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grams, "MAX_BLOCK_BYTES", 500)
    head, *blocks = grams.block_items("songs|archived=false", "lov", _postings(100))
    assert head[grams.HEAD_COUNT] == 100 and sum(block["c"] for block in blocks) == 100
    assert head[grams.DIRECTORY] == [grams.lower_of(block["SK"]) for block in blocks] and blocks[0]["SK"] == grams.BLOCK
    monkeypatch.setattr(grams, "MAX_DIRECTORY", 2)
    head, *_ = grams.block_items("songs|archived=false", "lov", _postings(100))
    assert head[grams.OVERFLOW] == 1 and grams.DIRECTORY not in head
