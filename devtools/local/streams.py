"""Feed the table's DynamoDB Stream to the counter function, locally, as Lambda's event source mapping does on AWS.

DynamoDB Local and moto keep the table's stream (the table is created from template.yaml, stream
included), but nothing reads it. :class:`StreamFeeder` reads every shard in order (a parent shard
before its children), keeps the records the template's ``FilterCriteria`` let through (as Lambda's
event source mapping does, before it forms batches: :mod:`devtools.local.event_filter`), turns them into
the event Lambda sends (``{"Records": [...]}``, at most the template's ``BatchSize`` per event) and
hands each event to the counter function's handler, then moves past what the handler applied.
When the handler reports failed records (``batchItemFailures``), it resumes at the first of them,
as Lambda does, a few times, then gives up with :class:`StreamFeedError`.

- :meth:`StreamFeeder.drain` returns once every change written before the call has been handled:
  the tests and ``make run`` call it after an import, so counts are exact from then on.
- :meth:`StreamFeeder.start` drains every half second in a background thread, so counters follow
  writes while ``make run`` runs; :meth:`StreamFeeder.stop` ends it.

Where it stopped in each shard is kept in memory, and in ``positions_path`` when one is given (as
Lambda keeps its checkpoint), so that a restarted ``make run`` does not hand the handler the whole
retained stream again. The handler would drop those records anyway (each carries a marker), only
more slowly.

GetRecords answers are read as sent (``catalog.wire``): botocore's walk of the model costs more
than DynamoDB Local takes to answer, and the images are handed over in their wire form anyway.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config

from catalog import wire
from devtools import TABLE_NAME
from devtools.local import event_filter
from devtools.local.dynamodb_local import ACCESS_KEY_ID, SECRET_ACCESS_KEY, DynamoDBLocal
from devtools.local.lambda_runtime import Invoker
from devtools.template import table
from devtools.template.api import load_function

log = logging.getLogger(__name__)

COUNTER_FUNCTION = "StreamCounterFunction"
_GET_RECORDS_LIMIT = 1000
_ATTEMPTS = 3
_POLL_INTERVAL_S = 0.5

Deliver = Callable[[dict[str, Any]], Any]
"""Calls the counter function's handler with one Lambda event and returns its answer."""


class StreamFeedError(RuntimeError):
    """The table has no stream, or the handler kept failing on a batch."""


def _stream_event(template_path: Path) -> dict[str, Any]:
    """The properties of the counter function's DynamoDB stream event in the template."""
    template = table.load_template(template_path)
    events = table.function_properties(template, COUNTER_FUNCTION).get("Events") or {}
    for event in events.values():
        if event.get("Type") == "DynamoDB":
            return event["Properties"]
    raise StreamFeedError(f"{COUNTER_FUNCTION} has no DynamoDB stream event in {template_path}")


def batch_size(template_path: Path = table.TEMPLATE_PATH) -> int:
    """The ``BatchSize`` of the counter function's stream event in the template (Lambda's default: 100)."""
    return int(_stream_event(template_path).get("BatchSize", 100))


def filter_patterns(template_path: Path = table.TEMPLATE_PATH) -> list[dict[str, Any]]:
    """The ``FilterCriteria`` patterns of the counter function's stream event (none: every record)."""
    filters = (_stream_event(template_path).get("FilterCriteria") or {}).get("Filters") or []
    return event_filter.parse([entry["Pattern"] for entry in filters])


def streams_client(dynamodb_client: Any, **credentials: str) -> Any:
    """A DynamoDB Streams client for the endpoint and region of a DynamoDB client.

    DynamoDB Local serves both APIs on one endpoint; for moto (AWS's own endpoints), the default
    endpoint is used. Account-based endpoints are turned off: moto does not answer them.
    ``credentials`` (``aws_access_key_id``, ``aws_secret_access_key``) default to the environment's.
    """
    endpoint = dynamodb_client.meta.endpoint_url
    session = botocore.session.get_session()
    session.register_component("response_parser_factory", wire.ParserFactory())
    return session.create_client(
        "dynamodbstreams",
        region_name=dynamodb_client.meta.region_name,
        endpoint_url=None if endpoint.endswith(".amazonaws.com") else endpoint,
        config=Config(account_id_endpoint_mode="disabled"),
        **credentials,
    )


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record as GetRecords returns it, in the shape Lambda delivers it to a function.

    The fields are the same, plus ``eventSourceARN``; the creation time is whole epoch seconds (a
    number as sent, a datetime from a client that parses it).
    """
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    elif created is not None:
        dynamodb["ApproximateCreationDateTime"] = int(created)
    delivered = {name: value for name, value in record.items() if name != "dynamodb"}
    return {**delivered, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


class StreamFeeder:
    """Reads one table's stream and hands its records to the counter function's handler."""

    def __init__(
        self,
        dynamodb_client: Any,
        streams: Any,
        table_name: str,
        deliver: Deliver,
        *,
        batch_size: int = 100,
        patterns: list[dict[str, Any]] | None = None,
        positions_path: Path | None = None,
    ) -> None:
        self._dynamodb = dynamodb_client
        self._streams = streams
        self._table = table_name
        self._deliver = deliver
        self._batch_size = batch_size
        self._patterns = patterns or []
        self._positions_path = positions_path
        self._stream_arn: str | None = None
        self._positions: dict[str, str] = {}  # shard id -> sequence number of the last record handled
        self._finished: set[str] = set()  # closed shards read to their end
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- draining ----------------------------------------------------------------------------------

    def drain(self) -> int:
        """Hand the handler every record not handled yet; returns how many records were handed over."""
        with self._lock:
            self._follow(self._latest_stream())
            handled = 0
            while True:
                shards = self._shards_in_order()
                present = {shard["ShardId"] for shard in shards}
                read = 0
                for shard in shards:
                    parent = shard.get("ParentShardId")
                    if parent in present and parent not in self._finished:
                        continue  # its parent still has records to hand over first
                    shard_read, shard_handed = self._read_shard(shard)
                    read, handled = read + shard_read, handled + shard_handed
                if not read:
                    break
            self._save_positions()
            return handled

    def _latest_stream(self) -> str:
        arn = self._dynamodb.describe_table(TableName=self._table)["Table"].get("LatestStreamArn")
        if not arn:
            raise StreamFeedError(f"table {self._table} has no stream (template.yaml's StreamSpecification)")
        return arn

    def _follow(self, stream_arn: str) -> None:
        """Start from the saved positions if they are this stream's, else from the stream's beginning."""
        if stream_arn == self._stream_arn:
            return
        self._stream_arn, self._positions, self._finished = stream_arn, {}, set()
        if self._positions_path is not None and self._positions_path.exists():
            try:
                saved = json.loads(self._positions_path.read_text(encoding="utf-8"))
            except ValueError:
                saved = {}
            if saved.get("stream") == stream_arn:
                self._positions = dict(saved.get("positions", {}))
                self._finished = set(saved.get("finished", []))

    def _save_positions(self) -> None:
        if self._positions_path is None:
            return
        state = {"stream": self._stream_arn, "positions": self._positions, "finished": sorted(self._finished)}
        temporary = self._positions_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        temporary.replace(self._positions_path)

    def _shards_in_order(self) -> list[dict[str, Any]]:
        """The stream's shards, each after its parent (Lambda finishes a parent before its children)."""
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self._stream_arn}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            shards += description.get("Shards", [])
            if not description.get("LastEvaluatedShardId"):
                break
            request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]
        by_id = {shard["ShardId"]: shard for shard in shards}
        ordered: list[dict[str, Any]] = []
        placed: set[str] = set()

        def place(shard: dict[str, Any]) -> None:
            if shard["ShardId"] in placed:
                return
            parent = by_id.get(shard.get("ParentShardId", ""))
            if parent is not None:
                place(parent)
            placed.add(shard["ShardId"])
            ordered.append(shard)

        for shard in shards:
            place(shard)
        return ordered

    def _read_shard(self, shard: dict[str, Any]) -> tuple[int, int]:
        """Hand over the shard's matching records after its position; returns how many records were
        read, and how many of them handed over."""
        shard_id = shard["ShardId"]
        if shard_id in self._finished:
            return 0, 0
        position = self._positions.get(shard_id)
        start = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
            if position
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self._streams.get_shard_iterator(StreamArn=self._stream_arn, ShardId=shard_id, **start)["ShardIterator"]
        handed = total = 0
        batch: list[dict[str, Any]] = []  # matching records read and not handed over yet
        last = int(position) if position else -1
        while iterator:
            response = self._streams.get_records(ShardIterator=iterator, Limit=_GET_RECORDS_LIMIT)
            # A shard's records come once, in sequence order: anything at or before the last one read
            # is dropped (moto's stream can hand a record out again after it rolls a transaction back).
            read = [record for record in response.get("Records", []) if int(record["dynamodb"]["SequenceNumber"]) > last]
            if read:
                last = int(read[-1]["dynamodb"]["SequenceNumber"])
            total += len(read)
            batch += [
                lambda_record(record, self._stream_arn or "")
                for record in read
                if event_filter.matches_any(self._patterns, record)
            ]
            while len(batch) >= self._batch_size:
                self._hand_over(shard_id, batch[: self._batch_size])
                handed, batch = handed + self._batch_size, batch[self._batch_size :]
            if read and not batch:  # what the filter dropped is passed, as Lambda moves past it
                self._positions[shard_id] = read[-1]["dynamodb"]["SequenceNumber"]
            iterator = response.get("NextShardIterator")
            if not read:
                break  # caught up with an open shard
        if batch:
            self._hand_over(shard_id, batch)
            handed += len(batch)
        if not iterator:
            self._finished.add(shard_id)  # a closed shard, read to its end
        return total, handed

    def _hand_over(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        """One event per batch; a partial failure is handed over again from its first failed record."""
        for _ in range(_ATTEMPTS):
            answer = self._deliver({"Records": batch})
            failed = {item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures") or []}
            if not failed:
                self._positions[shard_id] = batch[-1]["dynamodb"]["SequenceNumber"]
                return
            first = next(n for n, record in enumerate(batch) if record["dynamodb"]["SequenceNumber"] in failed)
            if first:
                self._positions[shard_id] = batch[first - 1]["dynamodb"]["SequenceNumber"]
            batch = batch[first:]
            log.warning("the counter function failed on %d of the stream's records: handing them over again", len(batch))
        raise StreamFeedError(f"the counter function kept failing on {len(batch)} stream records of shard {shard_id}")

    # -- in the background -------------------------------------------------------------------------

    def start(self, interval: float = _POLL_INTERVAL_S) -> StreamFeeder:
        """Drain every ``interval`` seconds in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError("this feeder is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="stream-feeder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            try:
                handled = self.drain()
            except Exception:  # a stopped DynamoDB Local, a failing handler: logged, tried again next time
                log.exception("feeding the table's stream to the counter function failed")
                continue
            if handled:
                log.info("counters: %d stream records handed to the counter function", handled)


def local_counter_feeder(
    dynamodb: DynamoDBLocal, invoker: Invoker, *, table_name: str = TABLE_NAME, positions_path: Path | None = None
) -> StreamFeeder:
    """The local stack's feeder: the counter function called as the local gateway calls the API's.

    Pass the gateway's own ``invoker``: it sets each function's environment for the call
    (``TABLE_NAME``, the DynamoDB Local endpoint), and one invoker never lets two calls do that at once.
    """
    function = load_function(COUNTER_FUNCTION, table_name=table_name)
    client = dynamodb.client()
    streams = streams_client(client, aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    return StreamFeeder(
        client,
        streams,
        table_name,
        lambda event: invoker.invoke(function, event),
        batch_size=batch_size(),
        patterns=filter_patterns(),
        positions_path=positions_path,
    )
