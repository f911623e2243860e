"""Which records hold a phrase, from the phrase index (``catalog.grams``), in page order.

- **Three characters or more.** The heads of the phrase's ``required`` grams (its spans across
  spaces, then trigrams over the rest: they cover it) are read first, in one BatchGetItem. A gram
  no record holds: nothing matches, and nothing more is read. Otherwise the rarest *drives*: its
  blocks are read in page order within the plan's bounds (for a page in chunks of postings,
  ``CHUNK`` then twice as many each time; for a count all of them); each posting's positions give
  where the phrase would start. Each other required gram, rarest first, keeps the candidates where
  it occurs at that start plus its offset. Its postings are read whichever way reads fewer items:
  **probing** the block that would hold each candidate (one item each; a block read answers every
  candidate it covers), or **one Query** of the blocks spanning the candidates' keys (about its
  count / ``POSTINGS_PER_BLOCK`` times the share of the driver's list the chunk is). What is left
  is exactly the records holding the phrase: no record is read to check it.
- **Two characters.** Every such substring starts a gram (texts end with ``grams.END``): the
  union of the lists of the grams starting with it (one Query of the heads by prefix), merged in
  page order.
- **One character** (or one holding a marker of the index's names): not answered here (None); the caller reads
  the compact entries, as it did before the index.
- **Filters** on the facets the index lists (``filters``: a song's status, genres, moods), when
  asked for: their lists' heads are read with the phrase's, and each chunk of matches keeps the keys
  those lists hold (includes) or do not (excludes), read the same two ways. A count or a page with
  such filters then reads no compact entry, and records only for what a page returns.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby, islice

from catalog import grams, keys
from catalog.grams import Positions
from catalog.query import Query
from catalog.store import Store

POSTINGS_PER_BLOCK = grams.MAX_BLOCK_BYTES // grams.POSTING_BYTES
"""About how many postings a block holds: what walking a list is expected to read."""
CHUNK = 64
"""Driver postings checked together at first: a page stops after the chunk that fills it; each
further chunk is twice the one before (up to ``MAX_CHUNK``), so that a page of few matches costs
about what a count costs."""
MAX_CHUNK = 4096

Posting = tuple[str, Positions]


@dataclass
class Matches:
    keys: Iterator[str]
    """The sort keys of the matching records, in the order asked for, read as far as the caller goes."""
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


class _Lookup:
    """Where one gram occurs in given records: its blocks read once each, by probing or by range."""

    def __init__(self, store: Store, scope: str, gram: str) -> None:
        self._store, self._scope, self._gram = store, scope, gram
        self._blocks: list[tuple[str, str, dict[str, Positions]]] = []  # (lower bound, last key, postings)
        self._probing = True
        self.probes = 0
        """Blocks read one at a time so far."""

    def _cached(self, key: str) -> dict[str, Positions] | None:
        for lower, last, found in self._blocks:
            if lower <= key <= last:
                return found
        return None

    def _keep(self, block: dict) -> dict[str, Positions]:
        decoded = grams.decode(block["p"])
        found = dict(decoded)
        self._blocks.append((grams.lower_of(block["SK"]), decoded[-1][0] if decoded else "", found))
        return found

    def prepare(self, keys: list[str], count: int, share: float) -> None:
        """Get ready to look these keys up: read the blocks spanning them in one Query when that reads
        fewer items than probing the block of each (about ``count`` / ``POSTINGS_PER_BLOCK`` times
        ``share``, the part of the list the keys span); else probe as they are looked up."""
        spanned = count / POSTINGS_PER_BLOCK * share + 1
        self._probing = len(keys) <= spanned
        if not self._probing and keys:
            for block in self._store.gram_between(self._scope, self._gram, min(keys), max(keys), round(spanned) + 1):
                self._keep(block)

    def get(self, key: str) -> Positions | None:
        """The gram's positions in a record, None when the record does not hold it. Probing: the block that
        would hold it (one item), unless read already."""
        found = self._cached(key)
        if found is None and self._probing:
            self.probes += 1
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
             descending: bool = False, *, paged: bool = True, filtered: bool = False) -> Matches | None:  # fmt: skip
    """The sort keys (``fsk``) of the scope's records holding the query's phrase, strictly between the
    bounds, in page order (descending: the reverse); None when the index does not answer the phrase.
    ``paged``: the caller may stop early (a page), so the driver's postings are checked a chunk at a
    time; else (a count, a random pick) all at once. ``filtered``: the keys also pass the query's
    other filters (None when the index does not answer them: ``filters``)."""
    phrase = query.phrase
    chosen = filters(query) if filtered else []
    if not phrase or not answers(query) or chosen is None:
        return None
    scope = grams.scope_of(query.collection, query.scoped)
    listed = sorted({gram for one in chosen for gram in one.include + one.exclude})
    chunk = CHUNK if paged else None
    if len(phrase) == 2:
        counts = store.gram_prefix(scope, phrase)
        merged = heapq.merge(*[(key for key, _ in postings(store, scope, gram, low, high, descending)) for gram in sorted(counts)],
                             reverse=descending)  # fmt: skip
        estimate = sum(counts.values())
        if listed:
            counts |= {gram: head.n for gram, head in store.gram_heads(scope, listed).items()}
        found: Iterator[str] = (key for key, _ in groupby(merged))  # a record in several lists once
    else:
        needed = grams.required(phrase)
        heads = store.gram_heads(scope, sorted({gram for gram, _ in needed} | set(listed)))
        counts = {gram: head.n for gram, head in heads.items()}
        if min(counts[gram] for gram, _ in needed) <= 0:
            return Matches(iter(()), 0)
        driver, *checks = _driving(needed, counts)
        estimate = counts[driver[0]]
        found = _verified(store, scope, driver, checks, counts, low, high, descending, chunk)
    if any(one.include and not any(counts[gram] for gram in one.include) for one in chosen):
        return Matches(iter(()), 0)  # no record holds any value a filter includes
    return Matches(_kept(store, scope, found, chosen, counts, estimate, chunk) if chosen else found, estimate)


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


def _verified(store: Store, scope: str, driver: tuple[str, int], checks: list[tuple[str, int]], heads: dict[str, int],
              low: str | None, high: str | None, descending: bool, chunk: int | None) -> Iterator[str]:  # fmt: skip
    gram, at = driver
    lookups = {name: _Lookup(store, scope, name) for name in {name for name, _ in checks}}
    driving = postings(store, scope, gram, low, high, descending)
    while read := list(islice(driving, chunk)):
        candidates = [(key, _starts(positions, at)) for key, positions in read]
        candidates = [(key, starts) for key, starts in candidates if starts]
        share = len(read) / max(1, heads[gram])
        for name, offset in checks:
            if not candidates:
                break
            lookup = lookups[name]
            lookup.prepare([key for key, _ in candidates], heads[name], share)
            kept = []
            for key, starts in candidates:
                if starts := _narrowed(starts, lookup.get(key), offset):
                    kept.append((key, starts))
            candidates = kept
        yield from (key for key, _ in candidates)
        if chunk is None:
            return
        chunk = min(chunk * 2, MAX_CHUNK)  # few matches so far: read on in larger chunks, as a count would


def _kept(store: Store, scope: str, found: Iterator[str], chosen: list[Filter], counts: dict[str, int], estimate: int,
          chunk: int | None) -> Iterator[str]:  # fmt: skip
    """The keys that pass the filters, checked a chunk at a time (all at once without ``chunk``)."""
    lookups: dict[str, _Lookup] = {}
    while batch := list(islice(found, chunk)):
        share = min(1.0, len(batch) / max(1, estimate))
        for one in chosen:
            held: dict[str, set[str]] = {}
            for gram in one.include + one.exclude:
                lookup = lookups.setdefault(gram, _Lookup(store, scope, gram))
                if counts[gram]:
                    lookup.prepare(batch, counts[gram], share)
                held[gram] = {key for key in batch if counts[gram] and lookup.get(key) is not None}
            batch = [key for key in batch if (not one.include or any(key in held[gram] for gram in one.include))
                     and not any(key in held[gram] for gram in one.exclude)]  # fmt: skip
        yield from batch
        if chunk is None:
            return
        chunk = min(chunk * 2, MAX_CHUNK)


def listed(store: Store, query: Query, low: str | None, high: str | None, facet: str) -> dict[str, int] | None:
    """How many of the matches (the phrase and the filters) each value of a facet the index lists holds
    (values none holds left out); None when the index does not answer. The values are the heads of
    their lists (one Query by prefix); each list is read within the matches' range, or probed for a
    few matches."""
    if facet not in query.collection.phrase_facets:
        return None
    matched = matching(store, query, low, high, paged=False, filtered=True)
    if matched is None:
        return None
    found = list(matched.keys)
    if not found:
        return {}
    scope = grams.scope_of(query.collection, query.scoped)
    prefix = grams.facet_gram(facet, "")
    counted = {}
    for gram, count in sorted(store.gram_prefix(scope, prefix).items()):
        lookup = _Lookup(store, scope, gram)
        lookup.prepare(found, count, 1.0)
        if held := sum(1 for key in found if lookup.get(key) is not None):
            counted[gram[len(prefix) :]] = held
    return counted


SAMPLED_BLOCKS = 8
"""Blocks a random pick reads by sampling (drawn driver blocks and probes) before it gives up and
enumerates the matches instead: a phrase that few of its rarest trigram's records hold."""
MAX_DRAWS = 64
"""Postings drawn at most, read or not: a list whose few blocks are all read may hold no match within the bounds."""


@dataclass
class Draws:
    keys: Iterator[str]
    """Sort keys of records holding the phrase, each drawn independently and uniformly among those
    strictly between the bounds; the draws end when ``SAMPLED_BLOCKS`` are read or after ``MAX_DRAWS``."""
    none: bool = False
    """The heads prove that no record of the scope holds the phrase."""


def draws(store: Store, query: Query, low: str | None, high: str | None, rng: random.Random) -> Draws | None:
    """Random matches of the query's phrase by rejection sampling over its rarest required trigram's
    list: a block drawn among those its head lists, a slot drawn among the most postings a block can
    hold (a slot past the block's postings draws again, so every posting is as likely), the posting
    kept when it lies within the bounds and the other trigrams, probed, prove the phrase at its
    start. None when sampling cannot pay: a phrase the index does not answer or of two characters,
    a list whose head no longer lists its blocks, or lists so short that reading them all costs
    less than ``SAMPLED_BLOCKS``."""
    phrase = query.phrase
    if not phrase or not answers(query) or len(phrase) < grams.GRAM:
        return None
    scope = grams.scope_of(query.collection, query.scoped)
    needed = grams.required(phrase)
    heads = store.gram_heads(scope, sorted({gram for gram, _ in needed}))
    if min(head.n for head in heads.values()) <= 0:
        return Draws(iter(()), none=True)
    driver, *checks = _driving(needed, {gram: head.n for gram, head in heads.items()})
    bounds = heads[driver[0]].directory
    whole = sum(head.n for head in heads.values()) / POSTINGS_PER_BLOCK
    if not bounds or whole <= SAMPLED_BLOCKS:
        return None
    return Draws(_drawn(store, scope, driver, checks, bounds, low, high, rng))


def _drawn(store: Store, scope: str, driver: tuple[str, int], checks: list[tuple[str, int]], bounds: tuple[str, ...],
           low: str | None, high: str | None, rng: random.Random) -> Iterator[str]:  # fmt: skip
    gram, at = driver
    slots = grams.MAX_BLOCK_BYTES // grams.MIN_POSTING_BYTES
    lookups = {name: _Lookup(store, scope, name) for name in {name for name, _ in checks}}
    blocks: dict[str, list[Posting]] = {}
    for _ in range(MAX_DRAWS):
        if len(blocks) + sum(lookup.probes for lookup in lookups.values()) >= SAMPLED_BLOCKS:
            return
        lower = rng.choice(bounds)
        if lower not in blocks:
            block = store.gram_block(scope, gram, lower)
            blocks[lower] = grams.decode(block["p"]) if block else []
        held = blocks[lower]
        if len(held) > slots:
            return  # more postings than a block can hold at the least size: not drawn uniformly
        slot = rng.randrange(slots)
        if slot >= len(held) or not _within(held[slot][0], low, high):
            continue
        key, positions = held[slot]
        starts = _starts(positions, at)
        for name, offset in checks:
            if not (starts := _narrowed(starts, lookups[name].get(key), offset)):
                break
        if starts:
            yield key
