"""The counter layout: every count the counter function keeps, and where it lives.

A count lives in a *cell*: one number attribute of one item of the counters table, ``(PK, SK,
attribute)``. A record counts once in every cell :func:`of` names for it: the counter function adds
a record's cells when it appears, subtracts them when it goes, and both when it changes
(``catalog.counting``); the API reads cells to count without reading what they count
(``catalog.tally``); the recount and the bench compute them from the records with this same function.

For each partition a record has a posting in (``indexing.partitions``):

- **its counter**: SK ``count``, attribute ``n``.
- **range buckets**, for each ranged attribute the record has (``Collection.ranges``; in the partitions
  of the facets it names, ``Ranged.facets``): the encoded
  value's prefixes at the range's cuts name its buckets, coarse to fine. The coarsest bucket is an
  attribute of the counter item (``createdAt:2024``); each coarser bucket has an item holding its
  sub-buckets (SK ``createdAt:2024`` holds ``-03-05``, SK ``createdAt:2024-03-05`` holds ``T12:47``).
  A range then costs the counter item and at most two items per finer level, whatever the size
  of the partition. Items stay small: a year item has at most 366 attributes, a day item 1,440.

For the collection's combined facets (``Collection.combined``; songs: status, genres, moods), within
the record's scope, **combinations**: how many records carry every value of a set. Kept for the sets
a count by inclusion–exclusion needs (``catalog.tally``), and no others, since a record counts in
every one of its sets:

- up to ``MAX_COMBINATION`` values of one multi-valued facet (``genres=A,B,C`` and ``genres=-A,-B``);
- the same, each with the record's value of a single-valued facet (``moods=-a,-b&mintingStatuses=-s``);
- one value of each of two multi-valued facets (``genres=A&moods=B``).

A set's count is an attribute of the combinations item (SK ``with``) of its first value's partition,
named by the rest of the set (``songs|archived=false|genre=Pop`` / ``with`` / ``["mood=Calm"]``).
A record with more than ``MAX_COMBINED_VALUES`` values of a facet is counted in the scope's
``overflow:<facet>`` instead of in that facet's combinations (2^k sets would be written for k
values): while any such record is in the scope, counts of combinations of that facet are read from
the entries, not from counters.
"""

import json
from collections import Counter
from itertools import combinations

from catalog import indexing, keys
from catalog.collections import Collection, Ranged

Cell = tuple[str, str, str]
"""(PK, SK, attribute) of one count in the counters table."""

MAX_COMBINATION = 5
"""The largest set of one facet's values counted in combination: counts with up to 5 values of a
parameter are answered by counters."""
MAX_COMBINED_VALUES = 8
"""More values of one facet than this, and a record is counted in the scope's overflow instead of in
that facet's combinations (8 genres: 218 sets of up to 5; 20 genres would be 21,699)."""

Atom = tuple[str, str]
"""(facet, value): one value a combination holds."""


def of(collection: Collection, record: dict) -> Counter[Cell]:
    """Every cell ``record`` counts in, once each."""
    found: Counter[Cell] = Counter()
    for partition, facet in indexing.facet_partitions(collection, record).items():
        found[(partition, keys.COUNT, keys.COUNTED)] += 1
        for ranged in collection.ranges:
            value = record.get(ranged.name)
            if value is not None and ranged.counts_in(facet):
                found.update(bucket_cells(partition, ranged, ranged.sort.encode(value)))
    if collection.combined:
        found.update(_combination_cells(collection, record))
    return found


def bucket_cells(partition: str, ranged: Ranged, encoded: str) -> list[Cell]:
    """The buckets, coarse to fine, of one encoded value of a ranged attribute in a partition."""
    cuts = ranged.cuts
    found = [(partition, keys.COUNT, keys.root_bucket(ranged.name, encoded[: cuts[0]]))]
    for parent, child in zip(cuts, cuts[1:]):
        key = keys.bucket_key(partition, ranged.name, encoded[:parent])
        found.append((key["PK"], key["SK"], encoded[parent:child]))
    return found


def cell_of(collection: Collection, scoped: bool | None, atoms: frozenset[Atom]) -> Cell | None:
    """The cell counting the records (of a scope) that carry every one of ``atoms`` (two or more values
    of combined facets), or None when no cell counts that set."""
    if len(atoms) < 2 or not _counted(collection, atoms):
        return None
    first, *rest = _ordered(collection, atoms)
    key = keys.combinations_key(_partition(collection, scoped, first))
    return key["PK"], key["SK"], _name(rest)


def overflow_cell(collection: Collection, scoped: bool | None, facet: str) -> Cell:
    """The cell counting the records (of a scope) with too many values of ``facet`` to be combined."""
    return _partition(collection, scoped, None), keys.COUNT, keys.overflow(facet)


def _counted(collection: Collection, atoms: frozenset[Atom]) -> bool:
    """Whether a set of atoms is one the layout counts (see the module's docstring)."""
    by_facet = Counter(facet for facet, _ in atoms)
    if any(facet not in collection.combined for facet in by_facet):
        return False
    multi = [facet for facet in by_facet if collection.facet(facet).multi]
    single = [facet for facet in by_facet if not collection.facet(facet).multi]
    if any(by_facet[facet] > 1 for facet in single):
        return False  # a record has one value of a single-valued facet: such a set counts nothing
    if len(multi) == 2:
        return not single and by_facet[multi[0]] == by_facet[multi[1]] == 1
    if len(multi) == 1:
        return len(single) <= 1 and by_facet[multi[0]] <= MAX_COMBINATION
    return False


def _combination_cells(collection: Collection, record: dict) -> Counter[Cell]:
    scoped = record.get(collection.scope) if collection.scope else None
    values = {name: sorted(set(collection.facet(name).values(record))) for name in collection.combined}
    combinable = {}
    found: Counter[Cell] = Counter()
    for name, chosen in values.items():
        if len(chosen) > MAX_COMBINED_VALUES:
            found[overflow_cell(collection, scoped, name)] += 1
        else:
            combinable[name] = [(name, value) for value in chosen]
    singles = [atoms[0] for name, atoms in combinable.items() if not collection.facet(name).multi and atoms]
    multis = [atoms for name, atoms in combinable.items() if collection.facet(name).multi]
    sets: list[tuple[Atom, ...]] = []
    for atoms in multis:
        for size in range(1, min(len(atoms), MAX_COMBINATION) + 1):
            for chosen in combinations(atoms, size):
                if size > 1:
                    sets.append(chosen)
                sets += [(single, *chosen) for single in singles]
    for first, second in combinations(multis, 2):
        sets += [(a, b) for a in first for b in second]
    for atoms in sets:
        cell = cell_of(collection, scoped, frozenset(atoms))
        if cell is not None:
            found[cell] += 1
    return found


def _ordered(collection: Collection, atoms: frozenset[Atom]) -> list[Atom]:
    order = {name: number for number, name in enumerate(collection.combined)}
    return sorted(atoms, key=lambda atom: (order[atom[0]], atom[1]))


def _partition(collection: Collection, scoped: bool | None, atom: Atom | None) -> str:
    path = keys.path() if atom is None else keys.path(*atom)
    return keys.partition(collection.name, collection.scope, scoped, path)


def _name(atoms: list[Atom]) -> str:
    return json.dumps([keys.path(*atom) for atom in atoms], ensure_ascii=False, separators=(",", ":"))
