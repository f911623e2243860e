"""The cold-start benchmark: a function in a fresh process, DynamoDB stubbed, answers 200 (no timing asserted).

Its run of a build is in ``tests/e2e/test_invoke_cli.py``, which makes one.
"""

import os
from pathlib import Path

from devtools.bench import cold_start


def test_the_list_function_answers_a_page_in_a_fresh_process_with_dynamodb_stubbed() -> None:
    rows = cold_start.measure(runs=1, requests=5, functions=("list",))  # raises unless every answer is 200

    assert [row["function"] for row in rows] == ["list"]
    assert set(rows[0]) == {"function", "cold_ms_p50", "floor_ms_p50", "ratio", "warm_ms_p50"}
    assert all(rows[0][name] > 0 for name in ("cold_ms_p50", "floor_ms_p50", "ratio", "warm_ms_p50"))
    assert cold_start.markdown(rows).splitlines()[2].startswith("| list |")


def test_the_stubbed_list_answer_links_to_the_next_page_as_on_a_real_catalog() -> None:
    (target,) = cold_start.targets(("list",), requests=0)

    answer = cold_start._cold(target)

    assert answer.status == 200
    assert "Link" in answer.headers


def test_the_canned_catalog_holds_more_than_a_page() -> None:
    items, postings = cold_start.canned_items()

    assert len(postings) == cold_start.CATALOG_SONGS > cold_start.PAGE_ITEMS
    assert [posting["slot"]["N"] for posting in postings] == [str(slot) for slot in range(cold_start.CATALOG_SONGS)]
    assert sum(1 for key in items if key[1] == "posting#all") == cold_start.CATALOG_SONGS


def test_a_build_is_run_from_a_copy_dated_as_sam_deploys_zip_dates_it(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("{}")
    (tmp_path / "CommonLayer" / "python").mkdir(parents=True)
    (tmp_path / "CommonLayer" / "python" / "module.py").write_text("")

    with cold_start.as_deployed(tmp_path / "template.yaml") as deployed:
        files = [path for path in deployed.parent.rglob("*")]
        assert deployed.read_text() == "{}" and deployed.parent != tmp_path
        assert {os.stat(path).st_mtime for path in files} == {cold_start.ZIP_EPOCH}
        assert {path.relative_to(deployed.parent) for path in files} == {
            Path("template.yaml"),
            Path("CommonLayer"),
            Path("CommonLayer/python"),
            Path("CommonLayer/python/module.py"),
        }
    assert not deployed.exists()
    assert os.stat(tmp_path / "template.yaml").st_mtime != cold_start.ZIP_EPOCH
