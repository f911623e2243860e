"""Call the API in process, as the local gateway does, and keep what each request read and took.

Routes, handlers and the functions' environment come from ``template.yaml`` (``devtools.template.api``);
each request is a REST (v1) proxy event handed to the function's real ``lambda_handler``. The only
seam: ``catalog.operations.default_store`` is replaced (``serving``, or a test's monkeypatch of
``new_store``) by a factory of metered stores on a given client and table, so every request's
``ReadMeter`` is kept. Used by the benchmark and by the read-cost and contract tests.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from catalog import operations
from catalog.store import ReadMeter, Store
from devtools.local.gateway import Request, proxy_event
from devtools.local.lambda_runtime import Invoker
from devtools.template.api import load_api, table_environment
from devtools.template.table import counters_table_name

CALLER = "1a000000-0000-4000-8000-000000000001"
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    meter: ReadMeter
    seconds: float
    """Time spent in the handler (the Lambda function's own duration)."""

    @property
    def next_target(self) -> str | None:
        """Path and query of the ``Link: <...>; rel="next"`` header, if the answer has one."""
        match = _NEXT_LINK.search(self.headers.get("Link", ""))
        if not match:
            return None
        target = urlsplit(match.group(1))
        return f"{target.path}?{target.query}" if target.query else target.path


class InProcessApi:
    """The API's handlers on one table, one request at a time."""

    def __init__(self, client: Any, table: str, environment: Mapping[str, str | None] | None = None) -> None:
        """``environment``: set on top of each function's own from the template while it runs."""
        self._client, self._table = client, table
        self._api = load_api(table_name=table)
        self._invoker = Invoker({**(environment or {}), **table_environment(table)})
        self._stores: list[Store] = []

    def new_store(self) -> Store:
        """A metered store on this table, kept so that the request's meter can be read."""
        store = Store(self._client, self._table, counters_table_name(self._table))
        self._stores.append(store)
        return store

    @contextmanager
    def serving(self) -> Iterator[InProcessApi]:
        """While inside, the handlers read through this object's metered stores."""
        original = operations.default_store
        operations.default_store = self.new_store
        try:
            yield self
        finally:
            operations.default_store = original

    def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        caller: str | None = CALLER,
        *,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """``GET path?params``; ``path`` may already carry a query string (then ``params`` is ignored).

        ``request_id``: API Gateway's request id in the event (the logs' correlation id); a fresh one by default.
        ``headers``: request headers besides ``Host`` (``If-None-Match``). An answer without a body (304) has
        ``body`` None.
        """
        path, _, query = path.partition("?")
        query = query or urlencode(params or {})
        matched = self._api.route("GET", path)
        if matched is None:
            raise LookupError(f"no route for GET {path}")
        route, path_parameters = matched
        request = Request("GET", f"{path}?{query}", [("Host", "localhost"), *(headers or {}).items()], b"", "127.0.0.1")
        claims = {"sub": caller, "token_use": "access", "scope": "aws.cognito.signin.user.admin"} if caller else None
        request_id = request_id or str(uuid.uuid4())
        event = proxy_event(request, route, path, query, path_parameters, claims, self._api.stage, request_id)
        self._stores.clear()
        started = time.perf_counter()
        result = self._invoker.invoke(route.function, event)
        seconds = time.perf_counter() - started
        meter = self._stores[0].meter if self._stores else ReadMeter()
        answered = dict(result.get("headers") or {})
        answered.update({name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()})
        body = json.loads(result["body"]) if result.get("body") else None
        return Answer(result["statusCode"], body, answered, meter, seconds)
