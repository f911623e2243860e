"""Keep each partition's counter exact from the table's DynamoDB Stream (the counter function's work).

A partition's counter (``keys.counter_key``, attribute ``n``) is its number of postings. Nothing but
this module writes counters: the counter function runs it on every batch of the table's stream
(``NEW_AND_OLD_IMAGES``). A posting (SK ``posting#...``) that appears adds 1 to the counter of its
``fpk``, one that disappears takes 1 from its old ``fpk``'s, and one whose ``fpk`` changes does
both. Every other change (records, owners, counters, markers, a posting rewritten in the same
partition) counts nothing.

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
order: per group one marker per record and one ``ADD n :delta`` per partition, the group's changes
summed. When DynamoDB refuses a group (conflicts with another shard's transactions on a busy
counter that outlast the retries, throttling, any other error answer), the batch stops there and
reports that group's first record and every later one as failed, in the shape Lambda's
``ReportBatchItemFailures`` expects. Lambda resumes the shard from the first of them; anything it
delivers again that was already applied is dropped by its marker. Anything else (no connection, a
posting record without the image it needs) fails the whole batch: Lambda retries it, halved, with
the same protection.

No boto3 here (the stream images are used in their wire form) and no pydantic: the function's cold
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

from catalog import keys

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
    """A posting's stream record lacks the image it needs: the stream must be NEW_AND_OLD_IMAGES."""


class CountersBusy(RuntimeError):
    """A group's transaction kept being cancelled by conflicts or throttling."""


@dataclass(frozen=True)
class Change:
    """What one stream record does to the counters."""

    sequence_number: str
    event_id: str
    deltas: dict[str, int]
    """Partition -> +1 or -1; empty when the record counts nothing."""


def _partition(stream: dict, image: str) -> str:
    try:
        return stream[image]["fpk"]["S"]
    except KeyError:
        raise StreamViewError(f"a posting's stream record has no {image} with its fpk") from None


def change_of(record: dict) -> Change:
    """The counter changes of one stream record, as Lambda delivers it."""
    stream = record["dynamodb"]
    deltas: Counter[str] = Counter()
    if stream["Keys"]["SK"]["S"].startswith(keys.POSTING):
        event = record["eventName"]
        if event in ("MODIFY", "REMOVE"):
            deltas[_partition(stream, "OldImage")] -= 1
        if event in ("INSERT", "MODIFY"):
            deltas[_partition(stream, "NewImage")] += 1
    return Change(stream["SequenceNumber"], record["eventID"], {p: d for p, d in deltas.items() if d})


def groups(changes: list[Change]) -> list[list[Change]]:
    """The changes that count something, in stream order, cut so that each group fits one transaction."""
    cut: list[list[Change]] = []
    group: list[Change] = []
    partitions: set[str] = set()
    for change in changes:
        if not change.deltas:
            continue
        grown = partitions | change.deltas.keys()
        if group and len(group) + 1 + len(grown) > MAX_ACTIONS:
            cut.append(group)
            group, grown = [], set(change.deltas)
        group.append(change)
        partitions = grown
    if group:
        cut.append(group)
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
        for group in groups([change_of(record) for record in records]):
            try:
                self._write(group, tally)
            except (ClientError, CountersBusy) as error:
                first = next(n for n, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == group[0].sequence_number)
                failed = [record["dynamodb"]["SequenceNumber"] for record in records[first:]]
                logger.warning(
                    "counters not updated: the batch resumes at a failed record",
                    extra={"error": str(error), "failed_records": len(failed), "first_failed": failed[0],
                           **_summary(tally)},
                )  # fmt: skip
                return {"batchItemFailures": [{"itemIdentifier": number} for number in failed]}
        logger.info("counters updated", extra=_summary(tally))
        return {"batchItemFailures": []}

    def _write(self, group: list[Change], tally: Tally) -> None:
        """One transaction for the group, less the records already applied; retried while contended."""
        pending = group
        pauses = 0
        while pending:
            try:
                self._client.transact_write_items(TransactItems=self._actions(pending))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
                # Markers come first, in the group's order: reason i is about change i.
                applied = {n for n, code in enumerate(reasons[: len(pending)]) if code == _ALREADY_APPLIED}
                if applied:
                    tally.replayed += len(applied)
                    pending = [change for n, change in enumerate(pending) if n not in applied]
                    continue
                if not set(reasons) <= _TRANSIENT or pauses + 1 >= _ATTEMPTS:
                    raise CountersBusy(f"transaction cancelled: {', '.join(reasons) or 'no reasons given'}") from error
                self._sleep(random.uniform(0, min(1.0, 0.05 * 2**pauses)))  # full jitter
                pauses += 1
                continue
            tally.transactions += 1
            tally.counted += len(pending)
            tally.partitions.update(partition for change in pending for partition in change.deltas)
            return

    def _actions(self, pending: list[Change]) -> list[dict]:
        expires = str(int(self._clock()) + MARKER_LIFETIME_S)
        actions: list[dict] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {**_wire(keys.applied_key(change.event_id)), keys.EXPIRES: {"N": expires}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for change in pending
        ]
        totals: Counter[str] = Counter()
        for change in pending:
            totals.update(change.deltas)
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
            if delta  # a posting that left a partition and another that came in: nothing to write
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
