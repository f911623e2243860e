"""Derive a record's postings: one item per access path, each a copy of the record with its index keys.

Pure functions: the writer diffs what they return against what the table holds. The partitions and
keys are the layer's (``catalog.indexing``, ``catalog.keys``), the ones the API reads and the
counter function counts.
"""

from catalog import indexing, keys
from catalog.declarations import Collection


def search_terms(collection: Collection, record: dict, owner_names: list[str]) -> list[str]:
    """The lower-cased texts a ``phrase`` is matched against, each once."""
    texts = [record.get(name) for name in collection.search_attributes] + owner_names
    return list(dict.fromkeys(text.lower() for text in texts if text))


def postings(collection: Collection, record: dict, owner_names: list[str]) -> dict[str, dict]:
    """The record's postings by sort key (``posting#<path>``), without their ``slot``.

    Each is a whole copy of the record: a page, a random pick or an id lookup then reads the
    posting alone. The ``Listing`` index projects only what filters look at (facets, ``search``).
    """
    item_id = record[collection.id_attribute]
    entry = dict(record)
    if collection.search_attributes:
        entry["search"] = search_terms(collection, record, owner_names)
    for sort in collection.sorts:
        value = record.get(sort.attribute)
        entry[sort.key] = keys.sort_key(None if value is None else sort.encode(value), item_id)
    return {keys.posting_sk(access_path): {"fpk": fpk, **entry} for access_path, fpk in indexing.paths(collection, record)}


def record_of(collection: Collection, posting: dict) -> dict:
    """The record a posting is a copy of: its fields, without the keys and what indexes read."""
    fields = set(collection.fields)
    return {name: value for name, value in posting.items() if name in fields}
