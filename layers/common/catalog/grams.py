"""The phrase index's layout: trigrams of a record's search texts, and their posting blocks.

A ``phrase`` is a literal substring of one of a record's ``search`` texts (lower-cased title,
description, album, nftName, owner's names). Every text is cut into its trigrams, after an end
marker (``END``) is appended, so that every substring of two characters or more starts a trigram:
``"love"`` gives ``lov``, ``ove``, ``ve\\x03``. For each collection scope (songs: archived or not)
and trigram, the counters table holds (``catalog.phrase_index`` keeps them from the stream):

- a **head**: PK ``ngrams|<scope>`` (``head_partition``), SK the gram, attribute ``n``: how many
  records hold the gram. Every head of a scope is in one partition, so that the grams starting
  with a prefix (a phrase of two characters) are one Query.
- **posting blocks**: PK ``ngrams|<scope>|<gram>`` (``block_partition``), SK ``b#<lower bound>``:
  the postings whose sort key (the ``Listing`` index's ``fsk``: ``createdAt``, then id, the order a
  page is read in) is at or above the block's lower bound and below the next block's. The first
  block's bound is empty (SK ``b#``). A block holds the postings packed in one Binary attribute
  ``p`` (``encode``), their number ``c`` and a version ``v`` its writer checks; it is split when it
  passes ``MAX_BLOCK_BYTES`` and deleted when it empties (but the first).

A posting is the record's sort key and where the gram occurs: (text number, offset) pairs. A
phrase of three characters or more is then checked from the postings alone: it occurs at offset
``s`` of text ``t`` when each gram of a set that covers it (``required``: its spans, below, then
trigrams over the rest) occurs in ``t`` at ``s`` plus the gram's offset in the phrase.

Each space of a text also gives a **span**: the three characters before it, the space and the two
after it (``spans``, named ``\x04owl cr``), so that a phrase of common words (an owner's name, words
in an order no text has) is driven by the rare pair rather than by one of its common trigrams.

The values of a few facets (``Collection.phrase_facets``: a song's minting status, genres and moods)
have lists too, named ``\x02genre=Rock`` (``facet_gram``), whose postings have no positions: a phrase
with filters on them is answered from the lists alone, at the cost of the lists' blocks in the
range its matches span.

Pure functions: the stream side (``catalog.phrase_index``), the read side (``catalog.phrases``)
and the bench's bulk load (``devtools.counts``) share them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from catalog import keys
from catalog.declarations import Collection

GRAM = 3
END = "\x03"
"""Appended to every text: a phrase never holds it (``indexable``), every two-character substring starts a gram."""
FACET = "\x02"
"""Starts the name of a facet value's list (``facet_gram``): a name longer than a trigram's, which no
indexed phrase holds (``indexable``)."""
SPAN = "\x04"
"""Starts the name of a span across a space (``spans``), which no indexed phrase holds either."""
BEFORE, AFTER = 3, 2
"""A span: the three characters before a space, the space and the two after it."""
PREFIX = "ngrams"
BLOCK = "b#"
HEAD_COUNT = "n"
DIRECTORY = "l"
"""The head's list of its gram's block bounds, while there are at most ``MAX_DIRECTORY``: the writer then
reads the blocks a batch changes in one BatchGetItem with the heads', instead of a Query per gram."""
OVERFLOW = "o"
"""Set on a head whose gram has more blocks than ``MAX_DIRECTORY``: its writer Queries the blocks."""
HEAD_VERSION = "h"
"""The head's version: a directory change is conditioned on it."""
MAX_DIRECTORY = 48
"""Block bounds a head lists at most: some 3 KB of keys, so a head stays one read unit under 4 KB."""
MAX_BLOCK_BYTES = 8000
"""A block is split past this size. A Query bills the blocks it reads by their bytes (half a read unit
per 4 KB), whatever their size; fewer, larger blocks are fewer items to read for a phrase whose
trigrams are common, and each probe of one block costs one read unit; each write of a block, which
an edit pays per trigram it changes, costs a unit per KB (measured in docs/PERFORMANCE.md)."""
POSTING_BYTES = 27
"""About what a posting takes in a block (the bench's catalog: 26.6 bytes, positions included)."""
MIN_POSTING_BYTES = 21
"""The least a posting takes: its flag, a one-byte step from the instant before, a UUID's 16 bytes
and one position (``encode``). So a block holds at most ``MAX_BLOCK_BYTES // MIN_POSTING_BYTES``."""

Positions = tuple[tuple[int, int], ...]
"""(text number in ``search``, offset) of each occurrence of a gram in a record, sorted."""


def grams_of(texts: Iterable[str]) -> dict[str, Positions]:
    """Each trigram of the texts (with their end marker), and each span across a space -> where it occurs."""
    found: dict[str, list[tuple[int, int]]] = {}
    for number, text in enumerate(texts):
        padded = text + END
        for offset in range(len(padded) - GRAM + 1):
            found.setdefault(padded[offset : offset + GRAM], []).append((number, offset))
        for span, offset in spans(text):
            found.setdefault(span, []).append((number, offset))
    return {gram: tuple(places) for gram, places in found.items()}


def spans(text: str) -> list[tuple[str, int]]:
    """The spans across the spaces of a text or a phrase: (``SPAN`` + the ``BEFORE`` characters before a
    space, the space and the ``AFTER`` after it, where the span starts). Two common words next to each
    other are rarer together than any trigram of theirs: a name, a title of several words."""
    return [(SPAN + text[at - BEFORE : at + AFTER + 1], at - BEFORE) for at, character in enumerate(text)
            if character == " " and BEFORE <= at < len(text) - AFTER]  # fmt: skip


def indexable(phrase: str) -> bool:
    """Whether the index answers this phrase: two characters or more, without the markers of the index's names."""
    return len(phrase) >= 2 and END not in phrase and FACET not in phrase and SPAN not in phrase


def facet_gram(facet: str, value: str) -> str:
    """The name of the list of the records holding a facet's value (``Collection.phrase_facets``):
    postings without positions, in the same partitions and blocks as a trigram's."""
    return f"{FACET}{keys.path(facet, value)}"


def required(phrase: str) -> list[tuple[str, int]]:
    """The (gram, offset) pairs whose occurrences at one start prove the phrase (three characters or
    more), which together cover it: its spans, then trigrams over what they leave, left to right (the
    last one ending the phrase). Without a space: the trigrams at offsets 0, 3, 6, ... and the last."""
    needed = spans(phrase)
    covered = {at + step for _, at in needed for step in range(BEFORE + 1 + AFTER)}
    position = 0
    while position < len(phrase):
        if position in covered:
            position += 1
            continue
        start = min(position, len(phrase) - GRAM)
        needed.append((phrase[start : start + GRAM], start))
        covered.update(range(start, start + GRAM))
        position = start + GRAM
    return needed


def scope_of(collection: Collection, scoped: bool | None) -> str:
    """The scope partition name (``songs|archived=false``) the index keeps records of."""
    return keys.partition(collection.name, collection.scope, scoped, keys.path()).rsplit("|", 1)[0]


def head_partition(scope: str) -> str:
    return f"{PREFIX}|{scope}"


def block_partition(scope: str, gram: str) -> str:
    return f"{PREFIX}|{scope}|{gram}"


def block_sk(lower: str) -> str:
    return BLOCK + lower


def lower_of(sk: str) -> str:
    return sk[len(BLOCK) :]


def is_index_key(pk: str) -> bool:
    """Whether a counters table item belongs to the phrase index (heads and blocks), not to the counts."""
    return pk.startswith(PREFIX + "|")


@dataclass(frozen=True)
class Head:
    """What a gram's head says: how many records hold the gram, and its blocks' bounds if it lists them."""

    n: int = 0
    directory: tuple[str, ...] | None = ("",)
    """The lower bounds of its blocks, in order (the first is empty), while there are at most
    ``MAX_DIRECTORY``; None once the head stopped listing them. A gram without a head, or whose head
    lists none: its first block alone."""

    @classmethod
    def of(cls, item: dict | None) -> Head:
        """The head as read (None: no record holds the gram yet)."""
        if item is None:
            return cls()
        listed = None if item.get(OVERFLOW) else tuple(sorted(item.get(DIRECTORY) or [""]))
        return cls(int(item.get(HEAD_COUNT, 0)), listed)


@dataclass(frozen=True)
class Document:
    """What the index holds of one record: where, in which order, and its grams."""

    scope: str
    key: str
    """Its sort key in the default order (its postings' ``fsk``): the order pages are read in."""
    grams: dict[str, Positions]


def document(collection: Collection, record: dict) -> Document | None:
    """The index's view of a record (its ``all`` posting), or None when its collection has no search texts."""
    if not collection.search_attributes:
        return None
    scoped = record.get(collection.scope) if collection.scope else None
    order = collection.sorts[0]
    value = record.get(order.attribute)
    key = keys.sort_key(None if value is None else order.encode(value), record[collection.id_attribute])
    scope = scope_of(collection, scoped)
    indexed = grams_of(record.get("search") or ())
    for name in collection.phrase_facets:
        for one in collection.facet(name).values(record):
            if keys.can_exist(block_partition(scope, gram := facet_gram(name, one))):
                indexed[gram] = ()
    return Document(scope, key, indexed)


# -- posting blocks --------------------------------------------------------------------------------


def _varint(number: int, out: bytearray) -> None:
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    number = shift = 0
    while True:
        byte = data[at]
        at += 1
        number |= (byte & 0x7F) << shift
        if byte < 0x80:
            return number, at
        shift += 7


def _split_key(key: str) -> tuple[str, str]:
    value, _, item_id = key.rpartition(keys.SEPARATOR)
    return value, item_id


_HEX = frozenset("0123456789abcdef")
_TEXT_ID = 1
"""A posting's flag: its id is kept as text (else as the 16 bytes of a canonical UUID)."""
_INSTANT = 2
"""A posting's flag: its sort value is an instant (``catalog.timestamps``' stored form), kept as
microseconds: after the block's previous instant, the difference (some 6 bytes where the text
after its shared prefix was some 17)."""
_EPOCH = datetime(1, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_INSTANT_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}")


def _uuid_bytes(item_id: str) -> bytes | None:
    """The 16 bytes of an id in the canonical lower-case UUID form, else None (kept as text)."""
    if len(item_id) != 36 or item_id[8] != "-" or item_id[13] != "-" or item_id[18] != "-" or item_id[23] != "-":
        return None
    digits = item_id.replace("-", "")
    return bytes.fromhex(digits) if len(digits) == 32 and _HEX.issuperset(digits) else None


def _id_text(data: bytes) -> str:
    digits = data.hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _micros(value: str) -> int | None:
    """An instant's microseconds since year 1, when the sort value is one in its stored form (and reads back the same)."""
    if not _INSTANT_FORM.fullmatch(value):
        return None
    try:
        micros = (datetime.fromisoformat(value) - _EPOCH) // _MICROSECOND
    except ValueError:
        return None
    return micros if _instant(micros) == value else None


def _instant(micros: int) -> str:
    return (_EPOCH + timedelta(microseconds=micros)).isoformat(timespec="microseconds")


class _Writer:
    """Postings in key order, packed one after the other (``encode``)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self._text = b""
        self._micros: int | None = None

    def add(self, key: str, positions: Positions) -> None:
        value, item_id = _split_key(key)
        compact = _uuid_bytes(item_id)
        micros = _micros(value)
        if micros is not None and self._micros is not None and micros < self._micros:
            micros = None  # out of order: kept as text
        out = self.data
        out.append((_TEXT_ID if compact is None else 0) | (_INSTANT if micros is not None else 0))
        if micros is not None:
            _varint(micros - (self._micros or 0), out)
            self._micros = micros
        else:
            raw = value.encode()
            shared = 0
            limit = min(len(raw), len(self._text))
            while shared < limit and raw[shared] == self._text[shared]:
                shared += 1
            _varint(shared, out)
            _varint(len(raw) - shared, out)
            out += raw[shared:]
            self._text, self._micros = raw, None
        if compact is not None:
            out += compact
        else:
            encoded = item_id.encode()
            _varint(len(encoded), out)
            out += encoded
        _varint(len(positions), out)
        for text, offset in positions:
            _varint(text, out)
            _varint(offset, out)

    def fits(self, key: str, positions: Positions, limit: int) -> bool:
        """Add the posting if the data stays within ``limit`` bytes or held nothing; else change nothing."""
        mark, state = len(self.data), (self._text, self._micros)
        self.add(key, positions)
        if len(self.data) <= limit or mark == 0:
            return True
        del self.data[mark:]
        self._text, self._micros = state
        return False


def encode(postings: list[tuple[str, Positions]]) -> bytes:
    """Postings in key order, packed: each a flag byte; its sort value as microseconds after the
    previous instant when it is an instant, else as the text after the prefix it shares with the
    previous text; its id as 16 bytes when it is a canonical UUID, else as text; then its positions."""
    writer = _Writer()
    for key, positions in postings:
        writer.add(key, positions)
    return bytes(writer.data)


def decode(data: bytes) -> list[tuple[str, Positions]]:
    postings = []
    text = b""
    micros: int | None = None
    at = 0
    while at < len(data):
        flags = data[at]
        at += 1
        if flags & _INSTANT:
            step, at = _read_varint(data, at)
            micros = (micros or 0) + step
            value = _instant(micros)
        else:
            shared, at = _read_varint(data, at)
            length, at = _read_varint(data, at)
            text = text[:shared] + data[at : at + length]
            at += length
            micros = None
            value = text.decode()
        if flags & _TEXT_ID:
            size, at = _read_varint(data, at)
            item_id = bytes(data[at : at + size]).decode()
            at += size
        else:
            item_id = _id_text(data[at : at + 16])
            at += 16
        count, at = _read_varint(data, at)
        positions = []
        for _ in range(count):
            number, at = _read_varint(data, at)
            offset, at = _read_varint(data, at)
            positions.append((number, offset))
        postings.append((value + keys.SEPARATOR + item_id, tuple(positions)))
    return postings


def pieces(postings: list[tuple[str, Positions]], limit: int | None = None) -> list[list[tuple[str, Positions]]]:
    """Postings in key order cut into runs of at most ``limit`` bytes each (``MAX_BLOCK_BYTES``) once
    encoded, filled in order."""
    return [run for run, _ in packed(postings, limit)]


def packed(postings: list[tuple[str, Positions]], limit: int | None = None) -> list[tuple[list[tuple[str, Positions]], bytes]]:
    """``pieces``, each with its encoding (``encode`` of the run)."""
    limit = limit or MAX_BLOCK_BYTES
    cut: list[tuple[list[tuple[str, Positions]], bytes]] = []
    run: list[tuple[str, Positions]] = []
    writer = _Writer()
    for key, positions in postings:
        if not writer.fits(key, positions, limit):
            cut.append((run, bytes(writer.data)))
            writer = _Writer()
            writer.add(key, positions)
            run = []
        run.append((key, positions))
    if run:
        cut.append((run, bytes(writer.data)))
    return cut


def block_items(scope: str, gram: str, postings: list[tuple[str, Positions]]) -> list[dict]:
    """A gram's whole list as its head and block items (the first bound empty), as the bulk load writes it."""
    items: list[dict] = []
    for number, (run, data) in enumerate(packed(postings)):
        lower = "" if number == 0 else run[0][0]
        items.append({"PK": block_partition(scope, gram), "SK": block_sk(lower), "p": data, "c": len(run), "v": 1})
    head: dict = {"PK": head_partition(scope), "SK": gram, HEAD_COUNT: len(postings), HEAD_VERSION: 1}
    if len(items) > MAX_DIRECTORY:
        head[OVERFLOW] = 1
    else:
        head[DIRECTORY] = [lower_of(item["SK"]) for item in items]
    return [head, *items]
