"""The importer's report: every bad line rejected with its number and reason, every good line loaded.

On moto only: what is tested here is the reading and reporting, not the engine.
"""

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from catalog import keys
from catalog.declarations import SONGS as SONG_COLLECTION
from importer.load import Report, import_lines
from importer.postings import record_of
from importer.writer import CatalogWriter
from tests.support import catalog_data
from tests.support.backends import table_on

_deserializer = TypeDeserializer()
Table = tuple[Any, str]

OWNERS, SONGS = catalog_data.build()
OWNER = OWNERS[0]
GOOD = [dict(SONGS[number]) for number in (0, 1, 2)]  # not necessarily the owner's: fine
TEMPLATE = {key: value for key, value in SONGS[4].items()}  # a valid song to break one thing of


@pytest.fixture
def moto_table(request: pytest.FixtureRequest) -> Iterator[Table]:
    with table_on("moto", request) as made:
        yield made


def line(record: Any) -> bytes:
    return json.dumps(record).encode() + b"\n"


def broken(**changes: Any) -> dict:
    """The template song with some fields replaced; a value of ``None`` removes the field."""
    song = {**TEMPLATE, **changes}
    return {key: value for key, value in song.items() if value is not None}


def stored_song(table: Table, song_id: str) -> dict | None:
    client, name = table
    key = keys.record_key(SONG_COLLECTION.name, song_id)
    response = client.get_item(TableName=name, Key={field: {"S": value} for field, value in key.items()})
    if "Item" not in response:
        return None
    return record_of(SONG_COLLECTION, {key: _deserializer.deserialize(value) for key, value in response["Item"].items()})


def run(table: Table, lines: Sequence[bytes | str]) -> Report:
    client, name = table
    return import_lines(CatalogWriter(client, name), lines, progress=False)


def loaded(report: Report) -> dict[str, int]:
    """What the report says was loaded, by kind; kinds of which nothing was loaded may be listed or not."""
    return {kind: number for kind, number in report.loaded.items() if number}


# Each bad line, and what its reason must mention (lower-cased).
BAD_LINES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "not JSON": (b'{"kind": "song", "id": \n', ("not json",)),
    "truncated JSON": (line(TEMPLATE)[:40] + b"\n", ("not json",)),
    "JSON array": (line([OWNER]), ("not a json object",)),
    "JSON string": (b'"song"\n', ("not a json object",)),
    "no kind": (line({key: value for key, value in TEMPLATE.items() if key != "kind"}), ("kind",)),
    "unknown kind": (line({**TEMPLATE, "kind": "album"}), ("unknown kind", "album")),
    "missing title": (line(broken(title=None)), ("title", "required")),
    "missing archived": (line(broken(archived=None)), ("archived", "required")),
    "malformed id": (line(broken(id="1a000000-0000-4000-8000-00000000000")), ("id", "uuid")),
    "malformed ownerId": (line(broken(ownerId="nobody")), ("ownerid", "uuid")),
    "unknown mintingStatus": (line(broken(mintingStatus="Forged")), ("mintingstatus",)),
    "unknown extra field": (line(broken(nftPolicyName="policy")), ("nftpolicyname",)),
    "bad createdAt": (line(broken(createdAt="yesterday")), ("createdat",)),
    "invalid UTF-8": (line(broken(title="@@@")).replace(b"@@@", b"Caf\xe9 \xff"), ("utf-8",)),
    "owner with unknown field": (line({**OWNER, "email": "a@b.c"}), ("owner", "email")),
}


@pytest.mark.parametrize("case", BAD_LINES)
def test_a_bad_line_is_rejected_and_the_good_ones_around_it_load(moto_table: Table, case: str) -> None:
    bad, mentions = BAD_LINES[case]
    report = run(moto_table, [line(OWNER), line(GOOD[0]), bad, line(GOOD[1])])
    assert [number for number, _ in report.rejected] == [3]
    reason = report.rejected[0][1].lower()
    for word in mentions:
        assert word in reason, f"{report.rejected[0][1]!r} does not mention {word!r}"
    assert loaded(report) == {"owner": 1, "song": 2}
    for song in GOOD[:2]:
        assert stored_song(moto_table, song["id"]) is not None


def test_every_bad_line_is_reported_with_its_own_number(moto_table: Table) -> None:
    """One file with all the bad lines, blank lines and good lines mixed: numbers are the file's."""
    lines: list[bytes] = [line(OWNER), b"\n", line(GOOD[0])]
    expected: dict[int, tuple[str, ...]] = {}
    for number, (bad, mentions) in enumerate(BAD_LINES.values()):
        lines.append(bad)
        expected[len(lines)] = mentions
        if number == 3:
            lines += [b"   \n", b"\r\n"]  # whitespace-only lines: skipped, but counted
        if number == 7:
            lines.append(line(GOOD[1]))
    lines += [b"\n", line(GOOD[2]).replace(b"\n", b"\r\n"), b"\n"]  # a CRLF line ending

    report = run(moto_table, lines)
    assert [number for number, _ in report.rejected] == sorted(expected)
    for number, reason in report.rejected:
        for word in expected[number]:
            assert word in reason.lower(), f"line {number}: {reason!r} does not mention {word!r}"
    assert loaded(report) == {"owner": 1, "song": 3}
    assert report.changed == 4
    for song in GOOD:
        assert stored_song(moto_table, song["id"]) == {k: v for k, v in song.items() if k != "kind"}
    assert stored_song(moto_table, TEMPLATE["id"]) is None, "no broken version of the template song is stored"


def test_blank_lines_are_skipped_and_do_not_shift_numbers(moto_table: Table) -> None:
    report = run(moto_table, [b"\n", b"\n", line(GOOD[0]), b"  \t \n", b"[]\n", b"\n", b"nope\n"])
    assert [number for number, _ in report.rejected] == [5, 7]
    assert loaded(report) == {"song": 1}


def test_text_lines_are_read_like_bytes(moto_table: Table) -> None:
    report = run(moto_table, [json.dumps(OWNER), "", json.dumps(GOOD[0]), "{oops", json.dumps(broken(genres="Pop"))])
    assert [number for number, _ in report.rejected] == [4, 5]
    assert "genres" in report.rejected[1][1]
    assert loaded(report) == {"owner": 1, "song": 1}
    assert stored_song(moto_table, GOOD[0]["id"]) is not None


def test_a_file_of_only_bad_lines_loads_nothing(moto_table: Table) -> None:
    report = run(moto_table, [b"{}\n", b"[]\n", b"x\n"])
    assert [number for number, _ in report.rejected] == [1, 2, 3]
    assert loaded(report) == {}
    assert report.changed == 0
    client, name = moto_table
    assert client.scan(TableName=name)["Count"] == 0


def test_report_lines_render_what_was_loaded_and_rejected(moto_table: Table) -> None:
    report = run(moto_table, [line(OWNER), line(GOOD[0]), b"[1]\n", line(GOOD[1]), b"\n", line({"kind": "x"})])
    rendered = report.lines()
    assert rendered[0].startswith("loaded 1 owners, 2 songs")
    assert "3 written" in rendered[0] and "0 re-indexed" in rendered[0]
    client, name = moto_table
    items = client.scan(TableName=name, Select="COUNT")["Count"]
    assert re.fullmatch(rf"wrote {items} items in \d+\.\d s \(\d+ items/s\)", rendered[1]), "the table was empty"
    assert rendered[2] == "rejected 2 line(s)"
    assert rendered[3] == f"  line 3: {report.rejected[0][1]}"
    assert rendered[4] == f"  line 6: {report.rejected[1][1]}"
    assert len(rendered) == 5

    clean = run(moto_table, [line(OWNER), line(GOOD[0])])
    assert clean.lines()[0] == "loaded 1 owners, 1 songs (0 written, 0 re-indexed for owner changes)"
    assert clean.lines()[1].startswith("wrote 0 items in ")
    assert clean.lines()[2:] == ["rejected 0 line(s)"]


def test_a_good_line_is_stored_as_the_api_returns_it(moto_table: Table) -> None:
    """Times are normalised to the fixed-width form; absent optional fields stay absent."""
    song = dict(GOOD[0], createdAt="2024-03-01T12:00:00+02:00", releaseDate="2024-03-01")
    report = run(moto_table, [line(song)])
    assert report.rejected == []
    stored = stored_song(moto_table, song["id"])
    assert stored is not None
    assert stored["createdAt"] == "2024-03-01T10:00:00.000000"
    assert stored["releaseDate"] == "2024-03-01"
    assert "description" not in stored


# -- lines that once stopped the whole import instead of being rejected ----------------------------


@pytest.mark.parametrize("kind", [["song"], {"name": "song"}])
def test_a_kind_that_is_not_a_string_is_rejected(moto_table: Table, kind: Any) -> None:
    report = run(moto_table, [line(GOOD[0]), line({**TEMPLATE, "kind": kind}), line(GOOD[1])])
    assert [number for number, _ in report.rejected] == [2]
    assert "kind" in report.rejected[0][1]
    assert loaded(report) == {"song": 2}


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_created_at_out_of_range_in_utc_is_rejected(moto_table: Table, created_at: str) -> None:
    report = run(moto_table, [line(GOOD[0]), line(broken(createdAt=created_at)), line(GOOD[1])])
    assert [number for number, _ in report.rejected] == [2]
    assert "createdat" in report.rejected[0][1].lower()
    assert loaded(report) == {"song": 2}


def test_a_number_dynamodb_cannot_hold_is_rejected(moto_table: Table) -> None:
    report = run(moto_table, [line(GOOD[0]), line(broken(track=10**40)), line(GOOD[1])])
    assert [number for number, _ in report.rejected] == [2]
    assert loaded(report) == {"song": 2}
    assert stored_song(moto_table, GOOD[1]["id"]) is not None


def test_created_at_is_stored_fixed_width_for_early_years(moto_table: Table) -> None:
    report = run(moto_table, [line(broken(createdAt="0999-12-31T00:00:00"))])
    assert report.rejected == []
    stored = stored_song(moto_table, TEMPLATE["id"])
    assert stored is not None and stored["createdAt"] == "0999-12-31T00:00:00.000000"
