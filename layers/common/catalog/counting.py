"""Keep the counters table exact from the catalog table's DynamoDB Stream (the counter function's work).

What a record counts in is the counter layout's (``catalog.cells``): a partition's number of
postings, its range buckets, the combinations of values. Nothing but this module writes the counters
table: the counter function runs it on every batch of the catalog table's stream
(``NEW_AND_OLD_IMAGES``). It reads one stream record per record change: the record's ``all`` posting
(SK ``keys.ALL_POSTING``), a whole copy of the record that the writer rewrites whenever the record
or its postings change. The cells of its old image lose one and those of its new image gain one, so
a song that appears adds 1 in each of its cells, one that leaves takes 1 from each, one whose genres
change moves between the genres' cells. Every other change (other postings, owners) counts nothing,
and the template's filter keeps those records from the function.

Lambda delivers stream records at least once and retries failed batches (whole, halved, or from a
reported record on), so a record may arrive several times. Each record's changes are therefore
written together with a marker item for that record (``keys.applied_key``), in one
``TransactWriteItems`` whose marker puts require that the marker does not exist yet: either the
changes are written and the marker is, or neither. When a marker exists, its record was applied
before: DynamoDB cancels the transaction and says which action failed, that record is dropped and
the rest written again. Replaying a batch, whole or partly applied, never counts twice. Markers
expire (TTL on ``keys.EXPIRES``) well after the stream's 24-hour retention, when no replay can come
any more.

A song counts in some forty cells, most of them shared with the batch's other songs (its scope's
counter, its genres', the coarse buckets). So that a shared item is written once a batch rather
than once a song, the records' changes are first *gathered*: each transaction puts the markers of up
to 98 records and one deltas item holding what they add together (``keys.deltas_key``, their sums
as JSON). Then the batch's deltas items are *moved*: summed, sorted by item, and added to the
counter items, up to 98 a transaction, each transaction also advancing a cursor item
(``keys.cursor_key``: the deltas items it sums, how many updates are applied) on the condition that it
still holds the position read. An interrupted move resumes where the cursor stands; once every
update is applied, the deltas items and the cursor are deleted. All of it is keyed by the batch's
first stream record: Lambda retries a batch from its start after an error or a timeout, so whatever
an interrupted attempt gathered and did not move yet is moved by the next.

When DynamoDB refuses a transaction (conflicts with other shards' transactions on a busy counter
that outlast the retries, throttling, any other error answer), the batch stops there: what it
gathered is moved into the counters, and it reports the first record not applied yet and every
later one as failed, in the shape Lambda's ``ReportBatchItemFailures`` expects. Lambda resumes the
shard from there; anything it delivers again that was already applied is dropped by its marker.
When the deltas cannot be moved, or anything else goes wrong (no connection, an ``all`` posting's
record without the image it needs), the whole batch fails: Lambda retries it from its start,
halved, with the same protection. A batch Lambda gives up on after its retries is reported to the
failure queue, and the counters of its records need a recount.

The same batches keep the phrase index (``catalog.phrase_index``), first: its writes are idempotent
by themselves (set semantics, no markers), and when they fail the whole batch fails.

No boto3 here (the stream images are read in their wire form) and no pydantic: the function's cold
start is botocore and the Powertools logger only.
"""

import json
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from catalog import cells, config, keys, wire
from catalog.cells import Cell
from catalog.declarations import COLLECTIONS
from catalog.phrase_index import PhraseIndex

logger = Logger(child=True)

MAX_ACTIONS = 100
"""DynamoDB's limit of actions in one transaction."""
MAX_ATTRIBUTES = 100
"""Attributes one update adds to at most: its expression stays well under DynamoDB's 4 KB."""
MAX_DELTAS_BYTES = 300_000
"""The largest deltas item: DynamoDB's items hold 400 KB."""
MARKER_LIFETIME_S = 2 * 24 * 3600
"""How long a marker is kept: the stream keeps records 24 hours, so no replay comes after that."""
_ATTEMPTS = 6
_ALREADY_APPLIED = "ConditionalCheckFailed"
# Cancellation reasons worth another try after a pause ("None": an action that did not fail itself).
_TRANSIENT = {"None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}

Deltas = dict[Cell, int]
ItemKey = tuple[str, str]


class StreamViewError(ValueError):
    """An ``all`` posting's stream record lacks the image it needs: the stream must be NEW_AND_OLD_IMAGES."""


class CountersBusy(RuntimeError):
    """A transaction kept being cancelled by conflicts or throttling."""


@dataclass(frozen=True)
class Change:
    """What one stream record does to the counters."""

    sequence_number: str
    event_id: str
    deltas: Deltas
    """Cell -> change of its count; empty when the record counts nothing."""


def _cells(stream: dict, image: str) -> Counter[Cell]:
    try:
        record = wire.item(stream[image])
    except KeyError:
        raise StreamViewError(f"an all posting's stream record has no {image}") from None
    return cells.of(COLLECTIONS[keys.prefix_of(record["PK"])], record)


def change_of(record: dict) -> Change:
    """The counter changes of one stream record, as Lambda delivers it."""
    stream = record["dynamodb"]
    deltas: Counter[Cell] = Counter()
    if stream["Keys"]["SK"]["S"] == keys.ALL_POSTING:
        event = record["eventName"]
        if event in ("MODIFY", "REMOVE"):
            deltas.subtract(_cells(stream, "OldImage"))
        if event in ("INSERT", "MODIFY"):
            deltas.update(_cells(stream, "NewImage"))
    return Change(stream["SequenceNumber"], record["eventID"], {cell: d for cell, d in deltas.items() if d})


def summed(changes: Iterable[Deltas]) -> Deltas:
    """Deltas added together, without the cells they leave unchanged."""
    total: Counter[Cell] = Counter()
    for deltas in changes:
        total.update(deltas)
    return {cell: delta for cell, delta in total.items() if delta}


def encode(deltas: Deltas) -> list[str]:
    """Deltas as the JSON texts of deltas items, each under ``MAX_DELTAS_BYTES`` (one, nearly always)."""
    by_item: dict[ItemKey, dict[str, int]] = defaultdict(dict)
    for (pk, sk, attribute), delta in sorted(deltas.items()):
        by_item[(pk, sk)][attribute] = delta
    texts: list[str] = []
    rows: list[list] = []
    size = 0
    for (pk, sk), attributes in by_item.items():
        row = [pk, sk, attributes]
        length = len(json.dumps(row, ensure_ascii=False))
        if rows and size + length > MAX_DELTAS_BYTES:
            texts.append(json.dumps(rows, ensure_ascii=False))
            rows, size = [], 0
        rows.append(row)
        size += length
    if rows:
        texts.append(json.dumps(rows, ensure_ascii=False))
    return texts


def decode(texts: Iterable[str]) -> Deltas:
    return summed({(pk, sk, attribute): delta for attribute, delta in attributes.items()}
                  for text in texts for pk, sk, attributes in json.loads(text))  # fmt: skip


def gatherings(changes: list[Change]) -> list[list[Change]]:
    """The changes that count something, in stream order, cut into the transactions that gather them:
    at most ``MAX_ACTIONS - 2`` markers (and room for the deltas items) and ``MAX_DELTAS_BYTES`` of
    deltas each, roughly (one record alone may take more: its deltas go in several items)."""
    cut: list[list[Change]] = []
    group: list[Change] = []
    cells_in_group = 0
    for change in (change for change in changes if change.deltas):
        grown = cells_in_group + len(change.deltas)
        if group and (len(group) + 2 >= MAX_ACTIONS or grown * 60 > MAX_DELTAS_BYTES):
            cut.append(group)
            group, grown = [], len(change.deltas)
        group.append(change)
        cells_in_group = grown
    if group:
        cut.append(group)
    return cut


def updates(deltas: Deltas) -> list[tuple[ItemKey, dict[str, int]]]:
    """What moving these deltas writes: per counter item, in key order, the attributes to add to
    (at most ``MAX_ATTRIBUTES`` per update: an item with more has several, one after the other)."""
    by_item: dict[ItemKey, dict[str, int]] = defaultdict(dict)
    for (pk, sk, attribute), delta in deltas.items():
        by_item[(pk, sk)][attribute] = delta
    found = []
    for item_key in sorted(by_item):
        attributes = sorted(by_item[item_key].items())
        for start in range(0, len(attributes), MAX_ATTRIBUTES):
            found.append((item_key, dict(attributes[start : start + MAX_ATTRIBUTES])))
    return found


def moves(planned: list[tuple[ItemKey, dict[str, int]]], start: int) -> Iterable[tuple[int, int]]:
    """Ranges ``[begin, end)`` of the planned updates from ``start`` on, one transaction each: at most
    ``MAX_ACTIONS - 1`` updates (the last action advances the cursor), an item at most once."""
    begin = start
    while begin < len(planned):
        end, items = begin, set()
        while end < len(planned) and end - begin < MAX_ACTIONS - 1 and planned[end][0] not in items:
            items.add(planned[end][0])
            end += 1
        yield begin, end
        begin = end


@dataclass
class Tally:
    """What one batch did, for the log."""

    records: int = 0
    counted: int = 0
    replayed: int = 0
    transactions: int = 0
    items: set[ItemKey] = field(default_factory=set)


class Counters:
    """Applies batches of stream records to one counters table, idempotently."""

    def __init__(
        self,
        client: Any,
        table: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table
        self._clock = clock
        self._sleep = sleep
        self._phrases = PhraseIndex(client, table, sleep=sleep)

    def apply(self, records: list[dict]) -> dict:
        """Apply a batch; the answer is Lambda's partial batch response (``batchItemFailures``)."""
        if not records:
            return {"batchItemFailures": []}
        self._phrases.apply(records)  # idempotent by itself; when it fails, the whole batch is retried
        tally = Tally(records=len(records))
        changes = [change_of(record) for record in records]
        batch = records[0]["eventID"]
        applied: set[str] = set()
        for group in gatherings(changes):
            try:
                self._gather(group, batch, tally)
            except (ClientError, CountersBusy) as error:
                self._move(batch, tally)  # what was gathered before; if that fails too, the batch fails
                first = next(n for n, change in enumerate(changes) if change.deltas and change.event_id not in applied)
                failed = [change.sequence_number for change in changes[first:]]
                logger.warning(
                    "counters not updated: the batch resumes at a failed record",
                    extra={"error": str(error), "failed_records": len(failed), "first_failed": failed[0], **_summary(tally)},
                )
                return {"batchItemFailures": [{"itemIdentifier": number} for number in failed]}
            applied.update(change.event_id for change in group)
        # Even when this attempt gathered nothing: a larger attempt of the batch, with the same first
        # record, may have gathered deltas it could not move (Lambda halves a failing batch).
        self._move(batch, tally)
        tally.counted = sum(1 for change in changes if change.deltas)
        logger.info("counters updated", extra=_summary(tally))
        return {"batchItemFailures": []}

    def _gather(self, group: list[Change], batch: str, tally: Tally) -> None:
        """The changes' markers and one deltas item of their sum, in one transaction, less the changes
        already applied."""
        remaining = group
        attempt = _Attempts(self._sleep)
        while remaining:
            texts = encode(summed(change.deltas for change in remaining))
            deltas_items = [
                {"Put": {"TableName": self._table,
                         "Item": {**_wire(keys.deltas_key(batch, f"{remaining[0].event_id}/{number}")), "d": {"S": text}},
                         "ConditionExpression": "attribute_not_exists(PK)"}}
                for number, text in enumerate(texts)
            ]  # fmt: skip
            try:
                self._transact(self._markers(remaining) + deltas_items)
            except _Cancelled as cancelled:
                # Markers come first, in the changes' order: reason i is about change i.
                done = {n for n, code in enumerate(cancelled.reasons[: len(remaining)]) if code == _ALREADY_APPLIED}
                if done:
                    tally.replayed += len(done)
                    remaining = [change for n, change in enumerate(remaining) if n not in done]
                    continue
                attempt.pause_or_raise(cancelled)
                continue
            tally.transactions += 1
            return

    def _move(self, batch: str, tally: Tally) -> None:
        """Move the batch's deltas items into the counters, under a cursor, then delete them."""
        attempt = _Attempts(self._sleep)
        cursor_key = _wire(keys.cursor_key(batch))
        while True:
            cursor = self._client.get_item(TableName=self._table, Key=cursor_key, ConsistentRead=True).get("Item")
            if cursor is None:
                listed = self._deltas_items(batch)
                if not listed:
                    return
                planned = updates(decode(text for _, text in listed))
                sort_keys, position, total = [sk for sk, _ in listed], 0, len(planned)
                cursor_item = {**cursor_key, "items": {"L": [{"S": sk} for sk in sort_keys]},
                               "next": {"N": "0"}, "total": {"N": str(total)}}  # fmt: skip
                try:
                    self._client.put_item(TableName=self._table, Item=cursor_item, ConditionExpression="attribute_not_exists(PK)")
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                        raise
                    continue  # another attempt made it: read it
            else:
                sort_keys = [value["S"] for value in cursor["items"]["L"]]
                position, total = int(cursor["next"]["N"]), int(cursor["total"]["N"])
                planned = updates(decode(self._texts(batch, sort_keys))) if position < total else []
            if not self._apply(planned, position, total, cursor_key, tally, attempt):
                continue  # the cursor moved under this attempt: read it again
            self._delete(batch, sort_keys, cursor_key, total, attempt)

    def _apply(self, planned: list, position: int, total: int, cursor_key: dict, tally: Tally, attempt: "_Attempts") -> bool:
        """Add the planned updates from ``position`` on, advancing the cursor; False when it moved meanwhile."""
        for begin, end in moves(planned, position) if position < total else ():
            actions = [self._add(item_key, attributes) for item_key, attributes in planned[begin:end]]
            actions.append({"Update": {
                "TableName": self._table, "Key": cursor_key,
                "UpdateExpression": "SET #next = :end", "ConditionExpression": "#next = :begin",
                "ExpressionAttributeNames": {"#next": "next"},
                "ExpressionAttributeValues": {":begin": {"N": str(begin)}, ":end": {"N": str(end)}},
            }})  # fmt: skip
            while True:
                try:
                    self._transact(actions)
                    break
                except _Cancelled as cancelled:
                    if cancelled.reasons[-1:] == [_ALREADY_APPLIED]:
                        return False
                    attempt.pause_or_raise(cancelled)
            tally.transactions += 1
            tally.items.update(item_key for item_key, _ in planned[begin:end])
        return True

    def _delete(self, batch: str, sort_keys: list[str], cursor_key: dict, total: int, attempt: "_Attempts") -> None:
        """Delete the moved deltas items, and the cursor with the last of them."""
        deletes = [{"Delete": {"TableName": self._table, "Key": _wire({"PK": keys.pending_partition(batch), "SK": sk})}}
                   for sk in sort_keys]  # fmt: skip
        deletes.append({"Delete": {
            "TableName": self._table, "Key": cursor_key, "ConditionExpression": "#next = :total",
            "ExpressionAttributeNames": {"#next": "next"}, "ExpressionAttributeValues": {":total": {"N": str(total)}},
        }})  # fmt: skip
        for start in range(0, len(deletes), MAX_ACTIONS):
            while True:
                try:
                    self._transact(deletes[start : start + MAX_ACTIONS])
                    break
                except _Cancelled as cancelled:
                    if cancelled.reasons[-1:] == [_ALREADY_APPLIED]:
                        return  # another attempt finished the move
                    attempt.pause_or_raise(cancelled)

    def _deltas_items(self, batch: str) -> list[tuple[str, str]]:
        """(SK, JSON deltas) of every deltas item the batch has gathered, in key order."""
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :deltas)",
            "ExpressionAttributeValues": {":pk": {"S": keys.pending_partition(batch)}, ":deltas": {"S": keys.DELTAS}},
            "ConsistentRead": True,
        }
        found = []
        while True:
            page = self._client.query(**request)
            found += [(item["SK"]["S"], item["d"]["S"]) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _texts(self, batch: str, sort_keys: list[str]) -> list[str]:
        """The JSON deltas of these deltas items of the batch (read consistently)."""
        texts = []
        for start in range(0, len(sort_keys), 100):
            pending = [_wire({"PK": keys.pending_partition(batch), "SK": sk}) for sk in sort_keys[start : start + 100]]
            while pending:
                answer = self._client.batch_get_item(RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}})
                texts += [item["d"]["S"] for item in answer["Responses"].get(self._table, [])]
                pending = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        return texts

    def _transact(self, actions: list[dict]) -> None:
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
            raise _Cancelled(reasons, error) from error

    def _markers(self, changes: list[Change]) -> list[dict]:
        expires = str(int(self._clock()) + MARKER_LIFETIME_S)
        return [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {**_wire(keys.applied_key(change.event_id)), keys.EXPIRES: {"N": expires}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for change in changes
        ]

    def _add(self, item_key: ItemKey, attributes: dict[str, int]) -> dict:
        """``ADD`` to attributes of a counter item (created by the first of them)."""
        names = {f"#a{n}": attribute for n, attribute in enumerate(attributes)}
        values = {f":d{n}": {"N": str(delta)} for n, delta in enumerate(attributes.values())}
        return {
            "Update": {
                "TableName": self._table,
                "Key": _wire({"PK": item_key[0], "SK": item_key[1]}),
                "UpdateExpression": "ADD " + ", ".join(f"#a{n} :d{n}" for n in range(len(names))),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }


class _Cancelled(Exception):
    """DynamoDB cancelled a transaction; ``reasons`` holds one code per action."""

    def __init__(self, reasons: list[str], error: ClientError) -> None:
        super().__init__(", ".join(reasons) or "no reasons given")
        self.reasons = reasons
        self.error = error


class _Attempts:
    """Pauses (full jitter) between attempts of a transaction cancelled for passing reasons, a few times."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self._sleep = sleep
        self._pauses = 0

    def pause_or_raise(self, cancelled: _Cancelled) -> None:
        if not set(cancelled.reasons) <= _TRANSIENT or self._pauses + 1 >= _ATTEMPTS:
            raise CountersBusy(f"transaction cancelled: {cancelled}") from cancelled.error
        self._sleep(random.uniform(0, min(1.0, 0.05 * 2**self._pauses)))
        self._pauses += 1


def _wire(key: dict) -> dict:
    return {name: {"S": value} for name, value in key.items()}


def _summary(tally: Tally) -> dict:
    return {"records": tally.records, "records_counted": tally.counted, "records_replayed": tally.replayed,
            "transactions": tally.transactions, "counter_items_written": len(tally.items)}  # fmt: skip


@cache
def counter_client() -> Any:
    """One low-level client per process, created on first use (botocore directly, as ``store``: faster cold start).

    Without botocore's client-side parameter validation: the requests are built here, and its walk
    of a batch's transactions (a hundred updates each) was a fifth of the function's time (measured
    on the sample catalog's hand-over); DynamoDB checks every request anyway.
    """
    import botocore.session
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, parameter_validation=False)
    return botocore.session.get_session().create_client("dynamodb", config=config)


def default_counters() -> Counters:
    """The counters of the function's counters table (``COUNTERS_TABLE_NAME``), checked once."""
    return Counters(counter_client(), _counters_table(os.environ.get("COUNTERS_TABLE_NAME")))


@cache
def _counters_table(name: str | None) -> str:
    return config.table_name_of("COUNTERS_TABLE_NAME", name)
