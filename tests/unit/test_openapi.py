"""docs/openapi.json: generated from the code, current, valid OpenAPI 3.0, and true to what the code answers."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from catalog import shape
from catalog.http import error_response
from catalog.parse import songs, soundtracks
from devtools.openapi.document import DOCUMENT_PATH, build, render
from devtools.template import api as template_api

COMMITTED = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def validator(document: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    """A validator for ``schema`` whose ``#/components/...`` references resolve in ``document``."""
    return OAS30Validator({**schema, "components": document["components"]})


def test_the_committed_document_is_the_generated_one(document: dict[str, Any]) -> None:
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(document), (
        "docs/openapi.json differs from what the code generates: run `make openapi` and commit the result"
    )


def test_it_is_a_valid_openapi_3_0_document() -> None:
    assert COMMITTED["openapi"].startswith("3.0.")  # API Gateway imports OpenAPI 2.0 and 3.0 only
    validate(COMMITTED)


def test_the_validator_would_catch_a_broken_document() -> None:
    broken = json.loads(json.dumps(COMMITTED))
    del broken["paths"]["/v1/songs"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_route_of_the_template_is_documented_behind_the_bearer_token(document: dict[str, Any]) -> None:
    routes = {(route.resource, route.method.lower()) for route in template_api.load_api().routes}
    assert {(path, method) for path, method, _ in operations(document)} == routes
    assert len(routes) == 10
    assert document["security"] == [{"CognitoAccessToken": []}]
    scheme = document["components"]["securitySchemes"]["CognitoAccessToken"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert all("security" not in operation for _, _, operation in operations(document))  # none opts out


def test_every_parameter_has_a_type_and_a_description(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for declared in operation["parameters"]:
            assert declared["description"], (path, method, declared["name"])
            assert declared["schema"]["type"] in ("integer", "boolean", "string", "array"), declared


def parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    return next(p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name)


def test_parameters_carry_the_parsers_defaults_and_bounds(document: dict[str, Any]) -> None:
    limit = parameter(document, "/v1/songs", "limit")["schema"]
    assert (limit["default"], limit["minimum"], limit["maximum"]) == (25, 0, songs.MAX_LIMIT)
    offset = parameter(document, "/v1/songs", "offset")["schema"]
    assert (offset["default"], offset["maximum"]) == (0, songs.MAX_OFFSET)
    size = parameter(document, "/api/v1/soundtracks", "size")
    assert (size["schema"]["default"], size["schema"]["minimum"]) == (soundtracks.DEFAULT_SIZE, 1)
    assert f"treated as {soundtracks.MAX_SIZE}" in size["description"]
    assert parameter(document, "/v1/songs", "sortOrder")["schema"]["enum"] == ["asc", "desc"]
    assert parameter(document, "/v1/songs/{songId}", "songId")["required"] is True
    count = {p["name"] for p in document["paths"]["/v1/songs/count"]["get"]["parameters"]}
    assert "offset" not in count and "limit" not in count and "genres" in count


def test_changing_a_bound_in_the_layer_changes_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(songs.LIMIT, "maximum", 50)
    changed = build()
    assert parameter(changed, "/v1/songs", "limit")["schema"]["maximum"] == 50
    assert render(changed) != DOCUMENT_PATH.read_text(encoding="utf-8")  # so the drift test would fail


def examples(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Every example of the document, with the schema it illustrates."""
    for path, method, operation in operations(document):
        for declared in operation["parameters"]:
            if "example" in declared:
                yield f"{method} {path} ?{declared['name']}", declared["schema"], declared["example"]
        for status, response in operation["responses"].items():
            for name, header in response.get("headers", {}).items():
                if "example" in header and header["schema"]["type"] == "string":
                    yield f"{method} {path} {status} {name}", header["schema"], header["example"]
            for media in response.get("content", {}).values():
                if "example" in media:
                    yield f"{method} {path} {status}", media["schema"], media["example"]
                for name, example in media.get("examples", {}).items():
                    yield f"{method} {path} {status} {name}", media["schema"], example["value"]
    for name, schema in document["components"]["schemas"].items():
        if "example" in schema:
            yield f"components {name}", schema, schema["example"]


def test_every_example_fits_its_schema(document: dict[str, Any]) -> None:
    found = list(examples(document))
    assert len(found) > 100  # every response of every operation has one
    for where, schema, example in found:
        errors = [error.message for error in validator(document, schema).iter_errors(example)]
        assert not errors, f"{where}: {errors}"


def test_the_schemas_refuse_what_the_api_never_sends(document: dict[str, Any]) -> None:
    song = document["components"]["schemas"]["Song"]
    example = document["paths"]["/v1/songs/random"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    for bad in ({**example, "moods": None}, {**example, "nftPolicyName": "x"},
                {**example, "createdAt": "2022-04-22T20:47:55Z"}, {k: v for k, v in example.items() if k != "id"}):  # fmt: skip
        assert not validator(document, song).is_valid(bad), bad


def test_every_error_answer_is_the_error_shape(document: dict[str, Any]) -> None:
    error_schema = {"$ref": "#/components/schemas/Error"}
    for path, _method, operation in operations(document):
        statuses = set(operation["responses"])
        assert {"200", "401", "422", "500"} <= statuses, (path, statuses)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == error_schema, (path, status)
    assert "404" in document["paths"]["/v1/songs/{songId}"]["get"]["responses"]
    assert "404" in document["paths"]["/api/v1/soundtracks/random"]["get"]["responses"]
    assert "400" in document["paths"]["/api/v1/soundtracks"]["get"]["responses"]


def test_the_bodies_the_code_builds_fit_the_documented_schemas(document: dict[str, Any]) -> None:
    from http import HTTPStatus

    for status in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY, HTTPStatus.INTERNAL_SERVER_ERROR):
        body = error_response(status, "what went wrong").body
        assert validator(document, {"$ref": "#/components/schemas/Error"}).is_valid(body), body
    assert validator(document, {"$ref": "#/components/schemas/Count"}).is_valid(shape.count(7))
    assert not validator(document, {"$ref": "#/components/schemas/Count"}).is_valid({"count": -1})


def test_every_status_the_layer_raises_is_documented(document: dict[str, Any]) -> None:
    from catalog.errors import ApiError

    def kinds(error: type[ApiError]) -> Iterator[type[ApiError]]:
        for subclass in error.__subclasses__():
            yield subclass
            yield from kinds(subclass)

    documented = {status for _, _, operation in operations(document) for status in operation["responses"]}
    for error in kinds(ApiError):
        assert str(error.status.value) in documented, f"{error.__name__} ({error.status.value}) is in no operation"


def test_integers_declare_their_maximum_and_lists_of_formats_or_enums_one_item_at_least(document: dict[str, Any]) -> None:
    from catalog.parse import MAX_INTEGER

    for path, _method, operation in operations(document):
        for declared in operation["parameters"]:
            schema = declared["schema"]
            if schema["type"] == "integer":  # a 19-digit value is above it, as the parser says (issue 17)
                assert "maximum" in schema, (path, declared["name"])
            if schema["type"] == "array":  # `ids=` (an empty list on the wire) is refused; `genres=` is not
                constrained = "format" in str(schema["items"]) or "enum" in str(schema["items"])
                assert schema.get("minItems") == (1 if constrained else None), (path, declared["name"])
    assert parameter(document, "/api/v1/soundtracks", "page")["schema"]["maximum"] == MAX_INTEGER
    assert parameter(document, "/v1/songs", "mintingStatuses")["schema"]["minItems"] == 1
    assert "minItems" not in parameter(document, "/v1/songs", "genres")["schema"]


def test_soundtracks_filters_declare_the_parsers_grammar_and_empty_sort_values(document: dict[str, Any]) -> None:
    for name in ("name", "artist", "album", "duration", "release_date"):
        declared = next(p for p in soundtracks.QUERY if p.name == name)
        assert parameter(document, "/api/v1/soundtracks", name)["schema"] == {"type": "string", "pattern": declared.pattern}
    # An empty `sort` or `order` is the default, so the enums hold "" (it was accepted but undeclared).
    assert "" in parameter(document, "/api/v1/soundtracks", "sort")["schema"]["enum"]
    assert parameter(document, "/api/v1/soundtracks", "order")["schema"]["enum"] == ["asc", "desc", ""]


def test_every_throttled_answer_declares_retry_after(document: dict[str, Any]) -> None:
    for path, _method, operation in operations(document):
        for status in ("429", "503"):
            header = operation["responses"][status]["headers"]["Retry-After"]
            assert header["required"] is True and header["schema"]["type"] == "integer", (path, status)


def test_every_operation_is_a_conditional_get(document: dict[str, Any]) -> None:
    """Issue 16: every 200 carries a strong ETag and Cache-Control; If-None-Match with it gets 304, no body."""
    for path, _method, operation in operations(document):
        assert parameter(document, path, "If-None-Match")["in"] == "header"
        responses = operation["responses"]
        for status in ("200", "304"):
            headers = responses[status]["headers"]
            assert headers["ETag"]["required"] and headers["Cache-Control"]["required"], (path, status)
            assert headers["Cache-Control"]["schema"]["enum"] == ["private, max-age=0, must-revalidate"]
        assert "content" not in responses["304"], path
        example = responses["200"]["content"]["application/json"]["example"]
        assert responses["200"]["headers"]["ETag"]["example"] == shape_tag(example), path


def shape_tag(body: object) -> str:
    from catalog.http import entity_tag

    return entity_tag(json.dumps(body, separators=(",", ":"), ensure_ascii=False))


def test_the_genres_routes_take_the_songs_filters_and_their_own_order_and_paging(document: dict[str, Any]) -> None:
    listed = {p["name"] for p in document["paths"]["/v1/songs"]["get"]["parameters"]} - {"cursor"}
    assert {p["name"] for p in document["paths"]["/v1/songs/genres"]["get"]["parameters"]} == listed
    counted = {p["name"] for p in document["paths"]["/v1/songs/genres/count"]["get"]["parameters"]}
    assert counted == listed - {"offset", "limit"}
    assert parameter(document, "/v1/songs/genres", "sortOrder")["schema"]["default"] == "desc"  # most songs first
    assert parameter(document, "/v1/songs", "sortOrder")["schema"]["default"] == "asc"
    limit = parameter(document, "/v1/songs/genres", "limit")["schema"]
    assert (limit["default"], limit["maximum"]) == (25, songs.MAX_LIMIT)
    answer = document["paths"]["/v1/songs/genres"]["get"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == {"type": "array", "items": {"type": "string"}}
    count = document["paths"]["/v1/songs/genres/count"]["get"]["responses"]["200"]["content"]["application/json"]
    assert count["schema"] == {"$ref": "#/components/schemas/Count"}
