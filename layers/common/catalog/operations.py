"""The operations, each parse -> plan -> fetch -> shape. Handlers call these and nothing else."""

from collections.abc import Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types

from catalog import cursor, fetch, keys, shape, tally, telemetry
from catalog.config import settings
from catalog.declarations import SONGS, SOUNDTRACKS, Collection
from catalog.errors import NotFound
from catalog.parse import Parameters, songs, soundtracks, uuid
from catalog.parse import cursor as cursor_parameter
from catalog.plan import Plan, candidates, plan, resume
from catalog.query import Query, Window
from catalog.store import Store, dynamodb_client

NextLink = Callable[[str], str]
"""Given a cursor, the ``Link`` header value pointing at the next page."""

logger = Logger(child=True)


def default_store() -> Store:
    """A metered store on the configured table (one per request)."""
    configured = settings()
    return Store(dynamodb_client(), configured.table_name, configured.counters_table_name)


def _log_reads(store: Store, returned: int) -> None:
    meter = store.meter
    logger.info(
        "read cost",
        extra={"items_returned": returned, "items_read": meter.items, "entries_read": meter.entries,
               "records_read": meter.records, "read_capacity": meter.capacity},
    )  # fmt: skip
    telemetry.reads(meter)


def _list_response(collection: Collection, page: fetch.Page, headers: dict[str, str]) -> Response:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=shape.records(collection, page.records),
        headers=headers,
    )


def _next(query: Query, page: fetch.Page, pages: int, next_link: NextLink) -> dict[str, str]:
    """The ``Link`` header to the page after this one (the ``pages``-th), when more records follow."""
    if page.next_after is None:
        return {}
    return {"Link": next_link(cursor.seal(query, cursor.Position(page.next_after, pages)))}


def _get(collection: Collection, item_id: str, store: Store) -> dict:
    item_id = uuid(item_id)
    stored = store.get(keys.record_key(collection.name, item_id))
    _log_reads(store, 1 if stored else 0)
    if stored is None:
        raise NotFound(f"Entity with id {item_id} not found")
    return shape.record(collection, stored)


def _plan(query: Query, store: Store) -> Plan:
    """The query's plan; when several facets could drive it, their counters are read first to choose."""
    return plan(query, store.counts(candidates(query)))


def _count(query: Query, store: Store) -> dict:
    """Counters first (inclusion–exclusion over value combinations reads no driver's counters), then the plan."""
    number = tally.combination_count(store, query)
    if number is None:
        number = fetch.count(store, _plan(query, store))
    _log_reads(store, 1)
    return shape.count(number)


def _random(query: Query, store: Store) -> dict:
    stored = fetch.sample(store, _plan(query, store))
    _log_reads(store, 1 if stored else 0)
    if stored is None:
        raise NotFound(f"No {query.collection.name} match the filters")
    return shape.record(query.collection, stored)


# -- songs ----------------------------------------------------------------------------------------


def list_songs(parameters: Parameters, caller: str | None, store: Store, next_link: NextLink) -> Response:
    """A bare array; ``Link: <...>; rel="next"`` when more songs follow."""
    query, window = songs.query(parameters, caller), songs.window(parameters)
    planned, pages = _plan(query, store), 1
    token = cursor_parameter(parameters, songs.OFFSET)
    if token is not None:
        position = cursor.unseal(query, token)
        planned, pages = resume(planned, position.after), position.pages + 1
    page = fetch.page(store, planned, window)
    _log_reads(store, len(page.records))
    return _list_response(SONGS, page, _next(query, page, pages, next_link))


def count_songs(parameters: Parameters, caller: str | None, store: Store) -> dict:
    return _count(songs.query(parameters, caller), store)


def _genre_counts(query: Query, store: Store) -> dict[str, int]:
    """How many matching songs carry each genre: counters first (facet filters, then a time range alone),
    then the matching entries, as a count of the same filters reads them."""
    counts = tally.listed_counts(store, query)
    if counts is None:
        counts = tally.listed_counts_in_range(store, query)
    if counts is None:
        counts = fetch.listed_counts(store, _plan(query, store))
    return counts


def list_song_genres(parameters: Parameters, caller: str | None, store: Store) -> Response:
    """A bare array of genre names, by how many matching songs carry each (``sortOrder``), ties by name."""
    query, window = songs.genres_query(parameters, caller), songs.genres_window(parameters)
    names: list[str] = []
    if window.limit:
        ranked = shape.ranked(_genre_counts(query, store), most_first=query.descending)
        names = ranked[window.offset : window.offset + window.limit]
    _log_reads(store, len(names))
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=names)


def count_song_genres(parameters: Parameters, caller: str | None, store: Store) -> dict:
    """How many distinct genres the matching songs carry."""
    number = len(_genre_counts(songs.genres_query(parameters, caller), store))
    _log_reads(store, 1)
    return shape.count(number)


def get_song(song_id: str, store: Store) -> dict:
    return _get(SONGS, song_id, store)


def random_song(parameters: Parameters, caller: str | None, store: Store) -> dict:
    return _random(songs.query(parameters, caller), store)


# -- soundtracks ----------------------------------------------------------------------------------


def list_soundtracks(parameters: Parameters, store: Store, next_link: NextLink) -> Response:
    """A bare array, with the page described in ``X-Pagination-*`` headers and a ``Link`` to the next."""
    query = soundtracks.query(parameters)
    number, size = soundtracks.page(parameters)
    planned = _plan(query, store)
    token = cursor_parameter(parameters, soundtracks.PAGE)
    if token is None:
        page, total = fetch.counted_page(store, planned, soundtracks.window(number, size))
    else:
        position = cursor.unseal(query, token)
        number = position.pages + 1
        page = fetch.page(store, resume(planned, position.after), Window(0, size))
        total = fetch.count(store, planned)
    _log_reads(store, len(page.records))
    headers = shape.page_headers(number, size, len(page.records), total)
    return _list_response(SOUNDTRACKS, page, {**headers, **_next(query, page, number, next_link)})


def count_soundtracks(parameters: Parameters, store: Store) -> dict:
    return _count(soundtracks.query(parameters), store)


def get_soundtrack(soundtrack_id: str, store: Store) -> dict:
    return _get(SOUNDTRACKS, soundtrack_id, store)


def random_soundtrack(parameters: Parameters, store: Store) -> dict:
    return _random(soundtracks.query(parameters), store)
