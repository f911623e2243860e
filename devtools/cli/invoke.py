"""``make invoke``: one function's handler called with an event file, as Lambda calls it, without Docker.

    python -m devtools.cli.invoke FUNCTION EVENT [--built [--build-dir DIR]] [--stack FILE]

``FUNCTION`` is a function's logical id in ``template.yaml`` (``ListFunction``, ``StreamCounterFunction``),
``EVENT`` a JSON file (``events/``). The handler runs in a new Python process, init included, with
the function's environment from the template (intrinsic functions resolved as the local gateway
resolves them), its code directory and the layer's on the path, and a Lambda context with the
template's timeout and memory size (:func:`devtools.local.lambda_runtime.invoke_in_new_process`).
It reads and writes the table of the running ``make run`` (``.local/stack.json``; ``--stack`` for
another stack's). It prints the answer (an API function's status, headers and body, the body
pretty-printed), then the function's log lines and Lambda's ``REPORT`` line (init and call
durations, memory).

``--built`` runs what ``sam build`` produced instead: the function and layer directories of the
build (``.aws-sam/build``, or ``.aws-sam/<arch>/build`` on a machine of another architecture than
the template's, see :mod:`devtools.template.build`), in a Python holding only boto3
(``.venv-lambda``), as the Lambda runtime does.

Exit status: 0 when the handler answered, 1 when it failed (its error is printed as Lambda reports
it), or when the function, the event, the build or the stack is missing (a one-line message).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from devtools import REPO_ROOT
from devtools.local.dynamodb_local import is_listening
from devtools.local.lambda_runtime import LAMBDA_PYTHON, Invocation, invoke_in_new_process, local_environment
from devtools.local.state import NoStack, StackInfo, current_stack
from devtools.template import build, table
from devtools.template.api import Function, function_ids, layer_paths, load_function


class CannotInvoke(RuntimeError):
    pass


def read_event(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CannotInvoke(f"no such event file: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CannotInvoke(f"cannot read the event file {path}: {error}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise CannotInvoke(f"the event file {path} is not JSON: {error}") from None


def _dynamodb_answers(stack: StackInfo) -> StackInfo:
    address = urlsplit(stack.dynamodb_endpoint_url)
    if not is_listening(address.port or 80, address.hostname or "127.0.0.1"):
        raise CannotInvoke(f"DynamoDB Local does not answer at {stack.dynamodb_endpoint_url}: is `make run` still running?")
    return stack


def invoke(logical_id: str, event: Any, stack: StackInfo, *, built: Path | None = None) -> tuple[Function, Invocation]:
    """``logical_id``'s handler called with ``event`` against ``stack``'s table: from the sources, or from
    the build whose template is ``built``."""
    template = built or table.TEMPLATE_PATH
    function = load_function(logical_id, template, table_name=stack.table)
    overrides = {**local_environment(stack.dynamodb_endpoint_url), "TABLE_NAME": stack.table}
    if built is None:
        return function, invoke_in_new_process(function, event, overrides, layer_dirs=layer_paths(template))
    if not LAMBDA_PYTHON.exists():
        raise CannotInvoke(f"no {LAMBDA_PYTHON.relative_to(REPO_ROOT)}: `make invoke BUILT=1` creates it")
    # sam build copies a layer's content under python/, as Lambda finds it in /opt/python.
    layers = [path / "python" for path in layer_paths(template)]
    return function, invoke_in_new_process(function, event, overrides, layer_dirs=layers, python=LAMBDA_PYTHON)


def report(invocation: Invocation, function: Function, out: TextIO) -> None:
    """The answer (an API answer as HTTP: status, headers, pretty body), the function's logs, the REPORT line."""
    answer = invocation.result
    if invocation.error is not None:  # its stack trace is in the logs, as Lambda writes it there
        out.write(f"error {invocation.error['errorType']}: {invocation.error['errorMessage']}\n")
    elif isinstance(answer, dict) and isinstance(answer.get("statusCode"), int):
        out.write(f"status {answer['statusCode']}\n")
        headers = {name: [str(value)] for name, value in (answer.get("headers") or {}).items()}
        headers.update(
            {name: [str(value) for value in values] for name, values in (answer.get("multiValueHeaders") or {}).items()}
        )
        for name, values in headers.items():
            out.writelines(f"{name}: {value}\n" for value in values)
        out.write(f"\n{_pretty(answer.get('body'), answer.get('isBase64Encoded'))}\n")
    else:
        out.write(f"answer: {json.dumps(answer, indent=2)}\n")
    out.write(f"\nlogs of {function.logical_id}:\n{invocation.logs}")
    if invocation.logs and not invocation.logs.endswith("\n"):
        out.write("\n")
    out.write(
        f"REPORT RequestId: {invocation.request_id}  Duration: {invocation.duration_ms:.2f} ms  "
        f"Init Duration: {invocation.init_ms:.2f} ms  Memory Size: {function.memory_mb} MB  "
        f"Max Memory Used: {invocation.max_memory_mb} MB  Timeout: {function.timeout_s} s\n"
    )


def _pretty(body: Any, base64_encoded: Any) -> str:
    if body is None or base64_encoded:
        return "" if body is None else f"(base64) {body}"
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.cli.invoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("function", metavar="FUNCTION", help="logical id of a function of template.yaml")
    parser.add_argument("event", metavar="EVENT", type=Path, help="JSON file of the event (events/)")
    parser.add_argument("--built", action="store_true", help="run what `sam build` produced, in a Python of boto3 alone")
    parser.add_argument("--build-dir", type=Path, help="with --built: the build directory (default .aws-sam/build)")
    parser.add_argument("--stack", type=Path, help="stack.json of the stack to run against (default: the running make run's)")
    args = parser.parse_args(argv)
    try:
        if not args.function:
            raise CannotInvoke("FUNCTION is empty: make invoke FUNCTION=<logical id> EVENT=<file>")
        if not str(args.event) or args.event == Path():
            raise CannotInvoke("EVENT is empty: make invoke FUNCTION=<logical id> EVENT=<file>")
        event = read_event(args.event)
        template = build.runnable_build(args.build_dir.resolve() if args.build_dir else None) if args.built else None
        if template is not None and build.sources_changed_since(template):
            print("note: the sources changed since this build (`make build` again to run them)", file=sys.stderr)
        known = function_ids(template or table.TEMPLATE_PATH)
        if args.function not in known:
            raise CannotInvoke(f"no function {args.function!r} in template.yaml (its functions: {', '.join(known)})")
        stack = _dynamodb_answers(current_stack(args.stack))
        function, invocation = invoke(args.function, event, stack, built=template)
    except (CannotInvoke, NoStack, build.NotRunnable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    report(invocation, function, sys.stdout)
    return 0 if invocation.error is None else 1


if __name__ == "__main__":
    sys.exit(main())
