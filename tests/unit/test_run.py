"""make run's choice between the saved database and a new one."""

from pathlib import Path

from devtools.run import Imported, _reason_for_a_new_database, table_shape


def test_the_saved_database_is_used_when_it_was_written_under_this_layout_and_table() -> None:
    assert _reason_for_a_new_database(Imported("sample.jsonl", complete=True, shape=table_shape()), None) is None


def test_a_catalog_given_is_imported_into_a_new_database(tmp_path: Path) -> None:
    reason = _reason_for_a_new_database(Imported("sample.jsonl", complete=True, shape=table_shape()), tmp_path / "c.jsonl")
    assert reason is not None and "c.jsonl" in reason


def test_another_layout_an_unfinished_import_or_nothing_saved_means_a_new_database() -> None:
    assert "layout 1" in _reason_for_a_new_database(Imported("s.jsonl", complete=True, shape="layout 1, table x"), None)
    assert "did not finish" in _reason_for_a_new_database(Imported("s.jsonl", complete=False, shape=table_shape()), None)
    assert _reason_for_a_new_database(None, None) == "no catalog imported yet"


def test_what_is_recorded_beside_the_database_is_read_back(tmp_path: Path) -> None:
    Imported("catalog.jsonl", complete=True, shape=table_shape()).save(tmp_path)
    assert Imported.load(tmp_path) == Imported("catalog.jsonl", complete=True, shape=table_shape())
    assert Imported.load(tmp_path / "nothing") is None
