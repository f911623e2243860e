"""What a song costs to write: the importer's items and write units, and the counter function's.

    python -m devtools.bench.writes [--songs 1200] [--owners 100] [--seed S]

In a DynamoDB Local of its own (in memory), the tables are created from the template; a generated
catalog is imported with the importer's writer, and the catalog table's stream is handed to the
counter function, both through a client that asks DynamoDB for the write capacity each call
consumed (``ReturnConsumedCapacity``: a transaction's writes count twice, as on AWS). Then
changes are written and counted the same way, a hundred songs each: a title edit, other genres,
archived, another ``createdAt``, deleted; and one title edit alone (what a single edit costs the
phrase index, whose blocks a batch of edits shares). The report gives items and write units per song, for an
import and for each kind of change, on each side.

DynamoDB bills a write 1 unit per 1 KB of the item written (the larger of its old and new size),
2 inside a transaction, plus the writes to the indexes the item is in. DynamoDB Local reports
that for single and batch writes; for a transaction it reports 2 units whatever it holds, so a
transaction's units are computed here from its items' sizes, read before and after it (the
counters table has no index).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog import grams
from catalog.counting import Counters
from catalog.declarations import SONGS
from devtools.local.dynamodb_local import ACCESS_KEY_ID, SECRET_ACCESS_KEY, DynamoDBLocal
from devtools.local.streams import StreamFeeder, batch_size, filter_patterns, streams_client
from devtools.sample_catalog import generate
from devtools.template import table
from importer.load import import_lines
from importer.writer import CatalogWriter

log = logging.getLogger(__name__)

TABLE = "writes"
CHANGED = 100
"""Songs of each kind of change."""


@dataclass
class Tally:
    """Items written and write units consumed through one client."""

    items: int = 0
    units: float = 0.0
    calls: int = 0
    index_items: int = 0
    """Of the items, those of the phrase index (``catalog.grams``: heads and blocks)."""
    index_units: float = 0.0
    index_bytes: int = 0
    """What the index's puts wrote (the blocks' sizes)."""


@dataclass
class Metered:
    """A DynamoDB client whose writes are metered: each asks for the capacity it consumed."""

    client: Any
    tally: Tally = field(default_factory=Tally)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        counted = {"put_item": lambda r: 1, "update_item": lambda r: 1, "delete_item": lambda r: 1,
                   "batch_write_item": lambda r: sum(len(v) for v in r["RequestItems"].values()),
                   "transact_write_items": lambda r: len(r["TransactItems"])}.get(name)  # fmt: skip
        if counted is None:
            return method

        def call(**request: Any) -> Any:
            before = self._sizes(request["TransactItems"]) if name == "transact_write_items" else {}
            answer = method(**request, ReturnConsumedCapacity="TOTAL")
            unprocessed = answer.get("UnprocessedItems") or {}
            self.tally.items += counted(request) - sum(len(v) for v in unprocessed.values())
            if name == "transact_write_items":
                after = self._sizes(request["TransactItems"])
                for key, size in _written(request["TransactItems"]):
                    units = 2 * _kilobytes(max(before.get(key, 0), after.get(key, 0), size))
                    self.tally.units += units
                    if grams.is_index_key(key[1]):
                        self.tally.index_items += 1
                        self.tally.index_units += units
                        self.tally.index_bytes += size
            else:
                consumed = answer.get("ConsumedCapacity") or []
                parts = consumed if isinstance(consumed, list) else [consumed]
                self.tally.units += sum(part.get("CapacityUnits", 0.0) for part in parts)
            self.tally.calls += 1
            return answer

        return call

    def _sizes(self, actions: list[dict]) -> dict[tuple, int]:
        """The size of every item the actions name, as the table holds it now (0 when absent)."""
        sizes = {}
        for key, _ in _written(actions):
            table_name, pk, sk = key
            found = self.client.get_item(TableName=table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True)
            sizes[key] = item_size(found["Item"]) if "Item" in found else 0
        return sizes


def _written(actions: list[dict]) -> list[tuple[tuple, int]]:
    """((table, PK, SK), the size of what a Put writes, else 0) of each action of a transaction."""
    found = []
    for action in actions:
        ((kind, body),) = action.items()
        key = body["Item"] if kind == "Put" else body["Key"]
        found.append(((body["TableName"], key["PK"]["S"], key["SK"]["S"]), item_size(body["Item"]) if kind == "Put" else 0))
    return found


def _kilobytes(size: int) -> int:
    return max(1, -(-size // 1024))


def item_size(item: dict) -> int:
    """An item's size as DynamoDB counts it (wire form): its attribute names and values."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict) -> int:
    ((kind, body),) = value.items()
    if kind in ("S", "B"):
        return len(body.encode()) if isinstance(body, str) else len(body)
    if kind == "N":
        digits = len(body.lstrip("-").replace(".", "").strip("0")) or 1
        return 1 + (digits + 1) // 2
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("L", "M"):
        members = body.values() if kind == "M" else body
        names = sum(len(name.encode()) for name in body) if kind == "M" else 0
        return 3 + names + sum(1 + _value_size(member) for member in members)
    return sum(len(member.encode()) for member in body)  # sets


@dataclass(frozen=True)
class Row:
    what: str
    songs: int
    catalog: Tally
    counters: Tally


def index_storage(client: Any, name: str) -> tuple[int, int]:
    """(items, bytes) of the phrase index in a counters table (a test-only Scan)."""
    items = size = 0
    request: dict[str, Any] = {"TableName": name}
    while True:
        page = client.scan(**request)
        for item in page.get("Items", []):
            if grams.is_index_key(item["PK"]["S"]):
                items += 1
                size += item_size(item)
        if "LastEvaluatedKey" not in page:
            return items, size
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


STORAGE: dict[str, int] = {}
"""The index's items and bytes after the last ``measure`` (``items``, ``bytes``, ``songs``)."""


def measure(songs: int = 1200, owners: int = 100, seed: int = 20260101) -> list[Row]:
    """Import a catalog and change it, metering both sides; one row per step."""
    rows = []
    with tempfile.TemporaryDirectory() as logs, DynamoDBLocal(log_path=Path(logs) / "dynamodb-local.log") as ddb:
        client = ddb.client()
        table.create_tables(client, TABLE)
        counters = Metered(client)
        streams = streams_client(client, aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
        apply = Counters(counters, table.counters_table_name(TABLE)).apply
        feeder = StreamFeeder(
            client, streams, TABLE, lambda event: apply(event["Records"]), batch_size=batch_size(), patterns=filter_patterns()
        )

        def step(what: str, number: int, write: Any) -> None:
            catalog = Metered(client)
            counters.tally = Tally()
            write(CatalogWriter(catalog, TABLE))
            feeder.drain()
            rows.append(Row(what, number, catalog.tally, counters.tally))
            log.info("%s: catalog %d items %.0f units, counters %d items %.0f units", what, catalog.tally.items,
                     catalog.tally.units, counters.tally.items, counters.tally.units)  # fmt: skip

        lines = [line for line in generate(songs, owners, seed, soundtrack_count=0)]
        catalog_songs = [line for line in lines if line["kind"] == "song"]
        step(
            "import",
            len(catalog_songs),
            lambda writer: import_lines(writer, [json.dumps(line) for line in lines], progress=False),
        )
        rng = random.Random(seed)
        owners_lines = [line for line in lines if line["kind"] == "owner"]

        def changed(what: str, change: Any, number: int = CHANGED) -> None:
            chosen = rng.sample(catalog_songs, number)
            edited = [change(dict(song)) for song in chosen]
            step(what, number, lambda writer: import_lines(writer, [json.dumps(line) for line in owners_lines + edited],
                                                            progress=False))  # fmt: skip
            by_id = {song["id"]: song for song in edited}
            catalog_songs[:] = [by_id.get(song["id"], song) for song in catalog_songs]

        changed("title edited", lambda song: {**song, "title": song["title"] + " (Remastered)"})
        changed("one title edited alone", lambda song: {**song, "title": song["title"] + " (Live)"}, 1)
        changed("genres changed", lambda song: {**song, "genres": ["Ambient", *song["genres"][:1]]})
        changed("archived", lambda song: {**song, "archived": not song["archived"]})
        changed("createdAt changed", lambda song: {**song, "createdAt": song["createdAt"].replace("20", "19", 1)})
        gone = rng.sample(catalog_songs, CHANGED)

        def delete(writer: CatalogWriter) -> None:
            for song in gone:
                writer.delete_record(SONGS, song["id"])
            writer.flush()

        step("deleted", CHANGED, delete)
        stored_items, stored_bytes = index_storage(client, table.counters_table_name(TABLE))
        STORAGE.update(items=stored_items, bytes=stored_bytes, songs=len(catalog_songs) - CHANGED)
    return rows


def markdown(rows: list[Row]) -> str:
    head = ("| what | songs | catalog items / song | catalog WRU / song | counter items / song | counter WRU / song "
            "| of which phrase index: items / song | WRU / song | bytes written / song |")  # fmt: skip
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        per = (row.catalog.items / row.songs, row.catalog.units / row.songs, row.counters.items / row.songs,
               row.counters.units / row.songs, row.counters.index_items / row.songs, row.counters.index_units / row.songs,
               row.counters.index_bytes / row.songs)  # fmt: skip
        lines.append(f"| {row.what} | {row.songs:,} | {per[0]:.1f} | {per[1]:.1f} | {per[2]:.1f} | {per[3]:.1f} "
                     f"| {per[4]:.1f} | {per[5]:.1f} | {per[6]:,.0f} |")  # fmt: skip
    if STORAGE.get("songs"):
        lines.append("")
        lines.append(f"The phrase index held {STORAGE['items']:,} items, {STORAGE['bytes']:,} bytes for {STORAGE['songs']:,} "
                     f"songs: {STORAGE['bytes'] / STORAGE['songs']:,.0f} bytes a song.")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.writes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=1200)
    parser.add_argument("--owners", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20260101)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    sys.stdout.write(markdown(measure(options.songs, options.owners, options.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
