"""Run the bench: generate catalogs, load them into DynamoDB Local, run the mix, report.

    python -m devtools.bench [--sizes 10000 50000] [--repetitions 3] [--record] ...

The markdown report goes to stdout (progress to stderr), the figures to ``.bench/`` as JSON, and
with ``--record`` the report replaces the recorded run in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools import REPO_ROOT
from devtools.bench import report, runner, tables, targets
from devtools.local.dynamodb_local import DynamoDBLocal

log = logging.getLogger("devtools.bench")

PERFORMANCE_DOC = REPO_ROOT / "docs" / "PERFORMANCE.md"
COLD_START_MODULE = "devtools.bench.cold_start"


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000], help="catalog sizes, in songs")
    parser.add_argument("--songs-per-owner", type=int, default=12, help="owners = songs / this (default 12)")
    parser.add_argument("--soundtracks", type=int, default=300, help="soundtracks at every size (default 300)")
    parser.add_argument("--repetitions", type=int, default=3, help="requests per shape (default 3)")
    parser.add_argument(
        "--shape-budget", type=float, default=3.0, help="stop repeating a shape once it has taken this many seconds (default 3)"
    )
    parser.add_argument("--baseline-scans", type=int, default=1, help="full Scans per table and size (default 1)")
    parser.add_argument("--instances", type=int, default=2, help="DynamoDB Local processes loading in parallel (default 2)")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".bench", help="folder for the JSON figures (default .bench)")
    parser.add_argument("--record", action="store_true", help="write the report into docs/PERFORMANCE.md")
    parser.add_argument("--no-cold-start", action="store_true", help="skip the cold start measurement")
    return parser.parse_args(argv)


def _cold_start(run: dict[str, Any]) -> tuple[list[dict] | None, str | None]:
    try:
        module = importlib.import_module(COLD_START_MODULE)
    except ModuleNotFoundError as error:
        if error.name != COLD_START_MODULE:
            raise
        run["cold_start_note"] = f"not measured: {COLD_START_MODULE} is not on this branch"
        log.warning(run["cold_start_note"])
        return None, None
    try:
        rows = module.measure()
    except Exception as error:  # the mix's figures are worth keeping without it
        run["cold_start_note"] = f"not measured: {error}"
        log.exception("the cold start measurement failed")
        return None, None
    return rows, module.markdown(rows)


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    started = time.monotonic()
    sizes = sorted(set(options.sizes))
    run: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "sizes": sizes,
        "options": {"songs_per_owner": options.songs_per_owner, "soundtracks": options.soundtracks,
                    "repetitions": options.repetitions, "shape_budget_s": options.shape_budget,
                    "baseline_scans": options.baseline_scans, "instances": options.instances, "seed": options.seed},
        "seconds": {"measure": {}},
    }  # fmt: skip

    setups = [
        tables.prepare(size, owners=max(1, size // options.songs_per_owner), soundtracks=options.soundtracks, seed=options.seed)
        for size in sizes
    ]
    run["seconds"]["generate"] = time.monotonic() - started
    groups = [group for setup in setups for group in (setup.catalog_group, setup.naive_group)]
    instances = max(1, min(options.instances, len(groups)))
    tables.assign(groups, instances)
    log.info("generated %s; loading %d items into %d DynamoDB Local processes",
             ", ".join(f"{size:,} songs" for size in sizes), sum(group.items for group in groups), instances)  # fmt: skip

    logs = options.out / "logs"
    servers = [DynamoDBLocal(log_path=logs / f"dynamodb-local-{index}.log") for index in range(instances)]
    results: dict[int, list[runner.Result]] = {}
    try:
        for server in servers:
            server.start()
        loading = time.monotonic()
        tables.load(servers, groups)
        run["seconds"]["load"] = time.monotonic() - loading
        for setup in setups:
            measuring = time.monotonic()
            results[setup.size] = tables.measure(setup, servers, repetitions=options.repetitions,
                                                 shape_budget_s=options.shape_budget,
                                                 baseline_scans=options.baseline_scans)  # fmt: skip
            run["seconds"]["measure"][setup.size] = time.monotonic() - measuring
    finally:
        for server in servers:
            server.stop()

    cold_rows, cold_table = None, None
    if options.no_cold_start:
        run["cold_start_note"] = "not measured in this run (--no-cold-start)"
    else:
        cold = time.monotonic()
        log.info("measuring cold starts")
        cold_rows, cold_table = _cold_start(run)
        if cold_rows is not None:
            run["seconds"]["cold_start"] = time.monotonic() - cold

    run["seconds"]["total"] = time.monotonic() - started
    run["machine"] = report.machine()
    loads = [load for group in groups for load in group.loads]
    verdicts = targets.judge(results, cold_rows)
    text = report.markdown(run, loads, results, verdicts, cold_table)
    options.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    figures_path = options.out / f"bench-{stamp}.json"
    figures_path.write_text(json.dumps(report.figures(run, loads, results, verdicts, cold_rows), indent=2, default=str) + "\n")
    sys.stdout.write(text)
    log.info("figures written to %s", figures_path)
    if options.record:
        report.record(PERFORMANCE_DOC, text)
        log.info("recorded in %s", PERFORMANCE_DOC)
    mismatches = sum(bool(result.mismatches) for per_size in results.values() for result in per_size)
    if mismatches:
        log.error("%d shape(s) answered differently from the baseline", mismatches)
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
