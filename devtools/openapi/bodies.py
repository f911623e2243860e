"""The answers that are not records: a count, genre names, and the error body every 4xx/5xx carries.

At run time these bodies are plain dicts (``catalog.shape.count``, ``catalog.http.error_response``):
the read path does not import pydantic. These models describe them for the OpenAPI document
(``devtools/openapi/``), and the tests check that what the code answers fits them.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

COUNT_EXAMPLE: dict[str, Any] = {"count": 300}
GENRES_EXAMPLE = ["Pop", "Rock", "Synthwave"]
"""A page of ``GET /v1/songs/genres``: a bare array of names (no model: a list of strings)."""
ERROR_EXAMPLE: dict[str, Any] = {"code": 422, "description": "Unprocessable Entity", "cause": "Invalid UUID string: 123456789"}


class Count(BaseModel):
    """How many items match the filters."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, json_schema_extra={"examples": [COUNT_EXAMPLE]})

    count: int = Field(ge=0)
    """The number of matching items."""


class Error(BaseModel):
    """The body of every error answer, the function's and API Gateway's own alike."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, json_schema_extra={"examples": [ERROR_EXAMPLE]})

    code: int = Field(ge=400, le=599)
    """The HTTP status code."""
    description: str
    """The status's reason phrase (`Unprocessable Entity` for 422, as the contract spells it)."""
    cause: str
    """What went wrong."""
