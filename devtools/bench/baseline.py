"""The naive baseline: what most samples do, on the same DynamoDB Local and the same records.

One table per kind, keyed by id only, holding the records as the API returns them. Every list,
count and random request Scans the whole table (paginated, ``ReturnConsumedCapacity``), then
filters, sorts and slices in memory; a ``phrase`` also Scans the owners (their names are searched);
get is a GetItem. The filters are written here again from docs/API.md, independently of the
layer, so that an answer that differs from the API's is a bug found, in one or the other.

A Scan does not depend on the query, so the bench Scans each table once per size (or
``--baseline-scans`` times) and applies every shape to what it read: the capacity is the Scan's,
and a request's time is the Scan's time plus the shape's own in-memory work.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

_deserializer = TypeDeserializer()

SONG_KEY, SOUNDTRACK_KEY = "id", "uuid"


@dataclass
class Scan:
    items: list[dict]
    capacity: float
    seconds: float


def scan(client: Any, table: str) -> Scan:
    """Every item of a table, page by page, with the read capacity DynamoDB reports."""
    request: dict[str, Any] = {"TableName": table, "ReturnConsumedCapacity": "INDEXES"}
    items, capacity = [], 0.0
    started = time.perf_counter()
    while True:
        response = client.scan(**request)
        items += [{name: _deserializer.deserialize(value) for name, value in raw.items()} for raw in response["Items"]]
        capacity += response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return Scan(items, capacity, time.perf_counter() - started)


@dataclass
class Got:
    item: dict | None
    capacity: float
    seconds: float


def get(client: Any, table: str, key: str, item_id: str) -> Got:
    started = time.perf_counter()
    response = client.get_item(TableName=table, Key={key: {"S": item_id}}, ReturnConsumedCapacity="INDEXES")
    seconds = time.perf_counter() - started
    item = {name: _deserializer.deserialize(value) for name, value in response["Item"].items()} if "Item" in response else None
    return Got(item, response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0), seconds)


# -- songs: docs/API.md, GET /v1/songs ------------------------------------------------------------


def _list_parameter(value: str | None, normalize: Callable[[str], str] = str) -> tuple[set[str], set[str]] | None:
    """``a,-b,+c`` -> ({a, c}, {b}); None when the parameter is absent."""
    if value is None:
        return None
    include, exclude = set(), set()
    for item in (part.strip() for part in value.split(",")):
        if item.startswith("-"):
            exclude.add(normalize(item[1:].strip()))
        else:
            include.add(normalize(item.removeprefix("+").strip()))
    return include, exclude


def _admits(selection: tuple[set[str], set[str]] | None, values: list[str]) -> bool:
    if selection is None:
        return True
    include, exclude = selection
    if exclude.intersection(values):
        return False
    return not include or bool(include.intersection(values))


def owner_texts(owner: dict | None) -> list[str]:
    """The owner's names a phrase looks at: the nickname, else first, last and 'first last'."""
    if not owner:
        return []
    if owner.get("nickname"):
        return [owner["nickname"]]
    names = [owner[name] for name in ("firstName", "lastName") if owner.get(name)]
    return names + ([" ".join(names)] if len(names) == 2 else [])


def song_filter(params: dict[str, str], owners: dict[str, dict]) -> Callable[[dict], bool]:
    archived = params.get("archived", "false").lower() == "true"
    lists = {
        "id": _list_parameter(params.get("ids"), str.lower),
        "ownerId": _list_parameter(params.get("ownerIds"), str.lower),
        "genres": _list_parameter(params.get("genres")),
        "moods": _list_parameter(params.get("moods")),
        "mintingStatus": _list_parameter(params.get("mintingStatuses")),
    }
    newer, older = params.get("newerThan"), params.get("olderThan")
    phrase = (params.get("phrase") or "").lower()

    def matches(song: dict) -> bool:
        if song["archived"] != archived:
            return False
        for attribute, selection in lists.items():
            value = song.get(attribute)
            if not _admits(selection, value if isinstance(value, list) else [] if value is None else [value]):
                return False
        if newer is not None and not song["createdAt"] > newer:
            return False
        if older is not None and not song["createdAt"] < older:
            return False
        if phrase:
            texts = [song.get(name) for name in ("title", "description", "album", "nftName")]
            texts += owner_texts(owners.get(song["ownerId"]))
            if not any(phrase in text.lower() for text in texts if text):
                return False
        return True

    return matches


def songs_matching(songs: list[dict], owners: dict[str, dict], params: dict[str, str]) -> list[dict]:
    """The matching songs in the API's order: createdAt then id, the whole order reversed for desc."""
    matches = song_filter(params, owners)
    matched = [song for song in songs if matches(song)]
    matched.sort(key=lambda song: (song["createdAt"], song["id"]), reverse=params.get("sortOrder", "asc") == "desc")
    return matched


def songs_page(songs: list[dict], owners: dict[str, dict], params: dict[str, str]) -> list[dict]:
    offset, limit = int(params.get("offset", 0)), int(params.get("limit", 25))
    return songs_matching(songs, owners, params)[offset : offset + limit]


def genre_counts(songs: list[dict], owners: dict[str, dict], params: dict[str, str]) -> dict[str, int]:
    """GET /v1/songs/genres/count's genres: how many matching songs carry each genre."""
    counts: dict[str, int] = {}
    for song in songs_matching(songs, owners, params):
        for genre in set(song["genres"]):
            counts[genre] = counts.get(genre, 0) + 1
    return counts


def genres_page(songs: list[dict], owners: dict[str, dict], params: dict[str, str]) -> list[str]:
    """GET /v1/songs/genres: by count, most first (fewest with ``sortOrder=asc``), ties by name; then the page."""
    counts = genre_counts(songs, owners, params)
    sign = 1 if params.get("sortOrder", "desc").lower() == "asc" else -1
    ranked = sorted(counts, key=lambda genre: (sign * counts[genre], genre))
    offset, limit = int(params.get("offset", 0)), int(params.get("limit", 25))
    return ranked[offset : offset + limit]


# -- soundtracks: docs/API.md, GET /api/v1/soundtracks ---------------------------------------------

SOUNDTRACK_FILTERS = {"name": str, "artist": str, "album": str, "duration": int, "release_date": str}
DEFAULT_SIZE, MAX_SIZE = 10, 20


def _soundtrack_condition(field: str, value: str) -> Callable[[dict], bool]:
    typed = SOUNDTRACK_FILTERS[field]

    def has(track: dict) -> bool:
        return track.get(field) is not None

    if value.startswith("!*"):
        return lambda track: not has(track) or value[2:] not in track[field]
    if value.startswith("*"):
        return lambda track: has(track) and value[1:] in track[field]
    if value.startswith("!:"):
        excluded = {typed(item) for item in value[2:].split(",")}
        return lambda track: not has(track) or track[field] not in excluded
    if value.startswith(":"):
        included = {typed(item) for item in value[1:].split(",")}
        return lambda track: has(track) and track[field] in included
    for prefix, compare in ((">=", operator.ge), ("<=", operator.le), (">", operator.gt), ("<", operator.lt)):
        if value.startswith(prefix):
            operand = typed(value[len(prefix) :])

            def compared(track: dict, compare: Callable[[Any, Any], bool] = compare, operand: Any = operand) -> bool:
                return has(track) and compare(track[field], operand)

            return compared
    if "::" in value:
        low, _, high = value.partition("::")
        return lambda track: has(track) and typed(low) <= track[field] <= typed(high)
    if value.startswith("!"):
        return lambda track: not has(track) or track[field] != typed(value[1:])
    return lambda track: has(track) and track[field] == typed(value)


def soundtracks_matching(tracks: list[dict], params: dict[str, str]) -> list[dict]:
    """The matching soundtracks in the requested order (absent values last ascending, ties by uuid)."""
    conditions = [_soundtrack_condition(field, params[field]) for field in SOUNDTRACK_FILTERS if params.get(field)]
    matched = [track for track in tracks if all(condition(track) for condition in conditions)]
    field, _, direction = (params.get("sort") or "created_at").partition(",")
    descending = (direction or params.get("order") or "asc").lower() == "desc"

    def order(track: dict) -> tuple:
        value = track.get(field)
        return (value is None, (0 if field == "duration" else "") if value is None else value, track["uuid"])

    matched.sort(key=order, reverse=descending)
    return matched


def soundtracks_page(tracks: list[dict], params: dict[str, str]) -> tuple[list[dict], int]:
    """The page and the number of matching soundtracks (the ``X-Pagination-Item-Total``)."""
    number, size = int(params.get("page", 1)), min(int(params.get("size", DEFAULT_SIZE)), MAX_SIZE)
    matched = soundtracks_matching(tracks, params)
    return matched[(number - 1) * size : number * size], len(matched)
