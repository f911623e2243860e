"""The phrase index kept by the counter function from the table's stream, on moto and DynamoDB Local.

After an import, a re-import that changes titles, descriptions, owners' names (a rename rewrites
the owner's songs), archived flags and creation times, deletions, and a replay of the whole stream,
the index holds exactly the postings the stored records' texts imply, and every head counts its
list. The phrase routes then answer what a plain-Python oracle answers, reading the index.
"""

import random
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from catalog import fetch, grams, keys, phrase_index, phrases
from catalog.declarations import COLLECTIONS, SONGS
from catalog.parse.songs import query as songs_query
from catalog.plan import plan
from catalog.store import Store
from devtools import counts
from devtools.local.streams import StreamFeeder, filter_patterns, streams_client
from devtools.template.table import counters_table_name
from importer.writer import CatalogWriter
from tests.integration.test_counters import FIRST_SONGS, OWNERS, run_import, scan
from tests.support import catalog_data
from tests.support.api_client import InProcessApi
from tests.support.stream_feed import deliver_to_handler, drain

_deserializer = TypeDeserializer()
Table = tuple[Any, str]


def assert_index_exact(table: Table) -> counts.Index:
    """The index equals what the stored records imply, and each head counts its list (test-only Scans)."""
    client, name = table
    records = [(COLLECTIONS[item["PK"].split("#")[0]], item) for item in scan(table) if item["SK"] == "posting#all"]
    implied = counts.index_of_records(records)
    items = scan((client, counters_table_name(name)))
    heads, held = counts.held_index(items)
    assert held == implied, "the index differs from what the records' texts imply"
    assert not counts.directory_errors(items), "a head lists other blocks than its gram has"
    assert heads == {gram: len(postings) for gram, postings in implied.items()}, "a head differs from its list"
    return held


def edited(songs: list[dict]) -> list[dict]:
    """Every third song retitled, every fourth with another description, every fifth archived the other
    way, every sixth with other genres, moods and status (their lists), every seventh moved in time."""
    out = []
    for number, song in enumerate(songs):
        song = dict(song)
        if number % 3 == 0:
            song["title"] = f"Retitled Aardvark {number}"
        if number % 4 == 0:
            song["description"] = "quiet lullaby" if song.get("description") else "a new description"
        if number % 8 == 0:
            song["description"] = "kark aardvark"  # every gram of "vark aardvark", but not that phrase
        if number % 5 == 0:
            song["archived"] = not song["archived"]
        if number % 6 == 0:
            song.update(genres=["Jazz", "Blues"], moods=["Calm"] if song.get("moods") else [], mintingStatus="Released")
        if number % 7 == 0:
            song["createdAt"] = song["createdAt"].replace("20", "21", 1)
        out.append(song)
    return out


def renamed(owners: list[dict]) -> list[dict]:
    return [dict(owner, nickname="Moonlit Heron") if owner["id"] == catalog_data.NICK else owner for owner in owners]


def test_the_index_stays_exact_through_imports_edits_renames_deletions_and_replays(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, name = table
    monkeypatch.setattr(grams, "MAX_BLOCK_BYTES", 200)  # small blocks: splits, several blocks a gram
    monkeypatch.setattr(grams, "MAX_DIRECTORY", 3)  # and grams whose heads stop listing their blocks
    monkeypatch.setattr(phrase_index, "MAX_ACTIONS", 10)  # and grams rewritten in several transactions
    owners, songs = OWNERS, FIRST_SONGS

    run_import(table, owners + songs)
    drain(client, name)
    first = assert_index_exact(table)
    assert any(len(postings) > 10 for postings in first.values())

    songs, owners = edited(songs), renamed(owners)
    run_import(table, owners + songs)
    drain(client, name)
    held = assert_index_exact(table)
    assert any(" heron" in gram or "her" == gram for _, gram in held), "the rename reached the index"

    writer = CatalogWriter(client, name)
    gone = {song["id"] for song in songs[1::4]}
    for song_id in gone:
        assert writer.delete_record(SONGS, song_id)
    writer.flush()
    songs = [song for song in songs if song["id"] not in gone]
    drain(client, name)
    held = assert_index_exact(table)

    # The whole stream once more, from its start, in other batches: the index does not move.
    replay = StreamFeeder(
        client, streams_client(client), name, deliver_to_handler(client, name), batch_size=13, patterns=filter_patterns()
    )
    assert replay.drain() > 0
    assert assert_index_exact(table) == held

    # The routes answer from the index what the oracle answers, on every route a phrase takes.
    api = InProcessApi(client, name, monkeypatch)
    for phrase in [
        "zebra",
        "ze",
        "heron",
        "moonlit heron",
        "retitled aardvark 1",
        "vark aardvark",
        "kark aardvark",
        "song",
        "quiet",
        "qz",
        "no such words",
    ]:
        for extra in [{}, {"archived": "true"}, {"genres": "Pop"}, {"genres": "Jazz,Rock", "moods": "-Calm"},
                      {"mintingStatuses": "Released"}, {"genres": "Blues", "archived": "true"}]:  # fmt: skip
            params = {"phrase": phrase, **extra}
            wanted = catalog_data.expected(owners, songs, params)
            listed = api.get("/v1/songs", {**params, "limit": "100"})
            assert [song["id"] for song in listed.body] == wanted, params
            assert api.get("/v1/songs/count", params).body == {"count": len(wanted)}, params
            picked = api.get("/v1/songs/random", params)
            assert (picked.body["id"] in wanted) if wanted else picked.status == 404, params
            genres = catalog_data.genre_counts(owners, songs, params)
            assert api.get("/v1/songs/genres/count", params).body == {"count": len(genres)}, params
            ranked = sorted(genres, key=lambda genre: (-genres[genre], genre))  # most carried first, ties by name
            assert api.get("/v1/songs/genres", {**params, "limit": "100"}).body == ranked, params


def test_random_matches_are_drawn_from_the_heads_and_blocks_the_writer_left(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit tests' draws (``phrases.draws``) on the real store: the heads the stream's writer keeps
    list every block, a block is read by its bound, and the candidates drawn whose records match are
    every match, each one in time."""
    client, name = table
    monkeypatch.setattr(grams, "MAX_BLOCK_BYTES", 200)  # several blocks a list
    monkeypatch.setattr(phrases, "POSTINGS_PER_BLOCK", 2)  # and lists long enough for sampling to pay
    run_import(table, OWNERS + FIRST_SONGS)
    drain(client, name)
    store = Store(client, name, counters_table_name(name))
    query = songs_query({"phrase": ["song"]}, None)
    heads = store.gram_heads(grams.scope_of(SONGS, False), ["son", "ong"])
    assert all(head.directory and len(head.directory) > 1 for head in heads.values()), heads
    wanted = set(catalog_data.expected(OWNERS, FIRST_SONGS, {"phrase": "song"}))
    drawn: set[str] = set()
    for seed in range(40):
        draws = phrases.draws(store, query, None, None, random.Random(seed))
        assert draws is not None and not draws.none
        candidates = [keys.record_key(SONGS.name, song_id) for song_id in dict.fromkeys(map(keys.id_of_sort_key, draws.keys))]
        drawn |= {record["id"] for record in store.batch_get(candidates) if query.matches(record)}
    assert drawn == wanted


def test_a_random_pick_of_a_phrase_whose_lists_outgrew_their_heads_draws_at_uniform_positions(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the real store: heads that no longer list their blocks, and a phrase many songs hold, are
    picked at random from the Sampling index's positions, each pick a match, none by counting."""
    client, name = table
    monkeypatch.setattr(grams, "MAX_BLOCK_BYTES", 200)
    monkeypatch.setattr(grams, "MAX_DIRECTORY", 2)
    run_import(table, OWNERS + FIRST_SONGS)
    drain(client, name)
    query = songs_query({"phrase": ["song"]}, None)
    store = Store(client, name, counters_table_name(name))
    heads = store.gram_heads(grams.scope_of(SONGS, False), ["son", "ong"])
    assert all(head.directory is None for head in heads.values()), heads
    wanted = set(catalog_data.expected(OWNERS, FIRST_SONGS, {"phrase": "song"}))
    for reader in ("gram_blocks", "gram_between", "gram_floor", "gram_block"):  # the seeds below never count
        monkeypatch.setattr(Store, reader, lambda *_, **__: pytest.fail("a list of the index was read"))
    picked: set[str] = set()
    for seed in range(40):
        store = Store(client, name, counters_table_name(name))  # a store a request
        song = fetch.sample(store, plan(query), random.Random(seed))
        assert song is not None and song["id"] in wanted
        picked.add(song["id"])
    assert len(picked) > len(wanted) // 2


def test_the_test_catalog_fills_several_blocks_and_overflowing_directories(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the test above relies on: with its settings, grams split into blocks and heads stop listing them."""
    monkeypatch.setattr(grams, "MAX_BLOCK_BYTES", 200)
    monkeypatch.setattr(grams, "MAX_DIRECTORY", 3)
    records = [(SONGS, {**song, "search": [song["title"].lower(), (song.get("description") or "").lower()]})
               for song in FIRST_SONGS]  # fmt: skip
    items = counts.index_items(counts.index_of_records(records))
    heads = [item for item in items if item["PK"].count("|") == 2]
    assert any(grams.DIRECTORY in head and len(head[grams.DIRECTORY]) > 1 for head in heads)
    assert any(grams.OVERFLOW in head for head in heads)
