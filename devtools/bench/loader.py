"""Fill empty tables fast: the catalog table the API reads, and the naive tables of the baseline.

The importer (``importer.writer``) reads before it writes so that re-imports stay exact; an empty
table needs none of that. Here every item is computed in memory first, with the layer's own
functions (``importer.postings`` for postings, ``catalog.keys`` for keys), so the table is
what the importer would have written and follows the layer when postings change. Slots are
assigned densely (0..n-1 per partition) and the counters are the partitions' sizes. Then the items
go out in parallel BatchWriteItem calls.

The catalog table is created from the template's definition without its stream: the bench
measures reads, and nothing consumes the stream here.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from catalog import keys
from catalog.declarations import SONGS, SOUNDTRACKS, Collection
from devtools import counts
from devtools.template import table
from importer.model.song import Owner, Song
from importer.model.soundtrack import Soundtrack
from importer.postings import postings as postings_of

_serializer = TypeSerializer()
_BATCH_WRITE_MAX = 25
WRITERS = 8
"""Concurrent BatchWriteItem calls: DynamoDB Local serialises writes, this keeps it busy."""


@dataclass
class Catalog:
    """A generated catalog, validated with the API's models: records exactly as they are stored."""

    owners: dict[str, dict]
    songs: list[dict]
    soundtracks: list[dict]

    def owner_names(self, owner_id: str) -> list[str]:
        owner = self.owners.get(owner_id)
        return Owner.model_validate(owner).search_names() if owner else []


def validate(lines: Iterable[dict]) -> Catalog:
    """Records as the importer stores them (``to_item()`` of the models), from generated lines."""
    catalog = Catalog({}, [], [])
    for line in lines:
        data = {name: value for name, value in line.items() if name != "kind"}
        if line["kind"] == "owner":
            owner = Owner.model_validate(data).to_item()
            catalog.owners[owner["id"]] = owner
        elif line["kind"] == "song":
            catalog.songs.append(Song.model_validate(data).to_item())
        else:
            catalog.soundtracks.append(Soundtrack.model_validate(data).to_item())
    return catalog


def catalog_items(catalog: Catalog) -> tuple[list[dict], list[dict]]:
    """Every item of the catalog table (postings with dense slots, the all posting being the record;
    owners), and every item of its counters table (the counts, and the phrase index built by the
    layer's own code, ``catalog.grams``, from the all postings)."""
    items = [{**keys.owner_key(owner_id), **owner} for owner_id, owner in catalog.owners.items()]
    sizes: Counter[str] = Counter()
    stored: list[tuple[Collection, dict]] = []
    """Each record's all posting, as the counter function reads it from the stream."""

    def add(collection: Collection, record: dict, owner_names: list[str]) -> None:
        record_key = keys.record_key(collection.name, record[collection.id_attribute])
        for sk, posting in postings_of(collection, record, owner_names).items():
            partition = posting["fpk"]
            items.append({"PK": record_key["PK"], "SK": sk, **posting, "slot": sizes[partition]})
            sizes[partition] += 1
            if sk == keys.ALL_POSTING:
                stored.append((collection, items[-1]))

    names: dict[str, list[str]] = {}
    for song in catalog.songs:
        owner_id = song["ownerId"]
        if owner_id not in names:
            names[owner_id] = catalog.owner_names(owner_id)
        add(SONGS, song, names[owner_id])
    for soundtrack in catalog.soundtracks:
        add(SOUNDTRACKS, soundtrack, [])
    records = [(SONGS, song) for song in catalog.songs] + [(SOUNDTRACKS, soundtrack) for soundtrack in catalog.soundtracks]
    return items, counts.items(counts.of_records(records)) + counts.index_items(counts.index_of_records(stored))


@dataclass
class LoadReport:
    table: str
    items: int
    seconds: float

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def create_catalog_table(client: Any, name: str) -> None:
    """The template's catalog table (keys and indexes as deployed), without the stream."""
    definition = table.table_definition(name)
    definition.pop("StreamSpecification", None)
    client.create_table(**definition)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def create_counters_table(client: Any, name: str) -> None:
    """The template's counters table."""
    table.create_table(client, name, resource=table.COUNTERS_RESOURCE)


def load_catalog(client: Any, name: str, catalog: Catalog) -> LoadReport:
    """The catalog table ``name`` and its counters table created and filled with ``catalog``: what the
    importer and the counter function would have written."""
    catalog_table, counters_table = catalog_items(catalog)
    create_catalog_table(client, name)
    create_counters_table(client, table.counters_table_name(name))
    report = write_all(client, name, catalog_table)
    counted = write_all(client, table.counters_table_name(name), counters_table)
    return LoadReport(name, report.items + counted.items, report.seconds + counted.seconds)


def create_naive_table(client: Any, name: str, key: str) -> None:
    """What most samples start from: one item per record, keyed by its id, no index."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def write_all(client: Any, table_name: str, items: list[dict], writers: int = WRITERS) -> LoadReport:
    """PutRequest every item with parallel BatchWriteItem calls (retrying unprocessed items)."""
    chunks = [items[start : start + _BATCH_WRITE_MAX] for start in range(0, len(items), _BATCH_WRITE_MAX)]

    def write(chunk: list[dict]) -> None:
        # Serialised here, a chunk at a time: the whole table in wire form would double the memory.
        pending = [
            {"PutRequest": {"Item": {name: _serializer.serialize(value) for name, value in item.items()}}} for item in chunk
        ]
        delay = 0.05
        while pending:
            response = client.batch_write_item(RequestItems={table_name: pending})
            pending = response.get("UnprocessedItems", {}).get(table_name, [])
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(write, chunks))
    return LoadReport(table_name, len(items), time.monotonic() - started)
