"""A query parameter of the document, from the layer's declaration of it (the object the parser reads)."""

from __future__ import annotations

from types import ModuleType
from typing import Any


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
