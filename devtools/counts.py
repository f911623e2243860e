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

from catalog import cells, grams, keys, wire
from catalog.cells import Cell
from catalog.declarations import COLLECTIONS, Collection
from catalog.grams import Positions

Index = dict[tuple[str, str], dict[str, Positions]]
"""(scope, gram) -> the postings of its list: sort key -> positions."""


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


def index_of_records(records: Iterable[tuple[Collection, dict]]) -> Index:
    """The phrase index the records imply (``catalog.grams``): what the counter function keeps."""
    index: Index = defaultdict(dict)
    for collection, record in records:
        document = grams.document(collection, record)
        if document is not None:
            for gram, positions in document.grams.items():
                index[(document.scope, gram)][document.key] = positions
    return dict(index)


def index_items(index: Index) -> list[dict]:
    """The counters table's items holding this index: each gram's head and its blocks, filled in order."""
    found = []
    for (scope, gram), postings in sorted(index.items()):
        found += grams.block_items(scope, gram, sorted(postings.items()))
    return found


def held_index(items: Iterable[dict]) -> tuple[dict[tuple[str, str], int], Index]:
    """The heads' counts (those not 0) and the lists that counters table items (as read) hold."""
    heads: dict[tuple[str, str], int] = {}
    index: Index = defaultdict(dict)
    for item in items:
        pk = item["PK"]
        if not grams.is_index_key(pk):
            continue
        if item["SK"].startswith(grams.BLOCK) and pk.count("|") >= 3:
            scope_and_gram = pk[len(grams.PREFIX) + 1 :]
            scope = "|".join(scope_and_gram.split("|", 2)[:2])
            gram = scope_and_gram[len(scope) + 1 :]
            for key, positions in grams.decode(bytes(item["p"])):
                assert key not in index[(scope, gram)], f"{key} twice in {gram!r}"
                index[(scope, gram)][key] = positions
        elif int(item.get(grams.HEAD_COUNT, 0)):
            heads[(pk[len(grams.PREFIX) + 1 :], item["SK"])] = int(item[grams.HEAD_COUNT])
    return heads, {gram: postings for gram, postings in index.items() if postings}


def directory_errors(items: Iterable[dict]) -> list[str]:
    """Heads whose list of block bounds differs from their gram's blocks (items as read)."""
    listed: dict[str, list[str]] = {}
    held: dict[str, list[str]] = defaultdict(list)
    for item in items:
        pk = item["PK"]
        if not grams.is_index_key(pk):
            continue
        if pk.count("|") >= 3 and item["SK"].startswith(grams.BLOCK):
            held[pk].append(grams.lower_of(item["SK"]))
        elif grams.DIRECTORY in item and not item.get(grams.OVERFLOW):
            listed[grams.block_partition(pk[len(grams.PREFIX) + 1 :], item["SK"])] = sorted(item[grams.DIRECTORY])
    return [f"{pk}: {bounds} listed, {sorted(held.get(pk, []))} held" for pk, bounds in listed.items()
            if bounds != sorted(held.get(pk, []))]  # fmt: skip


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
        elif not pk.startswith(keys.APPLIED + "#") and not grams.is_index_key(pk):
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
