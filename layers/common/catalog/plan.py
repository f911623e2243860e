"""Choose how to read a query: which access path drives it, and within which key range.

Every condition is still checked on each index entry (``Query.matches``); the plan only decides
what is read, so that reads stay close to what is returned:

- ``ids`` given: read those postings directly (cost: one small item per id);
- else an include facet: merge its partitions (cost: the page, the skipped offset and the entries
  other conditions drop). When several facets include values, the one whose partitions hold the
  fewest postings by their counters (``candidates``: read first, in one BatchGetItem), else the one
  with the fewest values;
- else the collection's ``all`` partition;
always within the sort-key range that ``newerThan``/``olderThan`` give.

Whether counters answer a count instead of the entries is ``catalog.tally``'s to say.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from catalog import keys
from catalog.query import Query


@dataclass(frozen=True)
class Plan:
    query: Query
    scope_partition: str
    """The collection's ``all`` partition within the query's scope: a directly read posting must be in it."""
    partitions: tuple[str, ...] = ()
    """Listing partitions to merge, in sort order. Empty when ids drive the query."""
    posting_keys: tuple[dict, ...] = ()
    """Postings to read directly (the ``all`` path of each id) when ids drive the query."""
    driver: str | None = None
    """The facet whose include values chose the partitions, if any."""
    low: str | None = None
    high: str | None = None
    """Exclusive bounds on the range key of the order's index."""

    @property
    def index(self) -> str:
        return self.query.order.index

    @property
    def range_key(self) -> str:
        return self.query.order.key

    @property
    def unthinned(self) -> bool:
        """True when every entry in the plan's key range matches: one partition, and no condition
        but the time bounds (which are the key range)."""
        query = self.query
        driven = query.facets.get(self.driver) if self.driver else None
        others = {name: s for name, s in query.facets.items() if name != self.driver}
        return (
            len(self.partitions) == 1
            and not self.posting_keys
            and not others
            and (driven is None or not driven.exclude)
            and not query.ids.include
            and not query.ids.exclude
            and (query.order == query.collection.sorts[0] or (query.newer_than is None and query.older_than is None))
            and not query.phrase
            and not query.conditions
        )

    def within(self, range_key: str) -> bool:
        """Whether a range key lies strictly inside the plan's bounds."""
        return (self.low is None or range_key > self.low) and (self.high is None or range_key < self.high)

    def multiplicity(self, entry: dict) -> int:
        """In how many of the plan's partitions an entry appears (a song in two included genres: 2)."""
        if not self.driver:
            return 1
        facet = self.query.collection.facet(self.driver)
        return max(1, len(self.query.facets[self.driver].include.intersection(facet.values(entry))))


def _partitioner(query: Query) -> Callable[[str], str]:
    collection = query.collection

    def partition(access_path: str) -> str:
        return keys.partition(collection.name, collection.scope, query.scoped, access_path)

    return partition


def _included(query: Query) -> dict[str, tuple[str, ...]]:
    """Each facet the query includes values of -> the partitions of those values that can exist."""
    partition = _partitioner(query)
    included = {}
    for name, selection in query.facets.items():
        if selection.include:
            named = (partition(keys.path(name, value)) for value in sorted(selection.include))
            included[name] = tuple(p for p in named if keys.can_exist(p))
    return included


def candidates(query: Query) -> tuple[str, ...]:
    """The partitions whose counters choose the driver: those of every included value when two or
    more facets include values; none when there is no choice to make."""
    included = _included(query)
    if query.ids.include or len(included) < 2:
        return ()
    return tuple(dict.fromkeys(p for partitions in included.values() for p in partitions))


def plan(query: Query, sizes: Mapping[str, int] | None = None) -> Plan:
    """The plan of ``query``; ``sizes``: the counters of its ``candidates`` (partition -> postings), when read."""
    collection = query.collection
    partition = _partitioner(query)
    everything = partition(keys.path())
    by_default_order = query.order == collection.sorts[0]  # time bounds are on the default order's values
    low = keys.after(query.newer_than) if query.newer_than is not None and by_default_order else None
    high = keys.before(query.older_than) if query.older_than is not None and by_default_order else None
    if query.ids.include:
        postings = tuple(keys.record_key(collection.name, item_id) for item_id in sorted(query.ids.include))
        return Plan(query, everything, posting_keys=postings, low=low, high=high)
    included = _included(query)
    if included:
        order = [facet.name for facet in collection.facets]

        def cost(name: str) -> tuple[int, int, int]:
            postings = sum(sizes.get(p, 0) for p in included[name]) if sizes else 0
            return postings, len(query.facets[name].include), order.index(name)

        driver = min(included, key=cost)
        return Plan(query, everything, partitions=included[driver], driver=driver, low=low, high=high)
    return Plan(query, everything, partitions=(everything,), low=low, high=high)


def resume(plan: Plan, position: str) -> Plan:
    """The same plan, reading on strictly after ``position`` (a range key) in the query's order."""
    if plan.query.descending:
        return replace(plan, high=position if plan.high is None else min(plan.high, position))
    return replace(plan, low=position if plan.low is None else max(plan.low, position))
