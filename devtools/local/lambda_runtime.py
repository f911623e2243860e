"""Calling a Lambda function's handler as the Lambda runtime does: its context and environment.

:class:`Invoker` calls handlers in this process, one at a time: the environment of a Lambda function
is process-wide here, so it is set for each call and restored after it. For concurrent calls, see
:mod:`devtools.local.execution_environments` (worker processes).

:func:`invoke_in_new_process` runs one invocation in a fresh interpreter, init included, as a cold
Lambda execution environment does (``make invoke``): :mod:`devtools.local.lambda_bootstrap` in
that process imports the handler from the function's code directory and the layer's, with an
environment of Lambda's variables and the function's own only.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from devtools import ACCOUNT_ID, REGION, REPO_ROOT
from devtools.local import lambda_bootstrap
from devtools.local.lambda_bootstrap import LambdaContext
from devtools.template.api import Function

log = logging.getLogger(__name__)

LAMBDA_PYTHON = REPO_ROOT / ".venv-lambda" / "bin" / "python"
"""A Python of boto3 alone, as the Lambda runtime has (``make invoke BUILT=1`` and the bench run a build in it)."""
INIT_LIMIT_S = 10
"""Lambda's limit on an on-demand execution environment's init (the handler module's import)."""


class Invokes(Protocol):
    """What calls a function's handler for the gateway: an :class:`Invoker`, the worker processes of
    :mod:`devtools.local.execution_environments`, or a test's recorder around either."""

    def invoke(self, function: Function, event: dict[str, Any]) -> Any: ...


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
            invoked_function_arn=_arn(function),
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


def _arn(function: Function) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.logical_id}"


@dataclass(frozen=True)
class Invocation:
    """What one invocation in a fresh process gave."""

    request_id: str
    result: Any  # the handler's answer (None when it failed)
    error: dict[str, Any] | None  # Lambda's error object: errorType, errorMessage, stackTrace
    logs: str  # what the function wrote to stdout and stderr, in order
    init_ms: float
    duration_ms: float  # the handler's call alone, as Lambda's REPORT line counts it
    max_memory_mb: int


def process_environment(function: Function, overrides: Mapping[str, str | None]) -> dict[str, str]:
    """What a Lambda execution environment holds: Lambda's own variables, the function's, then ``overrides``.

    Nothing of this shell's environment but ``PATH``: no ``PYTHONPATH``, no AWS profile or config files.
    """
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        "_HANDLER": function.entry_point,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **function.environment,
    }
    for name, value in overrides.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def invoke_in_new_process(
    function: Function,
    event: Any,
    overrides: Mapping[str, str | None],
    *,
    layer_dirs: Sequence[Path],
    python: Path | str = sys.executable,
) -> Invocation:
    """Init and one call of ``function``'s handler in a new ``python`` process, as a cold Lambda environment runs it.

    The interpreter runs isolated (``-I``: no ``PYTHON*`` variables, no user site), writes no byte
    code (``-B``: Lambda's code directories are read-only) and leaves its output unbuffered (``-u``,
    as the Lambda runtime does), so that the logs keep the order they were written in.

    ``layer_dirs`` go on ``sys.path`` after the function's code directory (``/opt/python`` on Lambda).
    ``overrides`` are set over the function's environment (``None``: unset). The process is stopped
    if it outlives Lambda's init limit plus the function's timeout (the handler's own timeout is
    kept by the bootstrap, which reports it as Lambda does).
    """
    request_id = str(uuid.uuid4())
    with tempfile.TemporaryDirectory(prefix="invoke-") as scratch:
        answer_path = Path(scratch) / "answer.json"
        request = {
            "code_dir": str(function.code_dir),
            "layer_dirs": [str(path) for path in layer_dirs],
            "handler": function.entry_point,
            "event": event,
            "function_name": function.logical_id,
            "memory_mb": function.memory_mb,
            "timeout_s": function.timeout_s,
            "function_arn": _arn(function),
            "request_id": request_id,
            "answer_path": str(answer_path),
        }
        done = subprocess.run(
            [str(python), "-I", "-B", "-u", lambda_bootstrap.__file__],
            input=json.dumps(request).encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=process_environment(function, overrides),
            cwd=function.code_dir,
            timeout=INIT_LIMIT_S + function.timeout_s + 5,
        )
        logs = done.stdout.decode("utf-8", errors="replace")
        if not answer_path.exists():
            error = {"errorType": "Runtime.ExitError", "requestId": request_id, "stackTrace": [],
                     "errorMessage": f"the runtime exited with status {done.returncode} before answering"}  # fmt: skip
            return Invocation(request_id, None, error, logs, 0.0, 0.0, 0)
        outcome = json.loads(answer_path.read_text(encoding="utf-8"))
    return Invocation(
        request_id=request_id,
        result=outcome.get("result"),
        error=outcome.get("error"),
        logs=logs,
        init_ms=outcome["init_ms"],
        duration_ms=outcome.get("duration_ms", 0.0),
        max_memory_mb=outcome["max_memory_mb"],
    )
