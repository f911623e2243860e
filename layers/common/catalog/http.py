"""HTTP edge shared by every function: the resolver, error mapping (once, here), request inputs,
conditional GETs and the Lambda entrypoint (logs with the request's correlation id, metrics, the
DynamoDB time budget).

Every 4xx/5xx body is ``{"code": <status>, "description": <reason phrase>, "cause": <what went wrong>}``.
Every 200 answer to a GET carries a strong ``ETag`` (a hash of its body, and of what its paging headers
say) and ``Cache-Control: private, max-age=0, must-revalidate``; a GET whose ``If-None-Match`` holds that
tag (or ``*``) is answered 304 with no body.
"""

import hashlib
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths

from catalog import budget, telemetry
from catalog.errors import ApiError, ServiceUnavailable
from catalog.parse import IF_NONE_MATCH

if TYPE_CHECKING:  # a type only, not imported at cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()

# The contract spells 422 as RFC 4918 did; Python 3.13 follows RFC 9110 ("Unprocessable Content").
_REASON_PHRASES = {HTTPStatus.UNPROCESSABLE_ENTITY: "Unprocessable Entity"}


def error_response(status: HTTPStatus, cause: str, headers: dict | None = None) -> Response:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"code": status.value, "description": _REASON_PHRASES.get(status, status.phrase), "cause": cause},
        headers=headers,
    )


def create_resolver() -> APIGatewayRestResolver:
    """A REST (v1) resolver answering every error in the project's error shape."""
    app = APIGatewayRestResolver()

    @app.exception_handler(ApiError)
    def api_error(error: ApiError) -> Response:
        logger.info("request refused", extra={"status": error.status.value, "cause": error.cause})
        return error_response(error.status, error.cause)

    @app.exception_handler(ServiceUnavailable)
    def unavailable(error: ServiceUnavailable) -> Response:
        # The one line a DynamoDB outage leaves per request (botocore logs nothing at INFO); the
        # client's cause says nothing of what failed inside.
        logger.error("DynamoDB unavailable", extra={"status": error.status.value, "reason": error.reason,
                                                    "dynamodb_attempts": budget.attempts()})  # fmt: skip
        return error_response(error.status, error.cause, {"Retry-After": str(error.retry_after)})

    @app.not_found
    def no_route(_: NotFoundError) -> Response:
        event = app.current_event
        return error_response(HTTPStatus.NOT_FOUND, f"No route for {event.http_method} {event.path}")

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response:
        logger.exception("request failed")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "The server could not answer this request")

    return app


def parameters(app: APIGatewayRestResolver) -> dict[str, list[str]]:
    """The query string as name -> every value given (API Gateway keeps repeats only in the multi-value map)."""
    event = app.current_event
    multi = event.multi_value_query_string_parameters
    if multi:
        return {name: list(values) for name, values in multi.items()}
    return {name: [value] for name, value in (event.query_string_parameters or {}).items()}


def caller(app: APIGatewayRestResolver) -> str | None:
    """The caller's user id: the ``sub`` claim the Cognito authorizer verified."""
    claims = app.current_event.request_context.authorizer.claims or {}
    return claims.get("sub")


_POSITIONAL = ("cursor", "offset", "page")


def next_link(app: APIGatewayRestResolver) -> Callable[[str], str]:
    """The RFC 8288 ``Link`` to the next page: this request's URL, as the client sent it, with
    ``cursor`` set and ``offset``/``page`` (which the cursor replaces) dropped."""

    def link(cursor: str) -> str:
        event = app.current_event
        kept = [(name, value) for name, values in parameters(app).items() if name not in _POSITIONAL for value in values]
        query = urlencode([*kept, ("cursor", cursor)])
        path = event.request_context.path or event.path  # the stage prefix included, when the client used one
        host = event.headers.get("Host")
        origin = f"{event.headers.get('X-Forwarded-Proto') or 'https'}://{host}" if host else ""
        return f'<{origin}{path}?{query}>; rel="next"'

    return link


CACHE_CONTROL = "private, max-age=0, must-revalidate"
"""Caches may keep an answer for the caller only (``ownerIds=me``), and must ask again before reusing it."""
_ENTITY_TAG = re.compile(r'(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")')


def entity_tag(body: str, paging: tuple[str, ...] = ()) -> str:
    """A strong entity tag: a hash of the body's bytes (equal bodies, equal tags), and of what the paging
    headers say, when there are some (``paging_of``)."""
    said = "\n".join((body, *paging)) if paging else body
    return f'"{hashlib.blake2b(said.encode(), digest_size=16).hexdigest()}"'


def paging_of(response: dict) -> tuple[str, ...]:
    """What a list answer's headers say besides its body: the soundtracks' totals (``X-Pagination-*``), and
    whether a next page follows (``Link``; not its cursor, which is sealed anew for every answer)."""
    headers = {name: values for name, values in (response.get("headers") or {}).items()}
    headers.update(response.get("multiValueHeaders") or {})
    said = []
    for name in sorted(headers, key=str.lower):
        values = headers[name] if isinstance(headers[name], list) else [headers[name]]
        if name.lower().startswith("x-pagination-"):
            said += [f"{name.lower()}: {value}" for value in values]
        elif name.lower() == "link":
            said.append("link: next")
    return tuple(said)


def _if_none_match(event: dict) -> list[str]:
    """Every value of the request's ``If-None-Match`` (header names are case-insensitive)."""
    wanted = IF_NONE_MATCH.name.lower()
    multi = event.get("multiValueHeaders") or {}
    found = [value for name, values in multi.items() if name.lower() == wanted for value in values or ()]
    if not multi:
        found = [value for name, value in (event.get("headers") or {}).items() if name.lower() == wanted]
    return [value for value in found if value is not None]


def _matches(values: list[str], tag: str) -> bool:
    """Whether ``If-None-Match`` values name ``tag``: ``*``, or a list of entity tags one of which is ``tag``
    by weak comparison (RFC 9110, section 13.1.2: ``W/"x"`` matches ``"x"``)."""
    return any(value.strip() == "*" or tag in _ENTITY_TAG.findall(value) for value in values)


def conditional(event: dict, response: dict) -> dict:
    """A GET's 200 answer with its ``ETag`` and ``Cache-Control``; 304 with no body (and those two headers)
    when the request's ``If-None-Match`` matches. Every other answer as it is."""
    if event.get("httpMethod") != "GET" or response.get("statusCode") != 200:
        return response
    tag = entity_tag(response.get("body") or "", paging_of(response))
    validators = {"ETag": [tag], "Cache-Control": [CACHE_CONTROL]}
    if _matches(_if_none_match(event), tag):
        return {"statusCode": 304, "body": "", "isBase64Encoded": False, "multiValueHeaders": validators}
    headers = response.get("multiValueHeaders")
    if headers is None:
        response["multiValueHeaders"] = validators
    else:
        headers.update(validators)
    return response


def lambda_entrypoint(app: APIGatewayRestResolver) -> Callable[[dict, "LambdaContext"], dict]:
    """The Lambda handler of a function: structured logs keyed by the API Gateway request id,
    metrics flushed once per request (EMF), the request's DynamoDB time budget started, and the answer
    made conditional (``ETag``, 304)."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @telemetry.metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict, context: "LambdaContext") -> dict:
        telemetry.begin()
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        budget.begin(remaining() if remaining else None)
        try:
            response = conditional(event, app.resolve(event, context))
        finally:
            budget.end()
        telemetry.answered(response.get("statusCode", 500))
        return response

    return lambda_handler
