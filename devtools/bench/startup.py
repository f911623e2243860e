"""``make startup``: how long ``make run`` takes to be ready, measured as a user waits for it.

    python -m devtools.bench.startup [--catalog FILE] [--reimports 5] [--out .bench] [--record]

Runs ``python -m devtools.cli.run`` as its own process, in a state directory of its own (nothing of the
checkout's ``.local`` is touched) and on free ports, and times each start from the process's
launch to its ``stack.json`` (written once the banner is due):

1. the first start (nothing saved: the sample catalog is generated, imported and counted);
2. a later start (the saved database);
3. ``--reimports`` starts with ``--catalog FILE`` (default: the sample catalog), each into a new
   database, with the saved database's size after each.

After every start it asks the API for the songs count and checks it against the catalog's songs,
so a start that is fast but wrong fails the run. It reports the import rate (items a second) and
the stream hand-over rate (stream records a second) that ``make run`` recorded, and whether the
last re-import is within 20% of the first. No figure is asserted: the machine is shared, so the
run compares starts measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools import REPO_ROOT
from devtools.bench import report as bench_report
from devtools.local.dynamodb_local import free_port
from devtools.local.identity import sign_in
from devtools.local.local_data import DATABASE
from devtools.local.state import RunState

log = logging.getLogger("devtools.bench.startup")

PERFORMANCE_DOC = REPO_ROOT / "docs" / "PERFORMANCE.md"
RECORD_START = "<!-- startup:run:start -->"
RECORD_END = "<!-- startup:run:end -->"
READY_TIMEOUT_S = 900
REIMPORT_TOLERANCE = 1.2
"""The last re-import may take at most 20% longer than the first."""


class StartFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Start:
    """One start of ``make run``."""

    name: str
    seconds: float
    """From launching the process to its stack.json."""
    startup: dict[str, Any]
    """What ``make run`` recorded about the start (``StackInfo.startup``)."""
    songs_counted: int
    database_mb: float

    @property
    def import_rate(self) -> float | None:
        seconds = self.startup.get("import_s")
        return self.startup["items"] / seconds if seconds else None

    @property
    def hand_over_rate(self) -> float | None:
        seconds = self.startup.get("hand_over_s")
        return self.startup["stream_records"] / seconds if seconds and self.startup["stream_records"] else None


def songs_in(catalog: Path) -> int:
    """The songs a count without filters answers for ``catalog``: its songs not archived, each counted once."""
    archived: dict[str, bool] = {}
    with catalog.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("kind") == "song":
                archived[record["id"]] = bool(record.get("archived"))
    return sum(not value for value in archived.values())


def _count_songs(state: RunState) -> int:
    stack = state.running_stack()
    if stack is None:
        raise StartFailed("the stack stopped before it could be asked")
    token = sign_in(stack.pool, stack.demo_credentials).access_token
    request = urllib.request.Request(f"{stack.api_url}/v1/songs/count", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.load(response)["count"])


def start(name: str, state: RunState, catalog: Path | None, logs: Path) -> Start:
    """Start ``make run``, wait for it to be ready, ask it for the count, stop it."""
    state.stack_file.unlink(missing_ok=True)
    ports = [str(free_port()) for _ in range(3)]
    command = [sys.executable, "-m", "devtools.cli.run", "--state-dir", str(state.root), "--port", ports[0],
               "--dynamodb-port", ports[1], "--identity-port", ports[2], *(["--catalog", str(catalog)] if catalog else [])]  # fmt: skip
    with (logs / f"{name}.log").open("wb") as output:
        launched = time.monotonic()
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            while not state.stack_file.exists():
                if process.poll() is not None:
                    raise StartFailed(f"{name}: make run exited with status {process.returncode} (see {output.name})")
                if time.monotonic() - launched > READY_TIMEOUT_S:
                    raise StartFailed(f"{name}: not ready after {READY_TIMEOUT_S} s (see {output.name})")
                time.sleep(0.05)
            seconds = time.monotonic() - launched
            startup = json.loads(state.stack_file.read_text(encoding="utf-8"))["startup"]
            counted = _count_songs(state)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
    database = state.root / "dynamodb" / DATABASE
    size = database.stat().st_size / 1e6 if database.exists() else 0.0
    log.info("%s: ready in %.1f s (%s)", name, seconds, startup)
    return Start(name, round(seconds, 2), startup, counted, round(size, 1))


def markdown(run: dict[str, Any], starts: list[Start], expected: dict[str, int]) -> str:
    def rate(value: float | None, unit: str) -> str:
        return f"{value:,.0f} {unit}/s" if value else "–"

    lines = [
        f"Run of {run['started']}: {run['machine']['cores']} cores ({run['machine']['cpu']}), "
        f"{run['machine']['dynamodb_local']}, load average {run['machine']['load_average_1m']} at the start; "
        f"re-imported catalog: {run['catalog']}.",
        "",
        "| start | ready in | items imported | import rate | stream records handed over | hand-over rate | songs counted (expected) | database |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for item in starts:
        lines.append(
            f"| {item.name} | {item.seconds:.1f} s | {item.startup.get('items', 0):,} | {rate(item.import_rate, 'items')} "
            f"| {item.startup['stream_records']:,} | {rate(item.hand_over_rate, 'records')} "
            f"| {item.songs_counted:,} ({expected[item.name]:,}) | {item.database_mb:.0f} MB |"
        )
    reimports = [item for item in starts if item.name.startswith("re-import")]
    if len(reimports) > 1:
        ratio = reimports[-1].seconds / reimports[0].seconds
        verdict = "within" if ratio <= REIMPORT_TOLERANCE else "NOT within"
        lines += ["", f"Last re-import / first: {ratio:.2f} ({verdict} {REIMPORT_TOLERANCE:.1f}); database after the "
                      f"first {reimports[0].database_mb:.0f} MB, after the last {reimports[-1].database_mb:.0f} MB."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, help="catalog to re-import (default: the sample catalog of the first start)")
    parser.add_argument("--reimports", type=int, default=5, help="starts with --catalog (default 5)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".bench", help="folder for the figures and logs (default .bench)")
    parser.add_argument("--record", action="store_true", help="write the report into docs/PERFORMANCE.md")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    started = datetime.now(UTC)
    logs = options.out / "logs" / "startup"
    logs.mkdir(parents=True, exist_ok=True)
    machine = bench_report.machine()
    with tempfile.TemporaryDirectory(prefix="startup-") as directory:
        state = RunState(Path(directory))
        sample = state.root / "sample-catalog.jsonl"
        catalog = (options.catalog or sample).resolve()
        starts, expected = [], {}
        try:
            for name, given in [("first", None), ("later", None)] + [
                (f"re-import {number}", catalog) for number in range(1, options.reimports + 1)
            ]:
                starts.append(start(name, state, given, logs))
                expected[name] = songs_in(given or sample)
        except StartFailed as error:
            log.error("%s", error)
            return 1
    run = {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine,
           "catalog": str(options.catalog) if options.catalog else "the sample catalog"}  # fmt: skip
    text = markdown(run, starts, expected)
    figures = options.out / f"startup-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    figures.write_text(json.dumps({"run": run, "starts": [asdict(item) for item in starts]}, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(text)
    log.info("figures written to %s", figures)
    if options.record:
        bench_report.record(PERFORMANCE_DOC, text, start=RECORD_START, end=RECORD_END)
        log.info("recorded in %s", PERFORMANCE_DOC)
    wrong = [item.name for item in starts if item.songs_counted != expected[item.name]]
    if wrong:
        log.error("songs count not exact after: %s", ", ".join(wrong))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
