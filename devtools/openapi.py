"""The API's OpenAPI 3.0 document, generated from the code: ``python -m devtools.openapi`` writes
``docs/openapi.json`` (``make openapi``); ``--check`` only says whether the committed file is current.

Nothing in it is written by hand twice:

- the operations are the routes ``template.yaml`` gives API Gateway, each served by the Powertools
  resolver of its function (``functions/<kind>/app.py``): the handler's name is the operation id and
  its docstring the summary; a route the template declares and no resolver serves is an error;
- the parameters are the layer's declarations (``catalog.parse.songs``, ``catalog.parse.soundtracks``),
  the very objects the parsers read their defaults and bounds from;
- the response bodies are the pydantic models of ``catalog.model`` in serialization mode, by alias,
  as clients see the JSON (fields without a value are left out, so none is nullable);
- the error statuses are the layer's own answers plus the template's ``GatewayResponses`` that apply
  to an authorized GET; the error examples are what the parsers answer to bad input.

Pydantic generates JSON Schema 2020-12 (Powertools' own generator forces OpenAPI 3.1 for that
reason); API Gateway imports only OpenAPI 2.0 and 3.0, so the schemas are rewritten in 3.0's dialect.
This runs at development time only: the functions never import pydantic on their read path.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tomllib
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

from devtools import REPO_ROOT
from devtools.template import api as template_api

DOCUMENT_PATH = REPO_ROOT / "docs" / "openapi.json"
OPENAPI_VERSION = "3.0.3"
SECURITY_SCHEME = "CognitoAccessToken"
COMPONENT_REF = "#/components/schemas/{model}"

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
_KINDS = ("list", "count", "get", "random")


def _layer() -> dict[str, ModuleType]:
    """The layer's modules the document is made of (imported late: the layer must be on ``sys.path``)."""
    for path in template_api.load_api().layer_paths:
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    names = ("catalog.http", "catalog.errors", "catalog.config", "catalog.parse", "catalog.parse.songs", "catalog.parse.soundtracks",
             "catalog.model.song", "catalog.model.soundtrack", "catalog.model.bodies")  # fmt: skip
    return {name.removeprefix("catalog."): importlib.import_module(name) for name in names}


# --- JSON Schema 2020-12 (pydantic) to OpenAPI 3.0 --------------------------------------------------


def openapi30(schema: Any) -> Any:
    """A pydantic JSON schema in OpenAPI 3.0's dialect: no ``null`` type (the API omits absent fields
    rather than sending null), numeric exclusive bounds as 3.0's booleans, ``$ref`` alone in its
    object, ``examples`` as ``example``, no ``title`` (the component name says it)."""
    if isinstance(schema, list):
        return [openapi30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    for key in ("title", "$defs"):
        schema.pop(key, None)
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    variants = schema.get("anyOf")
    if variants is not None:
        kept = [variant for variant in variants if variant != {"type": "null"}]
        del schema["anyOf"]
        if len(kept) == 1:
            schema = {**kept[0], **schema}
        else:
            schema["anyOf"] = kept
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(schema.get(bound), int | float) and not isinstance(schema.get(bound), bool):
            schema[inclusive], schema[bound] = schema[bound], True
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    if "examples" in schema:
        schema["example"] = schema.pop("examples")[0]
    converted = {}
    for key, value in schema.items():
        if key == "properties":  # names, not keywords: each maps to a schema
            converted[key] = {name: openapi30(property_schema) for name, property_schema in value.items()}
        elif key in ("example", "enum", "default"):
            converted[key] = value
        else:
            converted[key] = openapi30(value)
    if "$ref" in converted and len(converted) > 1:
        reference = {"$ref": converted.pop("$ref")}
        converted = {"allOf": [reference], **converted}
    if "description" in converted:
        converted = {"description": converted.pop("description"), **converted}
    return converted


def _model_schemas(models: list[type], always_present: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The models' serialization schemas, and the enums they use, as OpenAPI 3.0 components."""
    from pydantic.json_schema import models_json_schema

    _, top = models_json_schema([(model, "serialization") for model in models], by_alias=True,
                                ref_template=COMPONENT_REF)  # fmt: skip
    components = {}
    for name, schema in (top.get("$defs") or {}).items():
        schema = openapi30(schema)
        extra = always_present.get(name, ())
        if extra:
            required = set(schema.get("required", ())) | set(extra)
            schema["required"] = [field for field in schema["properties"] if field in required]
        components[name] = schema
    return components


# --- parameters ------------------------------------------------------------------------------------


def _text(declared: Any) -> dict[str, Any]:
    """The schema of a string parameter, or of a list's items (their ``+``/``-`` prefix is in the description):
    its format, or one of its allowed values, or either."""
    formatted = {"type": "string", "format": declared.format} if declared.format else None
    listed = {"type": "string", "enum": list(declared.allowed)} if declared.allowed else None
    if formatted and listed:
        return {"anyOf": [formatted, listed]}
    return formatted or listed or {"type": "string"}


def parameter(declared: Any, layer: dict[str, ModuleType]) -> dict[str, Any]:
    """A layer :class:`catalog.parse.Parameter` as an OpenAPI 3.0 parameter object."""
    parse = layer["parse"]
    if declared.type == "integer":
        schema: dict[str, Any] = {"type": "integer"}
        if declared.minimum is not None:
            schema["minimum"] = declared.minimum
        if declared.maximum is not None:
            schema["maximum"] = declared.maximum
    elif declared.type == "boolean":
        schema = {"type": "boolean"}
    elif declared.type == "string":
        schema = _text(declared)
    elif declared.type == "list":
        # No minItems: Swagger UI would then refuse to send a request that leaves the list out.
        schema = {"type": "array", "items": _text(declared), "maxItems": parse.MAX_LIST_ITEMS}
    else:
        raise ValueError(f"{declared.name}: no OpenAPI form for a parameter of type {declared.type!r}")
    if declared.default is not None:
        schema["default"] = declared.default
    description = declared.description
    if declared.type == "integer" and declared.maximum is None:
        description += f" At most {parse.MAX_INTEGER_DIGITS} digits."
    result: dict[str, Any] = {"name": declared.name, "in": declared.location, "description": description}
    if declared.location == "path":
        result["required"] = True
    if declared.type == "list":
        result["style"], result["explode"] = "form", False
    result["schema"] = schema
    if declared.example is not None:
        # A list's example as the client writes it (``Pop,-Rock``) is, in the schema's terms, an array.
        result["example"] = declared.example.split(",") if declared.type == "list" else declared.example
    return result


# --- responses -------------------------------------------------------------------------------------


def _error_example(layer: dict[str, ModuleType], status: HTTPStatus, cause: str) -> dict[str, Any]:
    return layer["http"].error_response(status, cause).body


def _refusal(layer: dict[str, ModuleType], call: Callable[[], object]) -> dict[str, Any]:
    """What the layer answers to a bad request: the parser is called, and its refusal shaped as the API sends it."""
    try:
        call()
    except layer["errors"].ApiError as error:
        return _error_example(layer, error.status, error.cause)
    raise AssertionError(f"{call} accepted what should be refused")


def _error_response(description: str, examples: dict[str, dict[str, Any]],
                    headers: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    content: dict[str, Any] = {"schema": {"$ref": COMPONENT_REF.format(model="Error")}}
    if len(examples) == 1:
        content["example"] = next(iter(examples.values()))
    else:
        content["examples"] = {name: {"value": value} for name, value in examples.items()}
    return {"description": description, **({"headers": headers} if headers else {}),
            "content": {"application/json": content}}  # fmt: skip


class _Collection:
    """What the document says about one collection: its dialect, its model, its list headers."""

    def __init__(self, name: str, prefix: str, dialect: ModuleType, model: str, example: dict, id_parameter: Any,
                 list_headers: dict[str, Any], tag: str) -> None:  # fmt: skip
        self.name, self.prefix, self.dialect, self.model = name, prefix, dialect, model
        self.example, self.id_parameter, self.list_headers, self.tag = example, id_parameter, list_headers, tag


def _collections(layer: dict[str, ModuleType]) -> list[_Collection]:
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
        _Collection(
            "songs", "/v1/songs", songs, "Song", layer["model.song"].SONG_EXAMPLE, songs.SONG_ID, {"Link": link},
            "Songs: the Get Songs and Get Song Count documents, camelCase, offset/limit paging.",
        ),
        _Collection(
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


def _operation(kind: str, collection: _Collection, handler: Callable, api: template_api.Api,
               layer: dict[str, ModuleType]) -> dict[str, Any]:  # fmt: skip
    dialect, model_ref = collection.dialect, {"$ref": COMPONENT_REF.format(model=collection.model)}
    singular = collection.name.removesuffix("s")
    parameters = {
        "list": (*dialect.QUERY, *dialect.PAGING),
        "count": dialect.QUERY,
        "random": dialect.QUERY,
        "get": (collection.id_parameter,),
    }[kind]
    descriptions = {
        "list": f"Answers a bare JSON array of {collection.name}, possibly empty, in a stable total order. Unknown "
        "parameters are ignored; a scalar parameter given twice with different values is 422.",
        "count": 'Takes the filters of the list, with the same rules and errors, and answers `{"count": N}`. '
        "Paging parameters are ignored.",
        "get": f"Answers one {singular}. A malformed id is 422; an unknown id is 404.",
        "random": f"Takes the filters of the list, with the same rules and errors, and answers one {singular} drawn "
        f"uniformly at random from the matching {collection.name}; 404 when none matches. Paging is ignored.",
    }
    if kind == "list":
        success: dict[str, Any] = {
            "description": f"A page of {collection.name}.",
            "headers": collection.list_headers,
            "content": {"application/json": {"schema": {"type": "array", "items": model_ref},
                                             "example": [collection.example]}},
        }  # fmt: skip
    elif kind == "count":
        success = {"description": f"How many {collection.name} match.",
                   "content": {"application/json": {"schema": {"$ref": COMPONENT_REF.format(model="Count")},
                                                    "example": layer["model.bodies"].COUNT_EXAMPLE}}}  # fmt: skip
    else:
        success = {"description": f"One {singular}.",
                   "content": {"application/json": {"schema": model_ref, "example": collection.example}}}  # fmt: skip

    query = {"songs": lambda parameters: dialect.query(parameters, None),
             "soundtracks": dialect.query}[collection.name]  # fmt: skip
    responses: dict[str, Any] = {"200": success}
    gateway_status = {name: api.responses[name].status for name in _GATEWAY_RESPONSES}

    def gateway_answer(name: str) -> tuple[str, dict[str, Any]]:
        """The template's body for a gateway response, with an example of API Gateway's message in it."""
        body = api.responses[name].template.replace("$context.error.messageString", json.dumps(_GATEWAY_CAUSES[name]))
        return _GATEWAY_RESPONSES[name], json.loads(body)

    bad_request = {"gateway": gateway_answer("DEFAULT_4XX")[1]}
    bad_request_text = f"{gateway_answer('DEFAULT_4XX')[0]}."
    if kind == "list":
        position = dialect.PAGING[0]
        bad_request = {
            "cursor": _refusal(layer, lambda: layer["parse"].cursor({"cursor": ["x"], position.name: ["1"]}, position)),
            **bad_request,
        }
        bad_request_text = (f"`cursor` given with `{position.name}`, or a cursor this API did not issue for this "
                            f"query. Or: {bad_request_text}")  # fmt: skip
    responses[str(gateway_status["DEFAULT_4XX"])] = _error_response(bad_request_text, bad_request)
    unauthorized_text, unauthorized = gateway_answer("UNAUTHORIZED")
    unauthorized_text += " (API Gateway's Cognito authorizer)."
    if collection.name == "songs" and kind != "get":
        unauthorized_text += " Also `ownerIds=me` where no authorizer ran (never behind API Gateway)."
    responses[str(gateway_status["UNAUTHORIZED"])] = _error_response(unauthorized_text, {"token": unauthorized})
    if kind == "get":
        missing = _error_example(layer, HTTPStatus.NOT_FOUND, f"Entity with id {collection.id_parameter.example} not found")
        responses["404"] = _error_response(f"No {singular} has that id (cause names it in lower case).",
                                           {"missing": missing})  # fmt: skip
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
    responses[str(gateway_status["THROTTLED"])] = _error_response(text + ".", {"throttled": example})
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
        "parameters": [parameter(declared, layer) for declared in parameters],
        "responses": dict(sorted(responses.items())),
    }
    if not operation["summary"]:
        raise ValueError(f"{handler.__module__}.{handler.__name__}: give the handler a docstring (its summary)")
    return operation


# --- the document ----------------------------------------------------------------------------------


def _handler(route: template_api.Route) -> Callable:
    """The function serving ``route`` in its Powertools resolver (the resolver's routes are private;
    Powertools' own OpenAPI generator reads them the same way)."""
    resolver = importlib.import_module(route.function.module).app
    served = [candidate for candidate in resolver._static_routes + resolver._dynamic_routes  # noqa: SLF001
              if candidate.method == route.method and candidate.openapi_path == route.resource]  # fmt: skip
    if len(served) != 1:
        raise ValueError(f"{route.method} {route.resource}: {route.function.module} serves it {len(served)} times")
    return served[0].func


def build() -> dict[str, Any]:
    """The document, as a dict ready for ``json.dumps``."""
    layer = _layer()
    api = template_api.load_api()
    collections = _collections(layer)
    paths: dict[str, dict[str, Any]] = {}
    order: dict[str, tuple[int, int]] = {}
    scopes: set[str] = set()
    for route in api.routes:
        kind = route.function.module.split(".")[1]
        if kind not in _KINDS:
            raise ValueError(f"{route.function.module}: not one of the documented kinds {_KINDS}")
        collection = next((c for c in collections if route.resource.startswith(c.prefix)), None)
        if collection is None:
            raise ValueError(f"{route.resource}: under no documented collection")
        scopes.update(route.scopes or ())
        declared_path = {p.name for p in ([collection.id_parameter] if kind == "get" else [])}
        placeholders = {segment[1:-1] for segment in route.resource.split("/") if segment.startswith("{")}
        if declared_path != placeholders:
            raise ValueError(f"{route.resource}: path parameters {placeholders}, declared {declared_path}")
        operation = _operation(kind, collection, _handler(route), api, layer)
        paths.setdefault(route.resource, {})[route.method.lower()] = operation
        order[route.resource] = (collections.index(collection), _KINDS.index(kind))
    paths = {path: paths[path] for path in sorted(paths, key=order.__getitem__)}

    bodies, song, soundtrack = layer["model.bodies"], layer["model.song"], layer["model.soundtrack"]
    schemas = _model_schemas(
        [song.Song, soundtrack.Soundtrack, bodies.Count, bodies.Error],
        # The model fills href from uuid on every record, so every answer has it.
        always_present={"Soundtrack": ("href",)},
    )
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    scope_text = ", ".join(f"`{scope}`" for scope in sorted(scopes))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Songs and soundtracks catalog API",
            "version": pyproject["project"]["version"],
            "description": "A read-only API over a catalog of songs (`/v1/songs`) and soundtracks "
            "(`/api/v1/soundtracks`): list with filters, sorting and paging, count, get by id, pick at random. "
            "Generated from the code by `make openapi`; the reference with every decision is docs/API.md. "
            "Every error body, API Gateway's own answers included, is `{code, description, cause}`.",
        },
        "servers": [
            {"url": "/", "description": "The local gateway of `make run` (http://127.0.0.1:3000), without a stage."},
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
                "description": "A deployment: the stack output `ApiUrl`.",
                "variables": {
                    "apiId": {"default": "abcdef1234", "description": "The REST API's id."},
                    "region": {"default": "eu-west-1"},
                    "stage": {"default": api.stage, "description": "The template's `StageName`."},
                },
            },
        ],
        "tags": [{"name": c.name, "description": c.tag} for c in collections],
        "security": [{SECURITY_SCHEME: []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": f"`Authorization: Bearer <access token>`: a Cognito user pool access token with the "
                    f"scope {scope_text}, as `InitiateAuth` issues them; ID tokens are refused. Its `sub` is the "
                    "caller (`ownerIds=me`).",
                },
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--check", action="store_true", help="exit 1 if the committed document is not current")
    arguments.add_argument("--output", type=Path, default=DOCUMENT_PATH)
    options = arguments.parse_args(argv)
    text = render(build())
    if options.check:
        current = options.output.exists() and options.output.read_text(encoding="utf-8") == text
        print(f"{options.output}: {'current' if current else 'stale, run `make openapi`'}")
        return 0 if current else 1
    options.output.write_text(text, encoding="utf-8")
    print(f"wrote {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
