"""A load run's figures: totals, per route, CPU per process; as markdown and as JSON.

Latency percentiles are nearest-rank over every answered request (no sampling, no interpolation).
Throughput is requests answered or failed per second of the run. Errors are non-2xx answers,
requests without an answer (timeouts, broken connections), and answers that took longer than the
function's timeout (Lambda would have stopped the function: API Gateway would have answered 5xx;
the local gateway only warns).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.bench import report as bench_report
from devtools.bench.runner import percentile

TARGET_RPS = 200.0
RECORD_START = "<!-- load:run:start -->"
RECORD_END = "<!-- load:run:end -->"


def _figures(
    latencies: list[float], statuses: dict[str, int], failures: dict[str, int], late: int, seconds: float
) -> dict[str, Any]:
    answered = sum(statuses.values())
    failed = sum(failures.values())
    non_2xx = sum(count for status, count in statuses.items() if not 200 <= int(status) < 300)
    requests = answered + failed
    return {
        "requests": requests,
        "throughput_rps": requests / seconds if seconds else 0.0,
        "errors": non_2xx + failed + late,
        "non_2xx": non_2xx,
        "over_function_timeout": late,
        "failures": failures,
        "statuses": statuses,
        "ms_p50": 1000 * percentile(latencies, 0.50) if latencies else None,
        "ms_p90": 1000 * percentile(latencies, 0.90) if latencies else None,
        "ms_p99": 1000 * percentile(latencies, 0.99) if latencies else None,
        "ms_max": 1000 * max(latencies) if latencies else None,
    }


def _merge(outcomes: list[dict[str, Any]], timeouts: list[float]) -> tuple[list[float], dict[str, int], dict[str, int], int]:
    """(latencies, statuses, failures, answers slower than their function's timeout) of several shapes."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    failures: dict[str, int] = {}
    late = 0
    for outcome, timeout in zip(outcomes, timeouts, strict=True):
        latencies += outcome["latencies"]
        late += sum(latency > timeout for latency in outcome["latencies"])
        for status, count in outcome["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
        for cause, count in outcome["failures"].items():
            failures[cause] = failures.get(cause, 0) + count
    return latencies, statuses, failures, late


def summarize(result: dict[str, Any], targets: list[dict[str, Any]], cpu_seconds: dict[str, float]) -> dict[str, Any]:
    """Totals, per route and per shape, from the generator's result; CPU in % of one core."""
    seconds = result["seconds"]
    outcomes = result["outcomes"]
    timeout = {target["name"]: float(target["timeout_s"]) for target in targets}
    routes: dict[str, list[str]] = {}
    for target in targets:
        routes.setdefault(target["route"], []).append(target["name"])

    def figures(names: list[str]) -> dict[str, Any]:
        return _figures(*_merge([outcomes[name] for name in names], [timeout[name] for name in names]), seconds)

    total = figures(list(outcomes))
    used = {**cpu_seconds, "load generator": result["cpu_seconds"]}
    cpu = {role: {"percent_of_one_core": 100 * value / seconds, "ms_per_request": 1000 * value / max(1, total["requests"])}
           for role, value in used.items()}  # fmt: skip
    return {
        "seconds": seconds,
        "connections": result["connections"],
        "total": total,
        "target": {"rps": TARGET_RPS, "met": total["throughput_rps"] >= TARGET_RPS and total["errors"] == 0},
        "routes": {route: {"shapes": len(names), **figures(names)} for route, names in routes.items()},
        "shapes": {name: figures([name]) for name in outcomes},
        "cpu": cpu,
    }


def cpu_per_request(summary: dict[str, Any]) -> float:
    """CPU milliseconds per request, all processes of the run together."""
    return sum(value["ms_per_request"] for value in summary["cpu"].values())


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def markdown(run: dict[str, Any], summaries: dict[str, dict[str, Any]]) -> str:
    info = run["machine"]
    catalog = run["catalog"]
    out = [
        f"Run of {run['started']}: {run['options']['seconds']:g} s per mix, {run['options']['connections']} connections, "
        f"{run['options']['environments']} execution environments; catalog of {catalog['songs']:,} songs, "
        f"{catalog['owners']:,} owners, {catalog['soundtracks']:,} soundtracks ({catalog['items']:,} items).",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB RAM, {info['os']}; "
        f"Python {info['python']}; {info['java']}; DynamoDB Local {info['dynamodb_local']}; "
        f"load average {info['load_average_1m']} at the end.",
        "",
        f"| mix | shapes | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | ≥ {TARGET_RPS:.0f} req/s, 0 errors "
        f"| CPU ms per request | {info['cores']} cores / CPU per request |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, summary in summaries.items():
        total = summary["total"]
        cpu_ms = cpu_per_request(summary)
        out.append(
            f"| {name} | {len(summary['shapes'])} | {total['requests']:,} | {total['throughput_rps']:,.1f} | "
            f"{_ms(total['ms_p50'])} | {_ms(total['ms_p90'])} | {_ms(total['ms_p99'])} | {_ms(total['ms_max'])} | "
            f"{total['errors']:,} | {'met' if summary['target']['met'] else '**not met**'} | {cpu_ms:,.1f} | "
            f"{info['cores'] * 1000 / cpu_ms if cpu_ms else 0:,.0f} req/s |"
        )
    out += ["", "CPU ms per request: the CPU time of the gateway, the functions, DynamoDB Local and the load generator, "
                "per request. The last column divides the machine's cores by it: the highest rate the stack could "
                "reach with every core to itself and all of them busy, an upper bound that other work on the machine "
                "does not lower."]  # fmt: skip
    for name, summary in summaries.items():
        total = summary["total"]
        if total["errors"]:
            statuses = ", ".join(
                f"{count} x {status}" for status, count in sorted(total["statuses"].items()) if not 200 <= int(status) < 300
            )
            failures = ", ".join(f"{count} {cause}" for cause, count in sorted(total["failures"].items()))
            out += ["", f"Errors of mix {name}: {total['non_2xx']} non-2xx answers{f' ({statuses})' if statuses else ''}, "
                        f"{sum(total['failures'].values())} without an answer{f' ({failures})' if failures else ''}, "
                        f"{total['over_function_timeout']} slower than their function's timeout."]  # fmt: skip
    for name, summary in summaries.items():
        out += ["", f"### Mix: {name}", "", "| route | shapes | requests | req/s | p50 ms | p99 ms | max ms | errors |",
                "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for route, figures in summary["routes"].items():
            out.append(f"| `{route}` | {figures['shapes']} | {figures['requests']:,} | {figures['throughput_rps']:,.1f} | "
                       f"{_ms(figures['ms_p50'])} | {_ms(figures['ms_p99'])} | {_ms(figures['ms_max'])} | {figures['errors']:,} |")  # fmt: skip
        slowest = sorted(summary["shapes"].items(), key=lambda item: -(item[1]["ms_p50"] or 0))[:5]
        out += [
            "",
            "Slowest shapes (p50): " + "; ".join(f"{shape} {_ms(figures['ms_p50'])} ms" for shape, figures in slowest) + ".",
        ]
        cpu = summary["cpu"]
        out += ["", f"CPU used during the run (of {info['cores'] * 100}% on {info['cores']} cores): "
                + ", ".join(f"{role} {value['percent_of_one_core']:.0f}% ({value['ms_per_request']:.1f} ms per request)"
                            for role, value in cpu.items()) + "."]  # fmt: skip
        if summary.get("notes"):
            out += ["", *[f"- {note}" for note in summary["notes"]]]
    return "\n".join(out) + "\n"


def record(document: Path, text: str) -> None:
    """Replace the recorded load run in ``document`` (between its markers) with ``text``."""
    bench_report.record(document, text, start=RECORD_START, end=RECORD_END)
