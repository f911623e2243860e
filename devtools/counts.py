"""The counters table as the counter function would leave it, computed from the records themselves.

For the bench's loader (which fills empty tables without a stream) and the recount (which compares
the table with what its records imply). Both use the layer's own layout (``catalog.cells``), so
they follow it when it changes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from catalog import cells
from catalog.cells import Cell
from catalog.collections import Collection


def of_records(records: Iterable[tuple[Collection, dict]]) -> Counter[Cell]:
    """Every count the records add up to (zeros left out)."""
    total: Counter[Cell] = Counter()
    for collection, record in records:
        total.update(cells.of(collection, record))
    return +total


def items(counts: Counter[Cell] | dict[Cell, int]) -> list[dict]:
    """The counters table's items holding these counts."""
    by_item: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (pk, sk, attribute), count in counts.items():
        by_item[(pk, sk)][attribute] = count
    return [{"PK": pk, "SK": sk, **attributes} for (pk, sk), attributes in by_item.items()]
