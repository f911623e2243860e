"""Which records hold a phrase, from the phrase index (``catalog.grams``), in page order.

- **Three characters or more.** The phrase's ``required`` grams cover it: its spans across spaces,
  then trigrams over what they leave. The heads of its spans (of its trigrams, when it has no
  space) are read first, in one BatchGetItem, and its trigrams' too when the rarest span's list has
  more blocks than the phrase has trigrams (a rare word after a common one: a trigram may drive). A gram no record holds: nothing matches, and nothing
  more is read. Otherwise the rarest *drives*: its blocks are read in page order within the plan's
  bounds (for a page in chunks of postings, what the page needs, then twice as many each time; for a
  count all of them); each posting's positions give where the phrase would start. Each other
  span, rarest first, keeps the candidates where it occurs at that start plus its offset; then the
  trigrams, whose heads are read only when more candidates are left than twice the trigrams. A
  list is read in **one Query** of the blocks spanning the candidates' keys (about its count /
  ``POSTINGS_PER_BLOCK`` times the share of the driver's list the chunk is).
- **Proof by records.** Where that Query would read about a block per candidate (``_probes``: where
  probing the block of each would cost no more), or the trigrams' heads
  and a block of each would outnumber the candidates, the candidates' records are read instead
  (one item each, in batches as far as the caller goes) and each one proves every check left: the
  phrase in its ``search`` texts and the query's filters. A page returns those records as read.
  The cost per match then no longer depends on how long the other lists have grown: a rare phrase
  in a large catalog costs what it costs in a small one.
- **Two characters.** Every such substring starts a gram (texts end with ``grams.END``): the
  union of the lists of the grams starting with it (one Query of the heads by prefix), merged in
  page order.
- **One character** (or one holding a marker of the index's names): not answered here (None); the caller reads
  the compact entries, as it did before the index.
- **Filters** on the facets the index lists (``filters``: a song's status, genres, moods), when
  asked for: their lists' heads are read with the phrase's, and each chunk of matches keeps the keys
  those lists hold (includes) or do not (excludes), read the same two ways. A count or a page with
  such filters then reads no compact entry, and records only for what a page returns or what proves
  a candidate.
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby, islice

from catalog import grams, keys
from catalog.grams import Positions
from catalog.query import Query
from catalog.store import Store

POSTINGS_PER_BLOCK = grams.MAX_BLOCK_BYTES // grams.POSTING_BYTES
"""About how many postings a block holds: what walking a list is expected to read."""
MAX_CHUNK = 4096
"""Driver postings checked together at most: a page's first chunk is what it needs, each further
one twice the one before, so that a page of few matches costs about what a count costs."""

Posting = tuple[str, Positions]
Found = tuple[str, dict | None]
"""A matching record's sort key, and its record when it was read to prove the match."""


@dataclass
class Matches:
    found: Iterator[Found]
    """The matching records, in the order asked for, read as far as the caller goes."""
    estimate: int
    """At most how many records match (the driving gram's count; for two characters, the lists' sum)."""


def answers(query: Query) -> bool:
    """Whether the index answers the query's phrase."""
    return bool(query.phrase and query.collection.search_attributes and grams.indexable(query.phrase))


def _within(key: str, low: str | None, high: str | None) -> bool:
    return (low is None or key > low) and (high is None or key < high)


def postings(store: Store, scope: str, gram: str, low: str | None, high: str | None, descending: bool,
             start: str | None = None) -> Iterator[Posting]:  # fmt: skip
    """A gram's postings strictly between the bounds, in page order (or its reverse), from the block
    holding ``start`` on (default: the bound it is read from)."""
    if start is None:
        start = high if descending else low
    for block in store.gram_blocks(scope, gram, start=start, descending=descending):
        decoded = grams.decode(block["p"])
        for key, positions in reversed(decoded) if descending else decoded:
            if _within(key, low, high):
                yield key, positions
            elif (descending and low is not None and key <= low) or (not descending and high is not None and key >= high):
                return


def _probes(keys: int, count: int, share: float) -> bool:
    """Whether looking ``keys`` records up in a list of ``count`` postings is cheaper one block at a time
    (about a block each) than in one Query of the blocks spanning them (about ``count`` /
    ``POSTINGS_PER_BLOCK`` times ``share``, the part of the list the keys span)."""
    return keys <= count / POSTINGS_PER_BLOCK * share + 1


class _Lookup:
    """Where one gram occurs in given records: its blocks read once each, by probing or by range."""

    def __init__(self, store: Store, scope: str, gram: str) -> None:
        self._store, self._scope, self._gram = store, scope, gram
        self._lowers: list[str] = []
        """The lower bounds of the blocks read, in order: a key's block found by bisection."""
        self._blocks: list[tuple[str, dict[str, Positions]]] = []  # (last key, postings), as ``_lowers``
        self._probing = True

    def _cached(self, key: str) -> dict[str, Positions] | None:
        at = bisect.bisect_right(self._lowers, key) - 1
        return self._blocks[at][1] if at >= 0 and key <= self._blocks[at][0] else None

    def _keep(self, block: dict) -> dict[str, Positions]:
        lower = grams.lower_of(block["SK"])
        at = bisect.bisect_left(self._lowers, lower)
        if at < len(self._lowers) and self._lowers[at] == lower:
            return self._blocks[at][1]  # read already
        decoded = grams.decode(block["p"])
        self._lowers.insert(at, lower)
        self._blocks.insert(at, (decoded[-1][0] if decoded else "", dict(decoded)))
        return self._blocks[at][1]

    def prepare(self, keys: list[str], count: int, share: float) -> None:
        """Get ready to look these keys up: read the blocks spanning them in one Query when that reads
        fewer items than probing the block of each (``_probes``); else probe as they are looked up."""
        self._probing = _probes(len(keys), count, share)
        unread = [key for key in keys if self._cached(key) is None]  # a block read for the chunk before is kept
        if not self._probing and unread:
            spanned = count / POSTINGS_PER_BLOCK * share + 1
            for block in self._store.gram_between(self._scope, self._gram, min(unread), max(unread), round(spanned) + 1):
                self._keep(block)

    def get(self, key: str) -> Positions | None:
        """The gram's positions in a record, None when the record does not hold it. Probing: the block that
        would hold it (one item), unless read already."""
        found = self._cached(key)
        if found is None and self._probing:
            block = self._store.gram_floor(self._scope, self._gram, key)
            found = self._keep(block) if block is not None else None
        return None if found is None else found.get(key)


@dataclass(frozen=True)
class Filter:
    """One facet's selection as lists of the index: a record passes when one of ``include`` holds it
    (when it names any) and none of ``exclude``."""

    include: tuple[str, ...]
    exclude: tuple[str, ...]


def filters(query: Query) -> list[Filter] | None:
    """The query's filters but its phrase and time bounds as lists of the index; None when one is not
    (ids, conditions, a facet the index does not list, a value too long for a partition)."""
    collection = query.collection
    if query.ids.include or query.ids.exclude or query.conditions:
        return None
    scope = grams.scope_of(collection, query.scoped)
    found = []
    for name, selection in sorted(query.facets.items()):
        include = tuple(grams.facet_gram(name, value) for value in sorted(selection.include))
        exclude = tuple(grams.facet_gram(name, value) for value in sorted(selection.exclude))
        if name not in collection.phrase_facets or not all(
            keys.can_exist(grams.block_partition(scope, gram)) for gram in include + exclude
        ):
            return None
        found.append(Filter(include, exclude))
    return found


def matching(store: Store, query: Query, low: str | None = None, high: str | None = None,
             descending: bool = False, *, chunk: int | None = None, filtered: bool = False) -> Matches | None:  # fmt: skip
    """The scope's records holding the query's phrase, strictly between the bounds, in page order
    (descending: the reverse); None when the index does not answer the phrase. ``chunk``: the driver's
    postings checked together at first, what a page needs (each further chunk twice as many); None:
    all at once (a count, a random pick). ``filtered``: the records also pass the query's other
    filters (None when the index does not answer them: ``filters``); without it, a record read to
    prove the phrase is left out when it fails another filter, as the caller would."""
    phrase = query.phrase
    chosen = filters(query) if filtered else []
    if not phrase or not answers(query) or chosen is None:
        return None
    scope = grams.scope_of(query.collection, query.scoped)
    listed = sorted({gram for one in chosen for gram in one.include + one.exclude})
    checker = _Checker(store, query, scope, chosen, chunk)
    driving: Iterator[tuple[str, set[tuple[int, int]] | None]]
    if len(phrase) == 2:
        counts = store.gram_prefix(scope, phrase)
        merged = heapq.merge(*[(key for key, _ in postings(store, scope, gram, low, high, descending)) for gram in sorted(counts)],
                             reverse=descending)  # fmt: skip
        estimate = sum(counts.values())
        driving = ((key, None) for key, _ in groupby(merged))  # a record in several lists once
    else:
        needed = grams.required(phrase)
        first, counts = _first(store, scope, needed, listed)
        if min(counts.values()) <= 0:
            return Matches(iter(()), 0)
        (gram, at), *checker.grams = _driving(first, counts)
        checker.later = [pair for pair in needed if pair not in first]
        estimate = counts[gram]
        driving = ((key, _starts(positions, at)) for key, positions in postings(store, scope, gram, low, high, descending))
    checker.counts.update(counts)
    checker.counts.update({gram: head.n for gram, head in store.gram_heads(scope, listed).items()})
    if any(one.include and not any(checker.counts[gram] for gram in one.include) for one in chosen):
        return Matches(iter(()), 0)  # no record holds any value a filter includes
    return Matches(checker.run(driving, estimate), estimate)


def _first(store: Store, scope: str, needed: list[tuple[str, int]], listed: list[str] | None = None
           ) -> tuple[list[tuple[str, int]], dict[str, int]]:  # fmt: skip
    """The required pairs whose heads are read first, and their counts (the filters' lists' heads in the
    same call): the phrase's spans, rarer together than its trigrams; its trigrams too when it has no
    span, or when walking the rarest span's list would read more blocks than its trigrams' heads are
    many (a rare word after a common one: one of its trigrams may drive for less)."""
    first = [pair for pair in needed if pair[0].startswith(grams.SPAN)] or needed
    heads = store.gram_heads(scope, sorted({gram for gram, _ in first} | set(listed or ())))
    counts = {gram: heads[gram].n for gram, _ in first}
    others = [pair for pair in needed if pair not in first]
    if others and 0 < min(counts.values()) and min(counts.values()) / POSTINGS_PER_BLOCK > len(others):
        counts |= {gram: head.n for gram, head in store.gram_heads(scope, sorted({gram for gram, _ in others})).items()}
        first = needed
    return first, counts


def _driving(needed: list[tuple[str, int]], counts: dict[str, int]) -> list[tuple[str, int]]:
    """The required (gram, offset) pairs, rarest first: the first drives, the others check."""
    return sorted(needed, key=lambda pair: (counts[pair[0]], pair[1]))


def _starts(positions: Positions, at: int) -> set[tuple[int, int]]:
    """Where the phrase would start in a record, from the positions of its gram at offset ``at``."""
    return {(text, offset - at) for text, offset in positions if offset >= at}


def _narrowed(starts: set[tuple[int, int]], positions: Positions | None, offset: int) -> set[tuple[int, int]]:
    """The starts at which another gram of the phrase, at ``offset`` in it, occurs too."""
    found = set(positions or ())
    return {(text, start) for text, start in starts if (text, start + offset) in found}


class _Checker:
    """Checks the driver's candidates a chunk at a time: against each other gram of the phrase, rarest
    first, then the filters' lists, each list read by ``_Lookup``. When a list would be read a block
    per candidate, the candidates' records are read instead: the same item each, and one proves every
    check left. The trigrams the spans leave are checked only when the spans leave more candidates
    than their heads and a block of each would cost: their heads are read then."""

    def __init__(self, store: Store, query: Query, scope: str, chosen: list[Filter], chunk: int | None) -> None:
        self._store, self._query, self._scope, self._chosen, self._chunk = store, query, scope, chosen, chunk
        self.grams: list[tuple[str, int]] = []
        """The phrase's (gram, offset) pairs checked, rarest first, whose counts are known."""
        self.later: list[tuple[str, int]] = []
        """Pairs whose heads are not read yet (the trigrams over what the spans leave)."""
        self.counts: dict[str, int] = {}
        self._lookups: dict[str, _Lookup] = {}
        self._none = False
        self._batch = _RECORD_BATCH
        """Records read at most in one call to prove candidates: the current chunk's size."""

    def run(self, driving: Iterator[tuple[str, set[tuple[int, int]] | None]], estimate: int) -> Iterator[Found]:
        chunk = self._chunk
        while not self._none and (read := list(islice(driving, chunk))):
            self._batch = min(chunk or _RECORD_BATCH, _RECORD_BATCH)
            yield from self._checked(read, min(1.0, len(read) / max(1, estimate)))
            if chunk is None:
                return
            chunk = min(chunk * 2, MAX_CHUNK)  # few matches so far: read on in larger chunks, as a count would

    def _lookup(self, gram: str, keys: list[str], share: float) -> _Lookup | None:
        """The gram's lookup, ready for these keys; None when it would read a block per key."""
        if _probes(len(keys), self.counts[gram], share):
            return None
        lookup = self._lookups.setdefault(gram, _Lookup(self._store, self._scope, gram))
        lookup.prepare(keys, self.counts[gram], share)
        return lookup

    def _checked(self, read: list[tuple[str, set[tuple[int, int]] | None]], share: float) -> Iterator[Found]:
        candidates = [(key, starts) for key, starts in read if starts is None or starts]
        checked = 0
        while candidates and (checked < len(self.grams) or self.later):
            if checked == len(self.grams):
                if len(candidates) <= 2 * len(self.later):  # fewer records than the heads and a block of each
                    yield from self._proved([key for key, _ in candidates])
                    return
                heads = self._store.gram_heads(self._scope, sorted({gram for gram, _ in self.later}))
                self.counts.update({gram: head.n for gram, head in heads.items()})
                if min(head.n for head in heads.values()) <= 0:
                    self._none = True  # a trigram no record holds: nothing matches
                    return
                self.grams += _driving(self.later, self.counts)
                self.later = []
            gram, offset = self.grams[checked]
            checked += 1
            lookup = self._lookup(gram, [key for key, _ in candidates], share)
            if lookup is None:
                yield from self._proved([key for key, _ in candidates])
                return
            narrowed = [(key, _narrowed(starts or set(), lookup.get(key), offset)) for key, starts in candidates]
            candidates = [(key, starts) for key, starts in narrowed if starts]
        yield from self._filtered([key for key, _ in candidates], share)

    def _filtered(self, batch: list[str], share: float) -> Iterator[Found]:
        """The keys that pass the filters' lists."""
        for one in self._chosen:
            held: dict[str, set[str]] = {}
            for gram in one.include + one.exclude:
                if not batch or not self.counts[gram]:
                    held[gram] = set()
                    continue
                lookup = self._lookup(gram, batch, share)
                if lookup is None:
                    yield from self._proved(batch)
                    return
                held[gram] = {key for key in batch if lookup.get(key) is not None}
            batch = [key for key in batch if (not one.include or any(key in held[gram] for gram in one.include))
                     and not any(key in held[gram] for gram in one.exclude)]  # fmt: skip
        yield from ((key, None) for key in batch)

    def _proved(self, candidates: list[str]) -> Iterator[Found]:
        """The candidates whose records match the query, read in batches as far as the caller goes."""
        collection = self._query.collection.name
        for start in range(0, len(candidates), self._batch):
            batch = candidates[start : start + self._batch]
            by_id = self._store.records(collection, [keys.id_of_sort_key(key) for key in batch])
            for key in batch:
                record = by_id.get(keys.id_of_sort_key(key))
                if record is not None and self._query.matches(record):
                    yield key, record


_RECORD_BATCH = 100
"""Records read at most in one BatchGetItem to prove candidates."""


def listed(store: Store, query: Query, low: str | None, high: str | None, facet: str) -> dict[str, int] | None:
    """How many of the matches (the phrase and the filters) each value of a facet the index lists holds
    (values none holds left out); None when the index does not answer. A match whose record was read
    to prove it is counted from the record; for the others, the values are the heads of their lists
    (one Query by prefix), each list read within the matches' range, or probed for a few matches."""
    if facet not in query.collection.phrase_facets:
        return None
    matched = matching(store, query, low, high, filtered=True)
    if matched is None:
        return None
    found = list(matched.found)
    counted = Counter(
        value for _, record in found if record is not None for value in set(query.collection.facet(facet).values(record))
    )
    unread = [key for key, record in found if record is None]
    scope = grams.scope_of(query.collection, query.scoped)
    prefix = grams.facet_gram(facet, "")
    for gram, count in sorted(store.gram_prefix(scope, prefix).items()) if unread else ():
        lookup = _Lookup(store, scope, gram)
        lookup.prepare(unread, count, 1.0)
        counted[gram[len(prefix) :]] += sum(1 for key in unread if lookup.get(key) is not None)
    return {value: held for value, held in counted.items() if held}


SAMPLED_BLOCKS = 8
"""Driver blocks a random pick reads by sampling before it gives up and enumerates the matches
instead: a phrase that few of its rarest gram's records hold."""
MAX_DRAWS = 64
"""Postings drawn at most, read or not: a list whose few blocks are all read may hold no match within the bounds."""


@dataclass
class Draws:
    keys: Iterator[str]
    """Sort keys of candidates, each drawn independently and uniformly among the rarest gram's records
    strictly between the bounds whose positions leave room for the phrase: the caller reads a
    candidate's record and keeps it if it matches, so that each match is as likely. The draws end
    when ``SAMPLED_BLOCKS`` are read or after ``MAX_DRAWS``."""
    estimate: int = 0
    """The rarest gram's count: at most how many records match."""
    sampled: bool = True
    """False when that gram's head no longer lists its blocks (more than ``grams.MAX_DIRECTORY``):
    nothing is drawn, and the caller may draw among the scope's records instead, as many of which
    hold the phrase."""
    none: bool = False
    """The heads prove that no record of the scope holds the phrase."""


def draws(store: Store, query: Query, low: str | None, high: str | None, rng: random.Random) -> Draws | None:
    """Random candidates for the query's phrase, for rejection sampling over the list of its rarest
    span (or trigram, when it has no space): a block drawn among those its head lists, a slot drawn
    among the most postings a block can hold (a slot past the block's postings draws again, so every
    posting is as likely), the posting kept when it lies within the bounds and its positions leave
    room for the phrase. The other lists are not read: the candidate's record, which a random pick
    reads anyway, proves the phrase and the filters at once. None for a phrase the index does not
    answer or of two characters; nothing drawn (``sampled`` False) from a list whose head no longer
    lists its blocks."""
    phrase = query.phrase
    if not phrase or not answers(query) or len(phrase) < grams.GRAM:
        return None
    scope = grams.scope_of(query.collection, query.scoped)
    first, counts = _first(store, scope, grams.required(phrase))
    if min(counts.values()) <= 0:
        return Draws(iter(()), none=True)
    (gram, at), *_ = _driving(first, counts)
    bounds = store.gram_heads(scope, [gram])[gram].directory  # read above
    if not bounds:
        return Draws(iter(()), counts[gram], sampled=False)
    return Draws(_drawn(store, scope, gram, at, bounds, low, high, rng), counts[gram])


def _drawn(store: Store, scope: str, gram: str, at: int, bounds: tuple[str, ...], low: str | None, high: str | None,
           rng: random.Random) -> Iterator[str]:  # fmt: skip
    slots = grams.MAX_BLOCK_BYTES // grams.MIN_POSTING_BYTES
    blocks: dict[str, list[Posting]] = {}
    for _ in range(MAX_DRAWS):
        if len(blocks) >= SAMPLED_BLOCKS:
            return  # whatever the next draw: stopping on it would favour the blocks read already
        lower = rng.choice(bounds)
        if lower not in blocks:
            block = store.gram_block(scope, gram, lower)
            blocks[lower] = grams.decode(block["p"]) if block else []
        held = blocks[lower]
        if len(held) > slots:
            return  # more postings than a block can hold at the least size: not drawn uniformly
        slot = rng.randrange(slots)
        if slot < len(held) and _within(held[slot][0], low, high) and _starts(held[slot][1], at):
            yield held[slot][0]
