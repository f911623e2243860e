"""A small soundtracks catalog for the contract tests, and a plain-Python oracle of its filters and sorts."""

import uuid
from datetime import datetime, timedelta

ARTISTS = ["Hildur", "Ramin", "hildur", "Ólafur"]
ALBUMS = ["Dark Season 1", "Dark Season 2", "Westworld", None]
BASE = datetime(2021, 3, 1, 12, 0, 0, 250000)


def soundtrack_id(number: int) -> str:
    return str(uuid.UUID(int=0xAB << 64 | number, version=4))


def build(count: int = 32) -> list[dict]:
    records = []
    for number in range(count):
        record: dict[str, object] = {
            "kind": "soundtrack",
            "uuid": soundtrack_id(number),
            "name": f"Track {number % 12:02d}" + (" (Reprise)" if number % 5 == 0 else ""),
            "created_at": (BASE + timedelta(days=number - (number in (7, 17)))).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "updated_at": (BASE + timedelta(days=40 - number // 2)).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "urls": [f"https://music.example.com/{number}"],
            "sources": ["spotify"],
        }
        if number % 7 != 6:
            record["duration"] = 9_500 if number == 30 else 120_000 + (number % 6) * 30_000  # 4 digits vs 6
        if number % 9 != 8:
            record["artist"] = ARTISTS[number % len(ARTISTS)]
        if ALBUMS[number % len(ALBUMS)] is not None:
            record["album"] = ALBUMS[number % len(ALBUMS)]
        if number % 4 != 3:
            record["release_date"] = f"20{18 + number % 5}-0{1 + number % 3}-15"
        if number % 3 == 0:
            record["thumbnail"] = f"https://img.example.com/{number}.jpg"
        records.append(record)
    return records


def expected(records: list[dict], predicate, sort: str = "created_at", descending: bool = False) -> list[str]:
    """Ids matching ``predicate(record)``, sorted by ``sort`` (missing values last when ascending), ties by uuid."""
    chosen = [record for record in records if predicate(record)]
    chosen.sort(key=lambda r: (r.get(sort) is None, r.get(sort) if r.get(sort) is not None else 0, r["uuid"]))
    ids = [record["uuid"] for record in chosen]
    return ids[::-1] if descending else ids
