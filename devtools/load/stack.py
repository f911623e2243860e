"""The stack a load run measures: the local stack (``devtools.local.stack``), a generated catalog, a token.

DynamoDB Local in memory, filled with a generated catalog (``devtools.sample_catalog``, the sample
of ``make run`` by default) through the bench's fast loader; the local Cognito (moto) with the
demo user, whose ``sub`` is the catalog's first owner; the gateway serving from a thread of this
process, its functions run by worker processes when ``environments > 0``, else in this process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.bench import loader
from devtools.local.execution_environments import ExecutionEnvironments
from devtools.local.gateway import LocalApiGateway
from devtools.local.identity import DEMO_USERNAME, ensure_user, sign_in
from devtools.local.stack import local_stack

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
def load_stack(catalog: loader.Catalog, *, environments: int, logs: Path) -> Iterator[Stack]:
    """The whole stack with ``catalog`` loaded, serving until the ``with`` block ends; then everything is stopped.

    Its processes' logs go to ``logs`` (``functions.log``: this run's only, a few MB a minute of load).
    """
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "functions.log").write_bytes(b"")
    with local_stack(logs=logs, environments=environments) as stack:
        client = stack.dynamodb.client()
        report = loader.load_catalog(client, stack.table_name, catalog)
        log.info("catalog loaded: %d items in %.0f s", report.items, report.seconds)
        demo = ensure_user(stack.pool, next(iter(catalog.owners)), username=DEMO_USERNAME)
        token = sign_in(stack.pool, demo).access_token
        pids = {"gateway": {os.getpid()}, "DynamoDB Local": {stack.dynamodb.pid} if stack.dynamodb.pid else set()}
        if isinstance(stack.gateway.invoker, ExecutionEnvironments):
            pids["functions"] = set(stack.gateway.invoker.pids)
        stack.serve_in_background()
        yield Stack(stack.gateway, token, catalog, report.items, pids)
