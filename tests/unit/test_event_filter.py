"""Lambda's event filtering as the local feeder applies it (``devtools.local.event_filter``), and the template's own filter."""

import pytest

from devtools.local import event_filter
from devtools.local.streams import filter_patterns


def record(sk: str, event: str = "INSERT") -> dict:
    return {"eventName": event, "dynamodb": {"Keys": {"PK": {"S": "songs#1"}, "SK": {"S": sk}}}}


def test_a_value_list_matches_by_equality_and_a_prefix_by_prefix() -> None:
    exact = event_filter.parse(['{"dynamodb": {"Keys": {"SK": {"S": ["posting#all"]}}}}'])
    prefix = event_filter.parse(['{"dynamodb": {"Keys": {"SK": {"S": [{"prefix": "posting#"}]}}}}'])
    assert event_filter.matches_any(exact, record("posting#all"))
    assert not event_filter.matches_any(exact, record("posting#genre=Pop"))
    assert event_filter.matches_any(prefix, record("posting#genre=Pop"))
    assert not event_filter.matches_any(prefix, record("record"))


def test_every_key_of_a_pattern_must_match_and_any_pattern_may() -> None:
    both = event_filter.parse(
        ['{"eventName": ["REMOVE"], "dynamodb": {"Keys": {"SK": {"S": ["record"]}}}}', '{"eventName": ["INSERT"]}']
    )
    assert event_filter.matches_any(both, record("record", "REMOVE"))
    assert event_filter.matches_any(both, record("count", "INSERT"))
    assert not event_filter.matches_any(both, record("count", "REMOVE"))
    assert not event_filter.matches_any(both, {"eventName": "MODIFY"})


def test_no_pattern_lets_everything_through() -> None:
    assert event_filter.matches_any([], record("anything"))


@pytest.mark.parametrize(
    "pattern", ['{"eventName": [{"anything-but": ["REMOVE"]}]}', '{"eventName": "INSERT"}', '{"eventName": []}', '["INSERT"]']
)
def test_a_form_it_does_not_implement_is_refused(pattern: str) -> None:
    with pytest.raises(event_filter.UnsupportedPattern):
        event_filter.parse([pattern])


def test_the_templates_filter_lets_only_all_postings_reach_the_counter_function() -> None:
    patterns = filter_patterns()
    assert event_filter.matches_any(patterns, record("posting#all", "MODIFY"))
    for other in ("record", "posting#genre=Pop", "count", "applied"):
        assert not event_filter.matches_any(patterns, record(other))
