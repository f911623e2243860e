"""What a running ``make run`` leaves in its state directory (``.local``) for other commands (``make token``).

run.pid      the pid of the ``make run`` that holds the directory (one at a time)
stack.json   where each piece listens, the user pool, the demo user, and how the start went
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devtools import REPO_ROOT
from devtools.local.identity import Credentials, UserPool

STATE_DIR = REPO_ROOT / ".local"


class AlreadyRunning(RuntimeError):
    pass


class NoStack(RuntimeError):
    """No local stack for a command that needs one (``make token``, ``make invoke``)."""


@dataclass(frozen=True)
class StackInfo:
    """What ``stack.json`` holds while ``make run`` runs."""

    pid: int
    api_url: str
    dynamodb_endpoint_url: str
    table: str
    user_pool: dict[str, str]  # UserPool.to_dict(): endpoint, ids, issuer, JWKS URL
    demo_user: dict[str, str]  # username, password, sub
    startup: dict[str, Any] = field(default_factory=dict)
    """How long the start took and what it did (``devtools.bench.startup`` reads it)."""

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> StackInfo:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    @property
    def pool(self) -> UserPool:
        return UserPool.from_dict(self.user_pool)

    @property
    def demo_credentials(self) -> Credentials:
        return Credentials(**self.demo_user)


@dataclass(frozen=True)
class RunState:
    """The state directory of one ``make run``."""

    root: Path = STATE_DIR

    @property
    def pid_file(self) -> Path:
        return self.root / "run.pid"

    @property
    def stack_file(self) -> Path:
        return self.root / "stack.json"

    def running_pid(self) -> int | None:
        """The pid of the ``make run`` recorded in the pid file, if that process is still alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid  # alive, someone else's
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"devtools.cli.run" not in cmdline.read_bytes():
            return None  # the pid was reused by an unrelated process
        return pid

    def claim(self) -> None:
        """Record this process as the directory's ``make run``, unless another one is alive."""
        self.root.mkdir(parents=True, exist_ok=True)
        pid = self.running_pid()
        if pid is not None:
            raise AlreadyRunning(f"a local stack is already running (pid {pid}): stop it with Ctrl-C in its terminal")
        self.pid_file.unlink(missing_ok=True)
        try:
            descriptor = os.open(self.pid_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:  # another `make run` got there between the check and here
            raise AlreadyRunning("a local stack is starting in another terminal") from None
        with os.fdopen(descriptor, "w") as stream:
            stream.write(f"{os.getpid()}\n")

    def running_stack(self) -> StackInfo | None:
        """The running stack's ``stack.json``, if a ``make run`` is running and ready."""
        if not self.stack_file.exists() or self.running_pid() is None:
            return None
        return StackInfo.load(self.stack_file)


def current_stack(stack_file: Path | None = None) -> StackInfo:
    """The stack ``stack_file`` describes, else the running ``make run``'s; ``NoStack`` when there is none."""
    if stack_file is None:
        stack = RunState().running_stack()
        if stack is None:
            raise NoStack("no local stack is running: start one with `make run` (in another terminal)")
        return stack
    try:
        return StackInfo.load(stack_file)
    except (OSError, ValueError, TypeError) as error:
        raise NoStack(f"cannot read the stack file {stack_file}: {error}") from None
