"""Property-based fuzzing of the whole API with schemathesis, driven by docs/openapi.json.

Every operation goes through schemathesis' three generation phases, as ``st run`` would: the
document's examples, the coverage phase (each parameter's boundaries, enum values, empty values,
missing and malformed ones, undeclared methods) and property-based fuzzing, each with requests that
fit the document (positive) and that break it (negative), over HTTP to the local stack with a valid
access token. Every answer goes through every schemathesis check (``--checks all``):

- never a server error; a status, content type and headers the document declares for the operation;
  a 2xx body valid against the response schema;
- ``positive_data_acceptance``: a request the document calls valid is not refused (no 400 or 422);
- ``negative_data_rejection``: a request the document calls invalid is refused (a 4xx);
- ``ignored_auth``: the same request without the token, or with a wrong one, is 401;
- and the project's own: every 4xx body is exactly ``{"code": <status>, "description": <reason phrase>, "cause": <text>}``.

The exclusions, each documented in docs/API.md and asserted here instead:

- ``unsupported_method`` expects 405 for a method the document does not declare (``TRACE /v1/songs``).
  API Gateway answers those itself, before any authorizer or function, with its
  ``MISSING_AUTHENTICATION_TOKEN`` response, which the template maps to 404 ``Missing Authentication
  Token``; the local gateway does the same. The run asserts exactly that answer instead.
- A cursor is opaque: the document can only call it a string, so a generated one is "valid" but was
  never issued by the API, which refuses it (400 naming ``cursor``). For those cases the run asserts
  that 400 instead of ``positive_data_acceptance``; real cursors are followed by the generated
  clients (tests/e2e/test_generated_clients.py).
- 413 counts as a refusal of a request (negative or not): API Gateway refuses a request line and
  headers over 10,240 bytes, a limit on bytes that no parameter schema can state.

``FUZZ_REQUESTS`` sets how many requests the fuzzing phase sends in total (``make test``: 5,000;
``make fuzz``: 50,000), spread evenly over the operations; the examples and coverage phases come on
top. Every finding is reported at the end, each with a curl line to replay it. What the runs found is
kept as regression tests where the behaviour lives (see the tests citing this file).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, reject
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import (
    NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES,
    POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.meta import CoverageScenario, coverage_scenario
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from devtools.local.identity import sign_in
from devtools.openapi.document import DOCUMENT_PATH
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "5000"))
EXCLUDED_CHECKS = {"unsupported_method"}  # API Gateway answers undeclared methods itself: see the docstring
# schemathesis' defaults for what accepting and refusing a request mean, plus API Gateway's 413 (see the docstring).
CONFIG = SchemathesisConfig.from_dict({"checks": {
    "positive_data_acceptance": {"expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "413"]},
    "negative_data_rejection": {"expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]},
}})  # fmt: skip
_PHRASES = {422: "Unprocessable Entity"}  # as the contract spells it (catalog.http)
# A path parameter spelled like a sibling route (`/v1/songs/count`), or empty (`/v1/songs/`), is that other
# route, as on API Gateway: its answer is not this operation's.
_OTHER_ROUTES = {"", "count", "genres", "random"}
UNDECLARED_METHOD_ANSWER = (404, {"code": 404, "description": "Not Found", "cause": "Missing Authentication Token"})


def all_checks() -> list:
    load_all_checks()
    checks = [check for check in CHECKS.get_all() if check.__name__ not in EXCLUDED_CHECKS]
    assert len(checks) == len(CHECKS.get_all()) - len(EXCLUDED_CHECKS)  # every exclusion names a real check
    return checks


def _finding(failure: Failure) -> str:
    """A check's failure in a line: its title, and the parameter it blames when it says."""
    blamed = re.search(r"Invalid component: (.*)", failure.message)
    return f"{failure.title}{f' ({blamed.group(1)[:100]})' if blamed else ''}"


def _named(response: Response) -> str:
    """The parameter an error answer names, else its cause without quoted values."""
    try:
        cause = str(response.json().get("cause", ""))
    except (ValueError, AttributeError):
        return ""
    named = re.search(r"parameter '([^']+)'", cause)
    return named.group(1) if named else re.sub(r"'[^']*'", "'…'", cause)[:80]


def error_shape_problem(status: int, body: bytes) -> str | None:
    """What is wrong with a 4xx body, or None when it is the error shape."""
    try:
        error = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}"
    if not isinstance(error, dict) or set(error) != {"code", "description", "cause"}:
        return f"not {{code, description, cause}}: {error!r}"
    if error["code"] != status:
        return f"code {error['code']!r} in a {status} answer"
    if error["description"] != _PHRASES.get(status, HTTPStatus(status).phrase):
        return f"description {error['description']!r} is not the reason phrase of {status}"
    if not isinstance(error["cause"], str) or not error["cause"]:
        return f"cause {error['cause']!r} is not a text"
    return None


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [(422, b'{"code": 422, "description": "Unprocessable Entity", "cause": "x"}', None),
     (404, b'{"code": 404, "description": "Not Found", "cause": "x"}', None),
     (422, b'{"code": 422, "description": "Unprocessable Content", "cause": "x"}', "reason phrase"),
     (400, b'{"code": 404, "description": "Not Found", "cause": "x"}', "code 404"),
     (401, b'{"message": "Unauthorized"}', "not {code"), (401, b"", "not JSON"),
     (422, b'{"code": 422, "description": "Unprocessable Entity", "cause": ""}', "not a text")],
)  # fmt: skip
def test_the_error_shape_check_tells_good_from_bad(status: int, body: bytes, problem: str | None) -> None:
    found = error_shape_problem(status, body)
    assert found is None if problem is None else found is not None and problem in found


def test_every_check_but_the_documented_exclusion_runs() -> None:
    names = {check.__name__ for check in all_checks()}
    assert {"positive_data_acceptance", "negative_data_rejection", "status_code_conformance",
            "response_headers_conformance", "content_type_conformance", "response_schema_conformance",
            "not_a_server_error", "ignored_auth", "missing_required_header"} <= names  # fmt: skip
    assert not names & EXCLUDED_CHECKS


def test_generated_requests_get_documented_answers(
    local_stack: LocalStack, catalog: object, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = schemathesis.openapi.from_path(DOCUMENT_PATH, config=CONFIG)
    # Every request carries the valid token: refused tokens are tests/e2e/test_auth.py's subject (and
    # `ignored_auth` probes each operation without it), and negative cases that drop the token would
    # spend the budget on 401s before any function runs.
    schema.config.generation.update(with_security_parameters=False)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), [result for result in results if not isinstance(result, Ok)]
    assert len(operations) == 10
    checks = all_checks()
    per_operation = math.ceil(REQUESTS / len(operations))
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    findings: dict[tuple[str, str, int, str], str] = {}

    with requests.Session() as session:
        for operation in operations:
            # A fresh token per operation: a long `make fuzz` outlasts the hour a token is valid.
            headers = {"Authorization": f"Bearer {sign_in(local_stack.pool, local_stack.demo).access_token}"}
            label = operation.label

            def fuzz(case: schemathesis.Case) -> None:
                scenario = coverage_scenario(case)
                if _OTHER_ROUTES.intersection(map(str, (case.path_parameters or {}).values())):
                    if scenario is None:
                        reject()
                    return
                response = case.call(base_url=local_stack.base_url, session=session, headers=headers, timeout=30)
                sent[label] += 1
                statuses[response.status_code] += 1
                problems: list[str] = []
                if scenario == CoverageScenario.UNSPECIFIED_HTTP_METHOD:
                    if (response.status_code, response.json()) != UNDECLARED_METHOD_ANSWER:
                        problems.append("undeclared method not answered as API Gateway does")
                positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
                forged_cursor = bool((case.query or {}).get("cursor")) and positive
                if forged_cursor and (response.status_code != 400 or "'cursor'" not in response.json()["cause"]):
                    problems.append("a cursor the API never issued is not refused")
                # A negative case whose invalid value the HTTP client drops (an object in a query parameter
                # is sent as nothing) reaches the API as a valid request: its acceptance is no finding.
                sent_query = parse_qs(urlsplit(response.request.url or "").query, keep_blank_values=True)
                vanished = not positive and any(name not in sent_query for name in case.query or {})
                skipped = {positive_data_acceptance} if forged_cursor else set()
                skipped |= {negative_data_rejection} if vanished else set()
                try:
                    case.validate_response(response, headers=headers, checks=[c for c in checks if c not in skipped])
                except FailureGroup as group:
                    problems.extend(map(_finding, group.exceptions))
                except Failure as failure:
                    problems.append(_finding(failure))
                if 400 <= response.status_code < 500:
                    problem = error_shape_problem(response.status_code, response.content)
                    if problem:
                        problems.append(f"error shape: {problem}")
                for problem in problems:
                    # One finding per check, status and parameter the answer names (its value aside).
                    key = (label, problem, response.status_code, _named(response))
                    if key not in findings:
                        findings[key] = (
                            f"{response.text[:300]}\n    {case.as_curl_command(headers=headers)}\n    {case.query!r:.300}"
                        )

            config = HypothesisTestConfig(
                project=schema.config,
                modes=list(HypothesisTestMode),
                settings=hypothesis.settings(
                    max_examples=per_operation, deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
                ),
            )  # fmt: skip
            create_test(operation=operation, test_func=fuzz, config=config)()

    total = sum(sent.values())
    with capsys.disabled():  # the figures, shown even when the run passes (`make fuzz` reports them)
        print(f"\nschemathesis: {total} requests, {len(findings)} findings; by operation: {dict(sent)}; "
              f"by status: {dict(sorted(statuses.items()))}")  # fmt: skip
    report = "\n".join(
        f"- {label}: {problem} ({status}): {detail}" for (label, problem, status, _), detail in sorted(findings.items())
    )
    assert not findings, f"{len(findings)} findings:\n\n{report}"
    assert total >= REQUESTS, f"only {total} of {REQUESTS} requests were generated: {dict(sent)}"
    assert statuses[200] > 0 and statuses[422] > 0  # both the accepted and the refused side were exercised
