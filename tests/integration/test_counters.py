"""Counters kept by the counter function from the table's stream, on moto and on DynamoDB Local.

The table's stream is handed to the counter function's handler as ``make run`` does
(``devtools.local.streams``). After an import, a re-import that changes genres, moods, owners and archived
flags, and deletions, every counter equals the number of postings in its partition, and those
numbers are what the records themselves say. Handing the whole stream over once more, as a replay
after a failure would, changes nothing. The count route then answers from those counters.
"""

import json
from collections import Counter
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from catalog.declarations import COLLECTIONS, SONGS, SOUNDTRACKS
from devtools import counts
from devtools.local.streams import StreamFeeder, filter_patterns, streams_client
from devtools.template.table import counters_table_name
from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.support import catalog_data, soundtrack_data
from tests.support.api_client import InProcessApi
from tests.support.stream_feed import deliver_to_handler, drain

_deserializer = TypeDeserializer()
Table = tuple[Any, str]

OWNERS, FIRST_SONGS = catalog_data.build()
FIRST_SOUNDTRACKS = soundtrack_data.build(count=16)


def scan(table: Table) -> list[dict]:
    client, name = table
    request: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    items = []
    while True:
        response = client.scan(**request)
        items += [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def assert_counters_exact(table: Table, songs: list[dict], soundtracks: list[dict]) -> dict[str, int]:
    """Every count of the counters table is what the records imply, every counter equals its
    partition's postings, and those match the records (test-only Scans)."""
    client, name = table
    catalog = scan(table)
    counter_items = scan((client, counters_table_name(name)))
    assert not [item for item in counter_items if item["PK"].startswith("pending#")], "pending deltas left behind"
    held_counts = {(item["PK"], item["SK"], attribute): int(value) for item in counter_items
                   if not item["PK"].startswith(("applied#", "ngrams|")) for attribute, value in item.items()
                   if attribute not in ("PK", "SK") and value}  # fmt: skip
    records = [(COLLECTIONS[item["PK"].split("#")[0]], item) for item in catalog if item["SK"] == "posting#all"]
    assert held_counts == dict(counts.of_records(records)), "counts differ from what the records imply"

    held = Counter(item["fpk"] for item in catalog if item["SK"].startswith("posting#"))
    counters = {item["PK"]: int(item["n"]) for item in counter_items if item["SK"] == "count"}
    assert {p: n for p, n in counters.items() if n} == dict(held), "counters differ from the postings they count"
    assert set(held) <= set(counters), "a partition without a counter"

    # The same numbers from the records, without the index's own derivation.
    expected: Counter[str] = Counter()
    for song in songs:
        scope = f"songs|archived={'true' if song['archived'] else 'false'}"
        expected.update([f"{scope}|all", f"{scope}|owner={song['ownerId']}", f"{scope}|status={song['mintingStatus']}"])
        expected.update(f"{scope}|genre={genre}" for genre in set(song["genres"]))
        expected.update(f"{scope}|mood={mood}" for mood in set(song.get("moods") or []))
    expected["soundtracks|all"] += len(soundtracks)
    songs_counted = {p: n for p, n in counters.items() if p.startswith("songs|") and n}
    assert songs_counted == {p: n for p, n in expected.items() if p.startswith("songs|")}
    assert counters.get("soundtracks|all", 0) == expected["soundtracks|all"]
    return counters


def run_import(table: Table, records: list[dict]) -> None:
    client, name = table
    report = import_lines(CatalogWriter(client, name), [json.dumps(record) for record in records], progress=False)
    assert not report.rejected


def changed(songs: list[dict]) -> list[dict]:
    """Every third song with other genres, every fourth with other moods, every fifth archived the other way."""
    out = []
    for number, song in enumerate(songs):
        song = dict(song)
        if number % 3 == 0:
            song["genres"] = [["Blues"], ["Pop", "Folk"], []][number % 9 // 3]
        if number % 4 == 0:
            song["moods"] = ["Dark"] if song.get("moods") else ["Calm", "Dark"]
        if number % 5 == 0:
            song["archived"] = not song["archived"]
        if number % 7 == 0:
            song["ownerId"] = catalog_data.NICK
        out.append(song)
    return out


def test_counters_stay_exact_through_imports_changes_deletions_and_replays(table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    client, name = table
    owners, songs, soundtracks = OWNERS, FIRST_SONGS, FIRST_SOUNDTRACKS

    run_import(table, owners + songs + soundtracks)
    assert drain(client, name) > 0
    assert_counters_exact(table, songs, soundtracks)

    # Re-import with changed genres, moods, owners and archived flags (and soundtracks renamed).
    songs = changed(songs)
    soundtracks = [dict(s, name=f"Renamed {n}") if n % 2 else s for n, s in enumerate(soundtracks)]
    run_import(table, owners + songs + soundtracks)
    assert drain(client, name) > 0
    assert_counters_exact(table, songs, soundtracks)

    # Deletions, through the writer (the importer never deletes).
    writer = CatalogWriter(client, name)
    gone_songs = {song["id"] for song in songs[::4]}
    gone_soundtracks = {soundtrack["uuid"] for soundtrack in soundtracks[:5]}
    for song_id in gone_songs:
        assert writer.delete_record(SONGS, song_id)
    for uuid in gone_soundtracks:
        assert writer.delete_record(SOUNDTRACKS, uuid)
    assert not writer.delete_record(SONGS, catalog_data.song_id(9999))
    writer.flush()
    songs = [song for song in songs if song["id"] not in gone_songs]
    soundtracks = [s for s in soundtracks if s["uuid"] not in gone_soundtracks]
    drain(client, name)
    counters = assert_counters_exact(table, songs, soundtracks)
    assert 0 in counters.values(), "some partition was emptied: its counter reads 0"

    # The whole stream once more, from its start, through the same handler: nothing counts twice.
    replay = StreamFeeder(
        client, streams_client(client), name, deliver_to_handler(client, name), batch_size=37, patterns=filter_patterns()
    )
    assert replay.drain() > 0
    assert assert_counters_exact(table, songs, soundtracks) == counters

    # The count route answers from these counters.
    api = InProcessApi(client, name, monkeypatch)
    live = [song for song in songs if not song["archived"]]
    for params, wanted in [
        ({}, len(live)),
        ({"archived": "true"}, len(songs) - len(live)),
        ({"genres": "Pop"}, sum("Pop" in song["genres"] for song in live)),
        ({"moods": "Dark"}, sum("Dark" in (song.get("moods") or []) for song in live)),
        ({"ownerIds": catalog_data.NICK}, sum(song["ownerId"] == catalog_data.NICK for song in live)),
    ]:
        answer = api.get("/v1/songs/count", params)
        assert (answer.body, answer.meter.items) == ({"count": wanted}, 1), params
    assert api.get("/api/v1/soundtracks/count").body == {"count": len(soundtracks)}
