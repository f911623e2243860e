"""``make invoke`` (``python -m devtools.cli.invoke``) as a user runs it: every sample event of ``events/``
handed to its function, from the sources and from a ``sam build``, against DynamoDB Local.

The table holds a part of the sample catalog that ``make run`` imports: every owner, the first 300
songs and the first 50 soundtracks, the records the sample events name among them (importing the
whole catalog takes half a minute). Its counters are made exact from its stream first, as
``make run`` does. A 200 here is a 200 against the whole sample catalog: lists and counts answer
200 on any table, and a get or a random pick that finds its record in a part of the catalog finds
it in the whole. The stack the command runs against is given as a ``stack.json`` (``--stack``),
as ``make run`` writes it.

The build is made for this machine's architecture into a temporary directory
(:mod:`devtools.template.build`, about 10 s) and run in ``.venv-lambda``, a Python of boto3 alone.
Two broken copies of it show what only a run of the build catches: a module the layer lacks, and
an import that only the dev virtualenv satisfies.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import REPO_ROOT
from devtools.bench import cold_start
from devtools.counts import recount
from devtools.local.dynamodb_local import DynamoDBLocal
from devtools.local.identity import Credentials
from devtools.local.lambda_runtime import LAMBDA_PYTHON
from devtools.local.state import StackInfo
from devtools.local.streams import COUNTER_FUNCTION
from devtools.sample_catalog import generate
from devtools.template import build, table
from devtools.template.api import load_api, load_function
from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.support import stream_feed

pytestmark = [pytest.mark.e2e, pytest.mark.dynamodb_local]

EVENTS = sorted((REPO_ROOT / "events").glob("*.json"))
TABLE = "invoke-samples"
SONGS, SOUNDTRACKS = 300, 50
SAMPLE = generate()
DEMO_SUB = SAMPLE[0]["id"]  # make run's demo user: the sample catalog's first owner
_REPORT = re.compile(r"^REPORT RequestId: \S+  Duration: [\d.]+ ms  Init Duration: [\d.]+ ms  Memory Size: (\d+) MB  ", re.M)


@pytest.fixture(scope="module")
def stack_file(dynamodb_local: DynamoDBLocal, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A table holding part of the sample catalog, with exact counters, described as ``make run`` describes its stack."""
    client = dynamodb_local.client()
    table.create_tables(client, TABLE)
    kinds = {"owner": 10**6, "song": SONGS, "soundtrack": SOUNDTRACKS}
    taken = {kind: 0 for kind in kinds}
    lines = []
    for record in SAMPLE:
        if taken[record["kind"]] < kinds[record["kind"]]:
            taken[record["kind"]] += 1
            lines.append(json.dumps(record))
    report = import_lines(CatalogWriter(client, TABLE), lines, progress=False)
    assert not report.rejected, report.lines()
    stream_feed.drain(client, TABLE)  # the counter function's handler, its counters on this client
    path = tmp_path_factory.mktemp("invoke") / "stack.json"
    demo = Credentials(username="demo", password="unused", sub=DEMO_SUB)
    StackInfo(os.getpid(), "http://127.0.0.1:1", dynamodb_local.endpoint_url, TABLE, {}, asdict(demo)).save(path)
    return path


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert LAMBDA_PYTHON.exists(), f"{LAMBDA_PYTHON} is missing: `make setup` creates it"
    directory = tmp_path_factory.mktemp("sam") / "build"
    build.build(build.machine_architecture(), directory)
    return directory


@dataclass(frozen=True)
class Printed:
    """What ``make invoke`` printed, in its parts."""

    returncode: int
    answer: str  # the status line, headers and body; or `answer: ...`; or `error ...`
    logs: list[str]
    report: str
    stderr: str

    @property
    def status(self) -> int:
        return int(self.answer.split("\n", 1)[0].removeprefix("status "))

    @property
    def body(self) -> Any:
        return json.loads(self.answer.split("\n\n", 1)[1])

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs if line.startswith("{")]


def invoke(function: str, event: Path, *options: str) -> Printed:
    done = subprocess.run(
        [sys.executable, "-m", "devtools.cli.invoke", function, str(event), *options],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    answer, _, logs = done.stdout.partition(f"\nlogs of {function}:\n")
    lines = logs.splitlines()
    report = next((line for line in lines if line.startswith("REPORT ")), "")
    return Printed(done.returncode, answer.strip(), [line for line in lines if line != report], report, done.stderr)


def function_of(event: dict[str, Any]) -> str:
    if "Records" in event:
        return COUNTER_FUNCTION
    matched = load_api().route(event["httpMethod"], event["path"])
    assert matched is not None, f"no route of template.yaml serves {event['httpMethod']} {event['path']}"
    return matched[0].function.logical_id


def check_api_answer(event: dict[str, Any], printed: Printed) -> None:
    """Status 200, and a body that answers what the event asks."""
    assert printed.status == 200, printed.answer
    body, resource = printed.body, event["resource"]
    if resource == "/v1/songs":  # ownerIds=me: the caller's songs, the caller being the claims' sub
        assert event["queryStringParameters"]["ownerIds"] == "me"
        assert body and {song["ownerId"] for song in body} == {DEMO_SUB}
    elif resource == "/api/v1/soundtracks":
        assert body and all("Hildur" in soundtrack["artist"] for soundtrack in body)
    elif resource == "/v1/songs/genres":  # the genres of Calm songs, most songs first
        limit = int(event["queryStringParameters"]["limit"])
        assert 0 < len(body) <= limit and len(set(body)) == len(body) and all(isinstance(name, str) for name in body)
    elif resource.endswith("/count"):
        assert body["count"] > 0
    elif resource == "/v1/songs/{songId}":
        assert body["id"] == event["pathParameters"]["songId"]
    elif resource == "/api/v1/soundtracks/{uuid}":
        assert body["uuid"] == event["pathParameters"]["uuid"]
    else:
        assert resource.endswith("/random") and (body.get("id") or body.get("uuid")), body
    (read_cost,) = [line for line in printed.log_records() if line.get("message") == "read cost"]
    assert read_cost["function_name"] == function_of(event) and read_cost["cold_start"] is True


@pytest.mark.parametrize("built", [False, True], ids=["sources", "build"])
@pytest.mark.parametrize("event_path", EVENTS, ids=[path.name for path in EVENTS])
def test_every_sample_event_is_answered_by_its_function(
    event_path: Path, built: bool, stack_file: Path, dynamodb_local: DynamoDBLocal, request: pytest.FixtureRequest
) -> None:
    event = json.loads(event_path.read_text(encoding="utf-8"))
    function = function_of(event)
    options = ["--built", "--build-dir", str(request.getfixturevalue("build_dir"))] if built else []
    printed = invoke(function, event_path.relative_to(REPO_ROOT), "--stack", str(stack_file), *options)
    assert printed.returncode == 0, printed.stderr + printed.answer + "\n".join(printed.logs)
    memory = _REPORT.search(printed.report)
    assert memory and int(memory.group(1)) == load_function(function).memory_mb, printed.report
    if function != COUNTER_FUNCTION:
        check_api_answer(event, printed)
        return
    # A song written, changed and deleted: its counters move and come back, and stay exact.
    assert json.loads(printed.answer.removeprefix("answer: ")) == {"batchItemFailures": []}
    (updated,) = [line for line in printed.log_records() if line.get("message") == "counters updated"]
    assert (updated["records"], updated["records_counted"]) == (3, 3)
    counted = recount(dynamodb_local.client(), TABLE, table.counters_table_name(TABLE))
    assert not counted.drift() and not counted.pending


def test_the_built_layer_ships_byte_code_python_uses_whatever_the_time_of_its_sources(build_dir: Path) -> None:
    """Lambda's /opt is read-only and ``sam deploy``'s zip dates every file 1980: every module of the layer
    has its byte code for this Python, hash-based and unchecked (PEP 552), or each cold start compiles it."""
    layer = build_dir / "CommonLayer" / "python"
    sources = sorted(layer.rglob("*.py"))
    assert {"catalog", "aws_lambda_powertools", "cryptography"} <= {path.relative_to(layer).parts[0] for path in sources}
    for source in sources:
        header = Path(importlib.util.cache_from_source(str(source))).read_bytes()[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER, source
        assert int.from_bytes(header[4:8], "little") == 0b01, f"{source}: not unchecked hash-based byte code"
    assert not (layer / "pydantic").exists() and not (layer / "catalog" / "writer.py").exists(), "the importer's, not Lambda's"


def test_the_cold_start_bench_runs_the_build_as_lambda_runs_it(build_dir: Path) -> None:
    (row,) = cold_start.measure(runs=1, requests=1, functions=("list",), built=build_dir / "template.yaml")  # 200 or raises
    assert row["function"] == "list" and row["cold_ms_p50"] > 0 and row["floor_ms_p50"] > 0


def broken_copy(build_dir: Path, into: Path, *, without: str | None = None, prepend: str | None = None) -> Path:
    """The build, with ``without`` missing from the layer, or ``prepend`` put before ListFunction's code.

    What is unchanged is linked, not copied.
    """
    into.mkdir()
    shutil.copy(build_dir / "template.yaml", into)
    for entry in build_dir.iterdir():
        if entry.name == "ListFunction" and prepend is not None:
            shutil.copytree(entry, into / entry.name)
            app = into / entry.name / "app.py"
            app.write_text(prepend + app.read_text(encoding="utf-8"), encoding="utf-8")
        elif entry.name == "CommonLayer":
            (into / entry.name / "python").mkdir(parents=True)
            for item in (entry / "python").iterdir():
                if item.name != without:
                    (into / entry.name / "python" / item.name).symlink_to(item)
        elif entry.is_dir():
            (into / entry.name).symlink_to(entry)
    return into


@pytest.mark.parametrize(
    ("broken", "missing"),
    [({"without": "aws_lambda_powertools"}, "aws_lambda_powertools"), ({"prepend": "import yaml\n"}, "yaml")],
    ids=["a-module-missing-from-the-layer", "an-import-only-the-dev-virtualenv-has"],
)
def test_a_packaging_mistake_fails_the_build_as_lambda_fails_it(
    broken: dict[str, str], missing: str, build_dir: Path, stack_file: Path, tmp_path: Path
) -> None:
    broken_build = broken_copy(build_dir, tmp_path / "build", **broken)
    printed = invoke(
        "ListFunction", Path("events/list.json"), "--stack", str(stack_file), "--built", "--build-dir", str(broken_build)
    )
    assert printed.returncode == 1
    expected = f"Runtime.ImportModuleError: Unable to import module 'app': No module named '{missing}'"
    assert printed.answer == f"error {expected}"
    assert f"[ERROR] {expected}" in printed.logs
    assert _REPORT.search(printed.report)


def one_line_error(done: subprocess.CompletedProcess[str] | Printed) -> str:
    """The message of a command that failed with exit status 1, one line on stderr and nothing on stdout."""
    assert done.returncode == 1
    assert (done.stdout if isinstance(done, subprocess.CompletedProcess) else done.answer) == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_an_unknown_function_a_missing_event_file_and_malformed_json_each_get_one_line(tmp_path: Path) -> None:
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"httpMethod": "GET",', encoding="utf-8")
    unknown = one_line_error(invoke("NoSuchFunction", Path("events/list.json")))
    assert unknown == (
        "error: no function 'NoSuchFunction' in template.yaml "
        "(its functions: CountFunction, GetFunction, ListFunction, RandomFunction, StreamCounterFunction)"
    )
    assert (
        one_line_error(invoke("ListFunction", tmp_path / "absent.json"))
        == f"error: no such event file: {tmp_path / 'absent.json'}"
    )
    assert one_line_error(invoke("ListFunction", malformed)).startswith(f"error: the event file {malformed} is not JSON: ")


def test_make_invoke_passes_function_and_event_on(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "-s", "invoke", "FUNCTION=NoSuchFunction", "EVENT=events/list.json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "error: no function 'NoSuchFunction' in template.yaml" in done.stderr.splitlines()[0]


def test_without_a_stack_that_answers_it_says_to_start_make_run(tmp_path: Path) -> None:
    gone = tmp_path / "stack.json"
    demo = asdict(Credentials(username="demo", password="unused", sub=DEMO_SUB))
    StackInfo(os.getpid(), "http://127.0.0.1:1", "http://127.0.0.1:1", TABLE, {}, demo).save(gone)
    message = one_line_error(invoke("ListFunction", Path("events/list.json"), "--stack", str(gone)))
    assert message == "error: DynamoDB Local does not answer at http://127.0.0.1:1: is `make run` still running?"


def test_a_build_that_is_missing_or_for_another_architecture_is_refused(tmp_path: Path) -> None:
    missing = one_line_error(invoke("ListFunction", Path("events/list.json"), "--built", "--build-dir", str(tmp_path)))
    assert missing == f"error: no build in {tmp_path}: run `make build ARCH={build.machine_architecture()}` first"
    other = "arm64" if build.machine_architecture() == "x86_64" else "x86_64"
    (tmp_path / "template.yaml").write_text(json.dumps(build.for_architecture(table.load_template(), other)))
    foreign = one_line_error(invoke("ListFunction", Path("events/list.json"), "--built", "--build-dir", str(tmp_path)))
    assert f"is built for {other} and this machine is {build.machine_architecture()}" in foreign
    assert foreign.endswith(f"`make build ARCH={build.machine_architecture()}` builds for this machine")
