"""The soundtracks filter grammar the document gives clients (``pattern``) is exactly what the parser accepts.

Each filter parameter of ``catalog.parse.soundtracks`` declares its grammar as an ECMA-262 pattern,
for generated clients, validators and fuzzers (docs/openapi.json). These tests hold the two
together both ways: every value the pattern generates is accepted, and over values built from the
grammar's own pieces (operators, digits, dates, commas, colons) the parser accepts a value exactly
when the pattern matches it. ``re.fullmatch`` reads these patterns as ECMA-262 does ``^...$``: they
use neither ``\\d`` nor look-arounds.
"""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.errors import InvalidArgument
from catalog.parse import soundtracks

FIELDS = {"name": soundtracks.TEXT, "duration": soundtracks.NUMBER, "release_date": soundtracks.DATE}
# Pieces values are made of: every operator, digits (ASCII and not), dates valid and not, separators.
PIECES = ["!", "*", ":", "::", ",", "<", ">", "=", ">=", "<=", "0", "7", "123", "999999999999999", "1000000000000000",
          "５", "-", "2024-02-29", "2023-02-29", "0000-01-01", "2018-13-40", "2021-04-31", "1900-02-29", "2000-02-29",
          "a", "Theme", " ", "\n", "é"]  # fmt: skip
VALUES = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)


def accepted(name: str, value: str) -> bool:
    try:
        soundtracks.query({name: [value]})
    except InvalidArgument:
        return False
    return True


def matches(name: str, value: str) -> bool:
    return re.fullmatch(soundtracks.GRAMMAR[FIELDS[name]], value) is not None


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_the_document_declares_the_grammar_of_each_filter(name: str) -> None:
    declared = next(p for p in soundtracks.QUERY if p.name == name)
    assert declared.pattern == soundtracks.GRAMMAR[FIELDS[name]]
    assert declared.pattern.startswith("^") and declared.pattern.endswith("$")
    assert "\\d" not in declared.pattern and "(?=" not in declared.pattern and "(?!" not in declared.pattern


@pytest.mark.parametrize("name", sorted(FIELDS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_value_the_pattern_describes_is_accepted(name: str, data: st.DataObject) -> None:
    value = data.draw(st.from_regex(soundtracks.GRAMMAR[FIELDS[name]], fullmatch=True))
    assert accepted(name, value), value


@pytest.mark.parametrize("name", sorted(FIELDS))
@settings(max_examples=1500, deadline=None)
@given(value=VALUES)
def test_the_parser_accepts_a_value_exactly_when_the_pattern_matches(name: str, value: str) -> None:
    assert accepted(name, value) == matches(name, value), value


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [("duration", "", True), ("duration", ">=180000", True), ("duration", "1::2", True), ("duration", ":1,2,3", True),
     ("duration", "!5", True), ("duration", "５", False), ("duration", "!5::7", False), ("duration", "*1", False),
     ("duration", ":" + ",".join(["1"] * 100), True), ("duration", ":" + ",".join(["1"] * 101), False),
     ("release_date", "2024-02-29", True), ("release_date", "2023-02-29", False), ("release_date", "2000-02-29", True),
     ("release_date", "1900-02-29", False), ("release_date", "0000-01-01", False), ("release_date", "<=2024-12-31", True),
     ("release_date", "2024-01-01::2024-12-31", True), ("release_date", "2024-1-01", False),
     ("name", "*Theme", True), ("name", "!*a::b", True), ("name", ":a::b,c", True), ("name", ">x", False),
     ("name", "a::b", False), ("name", "!>x", True), ("name", "!", True), ("name", "a:b:", True),
     ("name", "!:" + ",".join(["a"] * 101), False), ("name", "Main Title\n", True)],
)  # fmt: skip
def test_examples_of_the_grammar(name: str, value: str, ok: bool) -> None:
    assert accepted(name, value) == ok == matches(name, value)
