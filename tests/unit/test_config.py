"""Settings come from the environment, and a wrong environment fails loudly."""

from collections.abc import Iterator

import pytest
from catalog.config import ConfigurationError, Settings, settings

KEY = "k" * 32


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog-Table_1.x")
    monkeypatch.setenv("CURSOR_KEY", KEY)

    assert settings().table_name == "catalog-Table_1.x"
    assert settings().cursor_key.get_secret_value() == KEY


def test_the_cursor_key_is_optional_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.delenv("CURSOR_KEY", raising=False)

    assert settings().cursor_key is None
    assert KEY not in repr(Settings("catalog", KEY).cursor_key) and KEY not in str(Settings("catalog", KEY).cursor_key)


@pytest.mark.parametrize("name", ["ab", "x" * 256, "a b", "täble"])
def test_a_table_name_dynamodb_refuses_is_a_configuration_error(name: str) -> None:
    with pytest.raises(ConfigurationError, match="TABLE_NAME"):
        Settings(name)


def test_a_short_cursor_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="CURSOR_KEY"):
        Settings("catalog", "k" * 31)


def test_a_missing_table_name_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)

    with pytest.raises(ConfigurationError, match="TABLE_NAME is not set"):
        settings()


def test_functions_sharing_a_process_each_get_their_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local gateway runs every function in one process, each in its own environment."""
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.delenv("CURSOR_KEY", raising=False)
    assert settings().cursor_key is None  # count, get, random

    monkeypatch.setenv("CURSOR_KEY", KEY)
    assert settings().cursor_key.get_secret_value() == KEY  # list
