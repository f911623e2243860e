"""``make load``: a bounded load test of the local stack, from a second process.

    python -m devtools.load [--seconds 60] [--connections 4] [--environments 2] [--mixes all bounded point] [--record]

Starts its own stack on free ports (``devtools.load.stack``: DynamoDB Local in memory with the
sample catalog, the local Cognito, the gateway with its functions in worker processes), turns
the bench's query mix into requests (``devtools.load.targets``, each checked to answer 2xx), then
for each mix runs the load generator (``devtools.load.generator``) in a child process for
``--seconds``, and stops everything. The markdown report goes to stdout (progress to stderr), the
figures to ``.bench/load-<time>.json``, and with ``--record`` the report replaces the recorded
load run in docs/PERFORMANCE.md. The exit status is 1 when a run had errors.

Mixes (see ``MIXES``): ``all`` is every shape of the bench's mix, one request of each in turn;
``bounded`` only the shapes whose read cost the design bounds (``Shape.bounded``: not those that
enumerate a partition); ``point`` only the shapes that read one or two items.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools import REPO_ROOT
from devtools.bench import loader, mix
from devtools.bench import report as bench_report
from devtools.load import report, targets
from devtools.load.stack import Stack, load_stack
from devtools.local.dynamodb_local import DynamoDBLocalError
from devtools.local.identity import IdentityError
from devtools.sample_catalog import generate

log = logging.getLogger("devtools.load")

PERFORMANCE_DOC = REPO_ROOT / "docs" / "PERFORMANCE.md"
MIXES = {
    "all": lambda shape: True,
    "bounded": lambda shape: shape.bounded,
    "point": lambda shape: shape.target in (mix.Target.ONE_ITEM, mix.Target.AT_MOST_TWO_ITEMS),
}
"""Which shapes of the bench's mix each mix requests: all of them; those with a bounded read cost;
those that read one or two items (get, counts answered by a counter, random picks)."""
TIMEOUT_S = 30.0
"""A request without a complete answer after this long is an error (API Gateway's integration timeout is 29 s)."""
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of each mix's run (default 60)")
    parser.add_argument(
        "--connections", type=int, default=4, help="keep-alive connections, each one request in flight (default 4)"
    )
    parser.add_argument(
        "--environments",
        type=int,
        default=2,
        help="execution environments (function worker processes); 0: the gateway's own one-at-a-time invoker (default 2)",
    )
    parser.add_argument(
        "--mixes",
        nargs="+",
        choices=sorted(MIXES),
        default=list(MIXES),
        help="mixes to run, in turn (default: all bounded point)",
    )
    parser.add_argument("--songs", type=int, default=2400, help="catalog size in songs (default 2400, the sample of make run)")
    parser.add_argument("--songs-per-owner", type=int, default=12, help="owners = songs / this (default 12)")
    parser.add_argument("--soundtracks", type=int, default=300, help="soundtracks (default 300)")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / ".bench", help="folder for the JSON figures and logs (default .bench)"
    )
    parser.add_argument("--record", action="store_true", help="write the report into docs/PERFORMANCE.md")
    return parser.parse_args(argv)


class GeneratorFailed(RuntimeError):
    """The load generator's process failed (its error output is in the message)."""


def _cpu_seconds(pids: set[int]) -> float:
    """User + system CPU time of these processes (all their threads) so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / _CLOCK_TICKS


@contextmanager
def _standard_output_to(path: Path) -> Iterator[None]:
    """Send this process's file descriptor 1 to ``path`` (the functions' logs, when they run in this process)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with path.open("ab") as stream:
        os.dup2(stream.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _run_generator(stack: Stack, requests: list[dict[str, Any]], options: argparse.Namespace) -> dict[str, Any]:
    host, port = stack.gateway.server_address[:2]
    plan = {"host": host, "port": port, "authorization": f"Bearer {stack.token}", "requests": requests,
            "connections": options.connections, "seconds": options.seconds, "timeout_s": TIMEOUT_S}  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="load-plan-", delete=False) as stream:
        json.dump(plan, stream)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "devtools.load.generator", stream.name],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=options.seconds + 2 * TIMEOUT_S + 60,
        )  # fmt: skip
    finally:
        os.unlink(stream.name)
    if completed.returncode != 0:
        raise GeneratorFailed(f"the load generator failed ({completed.returncode}):\n{completed.stderr}")
    return json.loads(completed.stdout)


def _measure(stack: Stack, name: str, options: argparse.Namespace) -> dict[str, Any]:
    shapes = [shape for shape in mix.shapes(stack.catalog) if MIXES[name](shape)]
    resolved, notes = targets.resolve(shapes, stack.gateway.api, stack.url, f"Bearer {stack.token}")
    for note in notes:
        log.warning(note)
    requests = [target.to_dict() for target in resolved]
    log.info("mix %s: %d shapes, %d connections, %.0f s", name, len(requests), options.connections, options.seconds)
    before = {role: _cpu_seconds(pids) for role, pids in stack.pids.items()}
    result = _run_generator(stack, requests, options)
    cpu = {role: _cpu_seconds(pids) - before[role] for role, pids in stack.pids.items()}
    summary = report.summarize(result, requests, cpu)
    summary["notes"] = notes
    total = summary["total"]
    log.info("mix %s: %d requests, %.1f req/s, p50 %.1f ms, p99 %.1f ms, %d errors", name, total["requests"],
             total["throughput_rps"], total["ms_p50"] or 0, total["ms_p99"] or 0, total["errors"])  # fmt: skip
    return summary


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        log.info("interrupted: everything started is stopped")
        return 130
    except (targets.TargetError, GeneratorFailed, DynamoDBLocalError, IdentityError) as error:
        # Everything started before the failing step is stopped by now.
        print(f"error: {error}", file=sys.stderr)
        return 1


def _main(argv: list[str] | None) -> int:
    options = _options(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    logging.getLogger("devtools.local.gateway").setLevel(logging.WARNING)  # one line per request otherwise
    logs = options.out / "logs" / "load"
    started = datetime.now(UTC)
    owners = max(1, options.songs // options.songs_per_owner)
    catalog = loader.validate(generate(options.songs, owners, options.seed, options.soundtracks))
    summaries: dict[str, dict[str, Any]] = {}
    with load_stack(catalog, environments=options.environments, logs=logs) as stack:
        loaded_items = stack.loaded_items
        # In-process functions log to this process's standard output: to the functions' log, as the workers do.
        with _standard_output_to(logs / "functions.log") if options.environments == 0 else nullcontext():
            for name in options.mixes:
                summaries[name] = _measure(stack, name, options)
    run = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "options": {"seconds": options.seconds, "connections": options.connections, "environments": options.environments,
                    "mixes": options.mixes, "timeout_s": TIMEOUT_S},
        "catalog": {"songs": options.songs, "owners": owners, "soundtracks": options.soundtracks, "seed": options.seed,
                    "items": loaded_items},
        "machine": bench_report.machine(),
    }  # fmt: skip
    text = report.markdown(run, summaries)
    figures_path = options.out / f"load-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    figures_path.write_text(json.dumps({"run": run, "mixes": summaries}, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(text)
    log.info("figures written to %s", figures_path)
    if options.record:
        report.record(PERFORMANCE_DOC, text)
        log.info("recorded in %s", PERFORMANCE_DOC)
    return 1 if any(summary["total"]["errors"] for summary in summaries.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
