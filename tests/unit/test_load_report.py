"""The load report: what counts as an error, nearest-rank percentiles, and where a run is recorded."""

from pathlib import Path

import pytest

from devtools.load import report

REQUESTS = [
    {"name": "songs get", "route": "GET /v1/songs/{songId}", "target": "/v1/songs/a", "timeout_s": 10},
    {"name": "songs count", "route": "GET /v1/songs/count", "target": "/v1/songs/count", "timeout_s": 10},
]


def _result(get: dict, count: dict) -> dict:
    return {"seconds": 2.0, "cpu_seconds": 0.5, "connections": 2, "outcomes": {"songs get": get, "songs count": count}}


def test_a_run_of_2xx_answers_has_no_error_and_exact_percentiles() -> None:
    get = {"latencies": [0.001 * n for n in range(1, 101)], "statuses": {"200": 100}, "failures": {}}
    count = {"latencies": [0.5], "statuses": {"200": 1}, "failures": {}}
    summary = report.summarize(_result(get, count), REQUESTS, {"gateway": 1.0})
    total = summary["total"]
    assert total["requests"] == 101
    assert total["throughput_rps"] == 50.5
    assert total["errors"] == 0
    assert (total["ms_p50"], total["ms_max"]) == pytest.approx((51.0, 500.0))  # nearest rank over the 101 latencies
    assert summary["routes"]["GET /v1/songs/{songId}"]["ms_p99"] == pytest.approx(99.0)
    assert summary["cpu"]["gateway"] == pytest.approx({"percent_of_one_core": 50.0, "ms_per_request": 1000 / 101})
    assert summary["cpu"]["load generator"]["percent_of_one_core"] == 25.0


def test_non_2xx_answers_missing_answers_and_answers_beyond_the_function_timeout_are_errors() -> None:
    get = {"latencies": [0.01, 0.02, 11.0], "statuses": {"200": 2, "503": 1}, "failures": {"timeout": 1}}
    count = {"latencies": [0.01], "statuses": {"404": 1}, "failures": {"connection": 2}}
    summary = report.summarize(_result(get, count), REQUESTS, {})
    total = summary["total"]
    assert total["requests"] == 7
    assert total["non_2xx"] == 2
    assert total["over_function_timeout"] == 1  # the 11 s answer: Lambda stops the function at 10 s
    assert total["errors"] == 2 + 3 + 1
    assert summary["shapes"]["songs count"]["errors"] == 3
    assert not summary["target"]["met"]


def test_record_replaces_only_the_load_section(tmp_path: Path) -> None:
    document = tmp_path / "PERFORMANCE.md"
    bench = "<!-- bench:run:start -->\nbench run\n<!-- bench:run:end -->\n"
    document.write_text(f"{bench}before\n{report.RECORD_START}\nold run\n{report.RECORD_END}\nafter\n", encoding="utf-8")
    report.record(document, "new run\n")
    assert document.read_text(encoding="utf-8") == f"{bench}before\n{report.RECORD_START}\nnew run\n{report.RECORD_END}\nafter\n"
