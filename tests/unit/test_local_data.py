"""make run's local data: a working copy in memory-backed storage, saved to disk and opened again; and
when a saved database is reused."""

import sqlite3
from pathlib import Path

import pytest

from devtools.local.local_data import DATABASE, Imported, LocalData, reason_for_a_new_database, table_shape


def _write(database: Path, value: str) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("create table if not exists t (v text)")
        connection.execute("insert into t values (?)", (value,))
    connection.close()


def _values(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        values = [row[0] for row in connection.execute("select v from t order by v")]
    connection.close()
    return values


def test_what_is_saved_is_what_the_next_start_opens(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    data = LocalData(tmp_path / "saved", tmpfs=tmp_path / "memory")
    working = data.open(fresh=False)
    assert working.parent == tmp_path / "memory" and not any(working.iterdir())
    _write(working / DATABASE, "a")
    (working / "stream-positions.json").write_text("{}")
    data.save()
    data.close()
    assert not working.exists(), "the working copy holds RAM: removed when the stack stops"

    again = LocalData(tmp_path / "saved", tmpfs=tmp_path / "memory").open(fresh=False)
    assert _values(again / DATABASE) == ["a"]
    assert (again / "stream-positions.json").read_text() == "{}"


def test_a_fresh_start_holds_nothing_of_the_last_and_replaces_it_when_saved(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    data = LocalData(tmp_path / "saved", tmpfs=tmp_path / "memory")
    _write(data.open(fresh=False) / DATABASE, "old")
    data.save()

    working = data.open(fresh=True)
    assert not any(working.iterdir())
    assert _values(data.saved / DATABASE) == ["old"], "the saved copy stays until the new one is saved"
    _write(working / DATABASE, "new")
    data.save()
    assert _values(data.saved / DATABASE) == ["new"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["memory", "saved"], "no staged or retired copy left"


def test_without_memory_backed_storage_the_saved_copy_is_worked_on(tmp_path: Path) -> None:
    data = LocalData(tmp_path / "saved", tmpfs=tmp_path / "absent")
    working = data.open(fresh=False)
    assert working == tmp_path / "saved"
    _write(working / DATABASE, "a")
    data.save()
    data.close()
    assert _values(tmp_path / "saved" / DATABASE) == ["a"]


def test_memory_backed_storage_without_room_for_the_data_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "memory").mkdir()
    monkeypatch.setattr("devtools.local.local_data._room_in", lambda directory: 64 * 1024 * 1024)  # a container's /dev/shm
    data = LocalData(tmp_path / "saved", tmpfs=tmp_path / "memory")
    assert not data.in_memory and data.open(fresh=False) == tmp_path / "saved"


# -- make run's choice between the saved database and a new one ------------------------------------


def test_the_saved_database_is_used_when_it_was_written_under_this_layout_and_table() -> None:
    assert reason_for_a_new_database(Imported("sample.jsonl", complete=True, shape=table_shape()), None) is None


def test_a_catalog_given_is_imported_into_a_new_database(tmp_path: Path) -> None:
    reason = reason_for_a_new_database(Imported("sample.jsonl", complete=True, shape=table_shape()), tmp_path / "c.jsonl")
    assert reason is not None and "c.jsonl" in reason


def test_another_layout_an_unfinished_import_or_nothing_saved_means_a_new_database() -> None:
    assert "layout 1" in (reason_for_a_new_database(Imported("s.jsonl", complete=True, shape="layout 1, table x"), None) or "")
    assert "did not finish" in (reason_for_a_new_database(Imported("s.jsonl", complete=False, shape=table_shape()), None) or "")
    assert reason_for_a_new_database(None, None) == "no catalog imported yet"


def test_what_is_recorded_beside_the_database_is_read_back(tmp_path: Path) -> None:
    Imported("catalog.jsonl", complete=True, shape=table_shape()).save(tmp_path)
    assert Imported.load(tmp_path) == Imported("catalog.jsonl", complete=True, shape=table_shape())
    assert Imported.load(tmp_path / "nothing") is None
