"""Recount every count of the counters table from the records the catalog holds; report each drift; repair it with ``--fix``.

    python -m devtools.recount --table NAME [--counters-table NAME] [--endpoint-url URL] [--region REGION] [--fix]

The counter function keeps the counters table (the stack's ``CountersTableName`` output; locally
``<table>-counters``) from the catalog table's stream: every count of the layout (``catalog.cells``:
partition counters, range buckets, combinations). A batch Lambda gave up on (reported to the
counter function's failure queue, whose alarm then fires) leaves the counts of its records wrong.
This tool reads both tables whole (paginated, strongly consistent Scans), computes every count from
the records (each record's ``all`` posting) with the layer's own layout, and compares them with the
counters table: a count that differs, one that is missing, and one the records do not imply are each
a drift. The counter function's pending deltas that were never moved (``keys.pending_partition``:
left by a batch that failed to the end) are reported too.

``--fix`` writes each drifted count the value the records imply, on the condition that it still
holds the value read (a count the counter function changed meanwhile is reported, not overwritten:
run again), and deletes the pending deltas it reported. The records are the truth only once the
stream has been applied: run ``--fix`` when the counter function has caught up (its iterator age is
back to zero), and do not redrive the batches of the failure queue afterwards.

It reads every item once: its cost grows with the tables (about 0.5 read units per 4 KB scanned,
strongly consistent). It is an operator's tool, never on a request's path.

Exit status: 0 no drift (or every drift repaired), 2 drift found (without ``--fix``, or some
count changed while fixing), 1 a table could not be read.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from catalog import keys, wire
from catalog.cells import Cell
from catalog.collections import COLLECTIONS
from devtools import counts
from devtools.template import table
from importer.load import CannotImport, dynamodb_client

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
    counted.implied = dict(counts.of_records(records))
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


def _shown(cell: Cell) -> str:
    pk, sk, attribute = cell
    return pk if (sk, attribute) == (keys.COUNT, keys.COUNTED) else f"{pk} / {sk} / {attribute}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.recount", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="catalog table name")
    parser.add_argument("--counters-table", help="counters table name (default: <table>-counters, as the local tools name it)")
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (DynamoDB Local); default: AWS")
    parser.add_argument("--region", default=None, help="AWS region (default: the environment's)")
    parser.add_argument("--fix", action="store_true", help="write the implied values into the counts that drifted")
    args = parser.parse_args(argv)
    counters_table = args.counters_table or table.counters_table_name(args.table)
    try:
        client = dynamodb_client(args.endpoint_url, args.region)
        counted = recount(client, args.table, counters_table)
    except CannotImport as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    except (BotoCoreError, ClientError) as error:
        sys.stderr.write(f"error: cannot read table {args.table!r} or {counters_table!r}: {error}\n")
        return 1
    drift = counted.drift()
    out = sys.stdout
    out.write(f"{counted.items} items read, {len(counted.implied)} counts implied by the records, {len(counted.held)} held\n")
    for cell, (seen, actual) in drift.items():
        out.write(f"drift {_shown(cell)}: counter {'missing' if seen is None else seen}, records {actual}\n")
    for pending in sorted({key["PK"] for key in counted.pending}):
        out.write(f"pending deltas never moved: {pending}\n")
    if not drift and not counted.pending:
        out.write("no drift\n")
        return 0
    if not args.fix:
        out.write(f"{len(drift)} count(s) drifted, {len(counted.pending)} pending item(s): --fix repairs them\n")
        return 2
    changed = fix(client, counters_table, counted)
    for cell in changed:
        out.write(f"not fixed, changed while recounting: {_shown(cell)} (run again)\n")
    out.write(f"fixed {len(drift) - len(changed)} count(s), deleted {len(counted.pending)} pending item(s)\n")
    return 2 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
