"""Recount every count of the counters table from the records the catalog holds; report each drift; repair it with ``--fix``.

    python -m devtools.cli.recount --table NAME [--counters-table NAME] [--endpoint-url URL] [--region REGION] [--fix]

The counter function keeps the counters table (the stack's ``CountersTableName`` output; locally
``<table>-counters``) from the catalog table's stream: every count of the layout (``catalog.cells``:
partition counters, range buckets, combinations). A batch Lambda gave up on (reported to the
counter function's failure queue, whose alarm then fires) leaves the counts of its records wrong.
This tool reads both tables whole (paginated, strongly consistent Scans), computes every count from
the records (each record's ``all`` posting) with the layer's own layout, and compares them with the
counters table: a count that differs, one that is missing, and one the records do not imply are each
a drift. The counter function's pending deltas that were never moved (``keys.pending_partition``:
left by a batch that failed to the end) are reported too, and so is every list of the phrase index
(``catalog.grams``) whose postings, head count or head's block bounds differ from what the records'
texts and facets imply.

``--fix`` writes each drifted count the value the records imply, on the condition that it still
holds the value read (a count the counter function changed meanwhile is reported, not overwritten:
run again), deletes the pending deltas it reported, and rewrites each drifted phrase index list
whole (its items deleted, then its head and blocks written from the records). The records are the truth only once the
stream has been applied: run ``--fix`` when the counter function has caught up (its iterator age is
back to zero), and do not redrive the batches of the failure queue afterwards.

It reads every item once: its cost grows with the tables (about 0.5 read units per 4 KB scanned,
strongly consistent). It is an operator's tool, never on a request's path. The work is
:func:`devtools.counts.recount` and :func:`devtools.counts.fix`.

Exit status: 0 no drift (or every drift repaired), 2 drift found (without ``--fix``, or some
count changed while fixing), 1 a table could not be read.
"""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from catalog import keys
from catalog.cells import Cell
from devtools.counts import fix, recount
from devtools.template import table
from importer.load import CannotImport, dynamodb_client


def _shown(cell: Cell) -> str:
    pk, sk, attribute = cell
    return pk if (sk, attribute) == (keys.COUNT, keys.COUNTED) else f"{pk} / {sk} / {attribute}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.cli.recount", description=__doc__.split("\n\n")[0])
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
    out.write(f"{counted.items} items read, {len(counted.implied)} counts implied by the records, {len(counted.held)} held, "
              f"{len(counted.implied_index)} phrase index lists implied\n")  # fmt: skip
    for cell, (seen, actual) in drift.items():
        out.write(f"drift {_shown(cell)}: counter {'missing' if seen is None else seen}, records {actual}\n")
    for pending in sorted({key["PK"] for key in counted.pending}):
        out.write(f"pending deltas never moved: {pending}\n")
    for scope, gram in sorted(counted.index_drift):
        held = len(counted.index_drift[(scope, gram)])
        implied = len(counted.implied_index.get((scope, gram), {}))
        out.write(f"drift in the phrase index: {scope} {gram!r}: {held} item(s) held, {implied} posting(s) implied\n")
    if not drift and not counted.pending and not counted.index_drift:
        out.write("no drift\n")
        return 0
    if not args.fix:
        out.write(f"{len(drift)} count(s) drifted, {len(counted.pending)} pending item(s), "
                  f"{len(counted.index_drift)} phrase index list(s) drifted: --fix repairs them\n")  # fmt: skip
        return 2
    changed = fix(client, counters_table, counted)
    for cell in changed:
        out.write(f"not fixed, changed while recounting: {_shown(cell)} (run again)\n")
    out.write(f"fixed {len(drift) - len(changed)} count(s), deleted {len(counted.pending)} pending item(s), "
              f"rewrote {len(counted.index_drift)} phrase index list(s)\n")  # fmt: skip
    return 2 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
