"""``make run``: the whole API on this machine, until Ctrl-C.

    python -m devtools.run [--catalog PATH] [--port 3000] [--dynamodb-port 8000] [--identity-port 9229]

Starts DynamoDB Local (data kept in ``.local/dynamodb``), creates the ``catalog`` table from the
template if it is missing, starts the local Cognito (moto), fills the table (``--catalog PATH``:
the table is recreated and that file imported; otherwise, if the table is empty, the sample
catalog), hands the table's stream to the counter function until the counters are exact, then
serves the API on http://127.0.0.1:3000 (and its Swagger UI on /docs) and prints a token and a
curl line to try it. While it runs, the stream keeps being handed to the counter function
(``devtools.streams``), so counts follow whatever writes the table.

The demo user's ``sub`` is the first owner id of the imported catalog, so ``ownerIds=me`` finds
songs. While it runs, ``.local/run.pid`` and ``.local/stack.json`` tell other commands
(``make token``) where everything is. Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path
from types import FrameType
from typing import Any

from devtools import table
from devtools.authorizer import CognitoAuthorizer
from devtools.dynamodb_local import REGION, DynamoDBLocal, DynamoDBLocalError, is_listening
from devtools.gateway import TABLE_NAME, load_api, make_gateway
from devtools.identity import (
    Credentials,
    IdentityError,
    IdentityProvider,
    UserPool,
    create_user_pool,
    ensure_user,
    sign_in,
)
from devtools.streams import StreamFeedError, local_counter_feeder

log = logging.getLogger("devtools.run")

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_ROOT / ".local"
PID_FILE = STATE_DIR / "run.pid"
STACK_FILE = STATE_DIR / "stack.json"
IMPORTED_FILE = STATE_DIR / "imported-catalog.json"  # which catalog the persistent table holds
SAMPLE_CATALOG = STATE_DIR / "sample-catalog.jsonl"
STREAM_POSITIONS = STATE_DIR / "stream-positions.json"  # how far the counter function has read the stream
DEMO_USERNAME = "demo"
FALLBACK_DEMO_SUB = "00000000-0000-4000-8000-000000000001"  # when no catalog names an owner


class AlreadyRunning(RuntimeError):
    pass


class ImportFailed(RuntimeError):
    pass


class _Stop(BaseException):
    """Raised by the SIGTERM/SIGHUP handler, to leave through the same clean-up as Ctrl-C."""


# --- the state file other commands read ----------------------------------------------------------


@dataclass(frozen=True)
class StackInfo:
    """What ``.local/stack.json`` holds while ``make run`` runs."""

    pid: int
    api_url: str
    dynamodb_endpoint_url: str
    table: str
    user_pool: dict[str, str]  # UserPool.to_dict(): endpoint, ids, issuer, JWKS URL
    demo_user: dict[str, str]  # username, password, sub

    def save(self, path: Path = STACK_FILE) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path = STACK_FILE) -> StackInfo:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    @property
    def pool(self) -> UserPool:
        return UserPool.from_dict(self.user_pool)

    @property
    def demo_credentials(self) -> Credentials:
        return Credentials(**self.demo_user)


def running_pid(pid_file: Path = PID_FILE) -> int | None:
    """The pid of the ``make run`` recorded in ``pid_file``, if that process is still alive."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, someone else's
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"devtools.run" not in cmdline.read_bytes():
        return None  # the pid was reused by an unrelated process
    return pid


# --- start-up steps ------------------------------------------------------------------------------


def _claim_pid_file() -> None:
    pid = running_pid()
    if pid is not None:
        raise AlreadyRunning(f"a local stack is already running (pid {pid}): stop it with Ctrl-C in its terminal")
    PID_FILE.unlink(missing_ok=True)
    try:
        descriptor = os.open(PID_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # another `make run` got there between the check and here
        raise AlreadyRunning("a local stack is starting in another terminal") from None
    with os.fdopen(descriptor, "w") as stream:
        stream.write(f"{os.getpid()}\n")


def _check_ports(ports: dict[str, int]) -> None:
    for what, port in ports.items():
        if is_listening(port):
            pid = running_pid()
            if pid is not None and pid != os.getpid():
                raise AlreadyRunning(f"a local stack is already running (pid {pid}): stop it with Ctrl-C in its terminal")
            raise AlreadyRunning(
                f"port {port} ({what}) is already in use: a local stack is already running, or another program "
                f"holds it. Stop it (Ctrl-C in the terminal of `make run`), or choose another port (--help)."
            )


def _child_environment(layer_paths: tuple[Path, ...]) -> dict[str, str]:
    """For the importer and the sample generator: the layer importable, dummy AWS credentials."""
    environment = dict(os.environ)
    python_path = [str(REPO_ROOT), *map(str, layer_paths)]
    if environment.get("PYTHONPATH"):
        python_path.append(environment["PYTHONPATH"])
    environment.update(
        PYTHONPATH=os.pathsep.join(python_path),
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION=REGION,
    )
    environment.pop("AWS_SESSION_TOKEN", None)
    environment.pop("AWS_PROFILE", None)
    return environment


def _run_module(module: str, arguments: list[str], environment: dict[str, str]) -> int:
    if find_spec(module) is None:
        log.warning("%s does not exist yet: skipped", module)
        return -1
    log.info("running python -m %s %s", module, " ".join(arguments))
    return subprocess.run([sys.executable, "-m", module, *arguments], cwd=REPO_ROOT, env=environment).returncode


def _table_is_empty(client: Any, table_name: str) -> bool:
    return client.scan(TableName=table_name, Limit=1, Select="COUNT")["Count"] == 0


def _matches_template(client: Any, table_name: str) -> bool:
    """Whether the table's keys, indexes and stream are those template.yaml defines now."""

    def shape(definition: dict) -> tuple:
        stream = definition.get("StreamSpecification") or {}
        indexes = {
            index["IndexName"]: (
                tuple((key["AttributeName"], key["KeyType"]) for key in index["KeySchema"]),
                index["Projection"]["ProjectionType"],
                frozenset(index["Projection"].get("NonKeyAttributes", ())),
            )
            for index in definition.get("GlobalSecondaryIndexes", [])
        }
        keys = tuple((key["AttributeName"], key["KeyType"]) for key in definition["KeySchema"])
        return keys, indexes, stream.get("StreamEnabled", False) and stream.get("StreamViewType")

    described = client.describe_table(TableName=table_name)["Table"]
    return shape(described) == shape(table.table_definition(table_name))


def _recreate_table(client: Any, table_name: str) -> None:
    try:
        client.delete_table(TableName=table_name)
        client.get_waiter("table_not_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        log.info("table %s deleted", table_name)
    except client.exceptions.ResourceNotFoundException:
        pass
    table.create_table(client, table_name)
    log.info("table %s created from the template", table_name)


def _record_import(catalog: Path, *, complete: bool) -> None:
    IMPORTED_FILE.write_text(json.dumps({"catalog": str(catalog), "complete": complete}) + "\n", encoding="utf-8")


def _last_import() -> tuple[Path, bool] | None:
    """The catalog last imported into the persistent table, and whether that import finished."""
    try:
        record = json.loads(IMPORTED_FILE.read_text(encoding="utf-8"))
        return Path(record["catalog"]), bool(record.get("complete", True))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _import(catalog: Path, endpoint_url: str, environment: dict[str, str]) -> None:
    _record_import(catalog, complete=False)  # stays so if the import is interrupted: the next start redoes it
    status = _run_module(
        "devtools.importer",
        ["--table", TABLE_NAME, "--endpoint-url", endpoint_url, "--region", REGION, str(catalog)],
        environment,
    )
    if status == 2:
        log.warning("the importer rejected some lines of %s (see above); the others are imported", catalog)
    elif status > 0:
        raise ImportFailed(f"importing {catalog} failed (exit status {status}, its messages are above)")
    if status in (0, 2):
        _record_import(catalog, complete=True)


def _fill_table(client: Any, catalog: Path | None, endpoint_url: str, environment: dict[str, str]) -> Path | None:
    """Import what has to be imported; returns the catalog file the table now holds, if known."""
    if catalog is not None:
        _recreate_table(client, TABLE_NAME)
        _import(catalog, endpoint_url, environment)
        return catalog
    table.create_table(client, TABLE_NAME, exist_ok=True)
    if not _matches_template(client, TABLE_NAME):
        log.warning("the local table predates template.yaml's table definition: rebuilding it with a fresh sample")
        _recreate_table(client, TABLE_NAME)
        SAMPLE_CATALOG.unlink(missing_ok=True)
        IMPORTED_FILE.unlink(missing_ok=True)
    last = _last_import()
    if last is not None and not last[1] and last[0].exists():
        log.warning("the import of %s did not finish last time: importing it again", last[0])
        _import(last[0], endpoint_url, environment)  # the importer skips what is already there
        return last[0]
    if _table_is_empty(client, TABLE_NAME):
        if not SAMPLE_CATALOG.exists():
            partial = SAMPLE_CATALOG.with_suffix(".partial")
            if _run_module("devtools.sample_catalog", ["--out", str(partial)], environment) == 0:
                partial.replace(SAMPLE_CATALOG)
        if SAMPLE_CATALOG.exists():
            _import(SAMPLE_CATALOG, endpoint_url, environment)
            return SAMPLE_CATALOG
        log.warning("no sample catalog: the table stays empty")
        return None
    if last is not None:
        return last[0]
    return SAMPLE_CATALOG if SAMPLE_CATALOG.exists() else None


def first_owner_id(catalog: Path | None) -> str | None:
    """The id of the catalog's first owner (or, without owners, the first song's owner)."""
    if catalog is None or not catalog.exists():
        return None
    song_owner = None
    with catalog.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            if record.get("kind") == "owner" and record.get("id"):
                return str(record["id"])
            if record.get("kind") == "song" and record.get("ownerId") and song_owner is None:
                song_owner = str(record["ownerId"])
    return song_owner


# --- the orchestration ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    STATE_DIR.mkdir(exist_ok=True)
    _claim_pid_file()
    with ExitStack() as cleanup:
        cleanup.callback(PID_FILE.unlink, missing_ok=True)
        _check_ports({"gateway": args.port, "DynamoDB Local": args.dynamodb_port, "identity provider": args.identity_port})

        dynamodb = cleanup.enter_context(
            DynamoDBLocal(port=args.dynamodb_port, db_path=STATE_DIR / "dynamodb", log_path=STATE_DIR / "dynamodb-local.log")
        )
        identity = cleanup.enter_context(IdentityProvider(port=args.identity_port, log_path=STATE_DIR / "identity.log"))
        pool = create_user_pool(identity.endpoint_url)

        api = load_api(table_name=TABLE_NAME)
        environment = _child_environment(api.layer_paths)
        catalog = _fill_table(dynamodb.client(), args.catalog, dynamodb.endpoint_url, environment)

        demo = ensure_user(pool, first_owner_id(catalog) or FALLBACK_DEMO_SUB, username=DEMO_USERNAME)
        tokens = sign_in(pool, demo)
        authorizer = CognitoAuthorizer(issuer=pool.issuer, jwks_url=pool.jwks_url, client_ids={pool.client_id})
        gateway = make_gateway(authorizer=authorizer, dynamodb_endpoint_url=dynamodb.endpoint_url, port=args.port)
        cleanup.callback(gateway.server_close)
        feeder = local_counter_feeder(dynamodb, gateway.invoker, positions_path=STREAM_POSITIONS)
        log.info("counters: %d stream records handed to the counter function", feeder.drain())
        feeder.start()  # from now on counts follow the table's writes
        cleanup.callback(feeder.stop)

        StackInfo(
            pid=os.getpid(),
            api_url=gateway.url,
            dynamodb_endpoint_url=dynamodb.endpoint_url,
            table=TABLE_NAME,
            user_pool=pool.to_dict(),
            demo_user=asdict(demo),
        ).save()
        cleanup.callback(STACK_FILE.unlink, missing_ok=True)
        log.info("local stack ready in %.1f s", time.monotonic() - started)
        _print_banner(gateway.url, dynamodb.endpoint_url, pool, demo, tokens.access_token, catalog)
        try:
            gateway.serve_forever()
        except (KeyboardInterrupt, _Stop):
            log.info("stopping")


def _print_banner(api_url: str, dynamodb_url: str, pool: UserPool, demo: Credentials, token: str, catalog: Path | None) -> None:
    def shown(path: Path | None) -> str:
        if path is None:
            return "nothing imported"
        return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)

    print(
        f"""
Local stack running. Ctrl-C stops it.
  API             {api_url}   (routes from template.yaml, without the stage prefix)
  API docs        {api_url}/docs   (Swagger UI: "Authorize" with the token below, then "Try it out")
  DynamoDB Local  {dynamodb_url}   table "{TABLE_NAME}" ({shown(catalog)}; data in .local/dynamodb)
  Cognito (moto)  {pool.endpoint_url}   user pool {pool.user_pool_id}, app client {pool.client_id}
  Demo user       {demo.username} / {demo.password}   (sub {demo.sub})

Access token of the demo user (valid 1 hour; `make token` prints a new one, `make token USER=<uuid>` one for another sub):
{token}

Try:
  curl -H "Authorization: Bearer {token}" "{api_url}/v1/songs?limit=2"
  aws cognito-idp initiate-auth --endpoint-url {pool.endpoint_url} --region {pool.region} --client-id {pool.client_id} \\
      --auth-flow USER_PASSWORD_AUTH --auth-parameters USERNAME={demo.username},PASSWORD={demo.password}
""",
        flush=True,
    )


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, help="JSON Lines catalog to import (the table is recreated first)")
    parser.add_argument("--port", type=int, default=3000, help="gateway port (default 3000)")
    parser.add_argument("--dynamodb-port", type=int, default=8000, help="DynamoDB Local port (default 8000)")
    parser.add_argument("--identity-port", type=int, default=9229, help="local Cognito port (default 9229)")
    args = parser.parse_args(argv)
    if args.catalog is not None:
        args.catalog = args.catalog.resolve()
        if not args.catalog.is_file():
            parser.error(f"no such file: {args.catalog}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
    # SIGINT too: a shell that starts us in the background hands SIGINT down ignored.
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _raise_stop)
    try:
        run(args)
    except (AlreadyRunning, DynamoDBLocalError, IdentityError, ImportFailed, StreamFeedError) as error:
        # Everything started before the failing step is stopped by now.
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Stop):
        log.info("stopped while starting")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
