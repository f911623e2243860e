"""Cold start and warm overhead of each function, beside the floor every Python function on AWS pays.

What is measured (milliseconds, medians):

- ``cold_ms_p50``: wall time from just before the benchmark starts a fresh interpreter to the moment
  that process holds the function's first answer. The process is ``python -c`` (the benchmark's own
  interpreter), run the way Lambda runs the function: working directory and first ``sys.path`` entry
  the function's code directory, the layer's directory next (``/var/task`` and ``/opt/python`` on
  Lambda), the function's environment from ``template.yaml`` plus dummy credentials. The span covers
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

How runs are ordered: first one untimed process of the floor and of each function (it writes the
byte-code caches, so every timed process finds them, as a layer shipped with compiled byte-code
would; the functions' warm figures come from these processes), then ``runs`` rounds. A
round visits the functions in a shuffled order and runs, for each, a floor process and a function
process back to back (which goes first alternates), so that noise on the machine hits both alike;
a row's floor is the median of the floor processes paired with that function.

The stub: no network, no DynamoDB Local. Before the handler is imported, the child registers a
botocore session initializer (the hook Powertools uses for its user agent) that adds two handlers to
every session, so to every DynamoDB client the store creates however it creates it: one notes the
call's parameters, the other answers the call in place of the HTTP exchange (what botocore's Stubber
does) from canned items: 30 songs of the sample catalog (more than a page, so that the list answer
carries a next-page cursor), their records, and their postings in the ``all`` partition carrying
every record attribute, so that entry-only and record-reading paths both find what they need.
GetItem answers the record or posting of the key, or a counter of 30 for any ``count`` key;
BatchGetItem the items of the keys; Query the postings in key order from ``ExclusiveStartKey``, up to
``Limit`` (with a ``LastEvaluatedKey`` when more follow), or the posting at the asked ``slot``.
Request parameters are still validated and serialized by botocore; requests are not signed and
responses not parsed.

    python -m devtools.bench.cold_start [--runs 5] [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import marshal
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools import ACCOUNT_ID, REGION, REPO_ROOT, TABLE_NAME

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

FLOOR_SCRIPT = """\
import sys
import time

import boto3

boto3.client("dynamodb", region_name=sys.argv[1])
answered = time.monotonic_ns()

import json

print(sys.argv[2] + json.dumps({"answered_ns": answered, "stub_ns": 0, "status": 200, "headers": [], "warm_ns": []}))
"""

# Runs in the child. Only `sys`, `time` and `marshal` (built in) and `botocore` (which every function
# imports anyway, through Powertools and its DynamoDB client) come before the timed stub set-up.
FUNCTION_SCRIPT = """\
import marshal
import sys
import time

import botocore

stub_started = time.monotonic_ns()
CANNED = marshal.loads(sys.stdin.buffer.read())
ITEMS, POSTINGS = CANNED["items"], CANNED["postings"]
_calls = []


def _remember(params, **_):
    _calls.append(params)


def _key(item):
    return item["PK"]["S"], item["SK"]["S"]


def _query(params):
    values = params.get("ExpressionAttributeValues", {})
    if ":s" in values:  # a position in the Sampling index
        slot = int(values[":s"]["N"])
        found = POSTINGS[slot : slot + 1]
        return {"Items": found, "Count": len(found), "ScannedCount": len(found)}
    ordered = POSTINGS if params.get("ScanIndexForward", True) else POSTINGS[::-1]
    start = 0
    if "ExclusiveStartKey" in params:
        last = _key(params["ExclusiveStartKey"])
        start = 1 + next(number for number, item in enumerate(ordered) if _key(item) == last)
    found = ordered[start : start + params.get("Limit", len(ordered))]
    body = {"Items": found, "Count": len(found), "ScannedCount": len(found)}
    if start + len(found) < len(ordered):
        body["LastEvaluatedKey"] = {name: found[-1][name] for name in ("PK", "SK", "fpk", "fsk")}
    return body


def _counter(key):
    return {"PK": key["PK"], "SK": {"S": "count"}, "n": {"N": str(len(POSTINGS))}}


def _answer(model, **_):
    from botocore.awsrequest import AWSResponse

    params = _calls.pop()
    if model.name == "GetItem":
        key = _key(params["Key"])
        item = _counter(params["Key"]) if key[1] == "count" else ITEMS.get(key)
        body = {"Item": item} if item else {}
    elif model.name == "BatchGetItem":
        table, request = next(iter(params["RequestItems"].items()))
        found = [_counter(key) if key["SK"]["S"] == "count" else ITEMS[_key(key)] for key in request["Keys"]
                 if key["SK"]["S"] == "count" or _key(key) in ITEMS]
        body = {"Responses": {table: found}, "UnprocessedKeys": {}}
    elif model.name == "Query":
        body = _query(params)
    else:
        raise AssertionError(f"the stub does not answer {model.name}")
    return AWSResponse(None, 200, {}, None), body


def _install(session):
    session.register("before-parameter-build.dynamodb", _remember)
    session.register("before-call.dynamodb", _answer)


class Context:
    function_name = CANNED["function_name"]
    memory_limit_in_mb = 512
    invoked_function_arn = CANNED["function_arn"]
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    function_version = "$LATEST"

    def get_remaining_time_in_millis(self):
        return 10_000


botocore.register_initializer(_install)
event, context = CANNED["event"], Context()
stub_ns = time.monotonic_ns() - stub_started

sys.path.insert(1, CANNED["layer"])
import app

answer = app.lambda_handler(event, context)
answered = time.monotonic_ns()

warm_ns = []
for _ in range(CANNED["requests"]):
    started = time.perf_counter_ns()
    again = app.lambda_handler(event, context)
    warm_ns.append(time.perf_counter_ns() - started)
    if again["statusCode"] != answer["statusCode"]:
        raise AssertionError(again)

import json

headers = sorted({**(answer.get("headers") or {}), **(answer.get("multiValueHeaders") or {})})
print(CANNED["result_marker"] + json.dumps({"answered_ns": answered, "stub_ns": stub_ns, "status": answer["statusCode"],
                                            "body": answer.get("body", "")[:300], "headers": headers, "warm_ns": warm_ns}))
"""


@dataclass(frozen=True)
class Target:
    """One function as the benchmark calls it."""

    name: str
    code_dir: Path
    environment: dict[str, str]
    canned: bytes
    """What the child reads on stdin: canned items, the event, the layer, the number of warm requests."""


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


def targets(functions: Sequence[str] = FUNCTIONS, requests: int = 300) -> list[Target]:
    """Each function with its request (a songs request of the kind it serves) and its environment."""
    from devtools.local.gateway import Request, proxy_event
    from devtools.template.api import load_api

    api = load_api(table_name=TABLE_NAME)
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
        package, module = route.function.module.rsplit(".", 1)
        if module != "app":
            raise LookupError(f"{route.function.module}: the benchmark imports a function's handler module as `app`")
        canned = {
            "items": items,
            "postings": postings,
            "event": json.loads(json.dumps(event)),  # plain JSON types, as Lambda hands it over
            "layer": str(LAYER_DIR),
            "function_name": route.function.logical_id,
            "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{route.function.logical_id}",
            "result_marker": _RESULT,
            "requests": requests,
        }
        result.append(
            Target(
                name=name,
                code_dir=REPO_ROOT.joinpath(*package.split(".")),
                environment=_environment(dict(route.function.environment), route.function.logical_id),
                canned=marshal.dumps(canned),
            )
        )
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


def _floor(environment: dict[str, str]) -> Run:
    return _run([sys.executable, "-c", FLOOR_SCRIPT, REGION, _RESULT], REPO_ROOT, environment)


def _cold(target: Target) -> Run:
    return _run([sys.executable, "-c", FUNCTION_SCRIPT], target.code_dir, target.environment, target.canned)


def measure(runs: int = 5, requests: int = 300, functions: Sequence[str] = FUNCTIONS) -> list[dict]:
    """Per function: cold start p50, the boto3 floor p50 of the same run, the paired ratio p50, warm p50 (ms)."""
    chosen = targets(functions, requests)
    warm: dict[str, float] = {}
    _floor(chosen[0].environment)  # untimed: byte-code caches, file cache
    for target in chosen:
        first = _cold(target)
        warm[target.name] = statistics.median(first.warm_ns) / 1e6 if first.warm_ns else float("nan")
    cold: dict[str, list[float]] = {target.name: [] for target in chosen}
    floor: dict[str, list[float]] = {target.name: [] for target in chosen}
    order = random.Random(20260101)
    for round_number in range(runs):
        for target in order.sample(chosen, len(chosen)):
            if round_number % 2 == 0:
                floor[target.name].append(_floor(target.environment).ms)
                cold[target.name].append(_cold(target).ms)
            else:
                cold[target.name].append(_cold(target).ms)
                floor[target.name].append(_floor(target.environment).ms)
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
    arguments = parser.parse_args(argv)
    rows = measure(arguments.runs, arguments.requests, tuple(arguments.function or FUNCTIONS))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
