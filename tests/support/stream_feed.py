"""The counter function in process: a test table's stream handed to its handler, as ``make run`` does.

``drain(client, name)`` hands every stream record not handled yet to
``functions.stream_counter.app.lambda_handler`` (with ``catalog.counting`` pointed at this table), so that
the table's counters are exact when it returns. One feeder per table keeps its place in the stream.
"""

from collections.abc import Callable
from typing import Any

import pytest

from catalog import counting
from devtools.local.lambda_runtime import LambdaContext
from devtools.local.streams import StreamFeeder, batch_size, filter_patterns, streams_client
from devtools.template.table import counters_table_name
from functions.stream_counter import app

_feeders: dict[str, StreamFeeder] = {}  # by table name: every test table's name is new


def deliver_to_handler(client: Any, name: str) -> Callable[[dict], dict]:
    """Calls the counter function's handler with an event, its counters on this table."""
    counters = counting.Counters(client, counters_table_name(name))

    def deliver(event: dict) -> dict:
        context = LambdaContext(
            "StreamCounterFunction", 512, "arn:aws:lambda:us-east-1:123456789012:function:StreamCounterFunction", "local", 60
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(counting, "default_counters", lambda: counters)
            return app.lambda_handler(event, context)

    return deliver


def feeder(client: Any, name: str) -> StreamFeeder:
    if name not in _feeders:
        _feeders[name] = StreamFeeder(
            client, streams_client(client), name, deliver_to_handler(client, name),
            batch_size=batch_size(), patterns=filter_patterns(),
        )  # fmt: skip
    return _feeders[name]


def drain(client: Any, name: str) -> int:
    """Apply the table's stream to its counters; returns how many stream records were handed over."""
    return feeder(client, name).drain()
