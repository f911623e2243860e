"""An operation of the document: its parameters, its 200 body, and every error status it can answer, with examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from types import ModuleType
from typing import Any

from devtools.openapi.parameters import parameter
from devtools.openapi.schemas import COMPONENT_REF
from devtools.template import api as template_api

# The gateway responses an authorized GET without a body can get, by the status the template gives them.
_GATEWAY_RESPONSES = {
    "DEFAULT_4XX": "API Gateway refused the request before any function ran",
    "UNAUTHORIZED": "A missing, invalid or expired access token (cause `The incoming token has expired`), "
    "an ID token, or a token without the required scope",
    "REQUEST_TOO_LARGE": "The request line and headers exceed API Gateway's 10,240 bytes",
    "THROTTLED": "Too many requests: API Gateway's throttling",
    "INTEGRATION_TIMEOUT": "The function did not answer in time",
}
_GATEWAY_CAUSES = {
    "DEFAULT_4XX": "Bad Request",
    "UNAUTHORIZED": "Unauthorized",
    "REQUEST_TOO_LARGE": "Request Too Long",
    "THROTTLED": "Too Many Requests",
    "INTEGRATION_TIMEOUT": "Endpoint request timed out",
}


def _error_example(layer: dict[str, ModuleType], status: HTTPStatus, cause: str) -> dict[str, Any]:
    return layer["http"].error_response(status, cause).body


def _refusal(layer: dict[str, ModuleType], call: Callable[[], object]) -> dict[str, Any]:
    """What the layer answers to a bad request: the parser is called, and its refusal shaped as the API sends it."""
    try:
        call()
    except layer["errors"].ApiError as error:
        return _error_example(layer, error.status, error.cause)
    raise AssertionError(f"{call} accepted what should be refused")


def _error_response(
    description: str, examples: dict[str, dict[str, Any]], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": {"$ref": COMPONENT_REF.format(model="Error")}}
    if len(examples) == 1:
        content["example"] = next(iter(examples.values()))
    else:
        content["examples"] = {name: {"value": value} for name, value in examples.items()}
    return {"description": description, **({"headers": headers} if headers else {}), "content": {"application/json": content}}


class Collection:
    """What the document says about one collection: its dialect, its model, its list headers."""

    def __init__(self, name: str, prefix: str, dialect: ModuleType, model: str, example: dict, id_parameter: Any,
                 list_headers: dict[str, Any], tag: str) -> None:  # fmt: skip
        self.name, self.prefix, self.dialect, self.model = name, prefix, dialect, model
        self.example, self.id_parameter, self.list_headers, self.tag = example, id_parameter, list_headers, tag


def collections_of(layer: dict[str, ModuleType]) -> list[Collection]:
    songs, soundtracks = layer["parse.songs"], layer["parse.soundtracks"]
    link = {
        "description": "RFC 8288 link to the next page, present when more items follow: this request's URL with "
        "`offset`/`page` dropped and `cursor` set. Following it reads every match once, at the same cost per page.",
        "schema": {"type": "string"},
        "example": '<https://api.example.com/live/v1/songs?genres=Pop&limit=25&cursor=AZk3>; rel="next"',
    }

    def count_header(description: str, minimum: int) -> dict[str, Any]:
        return {"description": description, "required": True, "schema": {"type": "integer", "minimum": minimum}}

    return [
        Collection(
            "songs", "/v1/songs", songs, "Song", layer["model.song"].SONG_EXAMPLE, songs.SONG_ID, {"Link": link},
            "Songs: the Get Songs and Get Song Count documents, camelCase, offset/limit paging.",
        ),
        Collection(
            "soundtracks", "/api/v1/soundtracks", soundtracks, "Soundtrack", layer["model.soundtrack"].SOUNDTRACK_EXAMPLE,
            soundtracks.UUID,
            {
                "X-Pagination-Page-Index": count_header("The page number answered (the requested `page`).", 1),
                "X-Pagination-Page-Size": count_header("How many soundtracks this page holds (0 past the end).", 0),
                "X-Pagination-Page-Total": count_header("How many pages the matches fill at the size used.", 0),
                "X-Pagination-Item-Total": count_header("How many soundtracks match the filters.", 0),
                "Link": link,
            },
            "Soundtracks: the Soundtracks document, snake_case, page/size paging with totals in headers, "
            "operator-prefixed filters.",
        ),
    ]  # fmt: skip


def _validators(layer: dict[str, ModuleType], example: object) -> dict[str, Any]:
    """The headers of a 200 answer and of a 304: its entity tag and its caching rule."""
    http = layer["http"]
    tag = http.entity_tag(json.dumps(example, separators=(",", ":"), ensure_ascii=False)) if example is not None else None
    return {
        "ETag": {
            "description": "A strong entity tag of the answer: a hash of its body (and of what a page's paging headers "
            "say: totals, whether a next page follows). Send it back in `If-None-Match` to get 304 while the answer "
            "stays the same.",
            "required": True,
            "schema": {"type": "string"},
            **({"example": tag} if tag else {}),
        },
        "Cache-Control": {
            "description": "Caches keep the answer for this caller only, and ask again (with `If-None-Match`) before reusing it.",
            "required": True,
            "schema": {"type": "string", "enum": [http.CACHE_CONTROL]},
        },
    }


def _conditional(success: dict[str, Any], layer: dict[str, ModuleType]) -> None:
    """A 200 answer's description with the validators among its headers."""
    example = next(iter(success["content"].values())).get("example")
    headers = {**success.pop("headers", {}), **_validators(layer, example)}
    content = success.pop("content")
    success.update(headers=headers, content=content)


def _not_modified(layer: dict[str, ModuleType]) -> dict[str, Any]:
    return {
        "description": "Not Modified: the request's `If-None-Match` holds the answer's `ETag` (or `*`). No body; the "
        "answer the client holds is still the current one.",
        "headers": _validators(layer, None),
    }


def operation(
    kind: str, collection: Collection, handler: Callable, api: template_api.Api, layer: dict[str, ModuleType]
) -> dict[str, Any]:
    dialect, model_ref = collection.dialect, {"$ref": COMPONENT_REF.format(model=collection.model)}
    singular = collection.name.removesuffix("s")
    parameters = {  # the genres routes are the songs dialect's only
        "list": lambda: (*dialect.QUERY, *dialect.PAGING),
        "count": lambda: dialect.QUERY,
        "genres": lambda: (*dialect.GENRES_QUERY, *dialect.GENRES_PAGING),
        "genre_count": lambda: dialect.GENRES_QUERY,
        "random": lambda: dialect.QUERY,
        "get": lambda: (collection.id_parameter,),
    }[kind]()
    descriptions = {
        "list": f"Answers a bare JSON array of {collection.name}, possibly empty, in a stable total order. Unknown "
        "parameters are ignored; a scalar parameter given twice with different values is 422.",
        "count": 'Takes the filters of the list, with the same rules and errors, and answers `{"count": N}`. '
        "Paging parameters are ignored.",
        "get": f"Answers one {singular}. A malformed id is 422; an unknown id is 404.",
        "random": f"Takes the filters of the list, with the same rules and errors, and answers one {singular} drawn "
        f"uniformly at random from the matching {collection.name}; 404 when none matches. Paging is ignored.",
        "genres": f"Takes the filters of the list, with the same rules and errors, and answers a bare JSON array of "
        f"genre names: the distinct genres of the matching {collection.name}, by how many of them carry each (most "
        "first by default, fewest first with `sortOrder=asc`), ties by name in code point order. A `genres` filter "
        "selects the songs: `genres=Pop` answers every genre Pop songs also carry. Paged by `offset` and `limit`.",
        "genre_count": 'Takes the filters of the list, with the same rules and errors, and answers `{"count": N}`: how '
        f"many distinct genres the matching {collection.name} carry. Paging parameters are ignored.",
    }
    if kind == "list":
        success: dict[str, Any] = {
            "description": f"A page of {collection.name}.",
            "headers": collection.list_headers,
            "content": {"application/json": {"schema": {"type": "array", "items": model_ref}, "example": [collection.example]}},
        }
    elif kind in ("count", "genre_count"):
        counted = collection.name if kind == "count" else f"genres of the matching {collection.name}"
        success = {"description": f"How many {counted} there are.",
                   "content": {"application/json": {"schema": {"$ref": COMPONENT_REF.format(model="Count")},
                                                    "example": layer["model.bodies"].COUNT_EXAMPLE}}}  # fmt: skip
    elif kind == "genres":
        success = {"description": f"A page of the genres of the matching {collection.name}.",
                   "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}},
                                                    "example": layer["model.bodies"].GENRES_EXAMPLE}}}  # fmt: skip
    else:
        success = {"description": f"One {singular}.",
                   "content": {"application/json": {"schema": model_ref, "example": collection.example}}}  # fmt: skip

    query = {"songs": lambda parameters: dialect.query(parameters, None), "soundtracks": dialect.query}[collection.name]
    _conditional(success, layer)
    responses: dict[str, Any] = {"200": success, "304": _not_modified(layer)}
    gateway_status = {name: api.responses[name].status for name in _GATEWAY_RESPONSES}

    def gateway_answer(name: str) -> tuple[str, dict[str, Any]]:
        """The template's body for a gateway response, with an example of API Gateway's message in it."""
        template = api.responses[name].template
        if template is None:
            raise LookupError(f"template.yaml's gateway response {name} has no body")
        body = template.replace("$context.error.messageString", json.dumps(_GATEWAY_CAUSES[name]))
        return _GATEWAY_RESPONSES[name], json.loads(body)

    bad_request = {"gateway": gateway_answer("DEFAULT_4XX")[1]}
    bad_request_text = f"{gateway_answer('DEFAULT_4XX')[0]}."
    if kind == "list":
        position = dialect.PAGING[0]
        bad_request = {
            "cursor": _refusal(
                layer, lambda: layer["parse"].cursor({"cursor": ["x"], position.name: [str(position.default + 1)]}, position)
            ),
            **bad_request,
        }
        bad_request_text = (f"`cursor` given with `{position.name}` other than {position.default}, or a cursor this "
                            f"API did not issue for this query. Or: {bad_request_text}")  # fmt: skip
    responses[str(gateway_status["DEFAULT_4XX"])] = _error_response(bad_request_text, bad_request)
    unauthorized_text, unauthorized = gateway_answer("UNAUTHORIZED")
    unauthorized_text += " (API Gateway's Cognito authorizer)."
    if collection.name == "songs" and kind != "get":
        unauthorized_text += " Also `ownerIds=me` where no authorizer ran (never behind API Gateway)."
    responses[str(gateway_status["UNAUTHORIZED"])] = _error_response(unauthorized_text, {"token": unauthorized})
    if kind == "get":
        missing = _error_example(layer, HTTPStatus.NOT_FOUND, f"Entity with id {collection.id_parameter.example} not found")
        responses["404"] = _error_response(f"No {singular} has that id (cause names it in lower case).", {"missing": missing})
    if kind == "random":
        responses["404"] = _error_response(
            f"No {singular} matches the filters.",
            {"none": _error_example(layer, HTTPStatus.NOT_FOUND, f"No {collection.name} match the filters")},
        )
    text, example = gateway_answer("REQUEST_TOO_LARGE")
    responses[str(gateway_status["REQUEST_TOO_LARGE"])] = _error_response(text + ".", {"too large": example})
    if kind == "get":
        malformed = {"uuid": _refusal(layer, lambda: layer["parse"].uuid("123456789"))}
    else:
        first = next(p for p in dialect.QUERY if p.type in ("integer", "boolean", "string") and p.allowed)
        malformed = {
            "parameter": _refusal(layer, lambda: query({first.name: ["?"]})),
        }
        if collection.name == "songs":
            malformed = {"uuid": _refusal(layer, lambda: query({dialect.IDS.name: ["123456789"]})), **malformed}
    responses["422"] = _error_response(
        "A parameter the API cannot use; the cause names it (a malformed UUID is exactly "
        "`Invalid UUID string: <value>`). Only the first problem found is reported.",
        malformed,
    )
    text, example = gateway_answer("THROTTLED")
    throttled = api.responses["THROTTLED"]
    responses[str(gateway_status["THROTTLED"])] = _error_response(
        text + " (`THROTTLED`, or `QUOTA_EXCEEDED` of a usage plan). Worth retrying after `Retry-After` seconds.",
        {"throttled": example},
        {"Retry-After": {
            "description": f"Seconds to wait before retrying: {throttled.headers['Retry-After']}, the template's "
            "`GatewayResponses` set it on both.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }},
    )  # fmt: skip
    responses["500"] = _error_response(
        "An unexpected failure inside the function, or of the authorizer.",
        {"failure": _error_example(layer, HTTPStatus.INTERNAL_SERVER_ERROR, "The server could not answer this request")},
    )
    retry_after = layer["config"].DynamoDBSettings().retry_after
    unavailable = layer["errors"].ServiceUnavailable("example", retry_after)
    responses[str(unavailable.status.value)] = _error_response(
        "DynamoDB throttled the read, timed out or could not be reached, and retrying within the request's time "
        "budget did not help. Worth retrying after `Retry-After` seconds.",
        {"unavailable": _error_example(layer, unavailable.status, unavailable.cause)},
        {"Retry-After": {
            "description": f"Seconds to wait before retrying (the deployment's `RETRY_AFTER`, {retry_after} by default).",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }},
    )  # fmt: skip
    text, example = gateway_answer("INTEGRATION_TIMEOUT")
    responses[str(gateway_status["INTEGRATION_TIMEOUT"])] = _error_response(text + ".", {"timeout": example})
    operation = {
        "tags": [collection.name],
        "summary": (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else "",
        "description": descriptions[kind],
        "operationId": handler.__name__,
        "parameters": [parameter(declared, layer) for declared in (*parameters, layer["parse"].IF_NONE_MATCH)],
        "responses": dict(sorted(responses.items())),
    }
    if not operation["summary"]:
        raise ValueError(f"{handler.__module__}.{handler.__name__}: give the handler a docstring (its summary)")
    return operation
