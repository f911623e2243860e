"""Settings from the environment, validated once per process.

Plain classes, not a pydantic model: importing pydantic and building a model class cost every
function about 70 ms of cold start (measured with ``devtools.bench.cold_start``), for a handful
of string checks. Not dataclasses either: generating their methods at import costs about a
millisecond each.
"""

import os
import re
from functools import cache
from typing import Any

_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
"""DynamoDB's rule for table names."""
CURSOR_KEY_MIN_LENGTH = 32
RETRY_MODES = ("standard", "adaptive")
INTEGRATION_TIMEOUT_S = 29.0
"""API Gateway's REST integration timeout: past it the client gets API Gateway's 504, not our 503."""


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
    """What an API function reads from its environment, checked when read."""

    __slots__ = ("table_name", "counters_table_name", "cursor_key")

    def __init__(self, table_name: str | None, counters_table_name: str | None, cursor_key: str | None = None) -> None:
        self.table_name = table_name_of("TABLE_NAME", table_name)
        """The catalog: records, postings and their indexes."""
        self.counters_table_name = table_name_of("COUNTERS_TABLE_NAME", counters_table_name)
        """The counts the counter function keeps (``catalog.counting``)."""
        if cursor_key is not None and len(cursor_key) < CURSOR_KEY_MIN_LENGTH:
            raise ConfigurationError(f"CURSOR_KEY is shorter than {CURSOR_KEY_MIN_LENGTH} characters")
        self.cursor_key = Secret(cursor_key) if cursor_key is not None else None
        """The secret paging cursors are sealed with (list functions only; see ``catalog.cursor``)."""


def table_name_of(variable: str, value: str | None) -> str:
    """The table name an environment variable holds, checked against DynamoDB's rule."""
    if value is None:
        raise ConfigurationError(f"the environment variable {variable} is not set")
    if not _TABLE_NAME.fullmatch(value):
        raise ConfigurationError(f"{variable} {value!r} is not a DynamoDB table name")
    return value


class DynamoDBSettings:
    """How the API's DynamoDB client waits and retries, and how long one request's reads may take.

    Environment (all optional; the defaults fit the functions' 10 s timeout):

    - ``DYNAMODB_RETRY_MODE``: botocore's retry mode, ``standard`` (default) or ``adaptive``
      (standard plus a client-side rate limiter that may also wait before sending).
    - ``DYNAMODB_MAX_ATTEMPTS`` (3): attempts per call, the first included (1 to 10).
    - ``DYNAMODB_CONNECT_TIMEOUT`` (1 s) and ``DYNAMODB_READ_TIMEOUT`` (2 s): botocore's socket
      timeouts for one attempt.
    - ``DYNAMODB_BACKOFF_SCALE`` (1): multiplies botocore's backoff between attempts (jittered,
      doubling; 1 s base for throttling, 25 ms otherwise). Tests set it near 0.
    - ``DYNAMODB_TIME_BUDGET`` (5 s): no attempt starts (and no backoff sleeps) past this much time
      after the request began, whatever the number of calls a request makes (Query pages,
      BatchGetItem). So a request's DynamoDB work ends within the budget plus one attempt
      (connect + read timeout), and never later than ``catalog.budget.ANSWER_RESERVE_S`` before
      the function's timeout (taken from the Lambda context at each request).
    - ``RETRY_AFTER`` (1 s): the ``Retry-After`` of a 503 answer, whole seconds (1 to 3600).
    """

    __slots__ = ("retry_mode", "max_attempts", "connect_timeout", "read_timeout", "backoff_scale", "time_budget", "retry_after")

    def __init__(
        self,
        *,
        retry_mode: str = "standard",
        max_attempts: int = 3,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        backoff_scale: float = 1.0,
        time_budget: float = 5.0,
        retry_after: int = 1,
    ) -> None:
        if retry_mode not in RETRY_MODES:
            raise ConfigurationError(f"DYNAMODB_RETRY_MODE {retry_mode!r} is not one of {', '.join(RETRY_MODES)}")
        _check_range("DYNAMODB_MAX_ATTEMPTS", max_attempts, 1, 10)
        _check_range("DYNAMODB_CONNECT_TIMEOUT", connect_timeout, 0.01, 10.0)
        _check_range("DYNAMODB_READ_TIMEOUT", read_timeout, 0.01, 20.0)
        _check_range("DYNAMODB_BACKOFF_SCALE", backoff_scale, 0.0, 10.0)
        _check_range("DYNAMODB_TIME_BUDGET", time_budget, 0.01, INTEGRATION_TIMEOUT_S)
        _check_range("RETRY_AFTER", retry_after, 1, 3600)
        if time_budget + connect_timeout + read_timeout >= INTEGRATION_TIMEOUT_S:
            raise ConfigurationError(
                f"DYNAMODB_TIME_BUDGET + DYNAMODB_CONNECT_TIMEOUT + DYNAMODB_READ_TIMEOUT must stay under "
                f"API Gateway's {INTEGRATION_TIMEOUT_S:g} s integration timeout"
            )
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.backoff_scale = backoff_scale
        self.time_budget = time_budget
        self.retry_after = retry_after

    @property
    def attempt_limit(self) -> float:
        """The longest one attempt can wait on the network: connecting, then reading."""
        return self.connect_timeout + self.read_timeout

    @property
    def worst_case(self) -> float:
        """The longest a request's DynamoDB work can take (the budget, then one last attempt)."""
        return self.time_budget + self.attempt_limit


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigurationError(f"{name} {value!r} is outside {low:g} to {high:g}")


def _number(name: str, kind: type, raw: str | None) -> float | int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name} {raw!r} is not {'a whole number' if kind is int else 'a number'}") from None


_DYNAMODB_VARIABLES = (
    ("DYNAMODB_RETRY_MODE", "retry_mode", str),
    ("DYNAMODB_MAX_ATTEMPTS", "max_attempts", int),
    ("DYNAMODB_CONNECT_TIMEOUT", "connect_timeout", float),
    ("DYNAMODB_READ_TIMEOUT", "read_timeout", float),
    ("DYNAMODB_BACKOFF_SCALE", "backoff_scale", float),
    ("DYNAMODB_TIME_BUDGET", "time_budget", float),
    ("RETRY_AFTER", "retry_after", int),
)


def dynamodb_settings() -> DynamoDBSettings:
    """The DynamoDB client settings of this process's environment, validated once per distinct environment."""
    return _dynamodb_validated(tuple(os.environ.get(name) for name, _, _ in _DYNAMODB_VARIABLES))


@cache
def _dynamodb_validated(raw: tuple[str | None, ...]) -> DynamoDBSettings:
    given: dict[str, Any] = {}  # each field's value, of its own type
    parsed: str | float | None
    for (name, field, kind), value in zip(_DYNAMODB_VARIABLES, raw):
        if kind is str:
            parsed = value.strip() if value and value.strip() else None
        else:
            parsed = _number(name, kind, value)
        if parsed is not None:
            given[field] = parsed
    return DynamoDBSettings(**given)


def settings() -> Settings:
    """The settings of this process's environment.

    Validated once per distinct environment rather than once per process: on Lambda that is the
    same thing, but the local gateway and the tests host several functions, each with its own
    environment (only the list function has ``CURSOR_KEY``), in one process.
    """
    return _validated(os.environ.get("TABLE_NAME"), os.environ.get("COUNTERS_TABLE_NAME"), os.environ.get("CURSOR_KEY"))


@cache
def _validated(table_name: str | None, counters_table_name: str | None, cursor_key: str | None) -> Settings:
    return Settings(table_name, counters_table_name, cursor_key)


def forget_settings() -> None:
    """Forget every environment validated so far: the next ``settings()`` and ``dynamodb_settings()``
    validate the environment again (for the tests, which change it)."""
    _validated.cache_clear()
    _dynamodb_validated.cache_clear()
