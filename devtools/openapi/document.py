"""The API's OpenAPI 3.0 document, generated from the code: ``python -m devtools.cli.openapi`` writes
``docs/openapi.json`` (``make openapi``); ``--check`` only says whether the committed file is current.

Nothing in it is written by hand twice:

- the operations are the routes ``template.yaml`` gives API Gateway, each served by the Powertools
  resolver of its function (``functions/<kind>/app.py``): the handler's name is the operation id and
  its docstring the summary; a route the template declares and no resolver serves is an error;
- the parameters are the layer's declarations (``catalog.parse.songs``, ``catalog.parse.soundtracks``),
  the very objects the parsers read their defaults and bounds from;
- the response bodies are the pydantic models of ``importer.model`` and ``bodies`` in serialization mode, by alias,
  as clients see the JSON (fields without a value are left out, so none is nullable);
- the error statuses are the layer's own answers plus the template's ``GatewayResponses`` that apply
  to an authorized GET; the error examples are what the parsers answer to bad input.

Pydantic generates JSON Schema 2020-12 (Powertools' own generator forces OpenAPI 3.1 for that
reason); API Gateway imports only OpenAPI 2.0 and 3.0, so the schemas are rewritten in 3.0's dialect.
This runs at development time only: the functions never import pydantic on their read path.
"""

from __future__ import annotations

import importlib
import json
import sys
import tomllib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from devtools import REPO_ROOT
from devtools.openapi import operations
from devtools.openapi.schemas import model_schemas
from devtools.template import api as template_api

DOCUMENT_PATH = REPO_ROOT / "docs" / "openapi.json"
OPENAPI_VERSION = "3.0.3"
SECURITY_SCHEME = "CognitoAccessToken"
_KINDS = ("list", "count", "genres", "genre_count", "get", "random")
"""The kinds of operation, in the order the document lists a collection's paths."""


def _kind(route: template_api.Route) -> str:
    """What an operation does: its function's kind (``functions/<kind>/``), or, for the songs' genres routes
    those functions also serve, ``genres`` and ``genre_count``."""
    kind = route.function.module.split(".")[1]
    if route.resource.endswith("/genres"):
        return "genres"
    if route.resource.endswith("/genres/count"):
        return "genre_count"
    return kind


def _layer() -> dict[str, ModuleType]:
    """The modules the document is made of, by short name: the layer's, the records' models
    (``importer.model``) and the other bodies (imported late: the layer must be on ``sys.path``)."""
    for path in template_api.load_api().layer_paths:
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    names = ("catalog.http", "catalog.errors", "catalog.config", "catalog.parse", "catalog.parse.songs", "catalog.parse.soundtracks",
             "importer.model.song", "importer.model.soundtrack")  # fmt: skip
    modules = {name.split(".", 1)[1]: importlib.import_module(name) for name in names}
    return {**modules, "model.bodies": importlib.import_module("devtools.openapi.bodies")}


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
    collections = operations.collections_of(layer)
    paths: dict[str, dict[str, Any]] = {}
    order: dict[str, tuple[int, int]] = {}
    scopes: set[str] = set()
    for route in api.routes:
        kind = _kind(route)
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
        operation = operations.operation(kind, collection, _handler(route), api, layer)
        paths.setdefault(route.resource, {})[route.method.lower()] = operation
        order[route.resource] = (collections.index(collection), _KINDS.index(kind))
    paths = {path: paths[path] for path in sorted(paths, key=order.__getitem__)}

    bodies, song, soundtrack = layer["model.bodies"], layer["model.song"], layer["model.soundtrack"]
    schemas = model_schemas(
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
            "(`/api/v1/soundtracks`): list with filters, sorting and paging, count, get by id, pick at random; the "
            "genres of the matching songs and their number. "
            "Generated from the code by `make openapi`; the reference with every decision is docs/API.md. "
            "Every error body, API Gateway's own answers included, is `{code, description, cause}`. Every 200 answer "
            "carries a strong `ETag` and `Cache-Control: private, max-age=0, must-revalidate`; sent back in "
            "`If-None-Match`, the tag gets 304 Not Modified with no body while the answer is the same.",
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
