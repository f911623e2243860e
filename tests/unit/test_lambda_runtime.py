"""One invocation in a fresh interpreter (``invoke_in_new_process``), as a cold Lambda environment runs it.

Each test writes a small function (``app.py``) and a layer into a temporary directory and runs it:
what the handler sees (its context, environment, path and working directory), and what Lambda
reports when it fails, times out or answers something that is not JSON.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from devtools.local.lambda_runtime import invoke_in_new_process
from devtools.template.api import Function

PROBE = """\
import json, os, sys
import shared  # from the layer

def handler(event, context):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    return {
        "event": event,
        "shared": shared.VALUE,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "first_on_path": sys.path[:2],
        "cwd": os.getcwd(),
        "environment": dict(os.environ),
    }
"""


def function(code_dir: Path, source: str, *, timeout_s: int = 3, entry_point: str = "app.handler") -> Function:
    code_dir.mkdir(parents=True, exist_ok=True)
    (code_dir / "app.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return Function(
        logical_id="ProbeFunction", module="app", handler=entry_point.rpartition(".")[2],
        environment={"FROM_TEMPLATE": "template value", "OVERRIDDEN": "template"},
        memory_mb=256, timeout_s=timeout_s, code_dir=code_dir, entry_point=entry_point,
    )  # fmt: skip


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    directory = tmp_path / "layer"
    directory.mkdir()
    (directory / "shared.py").write_text("VALUE = 'from the layer'\n", encoding="utf-8")
    return directory


def test_the_handler_gets_its_event_context_environment_and_paths(
    tmp_path: Path, layer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("A_SHELL_VARIABLE", "of the developer's shell")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    probe = function(tmp_path / "code", PROBE)
    invocation = invoke_in_new_process(probe, {"ask": 1}, {"OVERRIDDEN": "local", "AWS_PROFILE": None}, layer_dirs=[layer])
    assert invocation.error is None, invocation.logs
    seen = invocation.result
    assert seen["event"] == {"ask": 1} and seen["shared"] == "from the layer"
    assert (seen["function_name"], seen["memory"], seen["request_id"]) == ("ProbeFunction", 256, invocation.request_id)
    assert seen["arn"].endswith(":function:ProbeFunction")
    assert 0 < seen["remaining_ms"] <= 3000
    assert seen["first_on_path"] == [str(tmp_path / "code"), str(layer)]
    assert seen["cwd"] == str(tmp_path / "code")
    environment = seen["environment"]
    assert environment["FROM_TEMPLATE"] == "template value" and environment["OVERRIDDEN"] == "local"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "ProbeFunction" and environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environment["_HANDLER"] == "app.handler" and environment["LAMBDA_TASK_ROOT"] == str(tmp_path / "code")
    assert not {"A_SHELL_VARIABLE", "PYTHONPATH", "AWS_PROFILE"} & environment.keys()
    assert invocation.logs.splitlines() == ["to stdout", "to stderr"]
    assert invocation.init_ms > 0 and invocation.duration_ms > 0 and invocation.max_memory_mb > 0


def test_a_handler_that_outlives_its_timeout_is_stopped_and_reported_as_lambda_does(tmp_path: Path) -> None:
    slow = function(tmp_path, "import time\ndef handler(event, context):\n    time.sleep(30)\n", timeout_s=1)
    started = time.monotonic()
    invocation = invoke_in_new_process(slow, {}, {}, layer_dirs=[])
    assert time.monotonic() - started < 10
    assert invocation.error is not None and invocation.error["errorType"] == "Sandbox.Timedout"
    assert invocation.error["errorMessage"].startswith("Task timed out after 1.0")
    assert 1000 <= invocation.duration_ms < 3000


def test_a_failing_handler_answers_lambdas_error_object_and_logs_its_traceback(tmp_path: Path) -> None:
    failing = function(tmp_path, "def handler(event, context):\n    raise ValueError('no such thing')\n")
    invocation = invoke_in_new_process(failing, {}, {}, layer_dirs=[])
    assert invocation.result is None and invocation.error is not None
    assert (invocation.error["errorType"], invocation.error["errorMessage"]) == ("ValueError", "no such thing")
    assert invocation.error["requestId"] == invocation.request_id
    assert "app.py" in invocation.error["stackTrace"][0]  # the trace starts in the function, not in the runtime
    assert invocation.logs.startswith("[ERROR] ValueError: no such thing\nTraceback (most recent call last):\n")


@pytest.mark.parametrize(
    ("source", "entry_point", "error_type", "message"),
    [
        ("import not_installed_anywhere\n", "app.handler", "Runtime.ImportModuleError",
         "Unable to import module 'app': No module named 'not_installed_anywhere'"),
        ("def other(event, context):\n    return 1\n", "app.handler", "Runtime.HandlerNotFound",
         "Handler 'handler' missing on module 'app'"),
        ("def handler(event, context):\n    return {1, 2}\n", "app.handler", "Runtime.MarshalError",
         "Unable to marshal response: Object of type set is not JSON serializable"),
    ],
    ids=["missing-module", "missing-handler", "answer-not-json"],
)  # fmt: skip
def test_what_the_runtime_itself_reports(tmp_path: Path, source: str, entry_point: str, error_type: str, message: str) -> None:
    invocation = invoke_in_new_process(function(tmp_path, source, entry_point=entry_point), {}, {}, layer_dirs=[])
    assert invocation.error is not None
    assert (invocation.error["errorType"], invocation.error["errorMessage"]) == (error_type, message)
    assert f"[ERROR] {error_type}: {message}" in invocation.logs
