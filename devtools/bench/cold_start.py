"""Cold start and warm overhead of each function, beside the floor every Python function on AWS pays.

What is measured (milliseconds, medians):

- ``cold_ms_p50``: wall time from just before the benchmark starts a fresh interpreter to the moment
  that process holds the function's first answer. The process is :mod:`devtools.bench.cold_start_child`
  run as a script (the benchmark's own interpreter), the way Lambda runs the function: working
  directory and first ``sys.path`` entry the function's code directory, the layer's directory next
  (``/var/task`` and ``/opt/python`` on Lambda), the function's environment from ``template.yaml``
  plus dummy credentials. The span covers
  interpreter start-up, ``import app``, creating the DynamoDB client and answering one request: the
  REST (v1) proxy event the local gateway builds for the route, passed to ``app.lambda_handler``;
  the answer must be 200. The requests: list ``GET /v1/songs`` (the default page, 25 songs), count
  ``GET /v1/songs/count`` (a counter), get ``GET /v1/songs/{id}``, random ``GET /v1/songs/random``.
  DynamoDB is stubbed (below). Not counted: loading the stub's canned data and
  registering it, which the child times and subtracts, and interpreter shutdown (Lambda freezes the
  process instead). Both ends read ``time.monotonic_ns`` (CLOCK_MONOTONIC: one clock for every
  process on Linux and macOS).
- ``floor_ms_p50``: the same span for a process that runs
  ``import boto3; boto3.client("dynamodb", region_name=...)``, same interpreter and environment: what
  any Python function that talks to DynamoDB pays before doing anything.
- ``ratio``: the median, over the function's processes, of its cold start divided by the floor
  process run right beside it (target: at most ``COLD_RATIO_TARGET``). On a shared machine the load
  drifts between rounds; a pair shares it, so this is steadier than the ratio of the two medians
  (which it is close to on a quiet machine).
- ``warm_ms_p50``: in one process, after the first answer, the time ``lambda_handler`` takes for each
  of ``requests`` more identical requests (``time.perf_counter_ns``), DynamoDB stubbed; the list
  function's request is a 25-item page (target: at most ``WARM_TARGET_MS``).

How runs are ordered: first one untimed process of the floor and of each function (from the sources,
it writes the byte-code caches, so every timed process finds them, as a layer shipped with compiled
byte code does; the functions' warm figures come from these processes), then ``runs`` rounds. A
round visits the functions in a shuffled order and runs, for each, a floor process and a function
process back to back (which goes first alternates), so that noise on the machine hits both alike;
a row's floor is the median of the floor processes paired with that function.

``--built``: what ``sam build`` produced instead of the sources (the function directories and the
layer's ``python/`` of a build for this machine, :func:`devtools.template.build.runnable_build`), as
Lambda runs it: copied with every file dated 1 January 1980 (what ``sam deploy``'s zip leaves,
so byte code checked against its source's time would be stale), in a Python of boto3 alone
(``.venv-lambda``) that writes no byte code (``PYTHONDONTWRITEBYTECODE=1``, as Lambda's read-only
``/opt`` and ``/var/task`` allow none): a module the build ships without byte code is compiled
by every cold start. The floor runs in the same Python.

The stub: no network, no DynamoDB Local. Before the handler is imported, the child registers a
botocore session initializer that answers every DynamoDB call from canned items
(:class:`devtools.bench.cold_start_child.Stub`): 30 songs of the sample catalog (more than a page, so
that the list answer carries a next-page cursor), their records, and their postings in the ``all``
partition carrying every record attribute, so that entry-only and record-reading paths both find
what they need. Request parameters are still validated and serialized by botocore; requests are not
signed and responses not parsed.

    python -m devtools.bench.cold_start [--runs 5] [--requests 300] [--built [BUILD_DIR]]
"""

from __future__ import annotations

import argparse
import json
import marshal
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools import ACCOUNT_ID, REGION, REPO_ROOT, TABLE_NAME
from devtools.bench import cold_start_child
from devtools.local.lambda_runtime import LAMBDA_PYTHON
from devtools.template import build, table

LAYER_DIR = REPO_ROOT / "layers" / "common"
COLD_RATIO_TARGET = 1.25
WARM_TARGET_MS = 2.0
PAGE_ITEMS = 25
CATALOG_SONGS = 30
"""More than a page, so that the list answer carries a next-page cursor, as on a real catalog."""
CALLER = "1a000000-0000-4000-8000-000000000001"
FUNCTIONS = ("list", "count", "get", "random")
_ROUTES = {"list": "/v1/songs", "count": "/v1/songs/count", "get": "/v1/songs/{id}", "random": "/v1/songs/random"}
_RESULT = "cold-start-result "
CHILD = Path(cold_start_child.__file__)
ZIP_EPOCH = 315532800
"""1 January 1980: the time ``sam deploy``'s zip gives every file (a zip entry without a date)."""


@dataclass(frozen=True)
class Target:
    """One function as the benchmark calls it."""

    name: str
    code_dir: Path
    environment: dict[str, str]
    canned: bytes
    """What the child reads on stdin: canned items, the event, the code and layer directories, the number of warm requests."""
    python: Path
    """The interpreter: the benchmark's own, or for a build a Python of boto3 alone."""


def _layer_on_path() -> None:
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))


def canned_items() -> tuple[dict, list[dict]]:
    """Sample songs (not archived) as stored: their ``all`` postings (the records) by key, and in key order."""
    _layer_on_path()
    from boto3.dynamodb.types import TypeSerializer

    from catalog import keys
    from catalog.declarations import SONGS
    from devtools.sample_catalog import generate
    from importer.postings import postings as postings_of

    wire = TypeSerializer().serialize
    catalog = generate(song_count=CATALOG_SONGS, owner_count=5, soundtrack_count=0)
    owners = {item["id"]: item for item in catalog if item["kind"] == "owner"}
    items, postings = {}, []
    for song in (item for item in catalog if item["kind"] == "song"):
        record = {name: value for name, value in song.items() if name != "kind"} | {"archived": False}
        owner = owners[record["ownerId"]]
        names = [owner[name] for name in ("nickname", "firstName", "lastName") if owner.get(name)]
        key = keys.record_key(SONGS.name, record["id"])  # the all posting is the record
        posting = {**record, **postings_of(SONGS, record, names)[key["SK"]], **key}
        items[key["PK"], key["SK"]] = {name: wire(value) for name, value in posting.items()}
        postings.append(posting)
    postings.sort(key=lambda posting: posting["fsk"])
    ordered = []
    for slot, posting in enumerate(postings):
        raw = items[posting["PK"], posting["SK"]]
        raw["slot"] = {"N": str(slot)}
        ordered.append(raw)
    return items, ordered


def _environment(function_environment: dict[str, str], function_name: str) -> dict[str, str]:
    """What Lambda gives a function (no PYTHON* variables, no shared AWS config, dummy credentials)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        **function_environment,
    }


def targets(functions: Sequence[str] = FUNCTIONS, requests: int = 300, built: Path | None = None) -> list[Target]:
    """Each function with its request (a songs request of the kind it serves) and its environment;
    ``built``: the template of a build to run (its function and layer directories) instead of the sources."""
    from devtools.local.gateway import Request, proxy_event
    from devtools.template.api import load_api

    api = load_api(built or table.TEMPLATE_PATH, table_name=TABLE_NAME)
    layer = api.layer_paths[0] / "python" if built else LAYER_DIR  # sam build puts a layer's content under python/
    items, postings = canned_items()
    first_id = postings[0]["id"]["S"]
    result = []
    for name in functions:
        path = _ROUTES[name].format(id=first_id)
        matched = api.route("GET", path)
        if matched is None:
            raise LookupError(f"template.yaml has no route for GET {path}")
        route, path_parameters = matched
        request = Request("GET", path, [("Host", "localhost")], b"", "127.0.0.1")
        claims = {"sub": CALLER, "token_use": "access", "scope": "aws.cognito.signin.user.admin"}
        event = proxy_event(request, route, path, "", path_parameters, claims, api.stage, str(uuid.uuid4()))
        if route.function.entry_point != "app.lambda_handler":
            raise LookupError(f"{route.function.entry_point}: the benchmark calls a function's handler as `app.lambda_handler`")
        canned = {
            "items": items,
            "postings": postings,
            "event": json.loads(json.dumps(event)),  # plain JSON types, as Lambda hands it over
            "code_dir": str(route.function.code_dir),
            "layer": str(layer),
            "function_name": route.function.logical_id,
            "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{route.function.logical_id}",
            "result_marker": _RESULT,
            "requests": requests,
        }
        environment = _environment(dict(route.function.environment), route.function.logical_id)
        if built:
            environment["PYTHONDONTWRITEBYTECODE"] = "1"
        python = LAMBDA_PYTHON if built else Path(sys.executable)
        result.append(Target(name, route.function.code_dir, environment, marshal.dumps(canned), python))
    return result


@dataclass(frozen=True)
class Run:
    ms: float
    status: int
    headers: list[str]
    """The names of the answer's headers."""
    warm_ns: list[int]


def _run(command: list[str], cwd: Path, environment: dict[str, str], stdin: bytes = b"") -> Run:
    started = time.monotonic_ns()
    done = subprocess.run(command, cwd=cwd, env=environment, input=stdin, capture_output=True, timeout=120)
    lines = [line for line in done.stdout.decode(errors="replace").splitlines() if line.startswith(_RESULT)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark process failed ({done.returncode}):\n{done.stderr.decode(errors='replace')[-3000:]}")
    result = json.loads(lines[-1][len(_RESULT) :])
    if result["status"] != 200:
        raise RuntimeError(f"the function answered {result['status']}: {result.get('body')}")
    elapsed_ms = (result["answered_ns"] - started - result["stub_ns"]) / 1e6
    return Run(elapsed_ms, result["status"], result["headers"], result["warm_ns"])


def _floor(target: Target) -> Run:
    # -P: the child's directory (devtools/bench) is not put on sys.path
    return _run([str(target.python), "-P", str(CHILD), "floor", REGION, _RESULT], REPO_ROOT, target.environment)


def _cold(target: Target) -> Run:
    return _run([str(target.python), "-P", str(CHILD), "function"], target.code_dir, target.environment, target.canned)


@contextmanager
def as_deployed(built_template: Path) -> Iterator[Path]:
    """A copy of a build whose every file is dated as ``sam deploy``'s zip dates it; yields its template."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        copy = Path(scratch) / "build"
        shutil.copytree(built_template.parent, copy, symlinks=True)
        for path in copy.rglob("*"):
            if not path.is_symlink():
                os.utime(path, (ZIP_EPOCH, ZIP_EPOCH))
        yield copy / built_template.name


def measure(runs: int = 5, requests: int = 300, functions: Sequence[str] = FUNCTIONS, built: Path | None = None) -> list[dict]:
    """Per function: cold start p50, the boto3 floor p50 of the same run, the paired ratio p50, warm p50 (ms).

    ``built``: the template of a build, run as Lambda runs it (a dated copy, a Python of boto3 alone).
    """
    if built is not None:
        with as_deployed(built) as deployed:
            return _measure(targets(functions, requests, deployed), runs)
    return _measure(targets(functions, requests), runs)


def _measure(chosen: list[Target], runs: int) -> list[dict]:
    warm: dict[str, float] = {}
    _floor(chosen[0])  # untimed: byte-code caches (from the sources), file cache
    for target in chosen:
        first = _cold(target)
        warm[target.name] = statistics.median(first.warm_ns) / 1e6 if first.warm_ns else float("nan")
    cold: dict[str, list[float]] = {target.name: [] for target in chosen}
    floor: dict[str, list[float]] = {target.name: [] for target in chosen}
    order = random.Random(20260101)
    for round_number in range(runs):
        for target in order.sample(chosen, len(chosen)):
            if round_number % 2 == 0:
                floor[target.name].append(_floor(target).ms)
                cold[target.name].append(_cold(target).ms)
            else:
                cold[target.name].append(_cold(target).ms)
                floor[target.name].append(_floor(target).ms)
    rows = []
    for target in chosen:
        cold_ms, floor_ms = cold[target.name], floor[target.name]
        ratio = statistics.median(one / beside for one, beside in zip(cold_ms, floor_ms))
        rows.append({
            "function": target.name,
            "cold_ms_p50": round(statistics.median(cold_ms), 1),
            "floor_ms_p50": round(statistics.median(floor_ms), 1),
            "ratio": round(ratio, 3),
            "warm_ms_p50": round(warm[target.name], 3),
        })  # fmt: skip
    return rows


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def markdown(rows: list[dict]) -> str:
    """The rows as a markdown table, each figure beside its target."""
    lines = [
        f"| function | cold start p50 (ms) | boto3 floor p50 (ms) | cold / floor, paired p50 (target ≤ {COLD_RATIO_TARGET}) "
        f"| warm p50 (ms, target ≤ {WARM_TARGET_MS:g}) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['function']} | {row['cold_ms_p50']:.1f} | {row['floor_ms_p50']:.1f} "
            f"| {row['ratio']:.2f} {_verdict(row['ratio'] <= COLD_RATIO_TARGET)} "
            f"| {row['warm_ms_p50']:.2f} {_verdict(row['warm_ms_p50'] <= WARM_TARGET_MS)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cold start and warm overhead of each function (DynamoDB stubbed).")
    parser.add_argument("--runs", type=int, default=5, help="timed processes per function (and as many floors)")
    parser.add_argument("--requests", type=int, default=300, help="warm requests per function")
    parser.add_argument("--function", action="append", choices=FUNCTIONS, help="only these (repeatable)")
    parser.add_argument("--built", nargs="?", const=True, type=Path, metavar="BUILD_DIR",
                        help="run what `sam build` produced (default: this machine's build, `make build [ARCH=...]`)")  # fmt: skip
    arguments = parser.parse_args(argv)
    built = None
    if arguments.built is not None:
        try:
            built = build.runnable_build(None if arguments.built is True else arguments.built.resolve())
        except build.NotRunnable as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    rows = measure(arguments.runs, arguments.requests, tuple(arguments.function or FUNCTIONS), built)
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
