"""``make startup`` as a user runs it: ``make run`` started, asked and stopped, several times.

It runs ``python -m devtools.cli.run`` in a state directory of its own: a first start (the sample
catalog generated, imported and counted), a later one (the saved database), and two re-imports of
a small catalog. What is checked is what a user of ``make run`` sees, not how fast: every start's
songs count is exact, a later start imports nothing, and a re-import starts from a new database
that does not grow with the one before.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.dynamodb_local]

ENVIRONMENT = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT)])}


def test_make_run_starts_are_timed_counted_exactly_and_reimports_start_from_a_new_database(tmp_path: Path) -> None:
    catalog = tmp_path / "small.jsonl"
    subprocess.run([sys.executable, "-m", "devtools.cli.sample_catalog", "--out", str(catalog), "--songs", "60",
                    "--owners", "6", "--soundtracks", "10"], cwd=REPO_ROOT, env=ENVIRONMENT, check=True)  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "devtools.bench.startup", "--reimports", "2", "--catalog", str(catalog), "--out", str(tmp_path)],
        cwd=REPO_ROOT, env=ENVIRONMENT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    [figures] = tmp_path.glob("startup-*.json")
    starts = {start["name"]: start for start in json.loads(figures.read_text())["starts"]}
    assert list(starts) == ["first", "later", "re-import 1", "re-import 2"]

    first, later, reimports = starts["first"], starts["later"], [starts["re-import 1"], starts["re-import 2"]]
    assert first["startup"]["new_database"] and first["startup"]["items"] > 2900, "the sample: 2,900 records, more items"
    assert first["startup"]["stream_records"] == 2700, "one stream record per song and soundtrack"
    assert first["songs_counted"] > 2000
    assert not later["startup"]["new_database"] and "import_s" not in later["startup"]
    assert later["startup"]["stream_records"] == 0 and later["songs_counted"] == first["songs_counted"]
    songs = sum(1 for line in catalog.open() if json.loads(line)["kind"] == "song" and not json.loads(line)["archived"])
    for reimport in reimports:
        assert reimport["startup"]["new_database"] and reimport["songs_counted"] == songs
        assert reimport["startup"]["stream_records"] == 70
    assert reimports[1]["database_mb"] <= reimports[0]["database_mb"] + 1, "the database does not grow with re-imports"
    assert reimports[0]["database_mb"] < first["database_mb"], "nothing of the sample is left in it"
    assert "| re-import 2 |" in result.stdout and "Last re-import / first" in result.stdout
