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

Handlers run in-process, one at a time: the environment of a Lambda function is process-wide here,
so it is set for each call and restored after it.

    gateway = make_gateway(authorizer=..., dynamodb_endpoint_url=..., port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    ...  # gateway.url
    gateway.shutdown(); gateway.server_close()
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from devtools import REPO_ROOT
from devtools.local import api_docs
from devtools.local.authorizer import AuthorizerUnavailable, CognitoAuthorizer, Unauthorized
from devtools.template import table

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
PORT = 3000
TABLE_NAME = "catalog"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
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
_TABLE_TYPES = {"AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- what the template declares -----------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    logical_id: str
    module: str  # "functions.list.app": imported by package path, never by file name
    handler: str  # "lambda_handler"
    environment: Mapping[str, str]
    memory_mb: int
    timeout_s: int


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # "/v1/songs/{songId}"
    function: Function
    scopes: tuple[str, ...] | None  # None: no authorizer on this method

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """The path parameters if this route serves ``method raw_path``, else ``None``."""
        if self.method not in (method, "ANY"):
            return None
        return _match_path(self.resource, raw_path)


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    headers: Mapping[str, str]
    template: str | None


@dataclass(frozen=True)
class Api:
    stage: str
    routes: tuple[Route, ...]  # ordered so that the first match is API Gateway's match
    responses: Mapping[str, GatewayResponse]
    identity_header: str
    layer_paths: tuple[Path, ...]

    def route(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.match(method, raw_path)
            if parameters is not None:
                return route, parameters
        return None


def _match_path(resource: str, raw_path: str) -> dict[str, str] | None:
    """Path parameters (decoded) if the still percent-encoded ``raw_path`` is an instance of ``resource``."""
    expected = resource.strip("/").split("/")
    actual = raw_path.strip("/").split("/")
    parameters: dict[str, str] = {}
    for index, segment in enumerate(expected):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = actual[index:]
            if not rest or rest == [""]:
                return None
            parameters[segment[1:-2]] = unquote("/".join(rest))
            return parameters
        if index >= len(actual):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            if not actual[index]:
                return None
            parameters[segment[1:-1]] = unquote(actual[index])
        elif segment != unquote(actual[index]):
            return None
    return parameters if len(actual) == len(expected) else None


def load_api(template_path: Path = table.TEMPLATE_PATH, *, table_name: str = TABLE_NAME) -> Api:
    """What the gateway needs from the template; intrinsic functions resolved for the local stack."""
    template = table.load_template(template_path)
    resolver = _Resolver(template, table_name)
    api_properties = _api_properties(template)
    auth = api_properties.get("Auth") or {}
    authorizers = auth.get("Authorizers") or {}
    default_authorizer = auth.get("DefaultAuthorizer")
    identity_header = "Authorization"
    for authorizer in authorizers.values():
        identity_header = ((authorizer.get("Identity") or {}).get("Header")) or identity_header

    functions: dict[str, Function] = {}
    routes = []
    for declared in table.api_routes(template_path):
        if declared.function not in functions:
            functions[declared.function] = _function(template, declared.function, declared.code_uri, resolver)
        event_auth = _event_auth(template, declared)
        authorizer_name = event_auth.get("Authorizer", default_authorizer)
        scopes: tuple[str, ...] | None = None
        if authorizer_name and authorizer_name != "NONE":
            authorizer = authorizers.get(authorizer_name) or {}
            scopes = tuple(event_auth.get("AuthorizationScopes") or authorizer.get("AuthorizationScopes") or ())
        routes.append(Route(declared.method, declared.path, functions[declared.function], scopes))

    responses = {
        name: GatewayResponse(
            status=int(spec["StatusCode"]) if spec.get("StatusCode") else None,
            headers={
                header: _static_value(str(value))
                for header, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items()
            },
            template=(spec.get("ResponseTemplates") or {}).get("application/json"),
        )
        for name, spec in (api_properties.get("GatewayResponses") or {}).items()
    }
    layer_paths = tuple(
        (template_path.parent / resource["Properties"]["ContentUri"]).resolve()
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
        and isinstance(resource.get("Properties", {}).get("ContentUri"), str)
    )
    return Api(
        stage=str(resolver.resolve(api_properties.get("StageName", "Prod"))),
        routes=tuple(routes),
        responses=responses,
        identity_header=identity_header,
        layer_paths=layer_paths,
    )


def load_function(logical_id: str, template_path: Path = table.TEMPLATE_PATH, *, table_name: str = TABLE_NAME) -> Function:
    """One function of the template, routed or not (the counter function is fed by the stream)."""
    template = table.load_template(template_path)
    code_uri = table.function_properties(template, logical_id)["CodeUri"]
    return _function(template, logical_id, code_uri, _Resolver(template, table_name))


def _api_properties(template: dict[str, Any]) -> dict[str, Any]:
    """``Globals.Api`` with the (first) ``AWS::Serverless::Api`` resource's properties over it."""
    merged = dict((template.get("Globals") or {}).get("Api") or {})
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Api":
            merged.update(resource.get("Properties") or {})
            break
    return merged


def _event_auth(template: dict[str, Any], declared: table.Route) -> dict[str, Any]:
    events = table.function_properties(template, declared.function).get("Events") or {}
    for event in events.values():
        properties = event.get("Properties") or {}
        if (
            event.get("Type") == "Api"
            and properties.get("Path") == declared.path
            and str(properties.get("Method", "")).upper() == declared.method
        ):
            return properties.get("Auth") or {}
    return {}


def _function(template: dict[str, Any], logical_id: str, code_uri: str, resolver: _Resolver) -> Function:
    properties = table.function_properties(template, logical_id)
    handler_module, _, handler_name = str(properties.get("Handler", "app.lambda_handler")).rpartition(".")
    package = ".".join(PurePosixPath(code_uri.strip("/")).parts)
    environment = {}
    for name, value in ((properties.get("Environment") or {}).get("Variables") or {}).items():
        resolved = resolver.resolve(value)
        if resolved is None:
            log.warning("%s: cannot resolve %s=%r locally: left unset", logical_id, name, value)
        else:
            environment[name] = str(resolved)
    return Function(
        logical_id=logical_id,
        module=f"{package}.{handler_module}",
        handler=handler_name,
        environment=environment,
        memory_mb=int(properties.get("MemorySize", 128)),
        timeout_s=int(properties.get("Timeout", 3)),
    )


class _Resolver:
    """Intrinsic functions as far as the local stack can answer them (``None`` when it cannot)."""

    def __init__(self, template: dict[str, Any], table_name: str) -> None:
        self.template = template
        self.table_name = table_name
        self.local_secret = secrets.token_urlsafe(48)
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": "local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            if self._is_table(resource):
                return {"Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{self.table_name}"}.get(attribute)
            return None
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return self._sub(value["Fn::Sub"])
        return None

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        parameter = (self.template.get("Parameters") or {}).get(name)
        if parameter is not None:
            return parameter.get("Default")
        if self._is_table(name):
            return self.table_name
        return None

    def _sub(self, text: str) -> str | None:
        if text.startswith("{{resolve:secretsmanager:"):
            return self.local_secret  # a Secrets Manager value: a secret of this local stack's own
        out, rest = [], text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            resource, _, attribute = name.partition(".")
            value = self.resolve({"Fn::GetAtt": [resource, attribute]} if attribute else {"Ref": name})
            if value is None:
                return None
            out += [before, str(value)]
        return "".join([*out, rest])

    def _is_table(self, name: str) -> bool:
        return (self.template["Resources"].get(name) or {}).get("Type") in _TABLE_TYPES


def _static_value(value: str) -> str:
    """``"'application/json'"`` (a static value in API Gateway's mapping syntax) -> ``application/json``."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value


# --- calling a function --------------------------------------------------------------------------


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers (and Powertools) read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_s: int
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_s - time.monotonic()) * 1000))


class Invoker:
    """Imports handlers by package path and calls them, one at a time, in their function's environment."""

    def __init__(self, base_environment: Mapping[str, str | None]) -> None:
        self.base_environment = dict(base_environment)
        self._lock = threading.Lock()

    def load(self, function: Function) -> None:
        """Import the function's handler module in its environment, ahead of its first call (its cold start)."""
        with self._lock, _environment({**function.environment, **self.base_environment}):
            importlib.import_module(function.module)

    def invoke(self, function: Function, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=function.logical_id,
            memory_limit_in_mb=function.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.logical_id}",
            aws_request_id=str(uuid.uuid4()),
            timeout_s=function.timeout_s,
        )
        with self._lock, _environment({**function.environment, **self.base_environment}):
            handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(function.module), function.handler)
            started = time.monotonic()
            result = handler(event, context)
        elapsed = time.monotonic() - started
        if elapsed > function.timeout_s:
            log.warning(
                "%s took %.1f s, more than its timeout (%d s): Lambda would have stopped it",
                function.logical_id,
                elapsed,
                function.timeout_s,
            )
        return result


@contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (``None``: unset) environment variables, and put back what was there before."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def local_environment(dynamodb_endpoint_url: str) -> dict[str, str | None]:
    """What every function gets on top of its template environment, locally."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_SAM_LOCAL": "true",  # what `sam local` sets: Powertools' Tracer stays off
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        # EMF metric lines are for CloudWatch; locally the per-request `read cost` log line carries
        # the same figures, and the console (and the bench's stdout report) stays readable.
        "POWERTOOLS_METRICS_DISABLED": "true",
    }


# --- HTTP ----------------------------------------------------------------------------------------


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

    def __init__(self, address: tuple[str, int], *, api: Api, authorizer: CognitoAuthorizer, invoker: Invoker) -> None:
        super().__init__(address, _RequestHandler)
        self.api = api
        self.authorizer = authorizer
        self.invoker = invoker

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
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
    if not any(name.lower() == "content-type" for name, _ in headers):
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
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
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
    invoker = Invoker({**local_environment(dynamodb_endpoint_url), "TABLE_NAME": table_name})
    gateway = LocalApiGateway((host, port), api=api, authorizer=authorizer, invoker=invoker)
    log.info("gateway: %d routes on %s/ (stage %s)", len(api.routes), gateway.url, api.stage)
    return gateway
