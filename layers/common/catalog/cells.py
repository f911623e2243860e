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
``overflow:<facet>`` (an attribute of the scope's ``with`` item, below) instead of in that facet's
combinations (2^k sets would be written for k values): while any such record is in the scope, counts
of combinations of that facet are read from the entries, not from counters.

For the collection's listed facet (``Collection.listed``; songs: genres), within the record's scope,
**listed values**: one cell per value of the record, so that a value's count among the records of
any one value of any facet, or of the whole scope, is a single cell (``GET /v1/songs/genres`` reads
them for every value of the scope at once):

- the scope's ``with`` item (PK the scope's ``all`` partition) counts each value:
  ``songs|archived=false|all`` / ``with`` / ``["genre=Pop"]``; one item holds every value of the scope;
- the ``with`` item of each value of a paired facet (``Collection.paired``; songs: owner) does the
  same for that value's records: ``songs|archived=false|owner=<id>`` / ``with`` / ``["genre=Pop"]``.

These are linear in the record's values (one cell a value), so every record is counted in them, however
many values it has: the overflow rule is about combinations of several values of one facet only.
"""

import json
from collections import Counter
from itertools import combinations

from catalog import indexing, keys
from catalog.declarations import Collection, Ranged

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
    if collection.listed:
        found.update(_listed_cells(collection, record))
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
    of combined facets, or a paired value and a listed one), or None when no cell counts that set."""
    if len(atoms) < 2 or not _counted(collection, atoms):
        return None
    first, *rest = _ordered(collection, atoms)
    key = keys.combinations_key(_partition(collection, scoped, first))
    return key["PK"], key["SK"], _name(rest)


def overflow_cell(collection: Collection, scoped: bool | None, facet: str) -> Cell:
    """The cell counting the records (of a scope) with too many values of ``facet`` to be combined: an
    attribute of the scope's ``with`` item, which a count of listed values reads first anyway."""
    key = keys.combinations_key(_partition(collection, scoped, None))
    return key["PK"], key["SK"], keys.overflow(facet)


def overflows(collection: Collection, atoms: frozenset[Atom]) -> set[str]:
    """The facets whose overflow keeps the cell of a set of atoms from counting every record: those of
    several values (the multi-valued ones) in a combination; none for one value or a paired set."""
    if len(atoms) < 2 or any(facet in collection.paired for facet, _ in atoms):
        return set()
    return {facet for facet, _ in atoms if collection.facet(facet).multi}


def listed_cell(collection: Collection, scoped: bool | None, value: str) -> Cell:
    """The cell counting the records (of a scope) that carry ``value`` of the listed facet."""
    key = keys.combinations_key(_partition(collection, scoped, None))
    return key["PK"], key["SK"], _name([(collection.listed_name(), value)])


def listed_in(collection: Collection, item: dict) -> dict[str, int]:
    """The listed facet's values a ``with`` item counts (the scope's, or a paired value's), with their
    counts; zeros left out."""
    marker = f'["{collection.listed}='
    found = {}
    for name, count in item.items():
        if name.startswith(marker) and int(count) > 0:
            (atom,) = json.loads(name)
            found[atom.split("=", 1)[1]] = int(count)
    return found


def _counted(collection: Collection, atoms: frozenset[Atom]) -> bool:
    """Whether a set of atoms is one the layout counts (see the module's docstring)."""
    by_facet = Counter(facet for facet, _ in atoms)
    paired = [facet for facet in by_facet if facet in collection.paired]
    if paired:  # one value of a paired facet with one listed value
        return len(atoms) == 2 and len(paired) == 1 and collection.listed in by_facet
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
            for subset in combinations(atoms, size):
                if size > 1:
                    sets.append(subset)
                sets += [(single, *subset) for single in singles]
    for first, second in combinations(multis, 2):
        sets += [(a, b) for a in first for b in second]
    for atom_set in sets:
        cell = cell_of(collection, scoped, frozenset(atom_set))
        if cell is not None:
            found[cell] += 1
    return found


def _listed_cells(collection: Collection, record: dict) -> Counter[Cell]:
    """The record's listed values, counted in its scope's ``with`` item and in that of each of its
    values of a paired facet."""
    scoped = record.get(collection.scope) if collection.scope else None
    listed_name = collection.listed_name()
    listed = sorted(set(collection.facet(listed_name).values(record)))
    found: Counter[Cell] = Counter(listed_cell(collection, scoped, value) for value in listed)
    for name in collection.paired:
        for paired in sorted(set(collection.facet(name).values(record))):
            for value in listed:
                cell = cell_of(collection, scoped, frozenset([(name, paired), (listed_name, value)]))
                if cell is not None:
                    found[cell] += 1
    return found


def _ordered(collection: Collection, atoms: frozenset[Atom]) -> list[Atom]:
    order = {name: number for number, name in enumerate(collection.paired + collection.combined)}
    return sorted(atoms, key=lambda atom: (order[atom[0]], atom[1]))


def _partition(collection: Collection, scoped: bool | None, atom: Atom | None) -> str:
    path = keys.path() if atom is None else keys.path(*atom)
    return keys.partition(collection.name, collection.scope, scoped, path)


def _name(atoms: list[Atom]) -> str:
    return json.dumps([keys.path(*atom) for atom in atoms], ensure_ascii=False, separators=(",", ":"))
