"""Carry out a plan: read exactly the records the answer needs, choosing them on compact entries.

``Listing``-like entries carry every attribute a filter looks at, so conditions are checked on
them and whole records are read only for what is returned. When nothing needs choosing (one
partition, no condition but its key range), a page is read straight from the whole-record index.
"""

import heapq
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import chain, islice

from catalog import keys, phrases, tally
from catalog.plan import Plan
from catalog.query import Query, Window
from catalog.store import Store

SAMPLING_TRIES = 8
"""Rejection-sampling attempts before random falls back to enumerating the matching entries."""
MAX_SAMPLING_TRIES = 64
"""Attempts at most when counters tell how many records match: 4 / (the share of draws that match),
so that all miss with a chance of about 2% (e^-4)."""

_rng = random.SystemRandom()


@dataclass(frozen=True)
class Page:
    records: list[dict]
    next_after: str | None
    """The range key of the last record when more records match after it (a cursor's position), else None."""


def entries(store: Store, plan: Plan, page_size: int | None = None, *, facets: bool = False) -> Iterator[dict]:
    """The entries matching the plan's query, in its order, each record once.

    Compact ``Listing``-like entries, or whole postings when ids drive the plan. With a phrase the
    index answers (``catalog.phrases``): the matches' keys alone when the index answers the other
    filters too and the caller needs no ``facets``, else whole records of the matches (``WHOLE``)
    when they are far fewer than the entries of the partitions to read instead, else those entries.
    """
    query = plan.query
    if query.phrase and not plan.posting_keys:
        found = _phrase_entries(store, plan, page_size, facets)
        if found is not None:
            yield from found
            return

    def _sort_key(entry: dict) -> str:
        return entry[plan.range_key]

    if plan.posting_keys:
        postings = [
            posting
            for posting in store.batch_get(list(plan.posting_keys))
            if posting["fpk"] == plan.scope_partition and plan.within(posting[plan.range_key])
        ]
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


WHOLE = "\x00whole"
"""Marks an entry that is a whole record already (read to check the filters a phrase match needs)."""
ENTRY_READS_PER_RECORD = 20
"""About how many compact entries cost what one record read costs (0.5 read unit each way)."""


def _phrase_entries(store: Store, plan: Plan, page_size: int | None, facets: bool) -> Iterator[dict] | None:
    query = plan.query
    chunk = min(page_size, phrases.MAX_CHUNK) if page_size else None
    if not facets:  # the index answers the phrase and the facet filters: the matches' keys, or their records
        matched = phrases.matching(store, query, plan.low, plan.high, query.descending, chunk=chunk, filtered=True)
        if matched is not None:
            collection = query.collection.name
            return (
                {**record, WHOLE: True} if record is not None
                else {"PK": keys.record_key(collection, keys.id_of_sort_key(key))["PK"], plan.range_key: key}
                for key, record in matched.found
            )  # fmt: skip
    matched = phrases.matching(store, query, plan.low, plan.high, query.descending, chunk=chunk)
    if matched is None:
        return None
    if matched.estimate * ENTRY_READS_PER_RECORD >= sum(store.counts(plan.partitions).values()):
        return None
    return _checked(store, plan, matched.found, page_size or 100)


def _checked(store: Store, plan: Plan, found: Iterator[phrases.Found], chunk: int) -> Iterator[dict]:
    """The records of these matches that pass every filter, those not read yet read in growing chunks."""
    collection = plan.query.collection.name
    chunk = max(1, min(chunk, 100))
    while batch := list(islice(found, chunk)):
        read = store.records(collection, [keys.id_of_sort_key(key) for key, record in batch if record is None])
        for key, record in batch:
            record = record if record is not None else read.get(keys.id_of_sort_key(key))
            if record is not None and plan.query.matches(record):
                yield {**record, WHOLE: True}
        chunk = min(chunk * 2, 100)


def _records(store: Store, plan: Plan, chosen: list[dict]) -> list[dict]:
    """The whole records of chosen entries (postings read by id, and entries marked ``WHOLE``, are whole
    records already), in their order."""
    if plan.posting_keys:
        return chosen
    collection = plan.query.collection.name
    read = store.records(collection, [keys.id_of(entry) for entry in chosen if WHOLE not in entry])
    return [
        {name: value for name, value in entry.items() if name != WHOLE} if WHOLE in entry else read[keys.id_of(entry)]
        for entry in chosen
        if WHOLE in entry or keys.id_of(entry) in read
    ]


def _window(store: Store, plan: Plan, matched: list[dict], window: Window, *, whole: bool = False) -> Page:
    """The window of matched entries (read one past its end, to know whether more follow) as a page.

    ``whole``: the matched entries are whole records already.
    """
    chosen = matched[window.offset : window.offset + window.limit]
    more = len(matched) > window.offset + window.limit and bool(chosen)
    records = chosen if whole else _records(store, plan, chosen)
    return Page(records, chosen[-1][plan.range_key] if more else None)


def page(store: Store, plan: Plan, window: Window) -> Page:
    """The records in the window, and where the next page starts.

    A plan no filter thins out (time bounds are its key range), in an order with a whole-record
    index, skips ``offset`` compact entries and reads ``limit + 1`` whole records in one Query. Otherwise it reads at least
    ``offset + limit + 1`` matching entries per partition, then the ``limit`` records.
    """
    if window.limit == 0:
        return Page([], None)
    page_index = plan.query.order.page_index
    if plan.unthinned and page_index:
        last_skipped = None
        if window.offset:
            last_skipped = _skip(store, plan, window.offset)
            if last_skipped is None:
                return Page([], None)
        read = store.query(
            page_index,
            plan.partitions[0],
            range_key=plan.range_key,
            low=plan.low,
            high=plan.high,
            descending=plan.query.descending,
            page_size=window.limit + 1,
            whole=True,
            start_after=last_skipped,
        )
        records = list(islice(chain.from_iterable(read), window.limit + 1))
        return _window(store, plan, records, Window(0, window.limit), whole=True)
    wanted = window.offset + window.limit + 1
    return _window(store, plan, list(islice(entries(store, plan, page_size=wanted), wanted)), window)


def _skip(store: Store, plan: Plan, offset: int) -> dict | None:
    """The ``offset``-th entry of an unthinned plan's partition (every entry matches), read as keys
    only; None when the partition holds fewer."""
    pages = store.query(plan.index, plan.partitions[0], range_key=plan.range_key, low=plan.low, high=plan.high,
                        descending=plan.query.descending, page_size=offset, keys_only=True)  # fmt: skip
    return next(islice(chain.from_iterable(pages), offset - 1, None), None)


def counted(store: Store, plan: Plan) -> int | None:
    """How many records match, from counters (``catalog.tally``), or None when they cannot tell."""
    if plan.posting_keys:
        return None
    number = tally.combination_count(store, plan.query)
    if number is not None:
        return number
    ranged = tally.range_count(plan.query, plan.partitions, plan.driver)
    if ranged is not None:
        return tally.measure(store, ranged).total
    return _complement(store, plan)


def _complement(store: Store, plan: Plan) -> int | None:
    """A count that only excludes values the combinations do not cover (``genres=-A,-B&moods=-c``): the
    scope's counter less the excluded partitions' entries merged (a record in two of them once), so
    that it reads the excluded records, never the rest of the catalog."""
    query = plan.query
    if not query.facets or any(chosen.include for chosen in query.facets.values()):
        return None
    if query.ids.include or query.ids.exclude or query.phrase or query.conditions:
        return None
    if query.newer_than is not None or query.older_than is not None:
        return None
    excluded = tuple(
        partition
        for name, chosen in query.facets.items()
        for value in sorted(chosen.exclude)
        if keys.can_exist(
            partition := keys.partition(query.collection.name, query.collection.scope, query.scoped, keys.path(name, value))
        )
    )
    union = replace(plan, query=Query(query.collection, query.scoped), partitions=excluded)
    return store.count(plan.scope_partition) - sum(1 for _ in entries(store, union))


def count(store: Store, plan: Plan) -> int:
    """How many records match: from counters when they answer, else by compact entries."""
    number = counted(store, plan)
    return number if number is not None else sum(1 for _ in entries(store, plan))


def listed_counts(store: Store, plan: Plan) -> dict[str, int]:
    """How many records matching the plan carry each value of the collection's listed facet, for what
    counters cannot tell (``tally.listed_counts``): with a phrase, from the phrase index's lists
    (``phrases.listed``); else from the matching entries (each record once)."""
    facet = plan.query.collection.facet(plan.query.collection.listed_name())
    if plan.query.phrase and not plan.posting_keys:
        counted = phrases.listed(store, plan.query, plan.low, plan.high, facet.name)
        if counted is not None:
            return counted
    counts: Counter[str] = Counter()
    for entry in entries(store, plan, facets=True):
        counts.update(set(facet.values(entry)))
    return dict(counts)


def counted_page(store: Store, plan: Plan, window: Window) -> tuple[Page, int]:
    """The page in the window and how many records match in all, reading every entry at most once.

    Where counters answer the total, they are read, and then only the window; otherwise the matching
    entries are enumerated once, which gives both the total and the window.
    """
    total = counted(store, plan)
    if total is not None:
        return (page(store, plan, window) if window.offset < total else Page([], None)), total
    matched = list(entries(store, plan))
    return _window(store, plan, matched, window), len(matched)


def sample(store: Store, plan: Plan, rng: random.Random = _rng) -> dict | None:
    """One record drawn uniformly from those matching the plan's query, or None when none match.

    Within a range counters count (``tally.range_count``): a uniform rank among the matches, found
    by walking down the range buckets (``tally.at_rank``), then its record. Otherwise: a uniform
    position over the plan's partitions (their counters give the sizes and the Sampling index the
    posting, a whole record, at a position), accepted if it matches, with probability
    1/multiplicity so that records reachable through several partitions are not favoured: exact
    rejection sampling. When counters tell how many records match, the draws expected to find one
    (up to ``MAX_SAMPLING_TRIES``), else ``SAMPLING_TRIES``; then it enumerates the matching entries.
    With no filter or a single include value it reads a counter and one posting. With a phrase, random
    candidates drawn from the phrase index (``phrases.draws``), whose records are read and kept when
    they match (the phrase and every filter), before it enumerates the matches.
    """
    if not plan.posting_keys and not (plan.query.phrase and phrases.answers(plan.query)):
        ranged = tally.range_count(plan.query, plan.partitions, plan.driver)
        if ranged is not None:
            measured = tally.measure(store, ranged)
            if measured.total == 0:
                return None
            entry = tally.at_rank(store, ranged, measured, rng.randrange(measured.total))
            if entry is not None:
                return next(iter(_records(store, plan, [entry])), None)
        else:
            sizes = store.counts(plan.partitions)
            total = sum(sizes.values())
            thinned = any(name != plan.driver or chosen.exclude for name, chosen in plan.query.facets.items())
            matches = tally.combination_count(store, plan.query) if thinned and total else None
            if total == 0 or matches == 0:
                return None
            tries = SAMPLING_TRIES if not matches else min(MAX_SAMPLING_TRIES, max(SAMPLING_TRIES, _tries(total, matches)))
            posting = _slotted(store, plan, sizes, tries, rng)
            if posting is not None:
                return posting
    elif plan.query.phrase and not plan.posting_keys:
        drawn = phrases.draws(store, plan.query, plan.low, plan.high, rng)
        if drawn is not None and drawn.none:
            return None
        collection = plan.query.collection.name
        for key in islice(drawn.keys, SAMPLING_TRIES) if drawn is not None else ():
            found = store.batch_get([keys.record_key(collection, keys.id_of_sort_key(key))])
            if found and plan.query.matches(found[0]):
                return found[0]
        if drawn is not None and not drawn.sampled:  # a list too long for its head to list its blocks
            sizes = store.counts(plan.partitions)
            total = sum(sizes.values())
            if total and _tries(total, drawn.estimate) <= MAX_SAMPLING_TRIES:  # a common phrase: positions pay
                posting = _slotted(store, plan, sizes, _tries(total, drawn.estimate), rng)
                if posting is not None:
                    return posting
    candidates = list(entries(store, plan))
    if not candidates:
        return None
    return next(iter(_records(store, plan, [rng.choice(candidates)])), None)


def _tries(total: int, matches: int) -> int:
    """Uniform draws over ``total`` postings that all miss ``matches`` of them with a chance of about
    2% (e^-4)."""
    return math.ceil(4 * total / max(1, matches))


def _slotted(store: Store, plan: Plan, sizes: dict[str, int], tries: int, rng: random.Random) -> dict | None:
    """A posting drawn uniformly among the plan's partitions' (``sizes``: their counters) that matches the
    query, in at most ``tries`` draws; each draw reads the posting at a uniform position (the
    Sampling index) and keeps it with probability 1 / its multiplicity (exact rejection sampling)."""
    total = sum(sizes.values())
    for _ in range(tries):
        position = rng.randrange(total)
        for partition in plan.partitions:  # the partition it stops at is read below
            if position < sizes[partition]:
                break
            position -= sizes[partition]
        posting = store.slot(partition, position)
        if posting is None:
            continue  # a counter ahead of the index it counts: draw again
        if plan.query.matches(posting) and rng.random() * plan.multiplicity(posting) < 1:
            return posting
    return None
