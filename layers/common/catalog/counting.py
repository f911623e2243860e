"""Keep each partition's counter exact from the table's DynamoDB Stream (the counter function's work).

A partition's counter (``keys.counter_key``, attribute ``n``) is its number of postings. Nothing but
this module writes counters: the counter function runs it on every batch of the table's stream
(``NEW_AND_OLD_IMAGES``). It reads one stream record per record change: the record's ``all``
posting (SK ``keys.ALL_POSTING``), a whole copy of the record that the writer rewrites whenever the
record or its postings change. The partitions a record has postings in follow from the record
(``indexing.partitions``), so its old image and its new image say which counters lose one and
which gain one: a song that appears adds 1 in each of its partitions, one that leaves takes 1 from
each, one whose genres change moves between the genres' partitions. Every other change (other
postings, owners, counters, markers, a record rewritten within the same partitions) counts
nothing, and the template's filter keeps those records from the function.

Lambda delivers stream records at least once and retries failed batches (whole, halved, or from a
reported record on), so a record may arrive several times. Each record's changes are therefore
written together with a marker item for that record (``keys.applied_key``), in one
``TransactWriteItems`` whose marker puts require that the marker does not exist yet: either the
counters move and the marker is written, or neither happens. When a marker exists, its record was
applied before: DynamoDB cancels the transaction and says which action failed, that record is
dropped and the rest written again. Replaying a batch, whole or partly applied, never counts twice.
Markers expire (TTL on ``keys.EXPIRES``) well after the stream's 24-hour retention, when no replay
can come any more.

A transaction holds at most 100 actions and touches an item once, so records are grouped in stream
order: per group one marker per record and one ``ADD n :delta`` per counter, the group's changes
summed (consecutive songs share their scope's ``all`` counter, and often a genre or a status: the
sample catalog costs 4.3 actions a song, its marker included). A record with more partitions than a
transaction holds (a song with dozens of genres) is applied in parts, each with a marker of its
own. When DynamoDB refuses a group (conflicts with another shard's transactions on a busy counter
that outlast the retries, throttling, any other error answer), the batch stops there and reports
the first record not applied yet and every later one as failed, in the shape Lambda's
``ReportBatchItemFailures`` expects. Lambda resumes the shard from there; anything it delivers again that was already applied
is dropped by its marker. Anything else (no connection, an ``all`` posting's record without the
image it needs) fails the whole batch: Lambda retries it, halved, with the same protection.

No boto3 here (the stream images are read in their wire form) and no pydantic: the function's cold
start is botocore and the Powertools logger only.
"""

import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from catalog import indexing, keys, wire
from catalog.collections import COLLECTIONS

logger = Logger(child=True)

MAX_ACTIONS = 100
"""DynamoDB's limit of actions in one transaction."""
MARKER_LIFETIME_S = 2 * 24 * 3600
"""How long a marker is kept: the stream keeps records 24 hours, so no replay comes after that."""
_ATTEMPTS = 6
_ALREADY_APPLIED = "ConditionalCheckFailed"
# Cancellation reasons worth another try after a pause ("None": an action that did not fail itself).
_TRANSIENT = {"None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


class StreamViewError(ValueError):
    """An ``all`` posting's stream record lacks the image it needs: the stream must be NEW_AND_OLD_IMAGES."""


class CountersBusy(RuntimeError):
    """A transaction kept being cancelled by conflicts or throttling."""


@dataclass(frozen=True)
class Part:
    """Counter changes applied atomically with their own marker: a record's, or a share of them."""

    sequence_number: str
    """The stream record's, to report it as failed."""
    marker: str
    """The id its marker is keyed by (``keys.applied_key``)."""
    deltas: dict[str, int]


@dataclass(frozen=True)
class Change:
    """What one stream record does to the counters."""

    sequence_number: str
    event_id: str
    deltas: dict[str, int]
    """Partition -> change of its counter; empty when the record counts nothing."""

    def parts(self) -> list[Part]:
        """The change in parts that each fit a transaction with their marker (one part, nearly always).

        The split depends on the change alone, so a replayed record is cut the same way and its
        parts meet their markers.
        """
        partitions = sorted(self.deltas)
        size = MAX_ACTIONS - 1
        if len(partitions) <= size:
            return [Part(self.sequence_number, self.event_id, self.deltas)] if partitions else []
        return [
            Part(self.sequence_number, f"{self.event_id}/{number}", {p: self.deltas[p] for p in partitions[start : start + size]})
            for number, start in enumerate(range(0, len(partitions), size))
        ]


def _partitions(stream: dict, image: str) -> Counter[str]:
    try:
        record = wire.item(stream[image])
    except KeyError:
        raise StreamViewError(f"an all posting's stream record has no {image}") from None
    return Counter(indexing.partitions(COLLECTIONS[keys.prefix_of(record["PK"])], record))


def change_of(record: dict) -> Change:
    """The counter changes of one stream record, as Lambda delivers it."""
    stream = record["dynamodb"]
    deltas: Counter[str] = Counter()
    if stream["Keys"]["SK"]["S"] == keys.ALL_POSTING:
        event = record["eventName"]
        if event in ("MODIFY", "REMOVE"):
            deltas.subtract(_partitions(stream, "OldImage"))
        if event in ("INSERT", "MODIFY"):
            deltas.update(_partitions(stream, "NewImage"))
    return Change(stream["SequenceNumber"], record["eventID"], {p: d for p, d in deltas.items() if d})


def transactions(changes: list[Change]) -> list[list[Part]]:
    """The parts of the changes that count something, in stream order, cut into transactions.

    Each holds at most ``MAX_ACTIONS`` actions: its parts' markers and one update per counter they
    touch, so consecutive records that share counters share their updates.
    """
    cut: list[list[Part]] = []
    parts: list[Part] = []
    partitions: set[str] = set()
    for change in changes:
        for part in change.parts():
            grown = partitions | part.deltas.keys()
            if parts and len(parts) + 1 + len(grown) > MAX_ACTIONS:
                cut.append(parts)
                parts, grown = [], set(part.deltas)
            parts.append(part)
            partitions = grown
    if parts:
        cut.append(parts)
    return cut


@dataclass
class Tally:
    """What one batch did, for the log."""

    records: int = 0
    counted: int = 0
    replayed: int = 0
    transactions: int = 0
    partitions: set[str] = field(default_factory=set)


class Counters:
    """Applies batches of stream records to the counters of one table, idempotently."""

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

    def apply(self, records: list[dict]) -> dict:
        """Apply a batch; the answer is Lambda's partial batch response (``batchItemFailures``)."""
        tally = Tally(records=len(records))
        changes = [change_of(record) for record in records]
        applied: set[str] = set()
        for parts in transactions(changes):
            try:
                self._write(parts, tally)
            except (ClientError, CountersBusy) as error:
                first = next(n for n, change in enumerate(changes) if not {p.marker for p in change.parts()} <= applied)
                failed = [change.sequence_number for change in changes[first:]]
                logger.warning(
                    "counters not updated: the batch resumes at a failed record",
                    extra={"error": str(error), "failed_records": len(failed), "first_failed": failed[0],
                           **_summary(tally)},
                )  # fmt: skip
                return {"batchItemFailures": [{"itemIdentifier": number} for number in failed]}
            applied.update(part.marker for part in parts)
        tally.counted = sum(1 for change in changes if change.deltas)
        logger.info("counters updated", extra=_summary(tally))
        return {"batchItemFailures": []}

    def _write(self, parts: list[Part], tally: Tally) -> None:
        """One transaction for the parts, less those already applied; retried while contended."""
        pending = parts
        pauses = 0
        while pending:
            try:
                self._client.transact_write_items(TransactItems=self._actions(pending))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
                # Markers come first, in the parts' order: reason i is about part i.
                applied = {n for n, code in enumerate(reasons[: len(pending)]) if code == _ALREADY_APPLIED}
                if applied:
                    tally.replayed += len(applied)
                    pending = [part for n, part in enumerate(pending) if n not in applied]
                    continue
                if not set(reasons) <= _TRANSIENT or pauses + 1 >= _ATTEMPTS:
                    raise CountersBusy(f"transaction cancelled: {', '.join(reasons) or 'no reasons given'}") from error
                self._sleep(random.uniform(0, min(1.0, 0.05 * 2**pauses)))  # full jitter
                pauses += 1
                continue
            tally.transactions += 1
            tally.partitions.update(partition for part in pending for partition in part.deltas)
            return

    def _actions(self, pending: list[Part]) -> list[dict]:
        expires = str(int(self._clock()) + MARKER_LIFETIME_S)
        actions: list[dict] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {**_wire(keys.applied_key(part.marker)), keys.EXPIRES: {"N": expires}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for part in pending
        ]
        totals: Counter[str] = Counter()
        for part in pending:
            totals.update(part.deltas)
        actions += [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _wire(keys.counter_key(partition)),
                    "UpdateExpression": "ADD n :delta",
                    "ExpressionAttributeValues": {":delta": {"N": str(delta)}},
                }
            }
            for partition, delta in sorted(totals.items())
            if delta  # a record that left a partition and another that came in: nothing to write
        ]
        return actions


def _wire(key: dict) -> dict:
    return {name: {"S": value} for name, value in key.items()}


def _summary(tally: Tally) -> dict:
    return {"records": tally.records, "records_counted": tally.counted, "records_replayed": tally.replayed,
            "transactions": tally.transactions, "counters_touched": len(tally.partitions)}  # fmt: skip


@cache
def counter_client() -> Any:
    """One low-level client per process, created on first use (botocore directly, as ``store``: faster cold start)."""
    import botocore.session
    from botocore.config import Config

    return botocore.session.get_session().create_client(
        "dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 5})
    )


def default_counters() -> Counters:
    """The counters of the function's table (``TABLE_NAME``)."""
    return Counters(counter_client(), os.environ["TABLE_NAME"])
