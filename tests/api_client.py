"""Call the API in process the way the local gateway does (template routes, REST v1 proxy events),
on a given table, keeping each request's read meter for the read-cost assertions."""

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from catalog import operations
from catalog.store import ReadMeter, Store

from devtools.gateway import Invoker, Request, load_api, proxy_event

CALLER = "1a000000-0000-4000-8000-000000000001"


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    meter: ReadMeter


class InProcessApi:
    def __init__(self, client: Any, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self._client, self._table = client, table
        self._api = load_api(table_name=table)
        self._invoker = Invoker({})
        self._stores: list[Store] = []
        monkeypatch.setattr(operations, "default_store", self._store)

    def _store(self) -> Store:
        store = Store(self._client, self._table)
        self._stores.append(store)
        return store

    def get(self, path: str, params: dict[str, str] | None = None, caller: str | None = CALLER) -> Answer:
        query = urlencode(params or {})
        matched = self._api.route("GET", path)
        assert matched is not None, f"no route for {path}"
        route, path_parameters = matched
        request = Request("GET", f"{path}?{query}", [("Host", "localhost")], b"", "127.0.0.1")
        claims = {"sub": caller, "token_use": "access", "scope": "aws.cognito.signin.user.admin"} if caller else None
        event = proxy_event(request, route, path, query, path_parameters, claims, self._api.stage, str(uuid.uuid4()))
        self._stores.clear()
        result = self._invoker.invoke(route.function, event)
        meter = self._stores[0].meter if self._stores else ReadMeter()
        headers = dict(result.get("headers") or {})
        headers.update({name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()})
        return Answer(result["statusCode"], json.loads(result["body"]), headers, meter)


def next_page(answer: Answer) -> tuple[str, dict[str, str]] | None:
    """Where an answer's ``Link: <...>; rel="next"`` points: (path, query), or None without one."""
    link = answer.headers.get("Link")
    if link is None:
        return None
    target, _, relation = link.partition(";")
    assert relation.strip() == 'rel="next"' and target.startswith("<") and target.endswith(">"), link
    url = urlsplit(target[1:-1])
    return url.path, dict(parse_qsl(url.query, keep_blank_values=True))


def follow_links(api: InProcessApi, path: str, params: dict[str, str]) -> list[Answer]:
    """Every page of a list, from the first, following each answer's ``Link`` to the next."""
    answers = [api.get(path, params)]
    while (after := next_page(answers[-1])) is not None:
        assert answers[-1].status == 200 and answers[-1].body, "a next link follows a full page"
        next_path, next_params = after
        assert next_path == path
        answers.append(api.get(next_path, next_params))
    assert answers[-1].status == 200, answers[-1].body
    return answers
