"""The local stack for the end-to-end tests, started once per test session, and HTTP helpers.

The stack is ``make run``'s (``devtools.local.stack``), on free ports: DynamoDB Local in memory, the
local Cognito (moto, in a child process) and the gateway serving ``template.yaml``'s routes in a
thread of this process.

The gateway's invoker is wrapped in a :class:`HandlerCalls` recorder, so that a test can prove a
request never reached a handler (a refused token, an unknown route): ``reply.handlers`` names the
functions that ran while the request was answered. The counter function, fed by the stream, is
called through the unwrapped invoker and is never counted.

The ``catalog`` fixture imports its records with ``python -m devtools.cli.import_catalog``, as a user would,
then hands the table's stream to the counter function, as ``make run`` does.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from devtools import REGION, REPO_ROOT, TABLE_NAME
from devtools.local import stack
from devtools.local.identity import Credentials, Tokens, UserPool, create_app_client, ensure_user, sign_in
from devtools.local.lambda_runtime import Invoker
from devtools.local.streams import StreamFeeder
from devtools.template import table
from devtools.template.api import Function

DEMO_SUB = "3f0c7a52-6d1e-4c8b-9a27-5b4e1f0d2c61"
OTHER_OWNER = "8b2d4f60-1c3e-4a5b-8d7f-9e0a1b2c3d4e"
DEMO_SONGS = ("0a7e3c1d-2b4f-4e6a-8c9d-1e2f3a4b5c6d", "1b8f4d2e-3c5a-4f7b-9d0e-2f3a4b5c6d7e")
OTHER_SONG = "2c9a5e3f-4d6b-4a8c-8e1f-3a4b5c6d7e8f"
SOUNDTRACK = "3d0b6f4a-5e7c-4b9d-8f2a-4b5c6d7e8f9a"


class HandlerCalls:
    """The gateway's invoker, recording which function each call ran (tests run one request at a time)."""

    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker
        self.names: list[str] = []

    def invoke(self, function: Function, event: dict[str, Any]) -> Any:
        self.names.append(function.logical_id)
        return self._invoker.invoke(function, event)


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Message
    body: bytes
    handlers: tuple[str, ...] = ()  # the functions the gateway invoked to answer this request

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class LocalStack:
    base_url: str
    pool: UserPool
    demo: Credentials
    other_client_id: str  # a second app client of the same pool, which the API does not accept
    dynamodb_endpoint_url: str
    layer_paths: tuple[Path, ...]
    counters: StreamFeeder  # the table's stream handed to the counter function: ``drain()`` after writing
    handler_calls: HandlerCalls
    composed: stack.LocalStack  # its pieces, for a test that shares them (``stack.local_stack(dynamodb=..., pool=...)``)

    def request(
        self, path: str, *, token: str | None = None, method: str = "GET", headers: dict[str, str] | None = None
    ) -> HttpReply:
        """``method path`` over real HTTP; ``token`` is sent as ``Authorization: Bearer <token>``."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        address = urlsplit(self.base_url)
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
        calls_before = len(self.handler_calls.names)
        try:
            connection.request(method, path, headers=sent)
            response = connection.getresponse()
            body = response.read()
            return HttpReply(response.status, response.headers, body, tuple(self.handler_calls.names[calls_before:]))
        finally:
            connection.close()

    def raw_request(self, head: bytes) -> HttpReply:
        """``head`` (request line and headers, CRLF-terminated) sent byte for byte, as no well-behaved client would."""
        address = urlsplit(self.base_url)
        calls_before = len(self.handler_calls.names)
        with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
            connection.sendall(head)
            response = http.client.HTTPResponse(connection)
            response.begin()
            body = response.read()
            return HttpReply(response.status, response.headers, body, tuple(self.handler_calls.names[calls_before:]))


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    logs = tmp_path_factory.mktemp("local-stack")  # the processes' logs end up here
    with stack.local_stack(logs=logs) as composed:
        table.create_tables(composed.dynamodb.client(), TABLE_NAME)
        other_client_id = create_app_client(composed.pool, "another-app")
        demo = ensure_user(composed.pool, DEMO_SUB, username="demo")
        handler_calls = HandlerCalls(composed.invoker)
        composed.gateway.invoker = handler_calls  # the same ``invoke``, and the same lock behind it
        composed.serve_in_background()
        yield LocalStack(
            base_url=composed.url,
            pool=composed.pool,
            demo=demo,
            other_client_id=other_client_id,
            dynamodb_endpoint_url=composed.dynamodb.endpoint_url,
            layer_paths=composed.gateway.api.layer_paths,
            counters=composed.counter_feeder(),
            handler_calls=handler_calls,
            composed=composed,
        )


@pytest.fixture(scope="session")
def demo_tokens(local_stack: LocalStack) -> Tokens:
    return sign_in(local_stack.pool, local_stack.demo)


@pytest.fixture(scope="session")
def catalog(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two owners and three songs (two of them the demo user's), imported with ``devtools.cli.import_catalog``."""
    song = {
        "kind": "song",
        "archived": False,
        "genres": ["Pop"],
        "coverRemixSample": False,
        "audioEncodingStatus": "Completed",
        "mintingStatus": "Minted",
        "marketplaceStatus": "NotSelling",
    }
    records = [
        {"kind": "owner", "id": DEMO_SUB, "nickname": "Demo Owner"},
        {"kind": "owner", "id": OTHER_OWNER, "firstName": "Other", "lastName": "Owner"},
        {**song, "id": DEMO_SONGS[0], "ownerId": DEMO_SUB, "createdAt": "2024-01-01T10:00:00.000000", "title": "First"},
        {**song, "id": DEMO_SONGS[1], "ownerId": DEMO_SUB, "createdAt": "2024-02-01T10:00:00.000000", "title": "Second"},
        {**song, "id": OTHER_SONG, "ownerId": OTHER_OWNER, "createdAt": "2024-03-01T10:00:00.000000", "title": "Third"},
        {
            "kind": "soundtrack",
            "uuid": SOUNDTRACK,
            "name": "Main Title",
            "artist": "Hildur",
            "duration": 201000,
            "created_at": "2024-01-05T09:00:00",
            "updated_at": "2024-01-06T09:00:00",
        },
    ]
    path = tmp_path_factory.mktemp("catalog") / "catalog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *map(str, local_stack.layer_paths)]),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    result = subprocess.run(
        [
            sys.executable, "-m", "devtools.cli.import_catalog", "--quiet",
            "--table", TABLE_NAME, "--endpoint-url", local_stack.dynamodb_endpoint_url, "--region", REGION,
            str(path),
        ],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, f"the importer failed ({result.returncode}):\n{result.stdout}{result.stderr}"
    local_stack.counters.drain()
    return path
