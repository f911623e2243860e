"""Lambda's event filtering, for the local stream feeder: which records a ``FilterCriteria`` lets through.

On AWS the event source mapping drops the records no filter pattern matches before it forms a
batch, so the function sees batches of matching records only. The feeder does the same with the
patterns in ``template.yaml``. A pattern is JSON, as in the template: an object matches a record
when each of its keys matches that key of the record; a list of values matches when the record's
value matches one of them, a plain value by equality, ``{"prefix": "..."}`` by prefix. Only these
forms are understood (the ones the template uses); any other raises ``UnsupportedPattern``, so
that a template that starts using one fails loudly here rather than letting everything through.
"""

import json
from typing import Any


class UnsupportedPattern(ValueError):
    """A filter pattern uses a form this matcher does not implement."""


def parse(patterns: list[str]) -> list[dict[str, Any]]:
    """The template's ``Filters[].Pattern`` strings, checked once."""
    parsed = [json.loads(pattern) for pattern in patterns]
    for pattern in parsed:
        _check(pattern)
    return parsed


def matches_any(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether a record passes: no patterns let everything through, else one must match."""
    return not patterns or any(_matches(pattern, record) for pattern in patterns)


def _matches(pattern: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    for key, wanted in pattern.items():
        if key not in value:
            return False
        if isinstance(wanted, dict):
            if not _matches(wanted, value[key]):
                return False
        elif not any(_matches_value(option, value[key]) for option in wanted):
            return False
    return True


def _matches_value(option: Any, value: Any) -> bool:
    if isinstance(option, dict):
        return isinstance(value, str) and value.startswith(option["prefix"])
    return option == value


def _check(pattern: Any) -> None:
    if not isinstance(pattern, dict):
        raise UnsupportedPattern(f"a filter pattern is an object of keys, not {pattern!r}")
    for wanted in pattern.values():
        if isinstance(wanted, dict):
            _check(wanted)
            continue
        if not isinstance(wanted, list) or not wanted:
            raise UnsupportedPattern(f"a pattern's leaf is a non-empty list of values, not {wanted!r}")
        for option in wanted:
            if isinstance(option, dict) and (set(option) != {"prefix"} or not isinstance(option["prefix"], str)):
                raise UnsupportedPattern(f"only {{'prefix': ...}} is understood among the filter operators, not {option!r}")
