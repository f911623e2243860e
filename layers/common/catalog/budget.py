"""The time one request's DynamoDB work may take, and botocore's retries held to it.

botocore's standard (or adaptive) retry mode decides what is retried (throttling, timeouts,
connection errors, DynamoDB's 5xx) and how long to back off. Two things are added here, on the
API's client only:

- a **deadline per request**, not per call: a request may make several calls (a Query and a
  BatchGetItem, Query pages). :func:`begin` marks the request's start. Past the deadline no
  attempt starts (:class:`BudgetExhausted`; the request's very first attempt always does) and no
  retry waits (the last error stands); the store answers either as 503. The deadline is the
  request's start plus ``DYNAMODB_TIME_BUDGET``, or earlier when the Lambda context says the
  function's timeout would not leave one more attempt and :data:`ANSWER_RESERVE_S` to answer;
- a **scale** on botocore's backoff (``DYNAMODB_BACKOFF_SCALE``), so tests can retry without waiting.

It counts the attempts each request made, for the log line of a failure.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog.config import DynamoDBSettings

ANSWER_RESERVE_S = 1.0
"""Kept back from the function's timeout: time to log and answer 503 after the last attempt."""
_RETRY_HANDLER_ID = "retry-config-dynamodb"
"""The unique id botocore registers its standard retry handler of a DynamoDB client under."""


class BudgetExhausted(Exception):
    """The request's time budget for DynamoDB is spent: no attempt may start any more."""


class _Request:
    __slots__ = ("started", "remaining", "attempts")

    def __init__(self, started: float, remaining: float | None) -> None:
        self.started = started
        self.remaining = remaining
        self.attempts = 0


_current: ContextVar[_Request | None] = ContextVar("catalog_dynamodb_budget", default=None)


def begin(remaining_ms: int | None = None) -> None:
    """A request starts now; ``remaining_ms``: the Lambda context's time left before the timeout."""
    _current.set(_Request(time.monotonic(), remaining_ms / 1000 if remaining_ms is not None else None))


def end() -> None:
    """The request is answered: later calls (outside any request) have no deadline."""
    _current.set(None)


def attempts() -> int:
    """How many DynamoDB attempts the current request has started."""
    request = _current.get()
    return request.attempts if request is not None else 0


def install(client: Any, settings: DynamoDBSettings) -> None:
    """Hold ``client``'s retries to each request's deadline, with botocore's backoff scaled."""
    from botocore.retries import standard

    events = client.meta.events
    # botocore keeps its retry handler to itself: register a fresh one (same policy, same
    # attempts) in place of the client's, and wrap it.
    events.unregister("needs-retry.dynamodb", unique_id=_RETRY_HANDLER_ID)
    held = _Budget(standard.register_retry_handler(client, max_attempts=settings.max_attempts), settings)
    events.unregister("needs-retry.dynamodb", unique_id=_RETRY_HANDLER_ID)
    events.register("needs-retry.dynamodb", held.needs_retry, unique_id=_RETRY_HANDLER_ID)
    events.register_first("before-send.dynamodb", held.before_send, unique_id="catalog-budget-before-send")


class _Budget:
    def __init__(self, botocore_handler: Any, settings: DynamoDBSettings) -> None:
        self._botocore = botocore_handler
        self._settings = settings

    def _start_by(self, request: _Request) -> float:
        """No attempt starts after this: the budget, or one attempt and the reserve before the timeout."""
        settings = self._settings
        limit = request.started + settings.time_budget
        if request.remaining is not None:
            limit = min(limit, request.started + request.remaining - ANSWER_RESERVE_S - settings.attempt_limit)
        return limit

    def before_send(self, **_: Any) -> None:
        request = _current.get()
        if request is None:
            return
        # The request's first attempt always starts: better a try than a sure 503, even when the
        # settings leave no room within the function's timeout.
        if request.attempts and time.monotonic() >= self._start_by(request):
            raise BudgetExhausted(f"no time left for attempt {request.attempts + 1}")
        request.attempts += 1

    def needs_retry(self, **kwargs: Any) -> float | None:
        """botocore's answer (``None``: do not retry; else seconds to wait), scaled, and ``None``
        when the wait would end past the request's deadline."""
        delay = self._botocore.needs_retry(**kwargs)
        if delay is None or delay is False:
            return None
        delay *= self._settings.backoff_scale
        request = _current.get()
        if request is not None and time.monotonic() + delay >= self._start_by(request):
            return None
        return delay
