"""Carry out a plan: read index entries, then only the records the answer needs.

Index entries carry every attribute a filter looks at, so conditions are checked on entries and
full records are read only for what is returned.
"""

import heapq
import random
from collections.abc import Iterator
from itertools import chain, islice

from catalog import keys
from catalog.plan import Plan
from catalog.query import Window
from catalog.store import Store

SAMPLING_TRIES = 8
"""Rejection-sampling attempts before random falls back to enumerating the matching entries."""

_rng = random.SystemRandom()


def entries(store: Store, plan: Plan, page_size: int | None = None) -> Iterator[dict]:
    """The entries matching the plan's query, in its order, each record once."""
    query = plan.query

    def _sort_key(entry: dict) -> str:
        return entry[plan.range_key]

    if plan.posting_keys:
        postings = [p for p in store.batch_get(list(plan.posting_keys)) if p["fpk"] == plan.scope_partition]
        postings.sort(key=_sort_key, reverse=query.descending)
        yield from (posting for posting in postings if query.matches(posting))
        return
    streams = [
        chain.from_iterable(
            store.query(
                plan.index,
                partition,
                range_key=plan.range_key,
                low=plan.low,
                high=plan.high,
                descending=query.descending,
                page_size=page_size,
            )
        )
        for partition in plan.partitions
    ]
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_sort_key, reverse=query.descending)
    previous = None
    for entry in merged:
        if entry[plan.range_key] == previous:
            continue  # the same record reached through a second partition
        previous = entry[plan.range_key]
        if query.matches(entry):
            yield entry


def _records(store: Store, plan: Plan, chosen: list[dict]) -> list[dict]:
    prefix = plan.query.collection.name
    return store.batch_get([keys.record_key(prefix, keys.id_of(entry)) for entry in chosen])


def page(store: Store, plan: Plan, window: Window) -> list[dict]:
    """The records in the window.

    Reads at most ``offset + limit`` entries per partition (more when filters drop entries), then
    ``limit`` records.
    """
    wanted = window.offset + window.limit
    matched = list(islice(entries(store, plan, page_size=wanted or 1), wanted))
    return _records(store, plan, matched[window.offset :])


def count(store: Store, plan: Plan) -> int:
    """How many records match: from the partition's counter when the plan is exact, else by entries."""
    if plan.exact:
        return store.count(plan.partitions[0])
    return sum(1 for _ in entries(store, plan))


def counted_page(store: Store, plan: Plan, window: Window) -> tuple[list[dict], int]:
    """The records in the window and how many records match in all, reading every entry at most once.

    An exact plan counts from its counter and reads only the window; otherwise the matching
    entries are enumerated once, which gives both the total and the window.
    """
    if plan.exact:
        total = store.count(plan.partitions[0])
        return (page(store, plan, window) if window.offset < total else []), total
    matched = list(entries(store, plan))
    return _records(store, plan, matched[window.offset : window.offset + window.limit]), len(matched)


def sample(store: Store, plan: Plan, rng: random.Random = _rng) -> dict | None:
    """One record drawn uniformly from those matching the plan's query, or None when none match.

    Draws a uniform position over the plan's partitions (their counters give the sizes and the
    Sampling index the entry at a position) and accepts it if it matches, with probability
    1/multiplicity so that records reachable through several partitions are not favoured: exact
    rejection sampling. After ``SAMPLING_TRIES`` rejections it enumerates the matching entries.
    With no filter or a single include value it reads a counter, one entry and the record.
    """
    if not plan.posting_keys:
        sizes = [store.count(partition) for partition in plan.partitions]
        total = sum(sizes)
        if total == 0:
            return None
        for _ in range(SAMPLING_TRIES):
            position = rng.randrange(total)
            for partition, size in zip(plan.partitions, sizes):
                if position < size:
                    break
                position -= size
            entry = store.slot(partition, position)
            if entry is None:
                continue  # a counter ahead of the index it counts: draw again
            if plan.query.matches(entry) and rng.random() * plan.multiplicity(entry) < 1:
                return next(iter(_records(store, plan, [entry])), None)
    candidates = list(entries(store, plan))
    if not candidates:
        return None
    return next(iter(_records(store, plan, [rng.choice(candidates)])), None)
