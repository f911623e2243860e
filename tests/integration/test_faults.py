"""DynamoDB faults, injected into the API's own client: retried by botocore within the request's
budget, then answered 503 in the error shape with ``Retry-After``, logged once with the correlation id.

The faults are injected on botocore's ``before-send`` event, where the HTTP request would go out:
an answer given there (a throttling error) or an exception raised there (a timeout) goes through
botocore's whole retry loop, as a real one would. (botocore's Stubber answers earlier, on
``before-call``, and would skip the retries.) What the fault lets through is answered by moto.
"""

import json
import logging
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from catalog import budget, store, telemetry
from catalog.config import dynamodb_settings, forget_settings
from catalog.http import logger
from tests.support.api_client import InProcessApi
from tests.support.backends import table_on

SONG_ID = "7bd2862f-8deb-4814-8943-156d9dab80dd"
ENDPOINT = "https://dynamodb.us-east-1.amazonaws.com/"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def dynamodb_error(status: int, code: str) -> AWSResponse:
    """An error answer as DynamoDB sends it (JSON protocol)."""
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "INJECTED"}
    return AWSResponse(ENDPOINT, status, headers, _Raw(body))


def read_timeout() -> None:
    raise ReadTimeoutError(endpoint_url=ENDPOINT)


def connect_timeout() -> None:
    raise ConnectTimeoutError(endpoint_url=ENDPOINT)


def connection_refused() -> None:
    raise EndpointConnectionError(endpoint_url=ENDPOINT)


FAULTS: dict[str, Callable[[], AWSResponse | None]] = {
    "ThrottlingException": lambda: dynamodb_error(400, "ThrottlingException"),
    "ProvisionedThroughputExceededException": lambda: dynamodb_error(400, "ProvisionedThroughputExceededException"),
    "InternalServerError": lambda: dynamodb_error(500, "InternalServerError"),
    "read timeout": read_timeout,
    "connect timeout": connect_timeout,
    "connection refused": connection_refused,
}


class Fault:
    """Answers (or raises) ``fault`` for the first ``times`` attempts, then lets moto answer; counts attempts."""

    def __init__(self, fault: Callable[[], AWSResponse | None], times: int = 10**6) -> None:
        self.fault, self.times, self.attempts = fault, times, 0

    def __call__(self, **_: Any) -> AWSResponse | None:
        self.attempts += 1
        return self.fault() if self.attempts <= self.times else None


class Logged(logging.Handler):
    """The function's log lines, as the Powertools formatter writes them (JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logger.registered_formatter)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logged() -> Iterator[Logged]:
    handler = Logged()
    logger._logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger._logger.removeHandler(handler)


Served = tuple[InProcessApi, Any, str]
"""The API in process, the client its store reads through, the table's name."""


@pytest.fixture
def api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InProcessApi, Any, str]]:
    """The API on an empty moto table, through a client built as the functions build theirs
    (backoff scaled to nothing, so that retries cost no time here)."""
    monkeypatch.setenv("DYNAMODB_BACKOFF_SCALE", "0")
    monkeypatch.delenv("DYNAMODB_MAX_ATTEMPTS", raising=False)
    forget_settings()
    with table_on("moto", request) as (_, name):
        client = store.create_client(dynamodb_settings())
        yield InProcessApi(client, name, monkeypatch), client, name
    forget_settings()


def inject(client: Any, fault: Fault) -> Fault:
    client.meta.events.register("before-send.dynamodb", fault)
    return fault


@pytest.mark.parametrize("name", FAULTS)
def test_a_fault_that_lasts_is_retried_then_answered_503_with_retry_after(name: str, api: Served, logged: Logged) -> None:
    caller, client, _ = api
    fault = inject(client, Fault(FAULTS[name]))
    request_id = str(uuid.uuid4())

    answer = caller.get(f"/v1/songs/{SONG_ID}", request_id=request_id)

    assert answer.status == 503
    assert answer.body == {"code": 503, "description": "Service Unavailable", "cause": answer.body["cause"]}
    assert answer.headers["Retry-After"] == str(dynamodb_settings().retry_after)
    assert fault.attempts == dynamodb_settings().max_attempts == 3  # botocore retried
    errors = [line for line in logged.lines if line["level"] == "ERROR"]
    assert len(errors) == 1, logged.lines
    assert errors[0]["correlation_id"] == request_id
    assert errors[0]["status"] == 503 and errors[0]["dynamodb_attempts"] == 3


@pytest.mark.parametrize("name", FAULTS)
def test_the_cause_of_a_503_tells_nothing_of_the_inside(name: str, api: Served) -> None:
    caller, client, _ = api
    inject(client, Fault(FAULTS[name]))

    cause = caller.get(f"/v1/songs/{SONG_ID}").body["cause"]

    for internal in ("Exception", "Error", "amazonaws", "http", "dynamodb", "DynamoDB", "Traceback", "catalog-test", "PK"):
        assert internal not in cause


@pytest.mark.parametrize("name", FAULTS)
def test_a_fault_that_clears_after_one_retry_is_not_seen_by_the_client(name: str, api: Served, logged: Logged) -> None:
    caller, client, _ = api
    fault = inject(client, Fault(FAULTS[name], times=1))

    answer = caller.get("/v1/songs/count")

    assert answer.status == 200 and answer.body == {"count": 0}
    assert fault.attempts == 2
    assert not [line for line in logged.lines if line["level"] == "ERROR"]


def test_no_attempt_starts_once_the_request_budget_is_spent(api: Served, monkeypatch: pytest.MonkeyPatch, logged: Logged) -> None:
    """However many attempts are allowed per call, a request's DynamoDB work stops at its budget."""
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "10")
    monkeypatch.setenv("DYNAMODB_TIME_BUDGET", "0.2")
    forget_settings()
    client = store.create_client(dynamodb_settings())
    caller = InProcessApi(client, api[2], monkeypatch)

    def slow_timeout() -> None:
        import time

        time.sleep(0.1)
        read_timeout()

    fault = inject(client, Fault(slow_timeout))

    answer = caller.get(f"/v1/songs/{SONG_ID}")

    assert answer.status == 503 and answer.headers["Retry-After"] == "1"
    assert 1 <= fault.attempts < 10
    (error,) = [line for line in logged.lines if line["level"] == "ERROR"]
    assert error["dynamodb_attempts"] == fault.attempts


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "AccessDeniedException", "ValidationException"])
def test_an_error_that_retrying_cannot_fix_stays_a_500(code: str, api: Served, logged: Logged) -> None:
    caller, client, _ = api
    fault = inject(client, Fault(lambda: dynamodb_error(400, code)))

    answer = caller.get(f"/v1/songs/{SONG_ID}")

    assert answer.status == 500 and answer.body["code"] == 500 and "Retry-After" not in answer.headers
    assert fault.attempts == 1


def test_each_request_flushes_its_metrics_as_emf(api: Served, capsys: pytest.CaptureFixture) -> None:
    caller, client, _ = api
    capsys.readouterr()
    caller.get("/v1/songs/count")
    inject(client, Fault(FAULTS["ThrottlingException"]))
    caller.get(f"/v1/songs/{SONG_ID}")

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    requests = [blob for blob in blobs if "Requests" in blob]
    assert len(requests) == 2
    ok, unavailable = requests
    namespace = ok["_aws"]["CloudWatchMetrics"][0]["Namespace"]
    assert namespace == "SongsCatalog" and ok["service"] == "catalog"
    assert ok["Requests"] == [1] and ok["ItemsRead"] == [0] and "ReadCapacity" in ok and "Errors" not in ok
    assert unavailable["Requests"] == unavailable["Errors"] == unavailable["Error503"] == [1]
    assert "ItemsRead" not in unavailable


def test_with_metrics_disabled_nothing_piles_up_or_gets_printed(
    api: Served, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the local stack runs the functions: Powertools then never publishes, nor clears, the metrics."""
    caller, _, _ = api
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Powertools warns when it flushes an empty set
        for _ in range(120):
            caller.get("/v1/songs/count")

    assert not [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert telemetry.metrics.metric_set["Requests"]["Value"] == [1]


@pytest.mark.parametrize("throttled", [False, True])
def test_past_the_deadline_a_request_still_makes_its_first_attempt_and_no_other(
    throttled: bool, api: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function timeout too short for the settings puts the deadline before the request's start."""
    caller, client, _ = api
    monkeypatch.setattr(budget, "ANSWER_RESERVE_S", 3600.0)
    fault = inject(client, Fault(FAULTS["ThrottlingException"], times=1 if throttled else 0))

    answer = caller.get("/v1/songs/count")

    assert fault.attempts == 1
    assert answer.status == (503 if throttled else 200)
