"""A local API Gateway (REST API, Lambda proxy integration) for the routes ``template.yaml`` declares.

What it does per request, as API Gateway does: match the route (a literal segment beats a
``{param}``), run the Cognito authorizer when the method has one, build a REST (v1) proxy event,
call the function's handler in this process, and write its proxy response back. Its own errors
(401, unknown route) are the template's ``GatewayResponses``. Locally it also serves the API's
documentation under ``/docs`` (Swagger UI, no token needed; see :mod:`devtools.local.api_docs`).

Everything comes from the template (through :mod:`devtools.template.table`): routes, handlers, the
functions' environment (``Globals`` + their own), memory size and timeout, the stage name, the
authorizer's scopes and header, and the gateway responses. Locally, ``TABLE_NAME`` is the local
table, ``AWS_ENDPOINT_URL_DYNAMODB`` points at DynamoDB Local, and credentials are dummies.

Handlers are called through an invoker (:mod:`devtools.local.lambda_runtime`), in this process one
at a time, or in worker processes (:mod:`devtools.local.execution_environments`).

    gateway = make_gateway(authorizer=..., dynamodb_endpoint_url=..., port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    ...  # gateway.url
    gateway.shutdown(); gateway.server_close()
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import sys
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from devtools import ACCOUNT_ID, REPO_ROOT, TABLE_NAME
from devtools.local import api_docs
from devtools.local.authorizer import AuthorizerUnavailable, CognitoAuthorizer, Unauthorized
from devtools.local.lambda_runtime import Invoker, Invokes, local_environment
from devtools.template import table
from devtools.template.api import Api, Route, load_api, table_environment

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
PORT = 3000
API_ID = "local"

# A function that raises (or answers something that is not a proxy response) gets this. On AWS the
# body would be {"message": "Internal server error"}; locally it is in the project's error shape.
BAD_GATEWAY_BODY = {"code": 502, "description": "Bad Gateway", "cause": "Internal server error"}
# What API Gateway answers for a response type the template does not customise.
_DEFAULT_STATUS = {
    "DEFAULT_4XX": 400,
    "UNAUTHORIZED": 401,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "REQUEST_TOO_LARGE": 413,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
}
_DEFAULT_MESSAGE = {
    "DEFAULT_4XX": "Bad Request",
    "UNAUTHORIZED": "Unauthorized",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "REQUEST_TOO_LARGE": "Request Too Long",
    "AUTHORIZER_CONFIGURATION_ERROR": "Authorizer configuration error",
}
# API Gateway's REST API quota "Total combined size of request line and header values: 10240 bytes"
# (Amazon API Gateway developer guide, "Quotas for configuring and running a REST API"); a larger
# request never reaches the authorizer or the function. The guide does not say which status that
# gets: locally it is the template's REQUEST_TOO_LARGE (413), the response type for a request too large.
REQUEST_HEAD_LIMIT = 10240
_AWS_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
_NO_CONTENT = (204, 304)
"""Statuses whose answers never have content (RFC 9110, section 6.4.1)."""
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Request:
    method: str
    target: str  # path and query, as sent
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


class LocalApiGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, api: Api, authorizer: CognitoAuthorizer, invoker: Invokes) -> None:
        super().__init__(address, _RequestHandler)
        self.api = api
        self.authorizer = authorizer
        self.invoker = invoker

    @property
    def url(self) -> str:
        host, port = cast(tuple[str, int], self.server_address[:2])  # a TCP server's: (host, port)
        return f"http://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that goes away mid-answer (reset, broken pipe) is logged in a line, not as a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.info("%s:%s went away: %s", *client_address[:2], error)
            return
        super().handle_error(request, client_address)

    def answer(self, request: Request) -> Reply:
        """The whole of API Gateway's work for one request."""
        request_id = str(uuid.uuid4())
        if not _is_printable_ascii(request.target):
            # A request target is visible ASCII (RFC 9112, section 3.2): raw control characters and
            # bytes above 0x7E are refused before routing (percent-encoded, they are the function's).
            return self.gateway_response("DEFAULT_4XX", request_id)
        if _head_size(request) > REQUEST_HEAD_LIMIT:
            return self.gateway_response("REQUEST_TOO_LARGE", request_id)
        target = urlsplit(request.target)
        path = unquote(target.path) or "/"
        if request.method == "GET" and api_docs.is_docs_path(target.path):
            return self.docs_reply(request, target.path, request_id)
        found = self.api.route(request.method, target.path or "/")
        if found is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)
        route, path_parameters = found
        claims = None
        if route.scopes is not None:
            authorization = next(
                (value for name, value in request.headers if name.lower() == self.api.identity_header.lower()), None
            )
            try:
                claims = self.authorizer.authorize(authorization, scopes=route.scopes)
            except Unauthorized as refusal:
                log.info("401 for %s %s: %s", request.method, request.target, refusal.reason)
                return self.gateway_response("UNAUTHORIZED", request_id, refusal.public_message)
            except AuthorizerUnavailable:
                log.exception("the authorizer cannot verify tokens")
                return self.gateway_response("AUTHORIZER_CONFIGURATION_ERROR", request_id)
        event = proxy_event(request, route, path, target.query, path_parameters, claims, self.api.stage, request_id)
        try:
            result = self.invoker.invoke(route.function, event)
            return proxy_reply(result, request_id)
        except Exception:
            log.exception("%s failed on %s %s", route.function.logical_id, request.method, request.target)
            return Reply(502, _json_headers(request_id), json.dumps(BAD_GATEWAY_BODY, separators=(",", ":")).encode())

    def docs_reply(self, request: Request, raw_path: str, request_id: str) -> Reply:
        """The local docs pages (no authorizer): a page, the gateway's 404, or a 500 saying what is missing."""
        host = next((value for name, value in request.headers if name.lower() == "host"), None)
        try:
            document = api_docs.page(raw_path, host, self.url)
        except api_docs.DocsUnavailable as missing:
            log.error("%s %s: %s", request.method, request.target, missing)
            body = {"code": 500, "description": HTTPStatus.INTERNAL_SERVER_ERROR.phrase, "cause": str(missing)}
            return Reply(500, _json_headers(request_id), json.dumps(body, separators=(",", ":")).encode())
        if document is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)
        headers = [("Content-Type", document.content_type), ("Cache-Control", "no-cache"), ("x-amzn-RequestId", request_id)]
        return Reply(200, headers, document.body)

    def gateway_response(self, response_type: str, request_id: str, message: str | None = None) -> Reply:
        """API Gateway's own answer of ``response_type``, as the template customises it."""
        message = message if message is not None else _DEFAULT_MESSAGE[response_type]
        status = _DEFAULT_STATUS[response_type]
        default_type = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        own = self.api.responses.get(response_type)
        spec = own or self.api.responses.get(default_type)
        if own is not None and own.status is not None:
            status = own.status
        template = spec.template if spec is not None and spec.template else _AWS_DEFAULT_TEMPLATE
        body = (
            template.replace("$context.error.messageString", json.dumps(message))
            .replace("$context.error.responseType", response_type)
            .replace("$context.error.message", message)
            .replace("$context.requestId", request_id)
        )
        headers = {"Content-Type": "application/json", **(spec.headers if spec is not None else {})}
        return Reply(
            status,
            [*headers.items(), ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", _error_type(response_type))],
            body.encode(),
        )


def _is_printable_ascii(text: str) -> bool:
    return all("!" <= character <= "~" for character in text)


def _head_size(request: Request) -> int:
    """The request line and the header values, in bytes, as API Gateway's quota counts them."""
    request_line = f"{request.method} {request.target} HTTP/1.1"
    return len(request_line.encode("latin-1")) + sum(len(value.encode("latin-1", "replace")) for _, value in request.headers)


def _error_type(response_type: str) -> str:
    return {
        "UNAUTHORIZED": "UnauthorizedException",
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "REQUEST_TOO_LARGE": "RequestTooLargeException",
        "DEFAULT_4XX": "BadRequestException",
    }.get(response_type, "InternalFailureException")


def _json_headers(request_id: str) -> list[tuple[str, str]]:
    return [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]


def proxy_event(
    request: Request,
    route: Route,
    path: str,
    query: str,
    path_parameters: dict[str, str],
    claims: dict[str, str] | None,
    stage: str,
    request_id: str,
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event for ``request``."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    forwarded = {"X-Forwarded-For": request.source_ip, "X-Forwarded-Proto": "http"}
    for name, value in forwarded.items():
        headers.setdefault(name, value)
        multi_headers.setdefault(name, [value])
    query_parameters: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):  # "+" is a space, as on API Gateway
        query_parameters[name] = value
        multi_query.setdefault(name, []).append(value)
    now = time.time()
    body: str | None = None
    is_base64 = False
    if request.body:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
    request_context: dict[str, Any] = {
        "resourceId": secrets.token_hex(3),
        "resourcePath": route.resource,
        "httpMethod": request.method,
        "extendedRequestId": base64.b64encode(secrets.token_bytes(10)).decode("ascii"),
        "requestTime": _clf_time(now),
        "path": path,  # the path the client requested: locally the routes have no stage prefix
        "accountId": ACCOUNT_ID,
        "protocol": "HTTP/1.1",
        "stage": stage,
        "domainPrefix": API_ID,
        "requestTimeEpoch": int(now * 1000),
        "requestId": request_id,
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": request.source_ip,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": headers.get("User-Agent"),
            "user": None,
        },
        "domainName": headers.get("Host", f"{API_ID}.execute-api.localhost"),
        "apiId": API_ID,
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": claims}
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query_parameters or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def proxy_reply(result: Any, request_id: str) -> Reply:
    """A Lambda proxy response as API Gateway turns it into HTTP (``ValueError`` if it is malformed)."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int) or isinstance(result["statusCode"], bool):
        raise ValueError(f"malformed Lambda proxy response (no integer statusCode): {str(result)[:200]}")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers += [(name, str(value)) for value in values]
    for name, value in (result.get("headers") or {}).items():
        if name not in multi:
            headers.append((name, str(value)))
    if result["statusCode"] not in _NO_CONTENT and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))  # API Gateway's default
    headers.append(("x-amzn-RequestId", request_id))
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise ValueError(f"malformed Lambda proxy response: body is a {type(body).__name__}, not a string")
    elif result.get("isBase64Encoded"):
        payload = base64.b64decode(body)
    else:
        payload = body.encode("utf-8")
    return Reply(result["statusCode"], headers, payload)


def _clf_time(epoch: float) -> str:
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body of an answer are two writes: with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the head (40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True
    server: LocalApiGateway

    def _handle(self) -> None:
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
            source_ip=self.client_address[0],
        )
        reply = self.server.answer(request)
        self.send_response(reply.status)
        for name, value in reply.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if reply.status not in _NO_CONTENT:  # a 304's Content-Length would have to be the 200's (RFC 9110, 8.6)
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD" and reply.status not in _NO_CONTENT:
            self.wfile.write(reply.body)
        log.info("%s %s %d %.1f ms", self.command, self.path, reply.status, (time.monotonic() - started) * 1000)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the HTTP parser refuses (a line too long, too many headers, an unknown method), in the error shape.

        API Gateway answers an undeclared method as it answers an undeclared path (MISSING_AUTHENTICATION_TOKEN);
        a request line or headers too large exceed its quota on their size (REQUEST_TOO_LARGE); anything else
        malformed is a plain 400.
        """
        response_type = {
            HTTPStatus.NOT_IMPLEMENTED.value: "MISSING_AUTHENTICATION_TOKEN",
            HTTPStatus.REQUEST_URI_TOO_LONG.value: "REQUEST_TOO_LARGE",
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.value: "REQUEST_TOO_LARGE",
        }.get(int(code), "DEFAULT_4XX")
        log.info("%d from the HTTP parser (%s): answered as %s", code, message, response_type)
        reply = self.server.gateway_response(response_type, str(uuid.uuid4()))
        self.close_connection = True
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        log.debug("%s - %s", self.address_string(), format % args)


def make_gateway(
    *,
    authorizer: CognitoAuthorizer,
    dynamodb_endpoint_url: str,
    table_name: str = TABLE_NAME,
    host: str = HOST,
    port: int = PORT,
    template_path: Path = table.TEMPLATE_PATH,
) -> LocalApiGateway:
    """A gateway bound to ``host:port`` (``port=0``: any free port), not yet serving: call ``serve_forever``."""
    api = load_api(template_path, table_name=table_name)
    for path in (REPO_ROOT, *api.layer_paths):  # where Lambda finds the function's and the layer's code
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    invoker = Invoker({**local_environment(dynamodb_endpoint_url), **table_environment(table_name)})
    gateway = LocalApiGateway((host, port), api=api, authorizer=authorizer, invoker=invoker)
    log.info("gateway: %d routes on %s/ (stage %s)", len(api.routes), gateway.url, api.stage)
    return gateway
