"""The index the catalog writer keeps, after sequences of imports, on moto and on DynamoDB Local.

Invariants checked after every import, once the table's stream has been handed to the counter
function (by a test-only Scan of the whole table):

* every partition (distinct ``fpk`` among postings) has a counter item whose ``n`` is the number of
  its postings, and those postings' ``slot`` values are exactly 0..n-1; every counter item matches
  the postings it counts (an emptied partition counts 0);
* every song record has exactly the postings ``importer.postings.postings`` derives for it, with its
  owner's current names, and no posting outlives its record;
* the records are the last imported version of each line.
"""

import json
import random
from collections import Counter, defaultdict
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from catalog.declarations import SONGS as SONG_COLLECTION
from devtools.template.table import counters_table_name
from importer import writer as writer_module
from importer.load import Report, import_lines
from importer.model.song import Owner, Song
from importer.postings import postings as derived_postings
from importer.postings import record_of
from importer.writer import CatalogWriter
from tests.support import catalog_data
from tests.support.stream_feed import drain

_deserializer = TypeDeserializer()
Table = tuple[Any, str]


# -- helpers -------------------------------------------------------------------------------------


def run_import(table: Table, records: list[dict]) -> Report:
    """Import the records, then let the counter function count what changed."""
    client, name = table
    report = import_lines(CatalogWriter(client, name), [json.dumps(record) for record in records], progress=False)
    assert report.rejected == [], report.rejected
    drain(client, name)
    return report


def loaded(report: Report) -> dict[str, int]:
    """What the report says was loaded, by kind; kinds of which nothing was loaded may be listed or not."""
    return {kind: number for kind, number in report.loaded.items() if number}


def raw_scan(table: Table) -> list[dict]:
    """Every item of the catalog table and its counters table as DynamoDB returns it (wire form), sorted by key."""
    client, name = table
    items = []
    for scanned in (name, counters_table_name(name)):
        request: dict[str, Any] = {"TableName": scanned, "ConsistentRead": True}
        while True:
            response = client.scan(**request)
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def scan(table: Table) -> list[dict]:
    """The catalog's items and the partitions' counters, deserialized (not the counter function's
    markers, nor its range buckets and combinations: tests/unit/test_counting.py holds those to the layout)."""
    items = [{key: _deserializer.deserialize(value) for key, value in item.items()} for item in raw_scan(table)]
    return [item for item in items if item["SK"] != "applied" and (item["SK"] == "count" or "#" in item["PK"])]


def song_pk(song_id: str) -> str:
    return f"songs#{song_id}"


def postings_of(items: list[dict], song_id: str) -> dict[str, dict]:
    return {item["SK"]: item for item in items if item["PK"] == song_pk(song_id) and item["SK"].startswith("posting#")}


def stored(record: dict) -> dict:
    """How a catalog line's record is stored: validated by the API's model, without ``kind``."""
    model = Owner if record["kind"] == "owner" else Song
    return model.model_validate({key: value for key, value in record.items() if key != "kind"}).to_item()


def check_index(table: Table, owners: list[dict] | None = None, songs: list[dict] | None = None) -> list[dict]:
    """Assert the invariants; with ``owners``/``songs``, also that the records are exactly these."""
    items = scan(table)
    postings = [item for item in items if item["SK"].startswith("posting#")]
    counters = {item["PK"]: item["n"] for item in items if item["SK"] == "count"}
    owners_held = {item["PK"]: item for item in items if item["SK"] == "record"}
    assert len(postings) + len(counters) + len(owners_held) == len(items), "items that are none of the three kinds"
    assert all(key.startswith("owners#") for key in owners_held), "a record item besides owners'"

    slots: dict[str, list[int]] = defaultdict(list)
    for posting in postings:
        slots[posting["fpk"]].append(int(posting["slot"]))
    for partition, taken in slots.items():
        assert partition in counters, f"partition {partition} has postings but no counter"
        assert counters[partition] == len(taken), f"counter of {partition} is {counters[partition]}, holds {len(taken)}"
        assert sorted(taken) == list(range(len(taken))), f"slots of {partition}: {sorted(taken)}"
    for partition, count in counters.items():
        assert count == len(slots.get(partition, [])), f"counter of {partition} is {count} for {len(slots.get(partition, []))}"

    owner_records = {
        key.split("#", 1)[1]: Owner.model_validate({k: v for k, v in item.items() if k not in ("PK", "SK")})
        for key, item in owners_held.items()
    }
    song_records = {item["PK"]: record_of(SONG_COLLECTION, item) for item in postings if item["SK"] == "posting#all"}
    by_record: dict[str, dict[str, dict]] = defaultdict(dict)
    for posting in postings:
        assert posting["PK"] in song_records, f"posting {posting['PK']} {posting['SK']} without its all posting (the record)"
        by_record[posting["PK"]][posting["SK"]] = posting
    for key, record in song_records.items():
        owner = owner_records.get(record["ownerId"])
        wanted = derived_postings(SONG_COLLECTION, record, owner.search_names() if owner else [])
        held = by_record.get(key, {})
        assert set(held) == set(wanted), f"{key}: postings {sorted(held)}, derived {sorted(wanted)}"
        for sk, posting in held.items():
            assert posting["fpk"] == wanted[sk]["fpk"], f"{key} {sk}"
            assert {name: value for name, value in posting.items() if name not in ("PK", "SK", "slot")} == wanted[sk]

    if owners is not None:
        assert {key: value.to_item() for key, value in owner_records.items()} == {o["id"]: stored(o) for o in owners}
    if songs is not None:
        assert song_records == {song_pk(song["id"]): stored(song) for song in songs}
    return items


def replaced(songs: list[dict], changes: dict[int, dict], removed: dict[int, tuple[str, ...]] | None = None) -> list[dict]:
    """A copy of the songs with some attributes changed (by song number) and some removed."""
    out = []
    for number, song in enumerate(songs):
        song = {**song, **changes.get(number, {})}
        for attribute in (removed or {}).get(number, ()):
            song.pop(attribute, None)
        out.append(song)
    return out


# -- initial import and idempotence ----------------------------------------------------------------


def test_initial_import_builds_an_exact_index_and_reimporting_it_changes_nothing(table: Table) -> None:
    owners, songs = catalog_data.build()
    report = run_import(table, owners + songs)
    assert loaded(report) == {"owner": len(owners), "song": len(songs)}
    assert report.changed == len(owners) + len(songs)
    items = check_index(table, owners, songs)

    # Partition sizes against the catalog itself, not against the writer's own derivation.
    counters = {item["PK"]: item["n"] for item in items if item["SK"] == "count"}
    for archived in (False, True):
        scope = f"songs|archived={'true' if archived else 'false'}"
        in_scope = [song for song in songs if song["archived"] == archived]
        assert counters[f"{scope}|all"] == len(in_scope)
        for genre, count in Counter(g for song in in_scope for g in song["genres"]).items():
            assert counters[f"{scope}|genre={genre}"] == count
        for owner, count in Counter(song["ownerId"] for song in in_scope).items():
            assert counters[f"{scope}|owner={owner}"] == count
        for status, count in Counter(song["mintingStatus"] for song in in_scope).items():
            assert counters[f"{scope}|status={status}"] == count
        for mood, count in Counter(m for song in in_scope for m in song.get("moods", [])).items():
            assert counters[f"{scope}|mood={mood}"] == count

    before = raw_scan(table)
    again = run_import(table, owners + songs)
    assert (again.changed, again.reindexed) == (0, 0)
    assert loaded(again) == loaded(report)
    assert raw_scan(table) == before


# -- changed songs ---------------------------------------------------------------------------------

# Most scenarios run on part of the test catalog: moto's queries cost time linear in the table's size.
OWNERS, ALL_SONGS = catalog_data.build()
SONGS = ALL_SONGS[:16]
NEW_OWNER = catalog_data.NICK
assert SONGS[5]["ownerId"] != NEW_OWNER
CHANGES: dict[int, dict[str, Any]] = {
    1: {"genres": ["Blues"]},  # Rock -> Blues
    2: {"genres": ["Jazz", "Soul"]},  # Jazz -> Jazz, Soul
    7: {"genres": []},  # Rock -> none
    3: {"archived": False},  # archived -> live
    4: {"archived": True},  # live -> archived
    10: {"archived": False, "genres": ["Pop", "Folk"]},  # scope and a facet at once
    5: {"ownerId": NEW_OWNER},
    12: {"mintingStatus": "Declined", "title": "Renamed 12"},
}
REMOVED: dict[int, tuple[str, ...]] = {6: ("moods",), 8: ("moods",), 11: ("moods",)}
assert all(SONGS[number].get("moods") for number in REMOVED), "only songs that have moods lose them"
assert SONGS[3]["archived"] and not SONGS[4]["archived"] and SONGS[10]["archived"]


@pytest.mark.parametrize("lines", ["whole catalog", "changed songs only"])
def test_changed_songs_move_between_partitions(table: Table, lines: str) -> None:
    run_import(table, OWNERS + SONGS)
    before = scan(table)
    changed_songs = replaced(SONGS, CHANGES, REMOVED)
    numbers = sorted(set(CHANGES) | set(REMOVED))
    imported = OWNERS + changed_songs if lines == "whole catalog" else [changed_songs[n] for n in numbers]

    report = run_import(table, imported)
    assert report.changed == len(numbers)
    items = check_index(table, OWNERS, changed_songs)

    def partitions(song_number: int) -> set[str]:
        return {posting["fpk"] for posting in postings_of(items, SONGS[song_number]["id"]).values()}

    false, true = "songs|archived=false", "songs|archived=true"
    assert f"{false}|genre=Rock" not in partitions(1) and f"{false}|genre=Blues" in partitions(1)
    assert not any("|genre=" in partition for partition in partitions(7))
    assert all(partition.startswith(f"{false}|") for partition in partitions(3))
    assert all(partition.startswith(f"{true}|") for partition in partitions(4))
    assert partitions(10) >= {f"{false}|genre=Pop", f"{false}|genre=Folk", f"{false}|all"}
    assert not any(partition.startswith(f"{true}|") for partition in partitions(10))
    assert f"{false}|owner={SONGS[5]['ownerId']}" not in partitions(5)
    assert f"{false}|owner={NEW_OWNER}" in partitions(5)
    assert "posting#owner=" + SONGS[5]["ownerId"] not in postings_of(items, SONGS[5]["id"])
    for number in REMOVED:
        assert not any("|mood=" in partition for partition in partitions(number))
    assert f"{false}|status=Declined" in partitions(12)

    # The untouched songs keep their postings as they were, except possibly their slot.
    untouched = {song_pk(song["id"]) for number, song in enumerate(SONGS) if number not in numbers}

    def without_slots(scanned: list[dict]) -> list[dict]:
        return [{k: v for k, v in item.items() if k != "slot"} for item in scanned if item["PK"] in untouched]

    assert without_slots(items) == without_slots(before)

    again = run_import(table, imported)
    assert (again.changed, again.reindexed) == (0, 0)


@pytest.mark.parametrize("flush_at", [None, 16], ids=["one flush per import", "flushes mid-import"])
def test_churn_over_several_partial_imports(table: Table, flush_at: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random changes to random songs, four imports in a row; the index stays exact after each.

    Run twice: with the writer's own buffer size (each import is one flush, so slot moves are
    planned against an index that does not show this import's writes yet) and with a tiny one
    (writes land between the moves).
    """
    if flush_at is not None:
        monkeypatch.setattr(writer_module, "_FLUSH_AT", flush_at)
    rng = random.Random(20240601)
    owners, songs = OWNERS, SONGS
    run_import(table, owners + songs)
    current = {song["id"]: song for song in songs}
    owner_ids = [owner["id"] for owner in owners] + ["2b000000-0000-4000-8000-00000000000f"]  # one without record
    genres, moods = ["Pop", "Rock", "Jazz", "pop", "Folk"], ["Calm", "Upbeat", "Dark"]
    next_number = len(songs)
    for _ in range(4):
        batch = []
        for song_id in rng.sample(sorted(current), 6):
            song = dict(current[song_id])
            song.update(
                genres=rng.sample(genres, rng.randint(0, 3)),
                archived=rng.random() < 0.4,
                ownerId=rng.choice(owner_ids),
                mintingStatus=rng.choice(catalog_data.STATUSES),
            )
            if rng.random() < 0.5:
                song["moods"] = rng.sample(moods, rng.randint(0, 2))
            else:
                song.pop("moods", None)
            batch.append(song)
        for _ in range(2):  # and a few new songs
            song = dict(songs[0], id=catalog_data.song_id(1000 + next_number), title=f"New {next_number}")
            song["genres"] = rng.sample(genres, 2)
            next_number += 1
            batch.append(song)
        run_import(table, batch)
        current.update({song["id"]: song for song in batch})
        check_index(table, owners, list(current.values()))


def test_the_same_song_twice_in_one_import_keeps_the_last_version(table: Table) -> None:
    owners, songs = OWNERS, SONGS
    run_import(table, owners + songs)
    first = dict(songs[1], genres=["Folk"], archived=True)
    last = dict(songs[1], genres=["Blues", "Pop"], archived=False, moods=["Dark"])
    fresh = dict(songs[2], id=catalog_data.song_id(500))
    fresh_last = dict(fresh, genres=["Soul"])
    run_import(table, [first, fresh, last, fresh_last])
    check_index(table, owners, [song for song in songs if song["id"] != songs[1]["id"]] + [last, fresh_last])


def test_the_writer_writes_no_counters(table: Table) -> None:
    client, name = table
    import_lines(CatalogWriter(client, name), [json.dumps(record) for record in OWNERS + SONGS], progress=False)
    assert not [item for item in scan(table) if item["SK"] == "count"], "counters are the counter function's"
    drain(client, name)
    check_index(table, OWNERS, SONGS)


def test_deleted_songs_take_their_postings_and_free_their_positions(table: Table) -> None:
    client, name = table
    run_import(table, OWNERS + SONGS)
    writer = CatalogWriter(client, name)
    gone = [SONGS[number]["id"] for number in (0, 3, 4, 9, 15)]
    assert all(writer.delete_record(SONG_COLLECTION, song_id) for song_id in gone)
    assert not writer.delete_record(SONG_COLLECTION, catalog_data.song_id(999))
    changed = dict(SONGS[1], genres=["Folk"])  # deletions and changes in one run
    owner = next(owner for owner in OWNERS if owner["id"] == changed["ownerId"])
    writer.put_record(SONG_COLLECTION, stored(changed), Owner.model_validate(stored(owner)).search_names())
    writer.flush()
    drain(client, name)
    kept = [changed if song["id"] == changed["id"] else song for song in SONGS if song["id"] not in gone]
    items = check_index(table, OWNERS, kept)
    assert not any(item["PK"] in {song_pk(song_id) for song_id in gone} for item in items)


# -- owners ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "new_name", "old_names"),
    [
        ({"kind": "owner", "id": catalog_data.NAMED, "nickname": "Mariachi", "firstName": "Maria", "lastName": "Lopez"},
         "mariachi", ["maria", "lopez", "maria lopez"]),
        ({"kind": "owner", "id": catalog_data.NICK, "nickname": "Daybird"}, "daybird", ["nightowl"]),
    ],
    ids=["nickname added", "nickname changed"],
)  # fmt: skip
def test_renamed_owner_reindexes_their_songs_only(table: Table, owner: dict, new_name: str, old_names: list) -> None:
    owners, songs = OWNERS, SONGS
    run_import(table, owners + songs)
    before = scan(table)
    theirs = {song_pk(song["id"]) for song in songs if song["ownerId"] == owner["id"]}
    assert len(theirs) >= 2

    report = run_import(table, [owner])
    assert loaded(report) == {"owner": 1}
    assert report.changed == 1
    assert report.reindexed == len(theirs)
    owners = [owner if o["id"] == owner["id"] else o for o in owners]
    items = check_index(table, owners, songs)

    for song in songs:
        if song_pk(song["id"]) not in theirs:
            continue
        for posting in postings_of(items, song["id"]).values():
            assert new_name in posting["search"]
            assert not set(old_names) & set(posting["search"])

    def others(scanned: list[dict]) -> list[dict]:
        return [item for item in scanned if item["PK"] not in theirs and item["PK"] != f"owners#{owner['id']}"]

    assert others(items) == others(before)

    def theirs_but_search(scanned: list[dict]) -> list[dict]:
        return [{k: v for k, v in item.items() if k != "search"} for item in scanned if item["PK"] in theirs]

    assert theirs_but_search(items) == theirs_but_search(before), "only the search texts change"

    again = run_import(table, [owner])
    assert (again.changed, again.reindexed) == (0, 0)


def test_song_imported_before_its_owner_becomes_findable_by_the_owner_name(table: Table) -> None:
    owners, songs = OWNERS, SONGS
    late = "2b000000-0000-4000-8000-0000000000aa"
    live = dict(songs[1], ownerId=late, title="Early Bird", archived=False)
    archived = dict(songs[2], ownerId=late, title="Early Worm", archived=True)
    other = dict(songs[4], ownerId=catalog_data.NAMED, archived=False)  # its owner is there from the start
    run_import(table, [owners[1], live, archived, other])
    items = check_index(table)
    for song, title in ((live, "early bird"), (archived, "early worm")):
        assert {tuple(p["search"]) for p in postings_of(items, song["id"]).values()} == {(title,)}
    other_before = postings_of(items, other["id"])

    owner = {"kind": "owner", "id": late, "firstName": "Ada", "lastName": "Lovelace"}
    report = run_import(table, [owner])
    assert report.changed == 1 and report.reindexed == 2
    items = check_index(table, [owners[1], owner], [live, archived, other])
    for song, title in ((live, "early bird"), (archived, "early worm")):
        for posting in postings_of(items, song["id"]).values():
            assert posting["search"] == [title, "ada", "lovelace", "ada lovelace"]
    assert postings_of(items, other["id"]) == other_before


class CallCounter:
    """A client that counts the calls made through it, by operation."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()

    def __getattr__(self, operation: str) -> Any:
        self.calls[operation] += 1
        return getattr(self._client, operation)


def test_an_import_into_an_empty_table_reads_nothing_but_one_item(table: Table) -> None:
    client, name = table
    counting_client = CallCounter(client)
    import_lines(CatalogWriter(counting_client, name), [json.dumps(r) for r in OWNERS + SONGS], progress=False)
    assert counting_client.calls == {"scan": 1, "batch_write_item": counting_client.calls["batch_write_item"]}
    drain(client, name)
    check_index(table, OWNERS, SONGS)

    again = CallCounter(client)  # the table holds something now: a re-import reads what it diffs against
    import_lines(CatalogWriter(again, name), [json.dumps(r) for r in OWNERS + SONGS], progress=False)
    assert again.calls["query"] >= len(SONGS) and again.calls["batch_write_item"] == 0


def test_an_empty_table_given_a_song_twice_across_flushes_keeps_the_last_version(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "_FLUSH_AT", 7)  # the first version is written before the second is read
    first = dict(SONGS[1], genres=["Folk"], archived=True)
    last = dict(SONGS[1], genres=["Blues", "Pop"], archived=False, moods=["Dark"])
    client, name = table
    writer = CatalogWriter(client, name)
    for record in [first, *SONGS[2:9]]:
        writer.put_record(SONG_COLLECTION, stored(record), [])
    writer.put_record(SONG_COLLECTION, stored(last), [])
    writer.flush()
    drain(client, name)
    check_index(table, [], [*SONGS[2:9], last])
