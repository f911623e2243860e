"""``python -m devtools.cli.stream_event``: a table's stream printed as the counter function's event, then run.

The README's recipe for a stream event of one's own: records imported into a scratch table, its
stream printed as the event Lambda hands over, the event run with ``make invoke``. Run against the
scratch table itself (whose counters nothing has written yet), it makes them exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from catalog import keys
from devtools import REPO_ROOT
from devtools.counts import recount
from devtools.local.dynamodb_local import DynamoDBLocal
from devtools.local.identity import Credentials
from devtools.local.state import StackInfo
from devtools.sample_catalog import generate
from devtools.template import table
from importer.load import import_lines
from importer.writer import CatalogWriter

pytestmark = [pytest.mark.e2e, pytest.mark.dynamodb_local]

TABLE = "stream-event-scratch"


def run(module: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """A command as the README runs it (the layer on PYTHONPATH)."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "layers" / "common")}
    return subprocess.run(
        [sys.executable, "-m", module, *arguments], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_a_scratch_tables_stream_becomes_an_event_the_counter_function_applies(
    dynamodb_local: DynamoDBLocal, tmp_path: Path
) -> None:
    client = dynamodb_local.client()
    table.create_tables(client, TABLE)
    records = generate(song_count=5, owner_count=2, soundtrack_count=1)
    assert not import_lines(CatalogWriter(client, TABLE), map(json.dumps, records), progress=False).rejected
    stack = tmp_path / "stack.json"
    demo = asdict(Credentials(username="demo", password="unused", sub=records[0]["id"]))
    StackInfo(os.getpid(), "http://127.0.0.1:1", dynamodb_local.endpoint_url, TABLE, {}, demo).save(stack)

    printed = run("devtools.cli.stream_event", "--table", TABLE, "--stack", str(stack))
    assert printed.returncode == 0, printed.stderr
    event = json.loads(printed.stdout)
    # One record per song and soundtrack (its all posting): the template's filter drops the rest.
    assert [record["eventName"] for record in event["Records"]] == ["INSERT"] * 6
    assert {record["dynamodb"]["Keys"]["SK"]["S"] for record in event["Records"]} == {keys.ALL_POSTING}
    assert recount(client, TABLE, table.counters_table_name(TABLE)).drift()  # postings, and no counters yet

    path = tmp_path / "stream.json"
    path.write_text(printed.stdout, encoding="utf-8")
    invoked = run("devtools.cli.invoke", "StreamCounterFunction", str(path), "--stack", str(stack))
    assert invoked.returncode == 0, invoked.stderr + invoked.stdout
    assert invoked.stdout.startswith('answer: {\n  "batchItemFailures": []\n}')
    assert recount(client, TABLE, table.counters_table_name(TABLE)).drift() == {}
