"""The Lambda runtime's part of one invocation, in a fresh interpreter: init, then one call of the handler.

Run as a script by :func:`devtools.local.lambda_runtime.invoke_in_new_process`, with ``python -I``
(no ``PYTHON*`` variables, no user site, not even this file's directory on ``sys.path``), so that it
imports only what Lambda would find: the function's code directory first (``/var/task`` on
Lambda), then the layer's (``/opt/python``), then what the interpreter itself holds (the dev
virtualenv, or for a build a virtualenv of boto3 alone, as the Lambda runtime ships). It needs the
standard library only, and nothing of ``devtools``.

It reads the request (JSON) on stdin: ``code_dir``, ``layer_dirs``, ``handler`` (the template's
``Handler``, ``app.lambda_handler``), ``event``, ``function_name``, ``memory_mb``, ``timeout_s``,
``function_arn``, ``request_id`` and ``answer_path``. What the function prints (its logs) goes to
stdout and stderr as on Lambda; the outcome goes to ``answer_path`` as JSON: ``result`` (the
handler's answer) or ``error`` (Lambda's error object), with ``init_ms``, ``duration_ms`` and
``max_memory_mb``. Lambda's own wording is kept for what it reports: ``Runtime.ImportModuleError``,
``Runtime.HandlerNotFound``, ``Runtime.MarshalError``, ``Task timed out after 10.00 seconds``.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any


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


class _TimedOut(BaseException):
    """Raised in the handler when the function's timeout has passed (not an ``Exception``: handlers catch those)."""


def _error(kind: str, message: str, request_id: str, error: BaseException | None = None) -> dict[str, Any]:
    """Lambda's error object; the stack trace starts in the function's code, as Lambda's does (not here)."""
    trace = traceback.format_tb(error.__traceback__.tb_next) if error is not None and error.__traceback__ else []
    return {"errorMessage": message, "errorType": kind, "requestId": request_id, "stackTrace": trace}


def _log_error(error: dict[str, Any]) -> None:
    """The ``[ERROR]`` line (and the traceback) the Python runtime writes to the function's log."""
    print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", file=sys.stderr)
    if error["stackTrace"]:
        print("Traceback (most recent call last):\n" + "".join(error["stackTrace"]).rstrip(), file=sys.stderr)


def invoke(request: dict[str, Any]) -> dict[str, Any]:
    """Init (import the handler's module) and one call of the handler; the outcome and its timings."""
    request_id = request["request_id"]
    sys.path[0:0] = [request["code_dir"], *request["layer_dirs"]]
    os.chdir(request["code_dir"])
    module_name, _, handler_name = request["handler"].rpartition(".")
    init_started = time.monotonic()
    outcome: dict[str, Any] = {}
    try:
        handler = getattr(importlib.import_module(module_name), handler_name)
    except AttributeError:
        outcome["error"] = _error(
            "Runtime.HandlerNotFound", f"Handler '{handler_name}' missing on module '{module_name}'", request_id
        )
    except ImportError as error:  # a module missing from the code or the layer
        outcome["error"] = _error(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}", request_id, error
        )
    except SyntaxError as error:
        outcome["error"] = _error(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}", request_id, error
        )
    except Exception as error:  # raised by the module's own code while it was imported
        outcome["error"] = _error(type(error).__name__, str(error), request_id, error)
    outcome["init_ms"] = (time.monotonic() - init_started) * 1000
    if "error" not in outcome:
        outcome.update(_call(handler, request))
    if "error" in outcome:
        _log_error(outcome["error"])
    outcome["max_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KiB on Linux
    return outcome


def _call(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(
        function_name=request["function_name"],
        memory_limit_in_mb=request["memory_mb"],
        invoked_function_arn=request["function_arn"],
        aws_request_id=request["request_id"],
        timeout_s=request["timeout_s"],
    )

    def time_out(signum: int, frame: Any) -> None:
        raise _TimedOut

    signal.signal(signal.SIGALRM, time_out)
    signal.setitimer(signal.ITIMER_REAL, request["timeout_s"])
    request_id = request["request_id"]
    started = time.monotonic()
    try:
        try:
            result = handler(request["event"], context)
        except Exception as error:  # the function's own failure: Lambda answers its error object
            answer: dict[str, Any] = {"error": _error(type(error).__name__, str(error), request_id, error)}
        else:
            try:
                answer = {"result": json.loads(json.dumps(result))}
            except (TypeError, ValueError) as error:
                answer = {"error": _error("Runtime.MarshalError", f"Unable to marshal response: {error}", request_id)}
    except _TimedOut:
        message = f"Task timed out after {time.monotonic() - started:.2f} seconds"
        answer = {"error": _error("Sandbox.Timedout", message, request_id)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    answer["duration_ms"] = (time.monotonic() - started) * 1000
    return answer


def main() -> int:
    request = json.load(sys.stdin)
    outcome = invoke(request)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(request["answer_path"], "w", encoding="utf-8") as answer:
        json.dump(outcome, answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
