"""The sample events of ``events/`` are events the functions can be handed as they are (``make invoke``).

API events (that a route serves each one: ``tests/infrastructure/test_template.py``): each carries the claims
the local authorizer hands a function for the token in its ``Authorization`` header, an access
token of the local user pool for ``make run``'s demo user (the sample catalog's first owner), so
that ``ownerIds=me`` finds that user's songs. That the samples answer 200 is checked by running
them (``tests/e2e/test_invoke_cli.py``).

The stream event: records as Lambda hands them to the counter function, which the template's
filter lets through, each with its own ``eventID`` (the counter function drops an id it has applied).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from devtools.local import event_filter
from devtools.local.authorizer import claims_as_strings
from devtools.local.streams import filter_patterns
from devtools.sample_catalog import generate
from devtools.template.api import load_api

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
EVENTS = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(EVENTS_DIR.glob("*.json"))}
API_EVENTS = {name: event for name, event in EVENTS.items() if "httpMethod" in event}
STREAM_EVENTS = {name: event for name, event in EVENTS.items() if "Records" in event}
DEMO_SUB = generate(song_count=0, soundtrack_count=0)[0]["id"]


def test_one_api_event_asks_for_the_callers_own_songs_and_one_event_is_the_streams() -> None:
    assert any((event["queryStringParameters"] or {}).get("ownerIds") == "me" for event in API_EVENTS.values())
    assert len(STREAM_EVENTS) == 1


@pytest.mark.parametrize("name", sorted(API_EVENTS))
def test_an_api_event_carries_the_claims_of_a_local_token_of_the_demo_user(name: str) -> None:
    event = API_EVENTS[name]
    header = event["headers"]["Authorization"]
    assert event["multiValueHeaders"]["Authorization"] == [header]
    token = header.removeprefix("Bearer ")
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims == claims_as_strings(jwt.decode(token, options={"verify_signature": False}))
    assert claims["sub"] == DEMO_SUB
    assert claims["iss"].startswith("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_")  # the local pool's
    route, _ = load_api().route(event["httpMethod"], event["path"]) or (None, None)
    assert claims["token_use"] == "access" and route is not None and route.scopes
    assert set(route.scopes) <= set(claims["scope"].split())


def _records() -> list[dict[str, Any]]:
    (event,) = STREAM_EVENTS.values()
    return event["Records"]


def test_the_stream_event_holds_records_the_counter_function_is_handed() -> None:
    records = _records()
    assert records and all(event_filter.matches_any(filter_patterns(), record) for record in records)
    assert len({record["eventID"] for record in records}) == len(records)
    assert {record["eventName"] for record in records} == {"INSERT", "MODIFY", "REMOVE"}
    for record in records:
        assert record["eventSource"] == "aws:dynamodb" and record["eventSourceARN"]
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
