"""The four operations, each parse -> plan -> fetch -> shape. Handlers call these and nothing else."""

from aws_lambda_powertools import Logger

from catalog import fetch, keys, parse, shape
from catalog.collections import SONGS
from catalog.config import settings
from catalog.errors import NotFound
from catalog.parse import Parameters
from catalog.plan import plan
from catalog.store import Store, dynamodb_client

logger = Logger(child=True)


def default_store() -> Store:
    """A metered store on the configured table (one per request)."""
    return Store(dynamodb_client(), settings().table_name)


def _log_reads(store: Store, returned: int) -> None:
    meter = store.meter
    logger.info(
        "read cost",
        extra={"items_returned": returned, "items_read": meter.items, "records_read": meter.records,
               "read_capacity": meter.capacity},
    )


def list_songs(parameters: Parameters, caller: str | None, store: Store) -> list[dict]:
    query = parse.songs_query(parameters, caller)
    window = parse.songs_window(parameters)
    records, _ = fetch.page(store, plan(query), window)
    _log_reads(store, len(records))
    return shape.songs(records)


def count_songs(parameters: Parameters, caller: str | None, store: Store) -> dict:
    query = parse.songs_query(parameters, caller)
    number = fetch.count(store, plan(query))
    _log_reads(store, 1)
    return shape.count(number)


def get_song(song_id: str, store: Store) -> dict:
    record = store.get(keys.record_key(SONGS.name, parse.uuid(song_id)))
    _log_reads(store, 1 if record else 0)
    if record is None:
        raise NotFound(f"Entity with id {song_id} not found")
    return shape.song(record)


def random_song(parameters: Parameters, caller: str | None, store: Store) -> dict:
    query = parse.songs_query(parameters, caller)
    record = fetch.sample(store, plan(query))
    _log_reads(store, 1 if record else 0)
    if record is None:
        raise NotFound("No song matches the filters")
    return shape.song(record)
