"""Property-based fuzzing of the whole API with schemathesis, driven by docs/openapi.json.

Requests fitting the document (positive) and breaking it (negative) go over HTTP to the local stack
with a valid access token, operation by operation. Each answer must be:

- never a server error (5xx);
- a status the document declares for that operation, with the declared content type and headers;
- a 2xx body valid against the operation's response schema;
- every 4xx body exactly ``{"code": <the status>, "description": <reason phrase>, "cause": <text>}``.

``FUZZ_REQUESTS`` sets how many requests the run sends in total (``make test``: 5,000; ``make fuzz``: 50,000),
spread evenly over the operations and both generation modes; the test counts them and fails if fewer went out.
What it found is kept as regression tests where the behaviour lives (see the tests citing this file).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from http import HTTPStatus

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devtools.local.identity import sign_in
from devtools.openapi.document import DOCUMENT_PATH
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "5000"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]  # fmt: skip
_PHRASES = {422: "Unprocessable Entity"}  # as the contract spells it (catalog.http)
# A path parameter spelled like a sibling route (`/v1/songs/count`), or empty (`/v1/songs/`), is that other
# route, as on API Gateway: its answer is not this operation's.
_OTHER_ROUTES = {"", "count", "random"}


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
    assert found is None if problem is None else problem in found


def test_generated_requests_get_documented_answers(local_stack: LocalStack, catalog: object) -> None:
    schema = schemathesis.openapi.from_path(DOCUMENT_PATH)
    # Every request carries the valid token: refused tokens are tests/e2e/test_auth.py's subject, and
    # negative cases that drop the token would spend the budget on 401s before any function runs.
    schema.config.generation.update(with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    per_run = math.ceil(REQUESTS / (len(operations) * len(modes)))
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()

    with requests.Session() as session:
        for operation in operations:
            for mode in modes:
                # A fresh token per run: a long `make fuzz` outlasts the hour a token is valid.
                headers = {"Authorization": f"Bearer {sign_in(local_stack.pool, local_stack.demo).access_token}"}

                @settings(max_examples=per_run, deadline=None, database=None, derandomize=False,
                          suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])  # fmt: skip
                @given(case=operation.as_strategy(generation_mode=mode))
                def fuzz(case: schemathesis.Case) -> None:
                    if _OTHER_ROUTES.intersection(map(str, (case.path_parameters or {}).values())):
                        reject()
                    response = case.call(base_url=local_stack.base_url, session=session, headers=headers, timeout=30)
                    sent[f"{operation.label} ({mode.value})"] += 1
                    statuses[response.status_code] += 1
                    case.validate_response(response, checks=CHECKS, headers=headers)
                    if 400 <= response.status_code < 500:
                        problem = error_shape_problem(response.status_code, response.content)
                        assert problem is None, f"{case.as_curl_command(headers=headers)}\n{problem}"

                fuzz()

    total = sum(sent.values())
    print(f"\n{total} requests; by operation: {dict(sent)}; by status: {dict(sorted(statuses.items()))}")
    assert total >= REQUESTS, f"only {total} of {REQUESTS} requests were generated: {dict(sent)}"
    assert statuses[200] > 0 and statuses[422] > 0  # both the accepted and the refused side were exercised
