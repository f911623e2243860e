"""The counters table as the counter function would leave it, computed from the records themselves.

For the bench's loader (which fills empty tables without a stream) and the recount (which compares
the table with what its records imply, and repairs it: ``devtools.cli.recount``). Both use the
layer's own layout (``catalog.cells``), so they follow it when it changes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from catalog import cells, keys, wire
from catalog.cells import Cell
from catalog.declarations import COLLECTIONS, Collection


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


FIX_ATTRIBUTES = 50
"""Counts one conditional update repairs at most (its condition names each)."""


@dataclass
class Recount:
    """What the records imply, what the counters table holds, and pending deltas never moved."""

    implied: dict[Cell, int] = field(default_factory=dict)
    held: dict[Cell, int] = field(default_factory=dict)
    pending: list[dict[str, str]] = field(default_factory=list)
    items: int = 0

    def drift(self) -> dict[Cell, tuple[int | None, int]]:
        """Cell -> (the count held, or ``None`` when missing; the count the records imply), where they differ."""
        drifted = {}
        for cell in sorted(set(self.implied) | set(self.held)):
            seen, actual = self.held.get(cell), self.implied.get(cell, 0)
            if (seen or 0) != actual:
                drifted[cell] = (seen, actual)
        return drifted


def scan(client: Any, table_name: str) -> Iterator[dict[str, Any]]:
    request = {"TableName": table_name, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def recount(client: Any, table_name: str, counters_table: str) -> Recount:
    counted = Recount()
    records = []
    for item in scan(client, table_name):
        counted.items += 1
        if item["SK"]["S"] == keys.ALL_POSTING:
            record = wire.item(item)
            records.append((COLLECTIONS[keys.prefix_of(record["PK"])], record))
    counted.implied = dict(of_records(records))
    for item in scan(client, counters_table):
        counted.items += 1
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if pk.startswith(keys.PENDING + "#"):
            counted.pending.append({"PK": pk, "SK": sk})
        elif not pk.startswith(keys.APPLIED + "#"):
            counted.held.update({(pk, sk, name): int(value["N"]) for name, value in item.items() if "N" in value})
    return counted


def fix(client: Any, counters_table: str, counted: Recount) -> list[Cell]:
    """Write the implied counts and delete the pending deltas; returns the cells that changed meanwhile."""
    by_item: dict[tuple[str, str], list[tuple[str, int | None, int]]] = defaultdict(list)
    for (pk, sk, attribute), (seen, actual) in counted.drift().items():
        by_item[(pk, sk)].append((attribute, seen, actual))
    changed = []
    for (pk, sk), drifted in by_item.items():
        for start in range(0, len(drifted), FIX_ATTRIBUTES):
            share = drifted[start : start + FIX_ATTRIBUTES]
            names = {f"#a{n}": attribute for n, (attribute, _, _) in enumerate(share)}
            values = {f":v{n}": {"N": str(actual)} for n, (_, _, actual) in enumerate(share)}
            conditions = []
            for n, (_, seen, _) in enumerate(share):
                if seen is None:
                    conditions.append(f"attribute_not_exists(#a{n})")
                else:
                    conditions.append(f"#a{n} = :s{n}")
                    values[f":s{n}"] = {"N": str(seen)}
            try:
                client.update_item(
                    TableName=counters_table,
                    Key={"PK": {"S": pk}, "SK": {"S": sk}},
                    UpdateExpression="SET " + ", ".join(f"#a{n} = :v{n}" for n in range(len(share))),
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                changed += [(pk, sk, attribute) for attribute, _, _ in share]
    for key in counted.pending:
        client.delete_item(TableName=counters_table, Key={name: {"S": value} for name, value in key.items()})
    return changed
