"""Paging cursors (``catalog.cursor``): they open for the query they were sealed for, under the key they
were sealed with, and for nothing else; a client can neither read nor forge one. Paging through a
table with them is tests/integration/test_cursor.py."""

import base64

import pytest

from catalog import cursor
from catalog.cursor import Position
from catalog.errors import BadRequest
from catalog.parse.songs import query as songs_query
from catalog.query import Query

KEY = "k" * 40
CALLER = "3f0c7a52-6d1e-4c8b-9a27-5b4e1f0d2c61"
AFTER = "2024-03-05T12:00:00.000000\x01song-17"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.setenv("COUNTERS_TABLE_NAME", "catalog-counters")
    monkeypatch.setenv("CURSOR_KEY", KEY)


def songs(**params: str) -> Query:
    return songs_query({name: [value] for name, value in params.items()}, CALLER)


def test_a_cursor_opens_for_its_query_to_the_position_it_holds() -> None:
    query = songs(genres="Pop,Rock", sortOrder="desc")
    sealed = cursor.seal(query, Position(AFTER, pages=3))

    assert cursor.unseal(query, sealed) == Position(AFTER, pages=3)
    assert cursor.unseal(songs(genres="Rock, Pop", sortOrder="DESC"), sealed) == Position(AFTER, 3), "however it is spelled"
    assert sealed.isascii() and set(sealed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_cursor_tells_nothing_and_is_never_the_same_twice() -> None:
    query = songs()
    first, second = cursor.seal(query, Position(AFTER)), cursor.seal(query, Position(AFTER))

    assert first != second
    assert cursor.unseal(query, first) == cursor.unseal(query, second) == Position(AFTER, 1)
    assert b"song-17" not in base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))


@pytest.mark.parametrize(
    "other",
    [{"genres": "Pop"}, {"genres": "Pop,Rock", "sortOrder": "desc"}, {"genres": "Pop,Rock", "archived": "true"}],
    ids=["other-filters", "other-order", "other-scope"],
)
def test_a_cursor_does_not_open_for_another_query(other: dict[str, str]) -> None:
    sealed = cursor.seal(songs(genres="Pop,Rock"), Position(AFTER))
    with pytest.raises(BadRequest, match="^Invalid value for parameter 'cursor'"):
        cursor.unseal(songs(**other), sealed)


def test_a_cursor_changed_by_one_character_or_made_up_is_refused() -> None:
    query = songs()
    sealed = cursor.seal(query, Position(AFTER))
    tampered = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    for given in (tampered, sealed[:-2], "", "x", "not a cursor!", base64.urlsafe_b64encode(b"\x01" + b"0" * 40).decode()):
        with pytest.raises(BadRequest, match="cursor"):
            cursor.unseal(query, given)


def test_a_cursor_sealed_under_another_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    query = songs()
    sealed = cursor.seal(query, Position(AFTER))
    monkeypatch.setenv("CURSOR_KEY", "another key of forty characters, at least")
    with pytest.raises(BadRequest, match="cursor"):
        cursor.unseal(query, sealed)


def test_without_a_cursor_key_no_cursor_is_sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURSOR_KEY")
    with pytest.raises(RuntimeError, match="CURSOR_KEY is not set"):
        cursor.seal(songs(), Position(AFTER))
