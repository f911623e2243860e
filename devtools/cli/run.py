"""``make run``: the whole API on this machine, until Ctrl-C.

    python -m devtools.cli.run [--catalog PATH] [--port 3000] [--dynamodb-port 8000] [--identity-port 9229] [--state-dir .local]

Starts the local stack (``devtools.local.stack``): DynamoDB Local, the local Cognito (moto) and
the gateway. The table is created from the template and filled: ``--catalog PATH`` imports that
file into a new, empty database; otherwise the database of the last start is used, or, on the
first start, the sample catalog is imported. The table's stream is then handed to the counter
function until the counters are exact, and the API is served on http://127.0.0.1:3000 (its Swagger
UI on /docs), with a token and a curl line printed to try it. While it runs, the stream keeps being
handed to the counter function (``devtools.local.streams``), so counts follow whatever writes the table.

DynamoDB Local works on a copy of the database in memory-backed storage, saved to
``.local/dynamodb`` once the stack is ready and when it stops (``devtools.local.local_data``). A
database whose table was written under another layout (``catalog.keys.LAYOUT``) or another table
definition of the template is not reused: the catalog is imported into a new one.

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
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

from devtools import REGION, REPO_ROOT, TABLE_NAME
from devtools.local.dynamodb_local import DynamoDBLocalError, is_listening
from devtools.local.identity import DEMO_USERNAME, Credentials, IdentityError, ensure_user, sign_in
from devtools.local.local_data import Imported, LocalData, reason_for_a_new_database, table_shape
from devtools.local.stack import LocalStack, Ports, local_stack
from devtools.local.state import STATE_DIR, AlreadyRunning, RunState, StackInfo
from devtools.local.streams import StreamFeedError
from devtools.template import table

log = logging.getLogger("devtools.cli.run")

FALLBACK_DEMO_SUB = "00000000-0000-4000-8000-000000000001"  # when no catalog names an owner
STREAM_POSITIONS = "stream-positions.json"
"""Beside the database: how far the counter function has read the table's stream."""


class ImportFailed(RuntimeError):
    pass


class _Stop(BaseException):
    """Raised by the SIGTERM/SIGHUP handler, to leave through the same clean-up as Ctrl-C."""


def _check_ports(ports: dict[str, int], state: RunState) -> None:
    for what, port in ports.items():
        if is_listening(port):
            pid = state.running_pid()
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
    log.info("running python -m %s %s", module, " ".join(arguments))
    return subprocess.run([sys.executable, "-m", module, *arguments], cwd=REPO_ROOT, env=environment).returncode


def _catalog_to_import(saved: Imported | None, catalog: Path | None, state: RunState, environment: dict[str, str]) -> Path:
    """The catalog a new database is filled with: the one asked for, an unfinished import's, or the sample."""
    if catalog is not None:
        return catalog
    if saved is not None and not saved.complete and Path(saved.catalog).is_file() and saved.shape == table_shape():
        return Path(saved.catalog)
    sample = state.root / "sample-catalog.jsonl"
    if not sample.exists():
        partial = sample.with_suffix(".partial")
        if _run_module("devtools.cli.sample_catalog", ["--out", str(partial)], environment) != 0:
            raise ImportFailed("generating the sample catalog failed (its messages are above)")
        partial.replace(sample)
    return sample


def _import(catalog: Path, endpoint_url: str, environment: dict[str, str], data: Path) -> None:
    Imported(str(catalog), complete=False, shape=table_shape()).save(data)  # stays so if the import is interrupted
    status = _run_module(
        "devtools.cli.import_catalog",
        ["--table", TABLE_NAME, "--endpoint-url", endpoint_url, "--region", REGION, str(catalog)],
        environment,
    )
    if status == 2:
        log.warning("the importer rejected some lines of %s (see above); the others are imported", catalog)
    elif status != 0:
        raise ImportFailed(f"importing {catalog} failed (exit status {status}, its messages are above)")
    Imported(str(catalog), complete=True, shape=table_shape()).save(data)


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


def run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    state = RunState(args.state_dir)
    state.claim()
    with ExitStack() as cleanup:
        cleanup.callback(state.pid_file.unlink, missing_ok=True)
        ports = Ports(gateway=args.port, dynamodb=args.dynamodb_port, identity=args.identity_port)
        _check_ports({"gateway": args.port, "DynamoDB Local": args.dynamodb_port, "identity provider": args.identity_port}, state)

        local_data = LocalData(state.root / "dynamodb")
        saved = Imported.load(local_data.saved)
        reason = reason_for_a_new_database(saved, args.catalog)
        if reason is not None:
            log.info("a new local database: %s", reason)
        data = local_data.open(fresh=reason is not None)
        cleanup.callback(local_data.close)
        ready = False

        def save_when_stopped() -> None:
            if ready:  # a start that failed half-way leaves the saved copy as it was
                local_data.save()

        cleanup.callback(save_when_stopped)  # runs once DynamoDB Local has stopped
        stack = cleanup.enter_context(local_stack(logs=state.root, ports=ports, data=data))
        client = stack.dynamodb.client()
        table.create_tables(client, TABLE_NAME, exist_ok=True)
        environment = _child_environment(stack.gateway.api.layer_paths)
        timings: dict[str, Any] = {"new_database": reason is not None}
        catalog: Path | None
        if reason is not None:
            catalog = _catalog_to_import(saved, args.catalog, state, environment)
            importing = time.monotonic()
            _import(catalog, stack.dynamodb.endpoint_url, environment, data)
            timings["import_s"] = time.monotonic() - importing
            timings["items"] = client.describe_table(TableName=TABLE_NAME)["Table"]["ItemCount"]
        else:
            catalog = Path(saved.catalog) if saved is not None else None

        demo = ensure_user(stack.pool, first_owner_id(catalog) or FALLBACK_DEMO_SUB, username=DEMO_USERNAME)
        tokens = sign_in(stack.pool, demo)
        feeder = stack.counter_feeder(positions_path=data / STREAM_POSITIONS)
        handing = time.monotonic()
        timings["stream_records"] = feeder.drain()
        timings["hand_over_s"] = time.monotonic() - handing
        log.info("counters: %d stream records handed to the counter function in %.1f s",
                 timings["stream_records"], timings["hand_over_s"])  # fmt: skip
        feeder.start()  # from now on counts follow the table's writes
        cleanup.callback(feeder.stop)
        if reason is not None or timings["stream_records"]:
            saving = time.monotonic()
            local_data.save()
            timings["save_s"] = time.monotonic() - saving
        ready = True
        timings["ready_s"] = time.monotonic() - started

        StackInfo(
            pid=os.getpid(),
            api_url=stack.url,
            dynamodb_endpoint_url=stack.dynamodb.endpoint_url,
            table=TABLE_NAME,
            user_pool=stack.pool.to_dict(),
            demo_user=asdict(demo),
            startup=timings,
        ).save(state.stack_file)
        cleanup.callback(state.stack_file.unlink, missing_ok=True)
        log.info("local stack ready in %.1f s", timings["ready_s"])
        _print_banner(stack, demo, tokens.access_token, catalog, local_data)
        try:
            stack.gateway.serve_forever()
        except (KeyboardInterrupt, _Stop):
            log.info("stopping")


def _print_banner(stack: LocalStack, demo: Credentials, token: str, catalog: Path | None, data: LocalData) -> None:
    def shown(path: Path | None) -> str:
        if path is None:
            return "nothing imported"
        return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)

    api_url, dynamodb_url, pool = stack.url, stack.dynamodb.endpoint_url, stack.pool

    print(
        f"""
Local stack running. Ctrl-C stops it.
  API             {api_url}   (routes from template.yaml, without the stage prefix)
  API docs        {api_url}/docs   (Swagger UI: "Authorize" with the token below, then "Try it out")
  DynamoDB Local  {dynamodb_url}   table "{TABLE_NAME}" ({shown(catalog)}; data saved in {shown(data.saved)})
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
    parser = argparse.ArgumentParser(prog="python -m devtools.cli.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, help="JSON Lines catalog to import, into a new local database")
    parser.add_argument("--port", type=int, default=3000, help="gateway port (default 3000)")
    parser.add_argument("--dynamodb-port", type=int, default=8000, help="DynamoDB Local port (default 8000)")
    parser.add_argument("--identity-port", type=int, default=9229, help="local Cognito port (default 9229)")
    parser.add_argument(
        "--state-dir", type=Path, default=STATE_DIR, help="where the local data, logs and run.pid are kept (default .local)"
    )
    args = parser.parse_args(argv)
    args.state_dir = args.state_dir.resolve()
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
