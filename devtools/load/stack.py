"""The stack a load run measures: ``make run``'s pieces on free ports, a generated catalog, a token.

DynamoDB Local in memory, filled with a generated catalog (``devtools.sample_catalog``, the sample
of ``make run`` by default) through the bench's fast loader; the local Cognito (moto) with the
demo user, whose ``sub`` is the catalog's first owner; the local gateway in this process, its
functions run by ``ExecutionEnvironments`` (worker processes) when ``environments > 0``, else by
the gateway's own one-at-a-time invoker.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.authorizer import CognitoAuthorizer
from devtools.bench import loader
from devtools.dynamodb_local import DynamoDBLocal
from devtools.execution_environments import ExecutionEnvironments
from devtools.gateway import REPO_ROOT, TABLE_NAME, LocalApiGateway, make_gateway
from devtools.identity import IdentityProvider, create_user_pool, ensure_user, sign_in
from devtools.run import DEMO_USERNAME

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stack:
    gateway: LocalApiGateway
    token: str
    catalog: loader.Catalog
    loaded_items: int
    pids: dict[str, set[int]]
    """Processes doing the work, by role: ``gateway``, ``functions``, ``DynamoDB Local``."""

    @property
    def url(self) -> str:
        return self.gateway.url


@contextmanager
def local_stack(catalog: loader.Catalog, *, environments: int, logs: Path) -> Iterator[Stack]:
    """The whole stack, serving until the ``with`` block ends; then everything is stopped."""
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "load-functions.log").write_bytes(b"")  # this run's function logs only (a few MB a minute of load)
    with ExitStack() as cleanup:
        dynamodb = cleanup.enter_context(DynamoDBLocal(log_path=logs / "load-dynamodb-local.log"))
        client = dynamodb.client()
        loader.create_catalog_table(client, TABLE_NAME)
        report = loader.write_all(client, TABLE_NAME, loader.catalog_items(catalog))
        log.info("catalog loaded: %d items in %.0f s", report.items, report.seconds)

        identity = cleanup.enter_context(IdentityProvider(log_path=logs / "load-identity.log"))
        pool = create_user_pool(identity.endpoint_url)
        demo = ensure_user(pool, next(iter(catalog.owners)), username=DEMO_USERNAME)
        token = sign_in(pool, demo).access_token

        authorizer = CognitoAuthorizer(issuer=pool.issuer, jwks_url=pool.jwks_url, client_ids={pool.client_id})
        gateway = make_gateway(authorizer=authorizer, dynamodb_endpoint_url=dynamodb.endpoint_url, port=0)
        cleanup.callback(gateway.server_close)
        pids = {"gateway": {os.getpid()}, "DynamoDB Local": {dynamodb.pid} if dynamodb.pid else set()}
        if environments > 0:
            functions = {route.function.logical_id: route.function for route in gateway.api.routes}
            pool_of_workers = ExecutionEnvironments(
                functions.values(), gateway.invoker.base_environment, count=environments,
                paths=(REPO_ROOT, *gateway.api.layer_paths), log_path=logs / "load-functions.log",
            )  # fmt: skip
            cleanup.callback(pool_of_workers.close)
            gateway.invoker = pool_of_workers
            pids["functions"] = set(pool_of_workers.pids)
            log.info("%d execution environments (worker processes %s)", environments, sorted(pool_of_workers.pids))
        threading.Thread(target=gateway.serve_forever, name="local-gateway", daemon=True).start()
        cleanup.callback(gateway.shutdown)
        yield Stack(gateway, token, catalog, report.items, pids)

