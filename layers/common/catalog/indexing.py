"""Which partitions a record has a posting in: its access paths, one per facet value and its ``all`` path.

Pure functions of the key layout: the counter function counts a record in the partitions they name
(``catalog.cells``), and the importer writes a posting in each (``importer.postings``).
"""

from catalog import keys
from catalog.declarations import Collection


def partitions(collection: Collection, record: dict) -> list[str]:
    """The partitions the record has a posting in: its ``all`` path and one per facet value, in its scope."""
    return list(dict.fromkeys(fpk for _, fpk in paths(collection, record)))


def facet_partitions(collection: Collection, record: dict) -> dict[str, str | None]:
    """The record's partitions, each with the facet it is a value of (None for the ``all`` partition)."""
    scoped = record.get(collection.scope) if collection.scope else None
    found: dict[str, str | None] = {keys.partition(collection.name, collection.scope, scoped, keys.path()): None}
    for facet in collection.facets:
        for value in facet.values(record):
            found.setdefault(keys.partition(collection.name, collection.scope, scoped, keys.path(facet.name, value)), facet.name)
    return found


def paths(collection: Collection, record: dict) -> list[tuple[str, str]]:
    """(access path, partition) of each of the record's postings."""
    scoped = record.get(collection.scope) if collection.scope else None
    access_paths = [keys.path()] + [keys.path(facet.name, value) for facet in collection.facets for value in facet.values(record)]
    return [(path, keys.partition(collection.name, collection.scope, scoped, path)) for path in access_paths]
