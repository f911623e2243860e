"""The load generator: a closed loop of keep-alive HTTP/1.1 connections, run as its own process.

    python -m devtools.load.generator PLAN.json > RESULT.json

``PLAN.json`` holds the gateway's host and port, the ``Authorization`` header, the requests
(``[{"name", "route", "target"}]``, cycled in order), the number of connections and the duration.
Each connection sends one request, reads the whole answer, and sends the next one at once: the
rate is the highest the server sustains with that many requests in flight. Connection ``i``
starts at request ``i * len(requests) / connections`` of the cycle, so the mix is spread over the
connections from the first second.

A request counts as an error when the answer is not 2xx, when the connection fails (reset,
refused, closed mid-answer: the connection is then reopened) or when no complete answer arrives
within ``timeout_s``. Latency is measured from writing the request to reading the last byte of
the body, for every request (no sampling): percentiles are exact over the run.

Everything runs in one asyncio loop over plain sockets (a minimal HTTP/1.1 client: the gateway
always answers with ``Content-Length``), so that the generator takes as little of the machine's
CPU as possible; it reports the CPU time it used, to show it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_HEAD_BYTES = 64 * 1024


@dataclass
class Outcome:
    """What one kind of request got during the run."""

    latencies: list[float] = field(default_factory=list)
    """Seconds, of every answered request (2xx or not)."""
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    """Requests without an answer, by cause: ``timeout``, ``connection``."""

    def add_status(self, status: int, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def add_failure(self, cause: str) -> None:
        self.failures[cause] = self.failures.get(cause, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {"latencies": self.latencies, "statuses": {str(k): v for k, v in self.statuses.items()}, "failures": self.failures}


class _Closed(Exception):
    """The server closed the connection (or it must be reopened)."""


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bool]:
    """Send ``request``, read the whole answer: (status, whether the server keeps the connection open)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEAD_BYTES:
        raise _Closed("answer head too large")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise _Closed(f"not an HTTP answer: {lines[0][:80]!r}")
    status = int(parts[1])
    length, keep_alive = 0, parts[0] == "HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            keep_alive = value.strip().lower() != "close"
    if length:
        await reader.readexactly(length)
    return status, keep_alive


async def _connection(
    host: str, port: int, requests: list[tuple[str, bytes]], start: int, deadline: float, timeout: float,
    outcomes: dict[str, Outcome],
) -> None:  # fmt: skip
    index = start
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        while time.monotonic() < deadline:
            name, request = requests[index % len(requests)]
            index += 1
            outcome = outcomes[name]
            try:
                if connection is None:
                    connection = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
                started = time.perf_counter()
                status, keep_alive = await asyncio.wait_for(_exchange(*connection, request), timeout)
                outcome.add_status(status, time.perf_counter() - started)
                if not keep_alive:
                    raise _Closed("Connection: close")
            except TimeoutError:
                outcome.add_failure("timeout")
                _close(connection)
                connection = None
            except _Closed:
                _close(connection)
                connection = None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                outcome.add_failure("connection")
                _close(connection)
                connection = None
    finally:
        _close(connection)


def _close(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    """Close the connection, if open; the caller's next request opens a new one."""
    if connection is not None:
        connection[1].close()


def request_bytes(target: str, host: str, port: int, authorization: str) -> bytes:
    return (f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {authorization}\r\n"
            f"User-Agent: devtools-load\r\nAccept: application/json\r\n\r\n").encode("latin-1")  # fmt: skip


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    host, port = plan["host"], int(plan["port"])
    requests = [(item["name"], request_bytes(item["target"], host, port, plan["authorization"])) for item in plan["requests"]]
    outcomes = {item["name"]: Outcome() for item in plan["requests"]}
    connections = int(plan["connections"])
    cpu_started, started = time.process_time(), time.monotonic()
    deadline = started + float(plan["seconds"])
    await asyncio.gather(
        *[
            _connection(host, port, requests, number * len(requests) // connections, deadline, float(plan["timeout_s"]), outcomes)
            for number in range(connections)
        ]
    )
    wall = time.monotonic() - started
    return {
        "seconds": wall,
        "cpu_seconds": time.process_time() - cpu_started,
        "connections": connections,
        "outcomes": {name: outcome.to_dict() for name, outcome in outcomes.items()},
    }


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m devtools.load.generator PLAN.json > RESULT.json", file=sys.stderr)
        return 2
    plan = json.loads(Path(arguments[0]).read_text(encoding="utf-8"))
    result = asyncio.run(run(plan))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
