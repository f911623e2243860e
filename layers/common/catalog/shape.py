"""Turn stored records into the JSON a client gets."""

from decimal import Decimal

from catalog.declarations import Collection


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def record(collection: Collection, stored: dict) -> dict:
    """A record as the contract spells it: its fields in the contract's order, absent ones omitted."""
    return {name: _plain(stored[name]) for name in collection.fields if stored.get(name) is not None}


def records(collection: Collection, stored: list[dict]) -> list[dict]:
    return [record(collection, one) for one in stored]


def count(number: int) -> dict:
    return {"count": number}


def ranked(counts: dict[str, int], most_first: bool) -> list[str]:
    """Values by how many records carry each, most (or fewest) first; ties by value, in code point order
    (in both directions, so that paging neither skips nor repeats a value)."""
    return sorted(counts, key=lambda value: (-counts[value] if most_first else counts[value], value))


def page_headers(page: int, size: int, returned: int, total: int) -> dict[str, str]:
    """The soundtracks list's paging headers: page index, items on this page, pages, items."""
    return {
        "X-Pagination-Page-Index": str(page),
        "X-Pagination-Page-Size": str(returned),
        "X-Pagination-Page-Total": str(-(-total // size)),
        "X-Pagination-Item-Total": str(total),
    }
