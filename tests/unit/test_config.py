"""Settings come from the environment, and a wrong environment fails loudly."""

from collections.abc import Iterator

import pytest

from catalog import budget
from catalog.config import ConfigurationError, Settings, dynamodb_settings, forget_settings, settings

KEY = "k" * 32


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    forget_settings()
    yield
    forget_settings()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog-Table_1.x")
    monkeypatch.setenv("COUNTERS_TABLE_NAME", "catalog-CountersTable-1")
    monkeypatch.setenv("CURSOR_KEY", KEY)

    assert settings().table_name == "catalog-Table_1.x"
    assert settings().counters_table_name == "catalog-CountersTable-1"
    key = settings().cursor_key
    assert key is not None and key.get_secret_value() == KEY


def test_the_cursor_key_is_optional_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.setenv("COUNTERS_TABLE_NAME", "catalog-counters")
    monkeypatch.delenv("CURSOR_KEY", raising=False)

    assert settings().cursor_key is None
    shown = Settings("catalog", "catalog-counters", KEY).cursor_key
    assert KEY not in repr(shown) and KEY not in str(shown)


@pytest.mark.parametrize("name", ["ab", "x" * 256, "a b", "täble"])
def test_a_table_name_dynamodb_refuses_is_a_configuration_error(name: str) -> None:
    with pytest.raises(ConfigurationError, match="^TABLE_NAME"):
        Settings(name, "catalog-counters")
    with pytest.raises(ConfigurationError, match="^COUNTERS_TABLE_NAME"):
        Settings("catalog", name)


def test_a_short_cursor_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="CURSOR_KEY"):
        Settings("catalog", "catalog-counters", "k" * 31)


@pytest.mark.parametrize("variable", ["TABLE_NAME", "COUNTERS_TABLE_NAME"])
def test_a_missing_table_name_is_a_configuration_error(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.setenv("COUNTERS_TABLE_NAME", "catalog-counters")
    monkeypatch.delenv(variable)

    with pytest.raises(ConfigurationError, match=f"{variable} is not set"):
        settings()


def test_functions_sharing_a_process_each_get_their_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local gateway runs every function in one process, each in its own environment."""
    monkeypatch.setenv("TABLE_NAME", "catalog")
    monkeypatch.setenv("COUNTERS_TABLE_NAME", "catalog-counters")
    monkeypatch.delenv("CURSOR_KEY", raising=False)
    assert settings().cursor_key is None  # count, get, random

    monkeypatch.setenv("CURSOR_KEY", KEY)
    key = settings().cursor_key  # list
    assert key is not None and key.get_secret_value() == KEY


# --- DynamoDB client: timeouts, retries, the request's time budget --------------------------------

_DYNAMODB_VARIABLES = ("DYNAMODB_RETRY_MODE", "DYNAMODB_MAX_ATTEMPTS", "DYNAMODB_CONNECT_TIMEOUT", "DYNAMODB_READ_TIMEOUT",
                       "DYNAMODB_BACKOFF_SCALE", "DYNAMODB_TIME_BUDGET", "RETRY_AFTER")  # fmt: skip


@pytest.fixture
def no_dynamodb_variables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _DYNAMODB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    forget_settings()
    yield
    forget_settings()


def test_the_defaults_end_a_request_s_dynamodb_work_well_within_the_function_timeout(no_dynamodb_variables: None) -> None:
    found = dynamodb_settings()

    assert (found.retry_mode, found.max_attempts, found.retry_after) == ("standard", 3, 1)
    # The budget, one last attempt, and the time kept to answer 503, within the template's 10 s.
    assert found.worst_case + budget.ANSWER_RESERVE_S <= 10


def test_dynamodb_settings_come_from_the_environment(no_dynamodb_variables: None, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "DYNAMODB_RETRY_MODE": "adaptive",
        "DYNAMODB_MAX_ATTEMPTS": "5",
        "DYNAMODB_CONNECT_TIMEOUT": "0.5",
        "DYNAMODB_READ_TIMEOUT": "1.5",
        "DYNAMODB_BACKOFF_SCALE": "0",
        "DYNAMODB_TIME_BUDGET": "3",
        "RETRY_AFTER": "2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    found = dynamodb_settings()

    assert (found.retry_mode, found.max_attempts, found.connect_timeout, found.read_timeout, found.backoff_scale,
            found.time_budget, found.retry_after) == ("adaptive", 5, 0.5, 1.5, 0.0, 3.0, 2)  # fmt: skip
    assert found.worst_case == 5.0


@pytest.mark.parametrize(
    ("name", "value"),
    [("DYNAMODB_RETRY_MODE", "legacy"), ("DYNAMODB_MAX_ATTEMPTS", "0"), ("DYNAMODB_MAX_ATTEMPTS", "2.5"),
     ("DYNAMODB_CONNECT_TIMEOUT", "0"), ("DYNAMODB_READ_TIMEOUT", "soon"), ("DYNAMODB_BACKOFF_SCALE", "-1"),
     ("DYNAMODB_TIME_BUDGET", "30"), ("DYNAMODB_TIME_BUDGET", "27"), ("RETRY_AFTER", "0")],
)  # fmt: skip
def test_a_dynamodb_setting_out_of_range_is_a_configuration_error(
    name: str, value: str, no_dynamodb_variables: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError, match=name):
        dynamodb_settings()
