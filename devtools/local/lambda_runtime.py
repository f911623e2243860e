"""Calling a Lambda function's handler in this process, as the Lambda runtime does: its context and environment.

Handlers run one at a time: the environment of a Lambda function is process-wide here, so it is
set for each call and restored after it. For concurrent calls, see
:mod:`devtools.local.execution_environments` (worker processes).
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from devtools.template.api import ACCOUNT_ID, REGION, Function

log = logging.getLogger(__name__)


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers (and Powertools) read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_s: int
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_s - time.monotonic()) * 1000))


class Invoker:
    """Imports handlers by package path and calls them, one at a time, in their function's environment."""

    def __init__(self, base_environment: Mapping[str, str | None]) -> None:
        self.base_environment = dict(base_environment)
        self._lock = threading.Lock()

    def load(self, function: Function) -> None:
        """Import the function's handler module in its environment, ahead of its first call (its cold start)."""
        with self._lock, _environment({**function.environment, **self.base_environment}):
            importlib.import_module(function.module)

    def invoke(self, function: Function, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=function.logical_id,
            memory_limit_in_mb=function.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.logical_id}",
            aws_request_id=str(uuid.uuid4()),
            timeout_s=function.timeout_s,
        )
        with self._lock, _environment({**function.environment, **self.base_environment}):
            handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(function.module), function.handler)
            started = time.monotonic()
            result = handler(event, context)
        elapsed = time.monotonic() - started
        if elapsed > function.timeout_s:
            log.warning(
                "%s took %.1f s, more than its timeout (%d s): Lambda would have stopped it",
                function.logical_id,
                elapsed,
                function.timeout_s,
            )
        return result


@contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (``None``: unset) environment variables, and put back what was there before."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        _set(values)
        yield
    finally:
        _set(saved)


def _set(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def local_environment(dynamodb_endpoint_url: str) -> dict[str, str | None]:
    """What every function gets on top of its template environment, locally."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_SAM_LOCAL": "true",  # what `sam local` sets: Powertools' Tracer stays off
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        # EMF metric lines are for CloudWatch; locally the per-request `read cost` log line carries
        # the same figures, and the console (and the bench's stdout report) stays readable.
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
