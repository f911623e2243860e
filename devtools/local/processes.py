"""Child processes of the local stack (DynamoDB Local, the identity provider): their logs and their end."""

import logging
import subprocess
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import IO, Self

log = logging.getLogger(__name__)


def stop(process: subprocess.Popen, name: str, timeout: float) -> None:
    """Terminate a child process; kill it if it has not ended ``timeout`` seconds later."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("%s (pid %d) ignored SIGTERM for %.0f s: killing it", name, process.pid, timeout)
        process.kill()
        process.wait()
    log.info("%s stopped", name)


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a child's log, for an error message."""
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            return "".join(deque(stream, maxlen=lines)).rstrip() or "(empty)"
    except OSError as error:
        return f"(cannot read it: {error})"


class ChildProcess:
    """A child process with a log file, stopped by ``stop()`` or on leaving a ``with`` block.

    Subclasses start it (setting ``_process`` and ``_log_stream``) in ``start()``, which returns self.
    """

    name = "child process"
    stop_timeout = 10.0

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._log_stream: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        """Terminate it (kill it if it lingers) and close its streams. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            stop(process, self.name, self.stop_timeout)
            if process.stdout is not None:
                process.stdout.close()
        if self._log_stream is not None:
            self._log_stream.close()
            self._log_stream = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.stop()
