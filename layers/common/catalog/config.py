"""Settings from the environment, validated once per process.

Plain classes, not a pydantic model: importing pydantic and building a model class cost every
function about 70 ms of cold start (measured with ``devtools.bench.cold_start``), for a handful
of string checks. Not dataclasses either: generating their methods at import costs about a
millisecond each.
"""

import os
import re
from functools import cache

_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
"""DynamoDB's rule for table names."""
CURSOR_KEY_MIN_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The function's environment is wrong: a deployment fault, answered as 500."""


class Secret:
    """A secret that logs and reprs as ``**********``; ``get_secret_value()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


class Settings:
    """What a function reads from its environment, checked when read."""

    __slots__ = ("table_name", "cursor_key")

    def __init__(self, table_name: str, cursor_key: str | None = None) -> None:
        if not _TABLE_NAME.fullmatch(table_name):
            raise ConfigurationError(f"TABLE_NAME {table_name!r} is not a DynamoDB table name")
        if cursor_key is not None and len(cursor_key) < CURSOR_KEY_MIN_LENGTH:
            raise ConfigurationError(f"CURSOR_KEY is shorter than {CURSOR_KEY_MIN_LENGTH} characters")
        self.table_name = table_name
        self.cursor_key = Secret(cursor_key) if cursor_key is not None else None
        """The secret paging cursors are sealed with (list functions only; see ``catalog.cursor``)."""


def settings() -> Settings:
    """The settings of this process's environment.

    Validated once per distinct environment rather than once per process: on Lambda that is the
    same thing, but the local gateway and the tests host several functions, each with its own
    environment (only the list function has ``CURSOR_KEY``), in one process.
    """
    return _validated(os.environ.get("TABLE_NAME"), os.environ.get("CURSOR_KEY"))


@cache
def _validated(table_name: str | None, cursor_key: str | None) -> Settings:
    if table_name is None:
        raise ConfigurationError("the environment variable TABLE_NAME is not set")
    return Settings(table_name, cursor_key)


settings.cache_clear = _validated.cache_clear  # type: ignore[attr-defined]  # as with functools.cache
