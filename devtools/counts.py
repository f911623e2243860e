"""The counters table as the counter function would leave it, computed from the records themselves.

For the bench's loader (which fills empty tables without a stream) and the recount (which compares
the table with what its records imply, and repairs it: ``devtools.cli.recount``). Both use the
layer's own layouts (``catalog.cells`` for the counts, ``catalog.grams`` for the phrase index), so
they follow them when they change.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer
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


def gram_of(item: dict) -> tuple[str, str] | None:
    """The (scope, gram) a counters table item (as read) belongs to when it is a head or a block of
    the phrase index; None for any other item."""
    pk = item["PK"]
    if not grams.is_index_key(pk):
        return None
    rest = pk[len(grams.PREFIX) + 1 :]
    if _is_block(item):  # its partition names the gram
        scope = "|".join(rest.split("|", 2)[:2])
        return scope, rest[len(scope) + 1 :]
    return rest, item["SK"]


def _is_block(item: dict) -> bool:
    return item["PK"].count("|") >= 3 and item["SK"].startswith(grams.BLOCK)


def _postings(block: dict) -> list[tuple[str, Positions]] | None:
    """A block's postings; None when they do not decode to as many as it counts (a block written under
    another layout of the index, or damaged)."""
    try:
        decoded = grams.decode(bytes(block["p"]))
    except (IndexError, UnicodeDecodeError, ValueError, OverflowError):
        return None
    return decoded if len(decoded) == int(block.get("c", len(decoded))) else None


def held_index(items: Iterable[dict]) -> tuple[dict[tuple[str, str], int], Index]:
    """The heads' counts (those not 0) and the lists that counters table items (as read) hold (blocks
    that do not decode left out: ``index_drift`` names their grams)."""
    heads: dict[tuple[str, str], int] = {}
    index: Index = defaultdict(dict)
    for item in items:
        gram = gram_of(item)
        if gram is None:
            continue
        if _is_block(item):
            for key, positions in _postings(item) or ():
                assert key not in index[gram], f"{key} twice in {gram!r}"
                index[gram][key] = positions
        elif int(item.get(grams.HEAD_COUNT, 0)):
            heads[gram] = int(item[grams.HEAD_COUNT])
    return heads, {gram: postings for gram, postings in index.items() if postings}


def _misdirected(items: Iterable[dict]) -> dict[tuple[str, str], tuple[list[str], list[str]]]:
    """Grams whose head lists other block bounds than its blocks have -> (listed, held)."""
    listed: dict[tuple[str, str], list[str]] = {}
    held: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in items:
        gram = gram_of(item)
        if gram is None:
            continue
        if _is_block(item):
            held[gram].append(grams.lower_of(item["SK"]))
        elif grams.DIRECTORY in item and not item.get(grams.OVERFLOW):
            listed[gram] = sorted(item[grams.DIRECTORY])
    return {gram: (bounds, sorted(held.get(gram, []))) for gram, bounds in listed.items() if bounds != sorted(held.get(gram, []))}


def directory_errors(items: Iterable[dict]) -> list[str]:
    """Heads whose list of block bounds differs from their gram's blocks (items as read)."""
    return [
        f"{grams.block_partition(*gram)}: {listed} listed, {held} held" for gram, (listed, held) in _misdirected(items).items()
    ]


def index_drift(implied: Index, items: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """The grams whose list, head count or head's block bounds differ from what the records imply
    (``implied``), or one of whose blocks does not decode, each with the keys of the items it holds
    now (as read)."""
    heads, held = held_index(items)
    drifted = {gram for gram in set(implied) | set(held) | set(heads)
               if implied.get(gram, {}) != held.get(gram, {}) or heads.get(gram, 0) != len(implied.get(gram, {}))}  # fmt: skip
    drifted |= set(_misdirected(items))
    drifted |= {gram for item in items if (gram := gram_of(item)) is not None and _is_block(item) and _postings(item) is None}
    keys_held: dict[tuple[str, str], list[dict]] = {gram: [] for gram in drifted}
    for item in items:
        gram = gram_of(item)
        if gram in keys_held:
            keys_held[gram].append({"PK": item["PK"], "SK": item["SK"]})
    return keys_held


FIX_ATTRIBUTES = 50
"""Counts one conditional update repairs at most (its condition names each)."""
BATCH_WRITE = 25
"""Items one BatchWriteItem writes at most."""
_serializer = TypeSerializer()


@dataclass
class Recount:
    """What the records imply, what the counters table holds, and pending deltas never moved."""

    implied: dict[Cell, int] = field(default_factory=dict)
    held: dict[Cell, int] = field(default_factory=dict)
    pending: list[dict[str, str]] = field(default_factory=list)
    items: int = 0
    implied_index: Index = field(default_factory=dict)
    index_drift: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    """The phrase index's grams that differ from what the records imply (``index_drift``)."""

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
    counted.implied_index = index_of_records(records)
    index: list[dict] = []
    for item in scan(client, counters_table):
        counted.items += 1
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if pk.startswith(keys.PENDING + "#"):
            counted.pending.append({"PK": pk, "SK": sk})
        elif grams.is_index_key(pk):
            index.append(wire.item(item))
        elif not pk.startswith(keys.APPLIED + "#"):
            counted.held.update({(pk, sk, name): int(value["N"]) for name, value in item.items() if "N" in value})
    counted.index_drift = index_drift(counted.implied_index, index)
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
    _rewrite_index(client, counters_table, counted)
    return changed


def _rewrite_index(client: Any, counters_table: str, counted: Recount) -> None:
    """Each drifted gram's items deleted, then its head and blocks written from the records' postings."""
    deletes = [{"DeleteRequest": {"Key": {name: {"S": value} for name, value in key.items()}}}
               for held in counted.index_drift.values() for key in held]  # fmt: skip
    puts = [
        {"PutRequest": {"Item": {name: _serializer.serialize(value) for name, value in item.items()}}}
        for scope, gram in sorted(counted.index_drift)
        if (postings := counted.implied_index.get((scope, gram)))
        for item in grams.block_items(scope, gram, sorted(postings.items()))
    ]
    for requests in (deletes, puts):  # every delete first: a head is deleted and put again
        for start in range(0, len(requests), BATCH_WRITE):
            pending, delay = requests[start : start + BATCH_WRITE], 0.05
            while pending:
                response = client.batch_write_item(RequestItems={counters_table: pending})
                pending = response.get("UnprocessedItems", {}).get(counters_table, [])
                if pending:
                    time.sleep(delay)  # throttled: back off before the items left over
                    delay = min(delay * 2, 1.0)
