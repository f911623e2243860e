"""Settings from the environment, validated once per environment."""

import os
from functools import cache

from pydantic import BaseModel, Field, SecretStr

_VARIABLES = ("TABLE_NAME", "CURSOR_KEY")


class Settings(BaseModel):
    table_name: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$", validation_alias="TABLE_NAME")
    """DynamoDB's rule for table names."""
    cursor_key: SecretStr | None = Field(default=None, min_length=32, validation_alias="CURSOR_KEY")
    """The secret paging cursors are sealed with (list functions only; see ``catalog.cursor``)."""


def settings() -> Settings:
    """The settings of this process's environment.

    On Lambda an environment is a process; the local gateway and the tests host several functions,
    each with its own environment (only the list function has ``CURSOR_KEY``), in one process.
    """
    return _validated(tuple(os.environ.get(name) for name in _VARIABLES))


@cache
def _validated(values: tuple[str | None, ...]) -> Settings:
    return Settings.model_validate({name: value for name, value in zip(_VARIABLES, values) if value is not None})
