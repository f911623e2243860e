"""The local stack, composed once: DynamoDB Local, the local Cognito, the authorizer, the gateway, the stream feeder.

Everyone who runs the API locally gets it from here: ``make run`` (``devtools.cli.run``), the load test
(``devtools.load``) and the end-to-end tests. A change to how the pieces fit is made here::

    with local_stack(logs=Path(".local")) as stack:     # every piece on a free port
        stack.serve_in_background()
        stack.counter_feeder().drain()                  # counters exact for what the table holds

A piece already running can be shared instead of started (``dynamodb=``, ``pool=``): a second
gateway in front of the same data, or the same user pool's tokens in front of other data. Pieces
the stack started are stopped when the ``with`` block ends; shared ones are left running.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devtools import REPO_ROOT, TABLE_NAME
from devtools.local.authorizer import CognitoAuthorizer
from devtools.local.dynamodb_local import DynamoDBLocal
from devtools.local.execution_environments import ExecutionEnvironments
from devtools.local.gateway import LocalApiGateway, make_gateway
from devtools.local.identity import IdentityProvider, UserPool, create_user_pool
from devtools.local.lambda_runtime import Invoker
from devtools.local.streams import StreamFeeder, local_counter_feeder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ports:
    """Where each piece listens; 0 (or ``None`` for DynamoDB Local) picks a free port."""

    gateway: int = 0
    dynamodb: int | None = None
    identity: int = 0


@dataclass
class LocalStack:
    dynamodb: DynamoDBLocal
    pool: UserPool
    gateway: LocalApiGateway
    invoker: Invoker
    """Runs the functions in this process, one call at a time: the gateway's until ``gateway.invoker``
    is replaced (worker processes, a recorder), and always the counter function's."""
    table_name: str
    _cleanup: ExitStack = field(repr=False)

    @property
    def url(self) -> str:
        return self.gateway.url

    def counter_feeder(self, *, positions_path: Path | None = None) -> StreamFeeder:
        """The table's stream handed to the counter function, as Lambda's event source mapping does."""
        return local_counter_feeder(self.dynamodb, self.invoker, table_name=self.table_name, positions_path=positions_path)

    def serve_in_background(self) -> None:
        """Serve HTTP from a thread until the stack stops (``make run`` serves in the foreground instead)."""
        threading.Thread(target=self.gateway.serve_forever, name="local-gateway", daemon=True).start()
        self._cleanup.callback(self.gateway.shutdown)


@contextmanager
def local_stack(
    *,
    logs: Path,
    ports: Ports = Ports(),
    data: Path | None = None,
    dynamodb: DynamoDBLocal | None = None,
    pool: UserPool | None = None,
    table_name: str = TABLE_NAME,
    environments: int = 0,
) -> Iterator[LocalStack]:
    """The stack until the ``with`` block ends.

    ``data``: the directory DynamoDB Local keeps its tables in (default: in memory). ``dynamodb``,
    ``pool``: running pieces to share instead of starting new ones. ``environments > 0``: the API's
    functions run in that many worker processes (concurrent requests, as concurrent Lambda execution
    environments), else in this process one at a time.
    """
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        if dynamodb is None:
            dynamodb = cleanup.enter_context(
                DynamoDBLocal(port=ports.dynamodb, db_path=data, log_path=logs / "dynamodb-local.log")
            )
        if pool is None:
            identity = cleanup.enter_context(IdentityProvider(port=ports.identity, log_path=logs / "identity.log"))
            pool = create_user_pool(identity.endpoint_url)
        authorizer = CognitoAuthorizer(issuer=pool.issuer, jwks_url=pool.jwks_url, client_ids={pool.client_id})
        gateway = make_gateway(
            authorizer=authorizer, dynamodb_endpoint_url=dynamodb.endpoint_url, table_name=table_name, port=ports.gateway
        )
        cleanup.callback(gateway.server_close)
        invoker = gateway.invoker
        if not isinstance(invoker, Invoker):  # make_gateway's, in this process: the stream's feeder calls through it
            raise TypeError(f"the gateway's invoker is a {type(invoker).__name__}, not an Invoker")
        if environments > 0:
            functions = {route.function.logical_id: route.function for route in gateway.api.routes}
            workers = ExecutionEnvironments(
                functions.values(), invoker.base_environment, count=environments,
                paths=(REPO_ROOT, *gateway.api.layer_paths), log_path=logs / "functions.log",
            )  # fmt: skip
            cleanup.callback(workers.close)
            gateway.invoker = workers
            log.info("%d execution environments (worker processes %s)", environments, sorted(workers.pids))
        yield LocalStack(dynamodb, pool, gateway, invoker, table_name, cleanup)
