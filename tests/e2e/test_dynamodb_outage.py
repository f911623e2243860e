"""DynamoDB stopped under a running API, then started again: 503 with ``Retry-After`` meanwhile, 200 after.

The test has a local stack of its own, whose DynamoDB Local keeps its data in a directory so that a
restart keeps the table (the session's stack, whose in-memory data other tests use, is never
stopped). It shares the session's user pool, so its tokens are the session's.
"""

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import TABLE_NAME
from devtools.local import stack
from devtools.local.dynamodb_local import DynamoDBLocal
from devtools.local.identity import Tokens
from devtools.template import table
from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.e2e.conftest import DEMO_SONGS, DEMO_SUB, LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.dynamodb_local]

SONG = {"kind": "song", "id": DEMO_SONGS[0], "ownerId": DEMO_SUB, "createdAt": "2024-01-01T10:00:00.000000",
        "title": "Still Here", "archived": False, "genres": ["Pop"], "coverRemixSample": False,
        "audioEncodingStatus": "Completed", "mintingStatus": "Minted", "marketplaceStatus": "NotSelling"}  # fmt: skip
OWNER = {"kind": "owner", "id": DEMO_SUB, "nickname": "Demo Owner"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class OwnStack:
    dynamodb: DynamoDBLocal
    url: str
    token: str

    def get(self, path: str) -> Reply:
        host, port = self.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
            response = connection.getresponse()
            return Reply(response.status, dict(response.headers), json.loads(response.read()))
        finally:
            connection.close()


@pytest.fixture
def own_stack(local_stack: LocalStack, demo_tokens: Tokens, tmp_path: Path) -> Iterator[OwnStack]:
    with stack.local_stack(logs=tmp_path, data=tmp_path / "data", pool=local_stack.pool) as composed:
        client = composed.dynamodb.client()
        table.create_tables(client, TABLE_NAME)
        report = import_lines(CatalogWriter(client, TABLE_NAME), [json.dumps(OWNER), json.dumps(SONG)], progress=False)
        assert not report.rejected
        composed.serve_in_background()
        yield OwnStack(composed.dynamodb, composed.url, demo_tokens.access_token)


def test_a_stopped_dynamodb_answers_503_with_retry_after_and_the_api_recovers_when_it_is_back(own_stack: OwnStack) -> None:
    path = f"/v1/songs/{SONG['id']}"
    before = own_stack.get(path)
    assert before.status == 200 and before.body["title"] == "Still Here"

    own_stack.dynamodb.stop()
    during = [own_stack.get(path), own_stack.get("/v1/songs?limit=5"), own_stack.get("/v1/songs/count")]

    for reply in during:
        assert reply.status == 503, reply.body
        assert reply.body == {"code": 503, "description": "Service Unavailable", "cause": reply.body["cause"]}
        assert int(reply.headers["Retry-After"]) >= 1
        assert own_stack.dynamodb.endpoint_url not in reply.body["cause"]

    own_stack.dynamodb.start()  # same port, same data directory
    after = own_stack.get(path)
    assert after.status == 200 and after.body == before.body
    assert own_stack.get("/v1/songs?limit=5").status == 200
