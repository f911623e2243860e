"""Child processes of the local stack (DynamoDB Local, the identity provider): their logs and their end."""

import logging
import subprocess
from collections import deque
from pathlib import Path

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
