"""``make load``'s pieces against the end-to-end stack: the bench's mix as requests, a short run of
the load generator in its own process through a gateway whose functions run in worker processes
(``ExecutionEnvironments``), and the report of that run.

The mix is resolved on a small generated catalog in a table of its own (the other end-to-end tests
count what the shared table holds). No figure of speed is asserted: only that requests were made
and answered, none failed, and the report carries what ``make load`` prints and records.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.bench import loader, mix
from devtools.load import report, targets
from devtools.local import stack
from devtools.local.execution_environments import ExecutionEnvironments
from devtools.local.gateway import LocalApiGateway
from devtools.local.identity import Tokens
from devtools.sample_catalog import generate
from tests.e2e.conftest import REPO_ROOT, LocalStack

pytestmark = pytest.mark.e2e

LOAD_TABLE = "load-catalog"
RUN_SECONDS = 2


@pytest.fixture(scope="module")
def load_catalog(local_stack: LocalStack) -> loader.Catalog:
    catalog = loader.validate(generate(120, 10, 7, 30))
    client = local_stack.composed.dynamodb.client()
    loader.load_catalog(client, LOAD_TABLE, catalog)
    return catalog


@pytest.fixture(scope="module")
def pooled_gateway(
    local_stack: LocalStack, load_catalog: loader.Catalog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalApiGateway]:
    shared = local_stack.composed
    with stack.local_stack(
        logs=tmp_path_factory.mktemp("load"), dynamodb=shared.dynamodb, pool=shared.pool, table_name=LOAD_TABLE, environments=2
    ) as composed:
        composed.serve_in_background()
        yield composed.gateway


def test_two_execution_environments_are_two_processes(pooled_gateway: LocalApiGateway) -> None:
    workers = pooled_gateway.invoker
    assert isinstance(workers, ExecutionEnvironments) and len(workers.pids) == 2


def test_a_short_load_run_answers_every_request_and_reports_it(
    pooled_gateway: LocalApiGateway, load_catalog: loader.Catalog, demo_tokens: Tokens, tmp_path: Path
) -> None:
    authorization = f"Bearer {demo_tokens.access_token}"
    shapes = mix.shapes(load_catalog)
    resolved, notes = targets.resolve(shapes, pooled_gateway.api, pooled_gateway.url, authorization)
    # Every shape of the mix answers 2xx (a cursor page only when its first page has a next one).
    assert len(resolved) + len(notes) == len(shapes)
    assert {target.route for target in resolved} == {f"GET {route.resource}" for route in pooled_gateway.api.routes}

    requests = [target.to_dict() for target in resolved]
    host, port = pooled_gateway.server_address[:2]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"host": host, "port": port, "authorization": authorization, "requests": requests,
                                "connections": 3, "seconds": RUN_SECONDS, "timeout_s": 30}))  # fmt: skip
    completed = subprocess.run(
        [sys.executable, "-m", "devtools.load.generator", str(plan)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)

    summary = report.summarize(result, requests, {"gateway": 0.0})
    total = summary["total"]
    assert total["requests"] > 0
    assert total["errors"] == 0, total
    assert set(total["statuses"]) == {"200"}
    assert 0 < total["ms_p50"] <= total["ms_p99"] <= total["ms_max"]
    assert total["throughput_rps"] > 0
    assert sum(route["requests"] for route in summary["routes"].values()) == total["requests"]
    assert set(summary["cpu"]) == {"gateway", "load generator"}

    run = {"started": "now", "options": {"seconds": RUN_SECONDS, "connections": 3, "environments": 2},
           "catalog": {"songs": 120, "owners": 10, "soundtracks": 30, "items": 0},
           "machine": {"cpu": "cpu", "cores": 2, "memory_gb": 1, "os": "os", "python": "3.13", "java": "java",
                       "dynamodb_local": "local", "load_average_1m": 0.0}}  # fmt: skip
    text = report.markdown(run, {"all": summary})
    for heading in ("req/s", "p50 ms", "p99 ms", "max ms", "errors", "GET /v1/songs/count", "ms per request"):
        assert heading in text
    assert f"| all | {len(requests)} | {total['requests']:,} |" in text
