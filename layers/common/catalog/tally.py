"""Counts answered from the counters table (``catalog.cells``), without reading the entries they count.

Two ways, each reading a number of items that depends on the filter's values, never on the catalog:

- **Combinations.** A count of facet filters alone (include and exclude values; no time range, phrase,
  ids or other condition) is a sum of signed counts of value sets, by inclusion–exclusion:
  ``genres=A,B`` is |A| + |B| − |A∩B|, ``genres=Pop&moods=-Calm`` is |Pop| − |Pop∩Calm|,
  ``moods=-a,-b&mintingStatuses=-s`` is N − |a ∪ b ∪ s| expanded over the sets of {a, b, s}. Each
  set is a counter (one value) or a combination (several), packed by first value: the read is one
  BatchGetItem of about two items per value. A set the layout does not count (an owner with a
  genre, three facets at once, more than ``cells.MAX_COMBINATION`` values of a facet) leaves the
  count to the entries.
- **Ranges.** A count of one partition group (the scope, or the included values of one facet:
  several of a single-valued facet, one of a multi-valued one) within a range of a ranged attribute
  (``newerThan``/``olderThan``; a soundtrack's ``duration`` or ``release_date`` range) is summed
  from range buckets: the counter item, then at each finer level only the (at most two) buckets
  the bounds fall in, then the entries of the finest edge buckets when they hold more than one
  value. The same walk finds the record at a given rank among the matches: a random pick.

And how many matches carry each value of the listed facet (songs: genres), for ``GET
/v1/songs/genres``: the same inclusion–exclusion with each value added to every set (one more cell
per value and set), or, for a range alone, each value's partition counted within the range.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import chain, combinations, product

from catalog import cells, keys
from catalog.cells import Atom, Cell
from catalog.declarations import Collection, Ranged
from catalog.query import Query
from catalog.store import Store

MAX_TERMS = 4096
"""Inclusion–exclusion terms computed at most (2^values): beyond, the count is read from entries."""
RANGE_OPERATORS = ("gt", "ge", "lt", "le", "between")


# -- combinations ----------------------------------------------------------------------------------


def terms(query: Query) -> dict[frozenset[Atom], int] | None:
    """Inclusion–exclusion of the query's facet filters: value set -> its coefficient in the count
    (the empty set is the whole scope). None when the query has more than facet filters, or too many
    values."""
    if query.ids.include or query.ids.exclude or query.phrase or query.conditions:
        return None
    if query.newer_than is not None or query.older_than is not None:
        return None
    collection = query.collection
    included = {name: sorted(selection.include) for name, selection in query.facets.items() if selection.include}
    excluded = [(name, value) for name, selection in query.facets.items() for value in sorted(selection.exclude)]
    # The number of terms before any is built: 2^k subsets of k values would not fit in memory for large k.
    size = 2 ** len(excluded)
    for name, values in included.items():
        size *= 2 ** len(values) - 1 if collection.facet(name).multi else len(values)
    if size > MAX_TERMS:
        return None
    choices: list[list[tuple[frozenset[Atom], int]]] = []
    for name, values in included.items():
        if collection.facet(name).multi:  # |A ∪ B| = |A| + |B| − |A∩B|, over every non-empty subset
            subsets = chain.from_iterable(combinations(values, n) for n in range(1, len(values) + 1))
            choices.append([(frozenset((name, v) for v in subset), (-1) ** (len(subset) + 1)) for subset in subsets])
        else:  # one value a record: the values' sets are disjoint
            choices.append([(frozenset([(name, value)]), 1) for value in values])
    coefficients: Counter[frozenset[Atom]] = Counter()
    for chosen in product(*choices):
        atoms, sign = frozenset().union(*(atoms for atoms, _ in chosen)), 1
        for _, part in chosen:
            sign *= part
        for number in range(len(excluded) + 1):  # NOT (a ∪ b) = 1 − |a| − |b| + |a∩b|
            for dropped in combinations(excluded, number):
                term = atoms | frozenset(dropped)
                if not _impossible(collection, query.scoped, term):
                    coefficients[term] += sign * (-1) ** number
    return {term: coefficient for term, coefficient in coefficients.items() if coefficient}


def _impossible(collection: Collection, scoped: bool | None, atoms: frozenset[Atom]) -> bool:
    """Whether no record can carry every one of these values: two of a single-valued facet, or a value
    whose partition cannot exist."""
    single = Counter(name for name, _ in atoms if not collection.facet(name).multi)
    if any(number > 1 for number in single.values()):
        return True
    return any(not keys.can_exist(_partition(collection, scoped, atom)) for atom in atoms)


def _partition(collection: Collection, scoped: bool | None, atom: Atom | None) -> str:
    path = keys.path() if atom is None else keys.path(*atom)
    return keys.partition(collection.name, collection.scope, scoped, path)


def _cell(collection: Collection, scoped: bool | None, atoms: frozenset[Atom]) -> Cell | None:
    if len(atoms) < 2:
        atom = next(iter(atoms)) if atoms else None
        return _partition(collection, scoped, atom), keys.COUNT, keys.COUNTED
    return cells.cell_of(collection, scoped, atoms)


def combination_count(store: Store, query: Query) -> int | None:
    """The query's count from counters, or None when they cannot answer it."""
    found = terms(query)
    if found is None:
        return None
    collection, scoped = query.collection, query.scoped
    needed: dict[frozenset[Atom], Cell] = {}
    combined_facets = set()
    for atoms in found:
        cell = _cell(collection, scoped, atoms)
        if cell is None:
            return None
        needed[atoms] = cell
        combined_facets.update(cells.overflows(collection, atoms))
    overflows = [cells.overflow_cell(collection, scoped, name) for name in sorted(combined_facets)]
    held = read_cells(store, [*needed.values(), *overflows])
    if any(held.get(cell, 0) for cell in overflows):
        return None  # records with too many values of a facet: its combinations are not counted
    return sum(coefficient * held.get(needed[atoms], 0) for atoms, coefficient in found.items())


def read_cells(store: Store, wanted: list[Cell]) -> dict[Cell, int]:
    """The counts of these cells (0 for those not held), their items read in one BatchGetItem."""
    item_keys = list(dict.fromkeys((pk, sk) for pk, sk, _ in wanted))
    items = store.batch_get([{"PK": pk, "SK": sk} for pk, sk in item_keys], counters=True)
    by_key = {(item["PK"], item["SK"]): item for item in items}
    return {(pk, sk, attribute): int(by_key.get((pk, sk), {}).get(attribute, 0)) for pk, sk, attribute in wanted}


# -- listed values -----------------------------------------------------------------------------------


def listed_counts(store: Store, query: Query) -> dict[str, int] | None:
    """How many of the query's matches carry each value of the collection's listed facet (values no match
    carries left out), from counters; None when they cannot tell.

    For facet filters only (``terms``): a value v's count is the query's inclusion–exclusion with v added
    to every set, a sum of |T ∪ {v}|, each one cell. The scope's ``with`` item is read first: it lists the
    scope's values with their counts (the sets {v}) and the overflows. Then the other sets' items, in one
    BatchGetItem: none with no filter; one value of a facet, that value's ``with`` item (a minting status,
    an owner), or the ``with`` items of the values that head a set with it (a genre: those before it and
    its own; a mood: every genre's). At most the scope's values + 1 items in those cases.
    """
    collection = query.collection
    found = terms(query) if collection.listed else None
    if found is None:
        return None
    scoped, listed = query.scoped, collection.listed_name()
    head_key = keys.combinations_key(_partition(collection, scoped, None))
    head = store.get(head_key, counters=True) or {}
    values = cells.listed_in(collection, head)
    needed: dict[tuple[frozenset[Atom], str], Cell] = {}
    overflowing: set[str] = set()
    for atoms in found:
        for value in values:
            term = atoms | {(listed, value)}
            cell = cells.listed_cell(collection, scoped, value) if len(term) == 1 else cells.cell_of(collection, scoped, term)
            if cell is None:
                return None
            needed[(atoms, value)] = cell
            overflowing |= cells.overflows(collection, term)
    if any(int(head.get(keys.overflow(name), 0)) for name in overflowing):
        return None  # records with too many values of a facet: its combinations are not counted
    head_cell = (head_key["PK"], head_key["SK"])
    in_head = {cell: int(head.get(cell[2], 0)) for cell in needed.values() if cell[:2] == head_cell}
    held = {**in_head, **read_cells(store, [cell for cell in needed.values() if cell not in in_head])}
    counts = {value: sum(coefficient * held[needed[(atoms, value)]] for atoms, coefficient in found.items()) for value in values}
    return {value: count for value, count in counts.items() if count > 0}


def listed_counts_in_range(store: Store, query: Query) -> dict[str, int] | None:
    """How many of the query's matches carry each listed value, from range buckets, when the query is a
    range alone (within its scope); None otherwise. The scope's ``with`` item names the values, then each
    value's partition is counted within the range as a count is (``measure``, all of them at once)."""
    collection = query.collection
    if not collection.listed or query.facets:
        return None
    scope = _partition(collection, query.scoped, None)
    counted = range_count(query, (scope,), None)
    if counted is None or not counted.ranged.counts_in(collection.listed):
        return None
    head = store.get(keys.combinations_key(scope), counters=True) or {}
    partitions = {_partition(collection, query.scoped, (collection.listed, value)): value
                  for value in sorted(cells.listed_in(collection, head))}  # fmt: skip
    counts: Counter[str] = Counter()
    for piece in measure(store, replace(counted, partitions=tuple(partitions))).pieces:
        counts[partitions[piece.partition]] += piece.count
    return {value: count for value, count in counts.items() if count > 0}


# -- ranges ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """A range of a ranged attribute's encoded values."""

    low: str | None = None
    low_inclusive: bool = False
    high: str | None = None
    high_inclusive: bool = False

    def admits(self, encoded: str) -> bool:
        if self.low is not None and (encoded < self.low or (encoded == self.low and not self.low_inclusive)):
            return False
        return self.high is None or encoded < self.high or (encoded == self.high and self.high_inclusive)

    def holds(self, prefix: str) -> bool | None:
        """Whether every value starting with ``prefix`` is in the range (True), none is (False), or some
        may be (None: a bound starts with it)."""
        length = len(prefix)
        edge = False
        if self.low is not None:
            if prefix < self.low[:length]:
                return False
            edge = edge or prefix == self.low[:length]
        if self.high is not None:
            if prefix > self.high[:length]:
                return False
            edge = edge or prefix == self.high[:length]
        return None if edge else True

    def key_range(self, prefix: str) -> tuple[str, str]:
        """Exclusive bounds on an index's range keys (``<value>\\x01<id>``) for the values starting with
        ``prefix`` that are in the range."""
        low, high = prefix, prefix + keys.MISSING
        if self.low is not None:
            low = max(low, keys.before(self.low) if self.low_inclusive else keys.after(self.low))
        if self.high is not None:
            high = min(high, keys.after(self.high) if self.high_inclusive else keys.before(self.high))
        return low, high


@dataclass(frozen=True)
class RangeCount:
    """A count of the records of some disjoint partitions within a range of a ranged attribute."""

    collection: Collection
    ranged: Ranged
    bounds: Bounds
    partitions: tuple[str, ...]


@dataclass
class Piece:
    """A share of a range count: a bucket wholly inside the range, or the matching entries of an edge
    bucket at the finest level."""

    partition: str
    level: int
    prefix: str
    count: int
    entries: list[dict] | None = None


@dataclass
class Measured:
    pieces: list[Piece] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(piece.count for piece in self.pieces)


def range_count(query: Query, partitions: tuple[str, ...], driver: str | None) -> RangeCount | None:
    """How counters count the query within one range, when they can: the driver's partitions (or the
    scope's) must be disjoint and nothing but the range may thin them."""
    if query.ids.include or query.ids.exclude or query.phrase or not partitions:
        return None
    collection = query.collection
    for name, selection in query.facets.items():
        if selection.exclude or name != driver:
            return None
    if driver is not None and collection.facet(driver).multi and len(query.facets[driver].include) > 1:
        return None  # overlapping partitions: a record in two of them would count twice
    if query.newer_than is not None or query.older_than is not None:
        if query.conditions:
            return None
        ranged = collection.ranges[0] if collection.ranges else None
        if ranged is None or ranged.sort != collection.sorts[0] or not ranged.counts_in(driver):
            return None
        bounds = Bounds(low=query.newer_than, high=query.older_than)
    else:
        if len(query.conditions) != 1 or query.conditions[0].operator not in RANGE_OPERATORS:
            return None
        condition = query.conditions[0]
        ranged = collection.ranged(condition.attribute)
        if ranged is None or not ranged.counts_in(driver):
            return None
        encode = ranged.sort.encode
        operand = condition.operand
        bounds = {
            "gt": lambda: Bounds(low=encode(operand)),
            "ge": lambda: Bounds(low=encode(operand), low_inclusive=True),
            "lt": lambda: Bounds(high=encode(operand)),
            "le": lambda: Bounds(high=encode(operand), high_inclusive=True),
            "between": lambda: Bounds(encode(operand[0]), True, encode(operand[1]), True),
        }[condition.operator]()
    return RangeCount(collection, ranged, bounds, tuple(p for p in partitions if keys.can_exist(p)))


def measure(store: Store, counted: RangeCount) -> Measured:
    """The range's pieces, in order: counter items and the edge buckets' items level by level (one
    BatchGetItem a level), then the entries of the finest edge buckets when they hold several values."""
    ranged, bounds = counted.ranged, counted.bounds
    measured = Measured()
    frontier = [(partition, 0, "") for partition in counted.partitions]
    while frontier:
        items = store.batch_get([_bucket_key(ranged, p, level, parent) for p, level, parent in frontier], counters=True)
        by_key = {(item["PK"], item["SK"]): item for item in items}
        deeper = []
        for partition, level, parent in frontier:
            key = _bucket_key(ranged, partition, level, parent)
            item = by_key.get((key["PK"], key["SK"]), {})
            for segment, number in _buckets(ranged, level, item):
                prefix = parent + segment
                inside = bounds.holds(prefix)
                finest = level == len(ranged.cuts) - 1
                if inside is None and finest and ranged.exact:
                    inside = bounds.admits(prefix)
                if inside:
                    measured.pieces.append(Piece(partition, level, prefix, number))
                elif inside is None and not finest:
                    deeper.append((partition, level + 1, prefix))
                elif inside is None:
                    entries = list(_entries(store, counted, partition, prefix))
                    measured.pieces.append(Piece(partition, level, prefix, len(entries), entries))
        frontier = deeper
    measured.pieces.sort(key=lambda piece: (counted.partitions.index(piece.partition), piece.prefix))
    return measured


def at_rank(store: Store, counted: RangeCount, measured: Measured, rank: int) -> dict | None:
    """The index entry of the record at ``rank`` (0-based) among the range's matches, in partition then
    value order; None when the counters are ahead of the entries they count (a moment after a write)."""
    for piece in measured.pieces:
        if rank < piece.count:
            break
        rank -= piece.count
    else:
        return None
    if piece.entries is not None:
        return piece.entries[rank]
    ranged, level, prefix = counted.ranged, piece.level, piece.prefix
    while level < len(ranged.cuts) - 1:  # down to the finest bucket holding that rank
        level += 1
        [item] = store.batch_get([_bucket_key(ranged, piece.partition, level, prefix)], counters=True) or [{}]
        for segment, number in _buckets(ranged, level, item):
            if rank < number:
                prefix += segment
                break
            rank -= number
        else:
            return None
    for number, entry in enumerate(_entries(store, counted, piece.partition, prefix)):
        if number == rank:
            return entry
    return None


def _bucket_key(ranged: Ranged, partition: str, level: int, parent: str) -> dict:
    return keys.counter_key(partition) if level == 0 else keys.bucket_key(partition, ranged.name, parent)


def _buckets(ranged: Ranged, level: int, item: dict) -> list[tuple[str, int]]:
    """(segment, count) of the buckets an item holds at a level, in value order (empty ones left out)."""
    if level == 0:
        marker = keys.root_bucket(ranged.name, "")
        found = [(name[len(marker) :], int(value)) for name, value in item.items() if name.startswith(marker)]
    else:
        found = [(name, int(value)) for name, value in item.items() if name not in ("PK", "SK")]
    return sorted((segment, number) for segment, number in found if number > 0)


def _entries(store: Store, counted: RangeCount, partition: str, prefix: str) -> Iterator[dict]:
    """The index entries of a partition whose value starts with ``prefix`` and is in the range, in order."""
    sort = counted.ranged.sort
    low, high = counted.bounds.key_range(prefix)
    for page in store.query(sort.index, partition, range_key=sort.key, low=low, high=high):
        yield from page
