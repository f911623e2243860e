"""``python -m devtools.cli.import_catalog`` as a user runs it, against DynamoDB Local: exit status and messages.

Exit status: 0 all lines loaded, 2 some lines rejected, 1 nothing could be done.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import REPO_ROOT
from devtools.local.dynamodb_local import DynamoDBLocal
from devtools.template.table import create_tables, delete_tables
from tests.support import catalog_data

pytestmark = [pytest.mark.e2e, pytest.mark.dynamodb_local]

OWNERS, SONGS = catalog_data.build()
_names = itertools.count()


def importer(
    *arguments: str,
    endpoint_url: str | None,
    region: str | None = "us-east-1",
    credentials: bool = True,
    home: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """The importer as a user runs it; ``credentials=False``, ``region=None``: none in the environment
    (with ``home``, a home without ~/.aws either)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")} | {
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT)])
    }
    if credentials:
        environment |= {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    if home is not None:
        environment |= {"HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true"}
    endpoint = ["--endpoint-url", endpoint_url] if endpoint_url else []
    chosen = ["--region", region] if region else []
    return subprocess.run(
        [sys.executable, "-m", "devtools.cli.import_catalog", *endpoint, *chosen, *arguments],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def local_table(dynamodb_local: DynamoDBLocal) -> Iterator[tuple[Any, str]]:
    client = dynamodb_local.client()
    name = f"importer-cli-{next(_names)}"
    create_tables(client, name)
    try:
        yield client, name
    finally:
        delete_tables(client, name)


def record_of(client: Any, name: str, pk: str) -> dict | None:
    """An owner's record, or a song's (its all posting)."""
    sk = "record" if pk.startswith("owners#") else "posting#all"
    return client.get_item(TableName=name, Key={"PK": {"S": pk}, "SK": {"S": sk}}).get("Item")


def reported_lines(stderr: str) -> dict[int, str]:
    return {int(number): reason for number, reason in re.findall(r"^\s*line (\d+): (.*)$", stderr, re.MULTILINE)}


def test_bad_lines_are_reported_and_exit_2(local_table: tuple[Any, str], dynamodb_local: DynamoDBLocal, tmp_path: Path) -> None:
    client, name = local_table
    owner, song = OWNERS[0], dict(SONGS[0], ownerId=OWNERS[0]["id"])
    path = tmp_path / "catalog.jsonl"
    path.write_bytes(
        json.dumps(owner).encode() + b"\n"  # 1
        + b'{"kind": "song", "id":\n'  # 2: not JSON
        + b"\n"  # 3: blank
        + json.dumps(song).encode() + b"\n"  # 4
        + json.dumps({**song, "kind": "album"}).encode() + b"\n"  # 5: unknown kind
        + b'{"kind": "owner", "id": "' + OWNERS[1]["id"].encode() + b'", "nickname": "Caf\xe9"}\n'  # 6: not UTF-8
    )  # fmt: skip

    result = importer("--table", name, str(path), endpoint_url=dynamodb_local.endpoint_url)  # with its progress bar

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    reported = reported_lines(result.stderr)
    assert sorted(reported) == [2, 5, 6], result.stderr
    assert "not JSON" in reported[2]
    assert "unknown kind 'album'" in reported[5]
    assert "UTF-8" in reported[6]
    assert re.search(r"^loaded 1 owners, 1 songs \(2 written", result.stderr, re.MULTILINE), result.stderr
    assert "rejected 3 line(s)" in result.stderr
    assert result.stdout == ""

    assert record_of(client, name, f"owners#{owner['id']}") is not None
    assert record_of(client, name, f"songs#{song['id']}") is not None
    assert record_of(client, name, f"owners#{OWNERS[1]['id']}") is None


def test_good_file_exits_0_and_again_writes_nothing(
    local_table: tuple[Any, str], dynamodb_local: DynamoDBLocal, tmp_path: Path
) -> None:
    _, name = local_table
    path = tmp_path / "catalog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in OWNERS[:2] + SONGS[:3]), encoding="utf-8")

    first = importer("--quiet", "--table", name, str(path), endpoint_url=dynamodb_local.endpoint_url)
    assert first.returncode == 0, first.stderr
    summary = first.stderr.splitlines()
    assert summary[0] == "loaded 2 owners, 3 songs (5 written, 0 re-indexed for owner changes)"
    items = local_table[0].scan(TableName=name, Select="COUNT")["Count"]
    assert re.fullmatch(rf"wrote {items} items in \d+\.\d s \(\d+ items/s\)", summary[1])
    assert summary[2:] == ["rejected 0 line(s)"]
    again = importer("--quiet", "--table", name, str(path), endpoint_url=dynamodb_local.endpoint_url)
    assert again.returncode == 0, again.stderr
    assert "(0 written, 0 re-indexed" in again.stderr


def test_missing_file_exits_1_with_a_clear_message(
    local_table: tuple[Any, str], dynamodb_local: DynamoDBLocal, tmp_path: Path
) -> None:
    _, name = local_table
    missing = tmp_path / "nowhere.jsonl"
    result = importer("--table", name, str(missing), endpoint_url=dynamodb_local.endpoint_url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no such file" in result.stderr and str(missing) in result.stderr


def test_missing_table_exits_1_with_a_clear_message(dynamodb_local: DynamoDBLocal, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(OWNERS[0]) + "\n", encoding="utf-8")
    result = importer("--table", "no-such-table", str(path), endpoint_url=dynamodb_local.endpoint_url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "'no-such-table' does not exist" in result.stderr
    assert "--create-table" in result.stderr


def test_bad_lines_are_reported_even_when_the_table_is_missing(dynamodb_local: DynamoDBLocal, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(OWNERS[0]) + "\nnot json\n" + json.dumps({"kind": "album"}) + "\n", encoding="utf-8")
    result = importer("--table", "no-such-table", str(path), endpoint_url=dynamodb_local.endpoint_url)
    assert result.returncode == 1
    assert sorted(reported_lines(result.stderr)) == [2, 3], result.stderr
    assert "rejected 2 line(s)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: table 'no-such-table' does not exist")


def test_create_table_makes_the_templates_table_and_imports_into_it(dynamodb_local: DynamoDBLocal, tmp_path: Path) -> None:
    client, name = dynamodb_local.client(), f"importer-cli-new-{next(_names)}"
    path = tmp_path / "catalog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in OWNERS[:1] + SONGS[:2]), encoding="utf-8")
    try:
        result = importer("--quiet", "--create-table", "--table", name, str(path), endpoint_url=dynamodb_local.endpoint_url)
        assert result.returncode == 0, result.stderr
        assert f"created table {name!r} and its counters table '{name}-counters' from template.yaml" in result.stderr
        assert client.describe_table(TableName=f"{name}-counters")["Table"]["TableStatus"] == "ACTIVE"
        described = client.describe_table(TableName=name)["Table"]
        assert {index["IndexName"] for index in described["GlobalSecondaryIndexes"]} >= {"Listing", "Pages", "Sampling"}
        assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert record_of(client, name, f"songs#{SONGS[1]['id']}") is not None
        again = importer("--quiet", "--create-table", "--table", name, str(path), endpoint_url=dynamodb_local.endpoint_url)
        assert again.returncode == 0 and "created table" not in again.stderr and "(0 written" in again.stderr
    finally:
        delete_tables(client, name)


def test_an_endpoint_needs_no_aws_credentials(
    local_table: tuple[Any, str], dynamodb_local: DynamoDBLocal, tmp_path: Path
) -> None:
    client, name = local_table
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(OWNERS[0]) + "\n", encoding="utf-8")
    result = importer(
        "--quiet", "--table", name, str(path), endpoint_url=dynamodb_local.endpoint_url, credentials=False, home=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert record_of(client, name, f"owners#{OWNERS[0]['id']}") is not None


def test_no_region_is_one_clear_line(dynamodb_local: DynamoDBLocal, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(OWNERS[0]) + "\n", encoding="utf-8")
    for endpoint in (dynamodb_local.endpoint_url, None):
        result = importer("--table", "catalog", str(path), endpoint_url=endpoint, region=None, home=tmp_path)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines()[-1] == "error: no AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION)"


def test_no_credentials_without_an_endpoint_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(OWNERS[0]) + "\n", encoding="utf-8")
    result = importer("--table", "catalog", str(path), endpoint_url=None, credentials=False, home=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: no AWS credentials found")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_endpoint_exits_1_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps(OWNERS[0]) + "\n", encoding="utf-8")
    result = importer("--table", "catalog", str(path), endpoint_url=f"http://127.0.0.1:{_closed_port()}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
