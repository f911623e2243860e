"""Concurrent Lambda execution environments for the local gateway: a pool of worker processes.

The gateway's own :class:`devtools.local.lambda_runtime.Invoker` runs handlers in the gateway's process, one at
a time (a function's environment variables are process-wide), which is Lambda with a concurrency
of one. ``ExecutionEnvironments`` is the same ``invoke(function, event)`` over ``count`` worker
processes, each running one invocation at a time in its own interpreter, as Lambda runs
concurrent requests in separate execution environments. A free worker takes the next invocation,
so requests spread over the workers whatever connection they came on.

Each worker imports every function's handler when it starts (in that function's environment), so
the first requests do not pay the imports: what a warm environment answers is what is measured.
Unlike Lambda, one worker serves every function. The workers' standard output (the functions'
structured logs) goes to ``log_path`` when given.

    environments = ExecutionEnvironments(functions, base_environment, count=2, log_path=...)
    gateway.invoker = environments
    ...
    environments.close()
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from devtools.local.lambda_runtime import Invoker
from devtools.template.api import Function

_invoker: Invoker | None = None  # in each worker: the worker's own invoker
_all_started: Any = None  # in each worker: the barrier that ``_ready`` waits on
READY_TIMEOUT_S = 120.0


def _start_worker(
    paths: list[str], base_environment: dict[str, str | None], functions: list[Function], log_path: str | None, all_started: Any
) -> None:
    global _invoker, _all_started
    _all_started = all_started
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C stops the gateway, which then stops its workers
    if log_path is not None:
        descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(descriptor, 1)
        os.close(descriptor)
    for path in reversed(paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    _invoker = Invoker(base_environment)
    for function in functions:
        _invoker.load(function)


def _invoke(function: Function, event: dict[str, Any]) -> Any:
    assert _invoker is not None, "not in a worker started by ExecutionEnvironments"
    return _invoker.invoke(function, event)


def _ready() -> int:
    """Returns once every worker runs one of these: each worker's pid, once."""
    _all_started.wait(READY_TIMEOUT_S)
    return os.getpid()


class ExecutionEnvironments:
    def __init__(
        self,
        functions: Iterable[Function],
        base_environment: Mapping[str, str | None],
        *,
        count: int,
        paths: Iterable[Path | str] = (),
        log_path: Path | None = None,
    ) -> None:
        """``paths``: where the functions' and the layer's code is (put first on each worker's ``sys.path``)."""
        if count < 1:
            raise ValueError("at least one execution environment is needed")
        self.count = count
        distinct = list({function.logical_id: function for function in functions}.values())
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=context,
            initializer=_start_worker,
            initargs=([str(path) for path in paths], dict(base_environment), distinct,
                      str(log_path) if log_path is not None else None, context.Barrier(count)),
        )  # fmt: skip
        # A pool starts its workers on demand; ``count`` tasks that each wait for all the others start them all now.
        self.pids = {future.result() for future in [self._pool.submit(_ready) for _ in range(count)]}

    def invoke(self, function: Function, event: dict[str, Any]) -> Any:
        return self._pool.submit(_invoke, function, event).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
