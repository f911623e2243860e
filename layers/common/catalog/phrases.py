"""Which records hold a phrase, from the phrase index (``catalog.grams``), in page order.

- **Three characters or more.** The heads of the phrase's ``required`` grams (offsets 0, 3, 6, ...
  and the last: they cover it) are read first, in one BatchGetItem. A gram no record holds: nothing
  matches, and nothing more is read. Otherwise the rarest *drives*: its blocks are read in page order
  within the plan's bounds (for a page in chunks of postings, ``CHUNK`` then twice as many each
  time, for a count or a random pick all of them); each posting's positions give where the phrase would start. Each other
  required gram, rarest first, keeps the candidates where it occurs at that start plus its offset.
  Its postings are read whichever way reads fewer items: **probing** the block that would hold each
  candidate (one item each; a block read answers every candidate it covers), or **one Query** of
  the blocks spanning the candidates' keys (about its count / ``POSTINGS_PER_BLOCK`` times the share
  of the driver's list the chunk is). What is left is exactly the records holding the phrase: no
  record is read to check it.
- **Two characters.** Every such substring starts a gram (texts end with ``grams.END``): the
  union of the lists of the grams starting with it (one Query of the heads by prefix), merged in
  page order.
- **One character** (or one holding the end marker): not answered here (None); the caller reads
  the compact entries, as it did before the index.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from catalog import grams
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
        self.probes = 0
        """Blocks read one at a time so far."""

    def _cached(self, key: str) -> dict[str, Positions] | None:
        for lower, last, found in self._blocks:
            if lower <= key <= last:
                return found
        return None

    def _keep(self, block: dict) -> tuple[str, str, dict[str, Positions]]:
        decoded = grams.decode(block["p"])
        kept = (grams.lower_of(block["SK"]), decoded[-1][0] if decoded else "", dict(decoded))
        self._blocks.append(kept)
        return kept

    def probe(self, key: str) -> Positions:
        """The gram's positions in one record: the block that would hold it (one item), unless read already."""
        found = self._cached(key)
        if found is None:
            self.probes += 1
            block = self._store.gram_floor(self._scope, self._gram, key)
            if block is None:
                return ()
            found = self._keep(block)[2]
        return found.get(key, ())

    def read_range(self, first: str, last: str, hint: int) -> None:
        """Read every block holding keys from ``first`` to ``last``: one Query (``hint``: about how many)."""
        for block in self._store.gram_between(self._scope, self._gram, first, last, hint):
            self._keep(block)

    def positions(self, key: str) -> Positions:
        """The gram's positions in a record whose block was read (by ``read_range``)."""
        found = self._cached(key)
        return found.get(key, ()) if found is not None else ()


def matching(store: Store, query: Query, low: str | None = None, high: str | None = None,
             descending: bool = False, *, paged: bool = True) -> Matches | None:  # fmt: skip
    """The sort keys (``fsk``) of the scope's records holding the query's phrase, strictly between the
    bounds, in page order (descending: the reverse); None when the index does not answer the phrase.
    ``paged``: the caller may stop early (a page), so the driver's postings are checked a chunk at a
    time; else (a count, a random pick) all at once."""
    phrase = query.phrase
    if not phrase or not answers(query):
        return None
    scope = grams.scope_of(query.collection, query.scoped)
    if len(phrase) == 2:
        heads = store.gram_prefix(scope, phrase)
        lists = [(key for key, _ in postings(store, scope, gram, low, high, descending)) for gram in sorted(heads)]
        return Matches(_unique(heapq.merge(*lists, reverse=descending)), sum(heads.values()))
    needed = grams.required(phrase)
    heads = {gram: head.n for gram, head in store.gram_heads(scope, sorted({gram for gram, _ in needed})).items()}
    if min(heads.values()) <= 0:
        return Matches(iter(()), 0)
    driver, *checks = sorted(needed, key=lambda pair: (heads[pair[0]], pair[1]))
    chunk = CHUNK if paged else None
    return Matches(_verified(store, scope, driver, checks, heads, low, high, descending, chunk), heads[driver[0]])


def _unique(keys: Iterator[str]) -> Iterator[str]:
    previous = None
    for key in keys:
        if key != previous:
            yield key
        previous = key


def _verified(store: Store, scope: str, driver: tuple[str, int], checks: list[tuple[str, int]], heads: dict[str, int],
              low: str | None, high: str | None, descending: bool, chunk: int | None) -> Iterator[str]:  # fmt: skip
    gram, at = driver
    lookups = {name: _Lookup(store, scope, name) for name in {name for name, _ in checks}}
    driving = postings(store, scope, gram, low, high, descending)
    while read := list(islice(driving, chunk)):
        candidates = [(key, {(text, offset - at) for text, offset in positions if offset >= at}) for key, positions in read]
        candidates = [(key, starts) for key, starts in candidates if starts]
        share = len(read) / max(1, heads[gram])
        for name, offset in checks:
            if not candidates:
                break
            lookup = lookups[name]
            # Probe each candidate's block, or read the blocks of the candidates' range: what reads fewer items.
            spanned = heads[name] / POSTINGS_PER_BLOCK * share + 1
            probing = len(candidates) <= spanned
            if not probing:
                keys = [key for key, _ in candidates]
                lookup.read_range(min(keys), max(keys), round(spanned) + 1)
            kept = []
            for key, starts in candidates:
                found = set(lookup.probe(key) if probing else lookup.positions(key))
                starts = {(text, start) for text, start in starts if (text, start + offset) in found}
                if starts:
                    kept.append((key, starts))
            candidates = kept
        yield from (key for key, _ in candidates)
        if chunk is None:
            return
        chunk = min(chunk * 2, MAX_CHUNK)  # few matches so far: read on in larger chunks, as a count would


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
    driver, *checks = sorted(needed, key=lambda pair: (heads[pair[0]].n, pair[1]))
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
        starts = {(text, offset - at) for text, offset in positions if offset >= at}
        for name, offset in checks:
            found = set(lookups[name].probe(key))
            starts = {(text, start) for text, start in starts if (text, start + offset) in found}
            if not starts:
                break
        if starts:
            yield key
