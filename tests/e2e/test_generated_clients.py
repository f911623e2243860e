"""Clients generated from the committed docs/openapi.json work against the local stack, end to end.

Most users of the API never write its HTTP calls: they generate a client from the document. Two are
generated here, at test time, into temporary directories (generated code is never committed):

- Python, by ``openapi-python-client`` (pinned in requirements/dev.txt). Its calls send every
  parameter that has a documented default (``offset=0``, ``page=1``, ``sortOrder=asc``...), and
  arrays as repeated parameters (``genres=Pop&genres=Rock``).
- TypeScript, by ``openapi-typescript`` (types) with ``openapi-fetch`` (the typed client), from npm
  (package.json), compiled by ``tsc --strict`` (so every call in tests/e2e/clients/walk.mts must fit the
  generated types) and run by Node; arrays go as the document says, comma-separated.

Each one calls every operation, pages a filtered list of each collection to its end by following
the ``Link`` cursors, parses error bodies, sends array parameters and the soundtracks operators, and
sends an answer's ``ETag`` back in ``If-None-Match`` (304),
against a stack of its own (sharing the session's DynamoDB Local and user pool, with its own table
and catalog, so that the other tests' catalog stays as they expect it).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest

from devtools import REGION
from devtools.local import stack
from devtools.local.identity import sign_in
from devtools.openapi.document import DOCUMENT_PATH
from devtools.template import table
from tests.e2e.conftest import DEMO_SUB, OTHER_OWNER, REPO_ROOT, LocalStack

pytestmark = pytest.mark.e2e

TABLE = "generated-clients"
CLIENTS = Path(__file__).parent / "clients"
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _song(number: int, owner: str, genres: list[str], moods: list[str], status: str, archived: bool = False) -> dict:
    return {
        "kind": "song", "id": f"5e0a0000-0000-4000-8000-00000000000{number}", "archived": archived,
        "ownerId": owner, "createdAt": f"2024-01-0{number}T10:00:00.000000", "title": f"Song {number}",
        "genres": genres, "moods": moods, "coverRemixSample": False, "audioEncodingStatus": "Completed",
        "mintingStatus": status, "marketplaceStatus": "NotSelling",
    }  # fmt: skip


def _soundtrack(number: int, name: str, artist: str, duration: int, release_date: str | None) -> dict:
    record = {
        "kind": "soundtrack", "uuid": f"50000000-0000-4000-8000-00000000000{number}", "name": name, "artist": artist,
        "duration": duration, "created_at": f"2024-01-0{number}T09:00:00", "updated_at": f"2024-02-0{number}T09:00:00",
    }  # fmt: skip
    return {**record, "release_date": release_date} if release_date else record


SONGS = [
    _song(1, DEMO_SUB, ["Pop"], ["Calm"], "Minted"),
    _song(2, DEMO_SUB, ["Pop"], ["Dark"], "Minted"),
    _song(3, OTHER_OWNER, ["Pop"], [], "Released"),
    _song(4, OTHER_OWNER, ["Rock"], ["Calm"], "Minted"),
    _song(5, DEMO_SUB, ["Pop", "Rock"], ["Calm"], "Pending"),
    _song(6, OTHER_OWNER, ["Pop"], ["Calm"], "Minted", archived=True),
    _song(7, OTHER_OWNER, ["Pop"], ["Upbeat"], "Released"),
]
SOUNDTRACKS = [
    _soundtrack(1, "Main Theme", "Hildur Sand", 180000, "2024-03-01"),
    _soundtrack(2, "End Credits", "Clara Ness", 240000, "2024-06-15"),
    _soundtrack(3, "Night Theme", "Mica Lévi", 95000, "2023-11-20"),
    _soundtrack(4, "Opening", "Hildur Sand", 300000, "2024-12-31"),
    _soundtrack(5, "Chase Theme", "Clara Ness", 200000, None),
    _soundtrack(6, "Finale", "Other", 150000, "2025-01-01"),
    _soundtrack(7, "Love Theme", "Hildur Sand", 120000, "2024-02-14"),
]


def song_ids(*numbers: int) -> list[str]:
    return [SONGS[number - 1]["id"] for number in numbers]


def soundtrack_ids(*numbers: int) -> list[str]:
    return [SOUNDTRACKS[number - 1]["uuid"] for number in numbers]


# What both clients ask, and what the catalog above answers (worked out by hand from the records).
# Songs: Pop, without the Dark mood (a song without moods stays), minted or released, not archived, newest first.
SONGS_WALK: dict[str, Any] = {"genres": ["Pop"], "moods": ["-Dark"], "mintingStatuses": ["Minted", "Released"], "limit": 2}
SONGS_WALKED = song_ids(7, 3, 1)
# Soundtracks by two artists, at least 120000 long, released in 2024, longest first.
SOUNDTRACKS_WALK = {"artist": ":Hildur Sand,Clara Ness", "duration": ">=120000",
                    "release_date": "2024-01-01::2024-12-31", "sort": "duration,DESC", "size": 2}  # fmt: skip
SOUNDTRACKS_WALKED = soundtrack_ids(4, 2, 1, 7)


@dataclass(frozen=True)
class ClientsStack:
    url: str
    token: str


@pytest.fixture(scope="module")
def clients_stack(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientsStack]:
    logs = tmp_path_factory.mktemp("clients-stack")
    composed = local_stack.composed
    with stack.local_stack(logs=logs, dynamodb=composed.dynamodb, pool=composed.pool, table_name=TABLE) as own:
        table.create_tables(own.dynamodb.client(), TABLE)
        owners = [{"kind": "owner", "id": DEMO_SUB, "nickname": "Demo Owner"},
                  {"kind": "owner", "id": OTHER_OWNER, "firstName": "Other", "lastName": "Owner"}]  # fmt: skip
        catalog = logs / "catalog.jsonl"
        catalog.write_text("".join(json.dumps(r) + "\n" for r in owners + SONGS + SOUNDTRACKS), encoding="utf-8")
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *map(str, local_stack.layer_paths)]),
                       "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}  # fmt: skip
        imported = subprocess.run(
            [sys.executable, "-m", "devtools.cli.import_catalog", "--quiet", "--table", TABLE,
             "--endpoint-url", own.dynamodb.endpoint_url, "--region", REGION, str(catalog)],
            cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert imported.returncode == 0, imported.stderr
        own.counter_feeder().drain()
        own.serve_in_background()
        yield ClientsStack(own.url, sign_in(own.pool, local_stack.demo).access_token)
        table.delete_tables(own.dynamodb.client(), TABLE)


def cursor_of(link: str | None) -> str | None:
    """The cursor of a ``Link: <url>; rel="next"`` header, or None on the last page."""
    if not link:
        return None
    assert link.startswith("<") and link.endswith('>; rel="next"'), link
    return parse_qs(urlsplit(link[1 : link.index(">")]).query)["cursor"][0]


# -- Python: openapi-python-client --------------------------------------------------------------------


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The package openapi-python-client generates from the committed document, imported."""
    where = tmp_path_factory.mktemp("python-client")
    tools = Path(sys.executable).parent  # openapi-python-client, and the ruff it formats the code with
    generated = subprocess.run(
        [str(tools / "openapi-python-client"), "generate", "--path", str(DOCUMENT_PATH), "--meta", "none",
         "--output-path", str(where / "catalog_client")],
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "warning" not in output.lower() and "error" not in output.lower(), output  # the whole document is usable
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module("catalog_client")
    finally:
        sys.path.remove(str(where))


def _module(package: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.fixture(scope="module")
def api(python_client: ModuleType, clients_stack: ClientsStack) -> Iterator[Any]:
    client = python_client.AuthenticatedClient(
        base_url=clients_stack.url, token=clients_stack.token, raise_on_unexpected_status=True
    )
    with client as opened:
        yield opened


def test_python_client_pages_a_filtered_song_list_to_its_end(python_client: ModuleType, api: Any) -> None:
    list_songs = _module(python_client, "api.songs.list_songs")
    status = _module(python_client, "models.list_songs_minting_statuses_item").ListSongsMintingStatusesItem
    order = _module(python_client, "models.list_songs_sort_order").ListSongsSortOrder
    walked, cursor, pages = [], None, 0
    while True:
        # Every defaulted parameter goes along (offset=0, archived=false...), next to the cursor too.
        answer = list_songs.sync_detailed(
            client=api, genres=SONGS_WALK["genres"], moods=SONGS_WALK["moods"],
            minting_statuses=[status(value) for value in SONGS_WALK["mintingStatuses"]],
            limit=SONGS_WALK["limit"], sort_order=order("desc"), **({"cursor": cursor} if cursor else {}),
        )  # fmt: skip
        assert answer.status_code == 200, answer.content
        walked += [str(song.id) for song in answer.parsed]
        pages += 1
        cursor = cursor_of(answer.headers.get("Link"))
        if cursor is None:
            break
    assert (walked, pages) == (SONGS_WALKED, 2)


def test_python_client_pages_soundtracks_with_operators_to_their_end(python_client: ModuleType, api: Any) -> None:
    list_soundtracks = _module(python_client, "api.soundtracks.list_soundtracks")
    sort = _module(python_client, "models.list_soundtracks_sort").ListSoundtracksSort
    walk = {key: value for key, value in SOUNDTRACKS_WALK.items() if key != "sort"}
    walked, cursor, indexes = [], None, []
    while True:
        answer = list_soundtracks.sync_detailed(
            client=api, sort=sort(SOUNDTRACKS_WALK["sort"]), **walk, **({"cursor": cursor} if cursor else {})
        )
        assert answer.status_code == 200, answer.content
        walked += [str(soundtrack.uuid) for soundtrack in answer.parsed]
        indexes.append(answer.headers["X-Pagination-Page-Index"])
        assert answer.headers["X-Pagination-Item-Total"] == str(len(SOUNDTRACKS_WALKED))
        cursor = cursor_of(answer.headers.get("Link"))
        if cursor is None:
            break
    assert (walked, indexes) == (SOUNDTRACKS_WALKED, ["1", "2"])


def test_python_client_calls_every_other_operation(python_client: ModuleType, api: Any) -> None:
    songs, soundtracks = "api.songs.", "api.soundtracks."
    owner_me = _module(python_client, "models.count_songs_owner_ids_item_type_1").CountSongsOwnerIdsItemType1("me")
    count = _module(python_client, songs + "count_songs").sync(client=api, genres=["Pop", "-Rock"], owner_ids=[owner_me])
    assert count.count == 2  # the demo user's non-archived Pop songs without Rock: 1 and 2
    newer = _module(python_client, songs + "count_songs").sync(client=api, newer_than=datetime(2024, 1, 2, tzinfo=UTC))
    assert newer.count == 5  # created after midnight UTC on 2 January: 2, 3, 4, 5, 7 (6 is archived)
    song = _module(python_client, songs + "get_song").sync(client=api, song_id=SONGS[0]["id"])
    assert (str(song.id), song.title, song.genres) == (SONGS[0]["id"], "Song 1", ["Pop"])
    picked = _module(python_client, songs + "random_song").sync(client=api, ids=[UUID(SONGS[3]["id"])])
    assert str(picked.id) == SONGS[3]["id"]
    themes = _module(python_client, soundtracks + "count_soundtracks").sync(client=api, name="*Theme")
    assert themes.count == 4
    soundtrack = _module(python_client, soundtracks + "get_soundtrack").sync(client=api, uuid=SOUNDTRACKS[0]["uuid"])
    assert (soundtrack.name, soundtrack.duration, str(soundtrack.release_date)) == ("Main Theme", 180000, "2024-03-01")
    short = _module(python_client, soundtracks + "random_soundtrack").sync(client=api, duration="<100000")
    assert str(short.uuid) == SOUNDTRACKS[2]["uuid"]
    genres = _module(python_client, songs + "list_song_genres")
    fewest = _module(python_client, "models.list_song_genres_sort_order").ListSongGenresSortOrder("asc")
    assert genres.sync(client=api, genres=["Rock"]) == ["Rock", "Pop"]  # songs 4 and 5: Rock twice, Pop once
    assert genres.sync(client=api, genres=["Rock"], sort_order=fewest, offset=1, limit=1) == ["Rock"]
    counted = _module(python_client, songs + "count_song_genres")
    assert counted.sync(client=api, moods=["Calm"]).count == 2  # songs 1, 4 and 5: Pop and Rock
    first = counted.sync_detailed(client=api, moods=["Calm"])
    again = counted.sync_detailed(client=api, moods=["Calm"], if_none_match=first.headers["ETag"])
    assert (again.status_code, again.content) == (304, b"")


def test_python_client_parses_error_bodies(python_client: ModuleType, api: Any) -> None:
    error = _module(python_client, "models.error").Error
    missing = _module(python_client, "api.songs.get_song").sync_detailed(client=api, song_id=UNKNOWN)
    assert missing.status_code == 404 and isinstance(missing.parsed, error)
    assert (missing.parsed.code, missing.parsed.description, missing.parsed.cause) == (
        404, "Not Found", f"Entity with id {UNKNOWN} not found")  # fmt: skip
    too_many = _module(python_client, "api.songs.list_songs").sync_detailed(client=api, limit=500)
    assert too_many.status_code == 422 and isinstance(too_many.parsed, error)
    assert too_many.parsed.cause == "Invalid value for parameter 'limit': 500 is above the maximum of 100"
    none = _module(python_client, "api.soundtracks.random_soundtrack").sync_detailed(client=api, duration="<1")
    assert none.status_code == 404 and none.parsed.cause == "No soundtracks match the filters"


# -- TypeScript: openapi-typescript + openapi-fetch, compiled by tsc, run by Node ------------------------


@pytest.fixture(scope="module")
def typescript_walk(clients_stack: ClientsStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What tests/e2e/clients/walk.mts reports after its calls (it asserts nothing itself)."""
    node = shutil.which("node")
    if node is None or not (NODE_BIN / "tsc").exists():
        pytest.fail("Node and the npm packages (`make setup`) are needed to generate the TypeScript client")
    where = tmp_path_factory.mktemp("typescript-client")
    (where / "node_modules").symlink_to(REPO_ROOT / "node_modules")  # openapi-fetch and its types
    shutil.copy(CLIENTS / "walk.mts", where / "walk.mts")
    shutil.copy(CLIENTS / "tsconfig.json", where / "tsconfig.json")
    steps = [
        [str(NODE_BIN / "openapi-typescript"), str(DOCUMENT_PATH), "--output", "schema.d.ts"],
        [str(NODE_BIN / "tsc"), "--project", "tsconfig.json"],  # strict: the calls must fit the generated types
    ]
    for step in steps:
        done = subprocess.run(step, cwd=where, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{' '.join(step)}:\n{done.stdout}{done.stderr}"
    arguments = {"baseUrl": clients_stack.url, "token": clients_stack.token, "songsWalk": SONGS_WALK,
                 "soundtracksWalk": SOUNDTRACKS_WALK, "song": SONGS[0]["id"], "soundtrack": SOUNDTRACKS[0]["uuid"],
                 "unknown": UNKNOWN}  # fmt: skip
    ran = subprocess.run(
        [node, "walk.mjs", json.dumps(arguments)], cwd=where / "out", capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return json.loads(ran.stdout)


def test_typescript_client_pages_both_collections_to_their_end(typescript_walk: dict[str, Any]) -> None:
    assert typescript_walk["songs"] == {"ids": SONGS_WALKED, "pages": 2}
    assert typescript_walk["soundtracks"] == {"ids": SOUNDTRACKS_WALKED, "pages": 2, "indexes": ["1", "2"],
                                              "itemTotal": str(len(SOUNDTRACKS_WALKED))}  # fmt: skip


def test_typescript_client_calls_every_other_operation(typescript_walk: dict[str, Any]) -> None:
    assert typescript_walk["countSongs"] == {"count": 2}
    assert typescript_walk["songGenres"] == {"mostFirst": ["Rock", "Pop"], "fewestFirst": ["Pop", "Rock"]}
    assert typescript_walk["countSongGenres"] == {"count": 2, "notModified": 304}
    assert typescript_walk["song"] == {"id": SONGS[0]["id"], "title": "Song 1"}
    assert typescript_walk["randomSong"] == SONGS[3]["id"]
    assert typescript_walk["countSoundtracks"] == {"count": 4}
    assert typescript_walk["soundtrack"] == {"uuid": SOUNDTRACKS[0]["uuid"], "name": "Main Theme"}
    assert typescript_walk["randomSoundtrack"] == SOUNDTRACKS[2]["uuid"]


def test_typescript_client_parses_error_bodies(typescript_walk: dict[str, Any]) -> None:
    assert typescript_walk["missing"] == {"status": 404, "code": 404, "description": "Not Found",
                                          "cause": f"Entity with id {UNKNOWN} not found"}  # fmt: skip
    assert typescript_walk["malformed"] == {"status": 422, "code": 422, "description": "Unprocessable Entity",
                                            "cause": "Invalid UUID string: not-a-uuid"}  # fmt: skip
