"""Pydantic's JSON Schema 2020-12, rewritten in OpenAPI 3.0's dialect (API Gateway imports 2.0 and 3.0 only)."""

from __future__ import annotations

from typing import Any

COMPONENT_REF = "#/components/schemas/{model}"


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
    converted: dict[str, Any] = {}
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


def model_schemas(models: list[type], always_present: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The models' serialization schemas, and the enums they use, as OpenAPI 3.0 components."""
    from pydantic.json_schema import models_json_schema

    _, top = models_json_schema([(model, "serialization") for model in models], by_alias=True, ref_template=COMPONENT_REF)
    components = {}
    for name, schema in (top.get("$defs") or {}).items():
        schema = openapi30(schema)
        extra = always_present.get(name, ())
        if extra:
            required = set(schema.get("required", ())) | set(extra)
            schema["required"] = [field for field in schema["properties"] if field in required]
        components[name] = schema
    return components
