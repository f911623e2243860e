"""Recount every partition's counter from the postings the table holds; report each drift; repair it with ``--fix``.

    python -m devtools.recount --table NAME [--counters-table NAME] [--endpoint-url URL] [--region REGION] [--fix]

The counter function keeps each partition's counter (``keys.counter_key``, attribute ``n``, in the
counters table: the stack's ``CountersTableName`` output; locally ``<table>-counters``) from the
catalog table's stream. A batch Lambda gave up on (reported to the counter function's failure queue,
whose alarm then fires) leaves the counters of its records wrong. This tool reads the whole table
(a paginated, strongly consistent Scan of the keys and each posting's partition), counts the
postings of every partition, and compares them with the counters: a counter that differs, a
partition with postings and no counter, and a counter of a partition without postings are each a
drift. The counter function's pending deltas that were never moved (``keys.pending_key``: left by
a batch that failed to the end) are reported too.

``--fix`` writes each counter the value counted, on the condition that it still holds the value
read (a counter the counter function changed meanwhile is reported, not overwritten: run again),
and deletes the pending deltas it reported. The postings are the truth only once the stream has
been applied: run ``--fix`` when the counter function has caught up (its iterator age is back to
zero), and do not redrive the batches of the failure queue afterwards.

It reads every item once: its cost grows with the table (about 0.5 read units per 4 KB scanned,
strongly consistent). It is an operator's tool, never on a request's path.

Exit status: 0 no drift (or every drift repaired), 2 drift found (without ``--fix``, or some
counter changed while fixing), 1 the table could not be read.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from catalog import keys
from devtools.importer import CannotImport, dynamodb_client
from devtools.template import table

_PROJECTION = "PK, SK, fpk, n"


@dataclass
class Recount:
    """What the table holds: postings by partition, counters, and pending deltas never moved."""

    postings: Counter[str] = field(default_factory=Counter)
    counters: dict[str, int] = field(default_factory=dict)
    pending: list[dict[str, str]] = field(default_factory=list)
    items: int = 0

    def drift(self) -> dict[str, tuple[int | None, int]]:
        """Partition -> (counter's value, or ``None`` without a counter; postings counted), where they differ."""
        drifted = {}
        for partition in sorted(set(self.postings) | set(self.counters)):
            seen, actual = self.counters.get(partition), self.postings[partition]
            if seen != actual and not (seen is None and actual == 0):
                drifted[partition] = (seen, actual)
        return drifted


def scan(client: Any, table: str) -> Iterator[dict[str, Any]]:
    request = {"TableName": table, "ProjectionExpression": _PROJECTION, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def recount(client: Any, table: str, counters_table: str) -> Recount:
    counted = Recount()
    for item in scan(client, table):
        counted.items += 1
        if item["SK"]["S"].startswith(keys.POSTING):
            counted.postings[item["fpk"]["S"]] += 1
    for item in scan(client, counters_table):
        counted.items += 1
        sk = item["SK"]["S"]
        if sk == keys.COUNT:
            counted.counters[item["PK"]["S"]] = int(item.get("n", {}).get("N", "0"))
        elif sk == keys.PENDING:
            counted.pending.append({"PK": item["PK"]["S"], "SK": sk})
    return counted


def fix(client: Any, counters_table: str, counted: Recount) -> list[str]:
    """Write the counted values and delete the pending deltas; returns the partitions that changed meanwhile."""
    changed = []
    for partition, (seen, actual) in counted.drift().items():
        condition = "attribute_not_exists(PK)" if seen is None else "n = :seen"
        values = {":actual": {"N": str(actual)}, **({} if seen is None else {":seen": {"N": str(seen)}})}
        try:
            client.update_item(
                TableName=counters_table,
                Key={name: {"S": value} for name, value in keys.counter_key(partition).items()},
                UpdateExpression="SET n = :actual",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            changed.append(partition)
    for key in counted.pending:
        client.delete_item(TableName=counters_table, Key={name: {"S": value} for name, value in key.items()})
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.recount", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="catalog table name")
    parser.add_argument("--counters-table", help="counters table name (default: <table>-counters, as the local tools name it)")
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (DynamoDB Local); default: AWS")
    parser.add_argument("--region", default=None, help="AWS region (default: the environment's)")
    parser.add_argument("--fix", action="store_true", help="write the counted values into the counters that drifted")
    args = parser.parse_args(argv)
    try:
        client = dynamodb_client(args.endpoint_url, args.region)
        counters_table = args.counters_table or table.counters_table_name(args.table)
        counted = recount(client, args.table, counters_table)
    except CannotImport as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    except (BotoCoreError, ClientError) as error:
        sys.stderr.write(f"error: cannot read table {args.table!r}: {error}\n")
        return 1
    drift = counted.drift()
    out = sys.stdout
    out.write(f"{counted.items} items read, {len(counted.postings)} partitions with postings, {len(counted.counters)} counters\n")
    for partition, (seen, actual) in drift.items():
        out.write(f"drift {partition}: counter {'missing' if seen is None else seen}, postings {actual}\n")
    for key in counted.pending:
        out.write(f"pending deltas never moved: {key['PK']}\n")
    if not drift and not counted.pending:
        out.write("no drift\n")
        return 0
    if not args.fix:
        out.write(f"{len(drift)} counter(s) drifted, {len(counted.pending)} pending item(s): --fix repairs them\n")
        return 2
    changed = fix(client, counters_table, counted)
    for partition in changed:
        out.write(f"not fixed, changed while recounting: {partition} (run again)\n")
    out.write(f"fixed {len(drift) - len(changed)} counter(s), deleted {len(counted.pending)} pending item(s)\n")
    return 2 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
