"""Which records hold a phrase, from the phrase index (``catalog.grams``), in page order.

- **Three characters or more.** The heads of the phrase's grams are read first, in one
  BatchGetItem (those of every gram up to ``MAX_HEADS``, else of the ``required`` ones). A gram no
  record holds: nothing matches, and nothing more is read. Otherwise the rarest gram *drives*: its
  blocks are read in page order within the plan's bounds, in chunks of postings; each posting's
  positions give where the phrase would start. Each ``required`` gram (offsets 0, 3, 6, ... and the
  last) then keeps the candidates where it occurs at that start plus its offset, rarest first. A
  gram's postings are read by **walking** its blocks alongside the candidates when its list is short
  enough (its blocks no more than the candidates), else by **probing** the one block that would hold
  each candidate (a Query of one item; a block read answers every candidate it covers). What is
  left is exactly the records holding the phrase: no record is read to check it.
- **Two characters.** Every such substring starts a gram (texts end with ``grams.END``): the
  union of the lists of the grams starting with it (one Query of the heads by prefix), merged in
  page order.
- **One character** (or one holding the end marker): not answered here (None); the caller reads
  the compact entries, as it did before the index.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from catalog import grams
from catalog.grams import Positions
from catalog.query import Query
from catalog.store import Store

MAX_HEADS = 16
"""Heads read to choose the driver: every gram of a phrase up to this many, else the required ones."""
POSTINGS_PER_BLOCK = 50
"""About how many postings a block holds (``grams.MAX_BLOCK_BYTES`` / some 35 bytes a posting):
what walking a list is expected to read."""
CHUNK = 64
"""Driver postings checked together: a page stops after the chunk that fills it."""

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
    """Where one gram occurs in given records, asked in page order: by walking or by probing its blocks."""

    def __init__(self, store: Store, scope: str, gram: str, descending: bool, walk: bool) -> None:
        self._store, self._scope, self._gram, self._descending, self._walk = store, scope, gram, descending, walk
        self._walker: Iterator[Posting] | None = None
        self._current: Posting | None = None
        self._blocks: list[tuple[str, str, dict[str, Positions]]] = []  # (lower, last key, postings) probed

    def positions(self, key: str) -> Positions:
        return self._walked(key) if self._walk else self._probed(key)

    def _before(self, one: str, other: str) -> bool:
        return one > other if self._descending else one < other

    def _walked(self, key: str) -> Positions:
        if self._walker is None:
            self._walker = postings(self._store, self._scope, self._gram, None, None, self._descending, start=key)
            self._current = next(self._walker, None)
        while self._current is not None and self._before(self._current[0], key):
            self._current = next(self._walker, None)
        return self._current[1] if self._current is not None and self._current[0] == key else ()

    def _probed(self, key: str) -> Positions:
        for lower, last, found in self._blocks:
            if lower <= key <= last:
                return found.get(key, ())
        block = self._store.gram_floor(self._scope, self._gram, key)
        if block is None:
            return ()
        decoded = grams.decode(block["p"])
        found = dict(decoded)
        self._blocks.append((grams.lower_of(block["SK"]), decoded[-1][0] if decoded else "", found))
        return found.get(key, ())


def matching(store: Store, query: Query, low: str | None = None, high: str | None = None,
             descending: bool = False) -> Matches | None:  # fmt: skip
    """The sort keys (``fsk``) of the scope's records holding the query's phrase, strictly between the
    bounds, in page order (descending: the reverse); None when the index does not answer the phrase."""
    phrase = query.phrase
    if not answers(query):
        return None
    scope = grams.scope_of(query.collection, query.scoped)
    if len(phrase) == 2:
        heads = store.gram_prefix(scope, phrase)
        lists = [(key for key, _ in postings(store, scope, gram, low, high, descending)) for gram in sorted(heads)]
        return Matches(_unique(heapq.merge(*lists, reverse=descending)), sum(heads.values()))
    needed = grams.required(phrase)
    every = [(phrase[offset : offset + grams.GRAM], offset) for offset in range(len(phrase) - grams.GRAM + 1)]
    names = sorted({gram for gram, _ in every})
    if len(names) > MAX_HEADS:
        names, every = sorted({gram for gram, _ in needed}), needed
    heads = store.gram_heads(scope, names)
    if min(heads.values()) <= 0:
        return Matches(iter(()), 0)
    driver = min(every, key=lambda pair: (heads[pair[0]], pair[1]))
    checks = sorted((pair for pair in needed if pair != driver), key=lambda pair: (heads[pair[0]], pair[1]))
    return Matches(_verified(store, scope, driver, checks, heads, low, high, descending), heads[driver[0]])


def _unique(keys: Iterator[str]) -> Iterator[str]:
    previous = None
    for key in keys:
        if key != previous:
            yield key
        previous = key


def _verified(store: Store, scope: str, driver: tuple[str, int], checks: list[tuple[str, int]], heads: dict[str, int],
              low: str | None, high: str | None, descending: bool) -> Iterator[str]:  # fmt: skip
    gram, at = driver
    lookups = {
        name: _Lookup(store, scope, name, descending, walk=heads[name] / POSTINGS_PER_BLOCK <= heads[gram])
        for name in {name for name, _ in checks}
    }
    driving = postings(store, scope, gram, low, high, descending)
    while chunk := list(islice(driving, CHUNK)):
        candidates = [(key, {(text, offset - at) for text, offset in positions if offset >= at}) for key, positions in chunk]
        for name, offset in checks:
            lookup = lookups[name]
            kept = []
            for key, starts in candidates:
                if not starts:
                    continue
                found = set(lookup.positions(key))
                starts = {(text, start) for text, start in starts if (text, start + offset) in found}
                if starts:
                    kept.append((key, starts))
            candidates = kept
        yield from (key for key, starts in candidates if starts)
