"""Requests no client should send, over HTTP through the local gateway: each a 4xx in the error shape.

Oversized requests, unknown routes and methods, bytes that are not UTF-8 and control characters, in
the path and in the query. Whoever answers (the gateway or a handler), the answer is a client error
``{code, description, cause}`` with ``code`` equal to the status, never a 5xx and never a dropped
connection. Requests the gateway refuses itself must not reach a handler.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import SOUNDTRACK

pytestmark = [pytest.mark.e2e, pytest.mark.dynamodb_local]

# API Gateway's quota on "total combined size of request line and header values" (REST APIs).
GATEWAY_HEAD_LIMIT = 10240


def assert_client_error(reply: Any, status: int | None = None) -> dict[str, Any]:
    assert 400 <= reply.status < 500, (reply.status, reply.body[:300])
    if status is not None:
        assert reply.status == status, (reply.status, reply.body[:300])
    body = reply.json()
    assert set(body) == {"code", "description", "cause"}, body
    assert body["code"] == reply.status
    assert isinstance(body["description"], str) and isinstance(body["cause"], str)
    assert reply.headers["Content-Type"].startswith("application/json")
    return body


# --- too large -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/songs?genres=" + "Pop," * 3000,
        "/v1/songs?ids=" + "a" * 11000,
        "/api/v1/soundtracks?name=" + "x" * 11000,
        "/v1/songs/" + "a" * 11000,
    ],
    ids=["songs-genres", "songs-ids", "soundtracks-name", "songs-path"],
)
def test_request_line_over_the_gateways_limit_is_refused_before_any_handler(local_stack, demo_tokens, catalog, path):
    reply = local_stack.request(path, token=demo_tokens.access_token)
    assert_client_error(reply, 413)
    assert reply.handlers == ()


def test_headers_over_the_gateways_limit_are_refused_before_any_handler(local_stack, demo_tokens, catalog):
    reply = local_stack.request("/v1/songs", token=demo_tokens.access_token, headers={"X-Padding": "p" * GATEWAY_HEAD_LIMIT})
    assert_client_error(reply, 413)
    assert reply.handlers == ()


def test_many_small_headers_over_the_gateways_limit_are_refused(local_stack, demo_tokens, catalog):
    headers = {f"X-Padding-{index}": "p" * 100 for index in range(95)}
    reply = local_stack.request("/v1/songs", token=demo_tokens.access_token, headers=headers)
    assert_client_error(reply, 413)
    assert reply.handlers == ()


def test_a_request_just_under_the_limit_reaches_the_handler(local_stack, demo_tokens, catalog):
    reply = local_stack.request("/v1/songs", token=demo_tokens.access_token, headers={"X-Padding": "p" * 6000})
    assert reply.status == 200 and reply.handlers == ("ListFunction",)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v1/songs?genres=" + b"a" * 70000 + b" HTTP/1.1\r\nHost: local\r\n\r\n",
        b"GET /v1/songs HTTP/1.1\r\nHost: local\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
        b"GET /v1/songs HTTP/1.1\r\nHost: local\r\n" + b"".join(b"X-%d: a\r\n" % index for index in range(120)) + b"\r\n",
    ],
    ids=["request-line", "header-line", "header-count"],
)
def test_what_the_http_parser_itself_refuses_is_in_the_error_shape(local_stack, head):
    reply = local_stack.raw_request(head)
    assert_client_error(reply)
    assert reply.handlers == ()


# --- unknown routes and methods --------------------------------------------------------------------

NOT_FOUND = {"code": 404, "description": "Not Found", "cause": "Missing Authentication Token"}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/songs/count/extra",
        "/v1/song",
        "/V1/songs",
        "/api/v1/soundtracks/x/y",
        "/v1/songs%2Fcount",
        "/v1/%FF",
    ],
)
def test_unknown_path_is_404_missing_authentication_token(local_stack, demo_tokens, catalog, path):
    for token in (None, demo_tokens.access_token):
        reply = local_stack.request(path, token=token)
        assert (reply.status, reply.json()) == (404, NOT_FOUND), path
        assert reply.handlers == ()


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"])
@pytest.mark.parametrize("path", ["/v1/songs", "/v1/songs/count", f"/api/v1/soundtracks/{SOUNDTRACK}"])
def test_wrong_method_is_404_missing_authentication_token(local_stack, demo_tokens, method, path):
    """API Gateway answers MISSING_AUTHENTICATION_TOKEN (403) to a method a resource lacks; the template maps it to 404."""
    reply = local_stack.request(path, method=method, token=demo_tokens.access_token)
    assert (reply.status, reply.json()) == (404, NOT_FOUND)
    assert reply.handlers == ()


def test_head_of_a_get_route_is_404_without_a_body(local_stack, demo_tokens):
    reply = local_stack.request("/v1/songs", method="HEAD", token=demo_tokens.access_token)
    assert (reply.status, reply.body, reply.handlers) == (404, b"", ())


# --- bytes that are not UTF-8, control characters --------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/songs?genres=%FF",
        "/v1/songs?genres=%C0%80",
        "/v1/songs?ownerIds=%FF%FE",
        "/v1/songs?ids=%ED%A0%80",  # an encoded UTF-16 surrogate
        "/v1/songs?sortOrder=%FF",
        "/v1/songs?limit=%FF",
        "/v1/songs?limit=1%00",
        "/v1/songs?createdAfter=%00",
        "/v1/songs?genres=%00",
        "/v1/songs?genres=Pop%0D%0AX-Injected:%201",
        "/v1/songs?ids=%1F",
        "/v1/songs?%FF=1",
        "/v1/songs?title=%7F",
        "/v1/songs/count?genres=%FF&genres=%00",
        "/v1/songs/random?ownerIds=%00",
        "/v1/songs/%FF",
        "/v1/songs/%C3%28",
        "/v1/songs/%0A",
        "/v1/songs/%7F",
        "/api/v1/soundtracks?artist=%FF",
        "/api/v1/soundtracks?duration=%3E%FF",
        "/api/v1/soundtracks?sort=%FF,desc",
        "/api/v1/soundtracks?sort=name,%00",
        "/api/v1/soundtracks?page=%00",
        "/api/v1/soundtracks?size=%FF",
        "/api/v1/soundtracks?created_at=%3C%00",
        "/api/v1/soundtracks/count?name=%00",
        "/api/v1/soundtracks/%FF",
        "/api/v1/soundtracks/%00",
    ],
)
def test_non_utf8_and_control_characters_never_make_a_server_error(local_stack, demo_tokens, catalog, path):
    reply = local_stack.request(path, token=demo_tokens.access_token)
    if reply.status < 400:  # a free-text filter may simply match nothing
        assert reply.status == 200 and reply.handlers, (path, reply.status, reply.body[:300])
        return
    assert_client_error(reply)


@pytest.mark.parametrize(
    "target",
    [
        b"/v1/songs?genres=\xff",
        b"/v1/songs?genres=\x01",
        b"/v1/songs/\xff\xfe",
        b"/v1/songs/\x7f",
        b"/api/v1/soundtracks?name=\xc3\x28",
    ],
)
def test_raw_bytes_outside_printable_ascii_in_the_target_are_400(local_stack, demo_tokens, target):
    """An HTTP request target is printable ASCII (RFC 9112 3.2); anything else is refused before routing."""
    head = (
        b"GET " + target + b" HTTP/1.1\r\nHost: local\r\nAuthorization: Bearer " + demo_tokens.access_token.encode() + b"\r\n\r\n"
    )
    reply = local_stack.raw_request(head)
    assert_client_error(reply, 400)
    assert reply.handlers == ()


def test_control_character_in_a_header_value_is_ignored_or_refused(local_stack, demo_tokens, catalog):
    head = (
        b"GET /v1/songs HTTP/1.1\r\nHost: local\r\nX-Odd: a\x01b\xff\r\nAuthorization: Bearer "
        + demo_tokens.access_token.encode()
        + b"\r\n\r\n"
    )
    reply = local_stack.raw_request(head)
    assert reply.status == 200 or assert_client_error(reply)
