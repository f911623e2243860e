"""A query parameter of the document, from the layer's declaration of it (the object the parser reads)."""

from __future__ import annotations

from types import ModuleType
from typing import Any


def _text(declared: Any) -> dict[str, Any]:
    """The schema of a string parameter, or of a list's items (their ``+``/``-`` prefix is in the description):
    its format, or one of its allowed values, or either; or the grammar its ``pattern`` spells."""
    formatted = {"type": "string", "format": declared.format} if declared.format else None
    listed = {"type": "string", "enum": list(declared.allowed)} if declared.allowed else None
    if formatted and listed:
        return {"anyOf": [formatted, listed]}
    if declared.pattern:
        return {"type": "string", "pattern": declared.pattern}
    return formatted or listed or {"type": "string"}


def parameter(declared: Any, layer: dict[str, ModuleType]) -> dict[str, Any]:
    """A layer :class:`catalog.parse.Parameter` as an OpenAPI 3.0 parameter object."""
    parse = layer["parse"]
    if declared.type == "integer":
        schema: dict[str, Any] = {"type": "integer"}
        if declared.minimum is not None:
            schema["minimum"] = declared.minimum
        schema["maximum"] = parse.MAX_INTEGER if declared.maximum is None else declared.maximum
    elif declared.type == "boolean":
        schema = {"type": "boolean"}
    elif declared.type == "string":
        schema = _text(declared)
    elif declared.type == "list":
        schema = {"type": "array", "items": _text(declared), "maxItems": parse.MAX_LIST_ITEMS}
        if declared.format or declared.allowed:
            # An empty list goes on the wire as `name=`: one empty item, which items of a format or an enum
            # refuse (422), so the document asks for one item at least. Lists of free text (genres, moods)
            # take `name=` as the empty item, which matches nothing.
            schema["minItems"] = 1
    else:
        raise ValueError(f"{declared.name}: no OpenAPI form for a parameter of type {declared.type!r}")
    if declared.default is not None:
        schema["default"] = declared.default
    description = declared.description
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
