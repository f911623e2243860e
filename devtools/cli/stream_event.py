"""Print a table's DynamoDB stream as the event Lambda hands the counter function (an event file for ``make invoke``).

    python -m devtools.cli.stream_event --table NAME [--stack FILE]

Reads the whole stream of table ``NAME`` in the DynamoDB Local of the running ``make run`` (or of
``--stack``'s stack), keeps the records the template's ``FilterCriteria`` let through, and prints
them as one event, ``{"Records": [...]}``, each record in the shape Lambda delivers it
(:mod:`devtools.local.streams`). Write the changes to capture into a scratch table with the
importer (``--table scratch --create-table``), so that the table of ``make run`` keeps its counts.
Lambda hands over at most the template's ``BatchSize`` records in one event; a longer capture is
printed whole, with a note on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devtools import REGION
from devtools.local.dynamodb_local import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from devtools.local.state import NoStack, current_stack
from devtools.local.streams import StreamFeeder, StreamFeedError, batch_size, filter_patterns, streams_client
from importer.load import dynamodb_client


def capture(endpoint_url: str, table_name: str) -> dict[str, Any]:
    """Every record of the table's stream the counter function would be handed, as one Lambda event."""
    client = dynamodb_client(endpoint_url, REGION)
    streams = streams_client(client, aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    records: list[dict[str, Any]] = []

    def keep(event: dict[str, Any]) -> dict[str, Any]:
        records.extend(event["Records"])
        return {"batchItemFailures": []}

    StreamFeeder(client, streams, table_name, keep, batch_size=sys.maxsize, patterns=filter_patterns()).drain()
    return {"Records": records}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.cli.stream_event", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the table whose stream to print")
    parser.add_argument("--stack", type=Path, help="stack.json of the stack to read (default: the running make run's)")
    args = parser.parse_args(argv)
    try:
        event = capture(current_stack(args.stack).dynamodb_endpoint_url, args.table)
    except NoStack as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (StreamFeedError, BotoCoreError, ClientError) as error:
        print(f"error: cannot read the stream of {args.table!r}: {error}", file=sys.stderr)
        return 1
    json.dump(event, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if len(event["Records"]) > batch_size():
        print(f"note: {len(event['Records'])} records; Lambda hands over at most {batch_size()} in one event", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
