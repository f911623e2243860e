"""The operations, each parse -> plan -> fetch -> shape. Handlers call these and nothing else."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types

from catalog import fetch, keys, shape
from catalog.collections import SONGS, SOUNDTRACKS, Collection
from catalog.config import settings
from catalog.errors import NotFound
from catalog.parse import Parameters, songs, soundtracks, uuid
from catalog.plan import plan
from catalog.query import Query
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
    )  # fmt: skip


def _get(collection: Collection, item_id: str, store: Store) -> dict:
    item_id = uuid(item_id)
    stored = store.get(keys.record_key(collection.name, item_id))
    _log_reads(store, 1 if stored else 0)
    if stored is None:
        raise NotFound(f"Entity with id {item_id} not found")
    return shape.record(collection, stored)


def _count(query: Query, store: Store) -> dict:
    number = fetch.count(store, plan(query))
    _log_reads(store, 1)
    return shape.count(number)


def _random(query: Query, store: Store) -> dict:
    stored = fetch.sample(store, plan(query))
    _log_reads(store, 1 if stored else 0)
    if stored is None:
        raise NotFound(f"No {query.collection.name} match the filters")
    return shape.record(query.collection, stored)


# -- songs ----------------------------------------------------------------------------------------


def list_songs(parameters: Parameters, caller: str | None, store: Store) -> list[dict]:
    query, window = songs.query(parameters, caller), songs.window(parameters)
    stored = fetch.page(store, plan(query), window)
    _log_reads(store, len(stored))
    return shape.records(SONGS, stored)


def count_songs(parameters: Parameters, caller: str | None, store: Store) -> dict:
    return _count(songs.query(parameters, caller), store)


def get_song(song_id: str, store: Store) -> dict:
    return _get(SONGS, song_id, store)


def random_song(parameters: Parameters, caller: str | None, store: Store) -> dict:
    return _random(songs.query(parameters, caller), store)


# -- soundtracks ----------------------------------------------------------------------------------


def list_soundtracks(parameters: Parameters, store: Store) -> Response:
    """A bare array, with the page described in ``X-Pagination-*`` headers."""
    query = soundtracks.query(parameters)
    number, size = soundtracks.page(parameters)
    window = soundtracks.window(number, size)
    stored, total = fetch.counted_page(store, plan(query), window)
    _log_reads(store, len(stored))
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=shape.records(SOUNDTRACKS, stored),
        headers=shape.page_headers(number, size, len(stored), total),
    )


def count_soundtracks(parameters: Parameters, store: Store) -> dict:
    return _count(soundtracks.query(parameters), store)


def get_soundtrack(soundtrack_id: str, store: Store) -> dict:
    return _get(SOUNDTRACKS, soundtrack_id, store)


def random_soundtrack(parameters: Parameters, store: Store) -> dict:
    return _random(soundtracks.query(parameters), store)
