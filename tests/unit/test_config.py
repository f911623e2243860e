"""Settings come from the environment, and a wrong environment fails loudly."""

import pytest
from catalog.config import settings
from pydantic import ValidationError

KEY = "k" * 32


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog-Table_1.x")
    monkeypatch.setenv("CURSOR_KEY", KEY)

    assert settings().table_name == "catalog-Table_1.x"
    assert settings().cursor_key.get_secret_value() == KEY


def test_the_cursor_key_is_optional_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.delenv("CURSOR_KEY", raising=False)
    assert settings().cursor_key is None

    monkeypatch.setenv("CURSOR_KEY", KEY)
    assert KEY not in repr(settings()) and KEY not in str(settings().cursor_key)


@pytest.mark.parametrize("name", ["ab", "x" * 256, "a b", "täble"])
def test_a_table_name_dynamodb_refuses_is_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("TABLE_NAME", name)
    with pytest.raises(ValidationError, match="TABLE_NAME"):
        settings()


def test_a_short_cursor_key_or_no_table_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.setenv("CURSOR_KEY", "k" * 31)
    with pytest.raises(ValidationError, match="CURSOR_KEY"):
        settings()
    monkeypatch.delenv("TABLE_NAME")
    with pytest.raises(ValidationError, match="TABLE_NAME"):
        settings()


def test_functions_sharing_a_process_each_get_their_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local gateway runs every function in one process, each in its own environment."""
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.delenv("CURSOR_KEY", raising=False)
    assert settings().cursor_key is None  # count, get, random

    monkeypatch.setenv("CURSOR_KEY", KEY)
    assert settings().cursor_key.get_secret_value() == KEY  # list
