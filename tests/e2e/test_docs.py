"""The local gateway's documentation pages over HTTP: Swagger UI, its assets and the OpenAPI document.

They need no token and run no function; everything else under ``/docs`` is an unknown route, and
when what the pages are made of is missing, the answer says so in the error shape.
"""

import json
import re

import pytest

from devtools.local import api_docs

pytestmark = [pytest.mark.e2e, pytest.mark.dynamodb_local]

NOT_FOUND = {"code": 404, "description": "Not Found", "cause": "Missing Authentication Token"}


def test_docs_page_is_swagger_ui_without_a_token(local_stack) -> None:
    for path in ("/docs", "/docs/"):
        reply = local_stack.request(path)
        assert reply.status == 200, reply.body
        assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
        page = reply.body.decode()
        assert "SwaggerUIBundle(" in page and '"/docs/openapi.json"' in page
        assert "persistAuthorization: true" in page
        assert "https://" not in page  # nothing from a CDN: the machine may be offline
        assert reply.handlers == ()


def test_the_page_loads_its_assets_from_swagger_ui_dist(local_stack) -> None:
    page = local_stack.request("/docs").body.decode()
    loaded = re.findall(r'(?:src|href)="(/docs/[^"]+)"', page)
    assert {"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} <= set(loaded)
    for path in loaded:
        reply = local_stack.request(path)
        assert reply.status == 200, path
        assert reply.body == (api_docs.SWAGGER_UI_DIR / path.removeprefix("/docs/")).read_bytes()
    assert (
        local_stack.request("/docs/swagger-ui-bundle.js")
        .headers["Content-Type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert local_stack.request("/docs/swagger-ui.css").headers["Content-Type"] == "text/css; charset=utf-8"


def test_openapi_document_names_the_local_gateway_as_its_server(local_stack) -> None:
    reply = local_stack.request("/docs/openapi.json")
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    served = reply.json()
    assert [server["url"] for server in served["servers"]] == [local_stack.base_url]
    committed = json.loads(api_docs.OPENAPI_PATH.read_text(encoding="utf-8"))
    assert {**served, "servers": None} == {**committed, "servers": None}
    assert reply.handlers == ()


def test_openapi_server_is_the_origin_the_browser_used(local_stack) -> None:
    """Opened as http://localhost:<port>/docs, "Try it out" must call that origin too (no CORS)."""
    port = local_stack.base_url.rsplit(":", 1)[1]
    reply = local_stack.request("/docs/openapi.json", headers={"Host": f"localhost:{port}"})
    assert [server["url"] for server in reply.json()["servers"]] == [f"http://localhost:{port}"]
    odd = local_stack.request("/docs/openapi.json", headers={"Host": "evil/../x"})
    assert [server["url"] for server in odd.json()["servers"]] == [local_stack.base_url]


def test_the_api_still_wants_a_token_after_the_docs(local_stack) -> None:
    assert local_stack.request("/docs").status == 200
    reply = local_stack.request("/v1/songs")
    assert (reply.status, reply.json(), reply.handlers) == (
        401,
        {"code": 401, "description": "Unauthorized", "cause": "Unauthorized"},
        (),
    )


@pytest.mark.parametrize(
    "path",
    [
        "/docs/index.html",  # in swagger-ui-dist, but not what this page loads
        "/docs/swagger-initializer.js",
        "/docs/../template.yaml",
        "/docs/%2e%2e/template.yaml",
        "/docs/swagger-ui.css/x",
        "/docs/openapi.yaml",
        "/documentation",
    ],
)
def test_anything_else_under_docs_is_an_unknown_route(local_stack, path: str) -> None:
    reply = local_stack.request(path)
    assert (reply.status, reply.json(), reply.handlers) == (404, NOT_FOUND, ())


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_docs_are_get_only(local_stack, method: str) -> None:
    reply = local_stack.request("/docs/openapi.json", method=method)
    assert reply.status == 404
    if method != "HEAD":
        assert reply.json() == NOT_FOUND


def test_a_missing_openapi_document_is_a_clear_500(local_stack, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(api_docs, "OPENAPI_PATH", tmp_path / "openapi.json")
    for path in ("/docs", "/docs/openapi.json"):
        reply = local_stack.request(path)
        assert reply.status == 500
        body = reply.json()
        assert (body["code"], body["description"]) == (500, "Internal Server Error")
        assert "openapi.json does not exist" in body["cause"]
    (tmp_path / "openapi.json").write_text("{not json", encoding="utf-8")
    assert "cannot be read as JSON" in local_stack.request("/docs/openapi.json").json()["cause"]


def test_missing_swagger_ui_dist_is_a_clear_500(local_stack, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(api_docs, "SWAGGER_UI_DIR", tmp_path / "swagger-ui-dist")
    for path in ("/docs", "/docs/swagger-ui.css"):
        reply = local_stack.request(path)
        assert reply.status == 500
        assert "make setup" in reply.json()["cause"]
