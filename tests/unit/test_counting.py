"""The counter function's work (``catalog.counting``): which stream records count, and that replays never do.

The batches here are Lambda-shaped stream records built by hand, applied to a moto table; the
stream itself is read in tests/integration/test_counters.py.
"""

import itertools
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from catalog import counting, keys
from catalog.counting import MAX_ACTIONS, Change, Counters, StreamViewError, change_of, groups

from devtools.gateway import LambdaContext
from tests.conftest import table_on

Table = tuple[Any, str]
_sequence = itertools.count(1)


@pytest.fixture
def moto_table(request: pytest.FixtureRequest) -> Iterator[Table]:
    with table_on("moto", request) as made:
        yield made


def stream_record(event: str, sk: str = "posting#all", old: str | None = None, new: str | None = None, pk: str = "songs#1") -> dict:
    """One record as Lambda delivers it (NEW_AND_OLD_IMAGES); ``old``/``new`` are the images' fpk."""
    key = {"PK": {"S": pk}, "SK": {"S": sk}}
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_700_000_000,
        "Keys": key,
        "SequenceNumber": f"{next(_sequence):021d}",
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        dynamodb["OldImage"] = {**key, "fpk": {"S": old}, "slot": {"N": "0"}}
    if new is not None:
        dynamodb["NewImage"] = {**key, "fpk": {"S": new}, "slot": {"N": "0"}}
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000",
        "dynamodb": dynamodb,
    }


def counters(table: Table) -> dict[str, int]:
    """Every counter of the table that is not 0 (a test-only Scan; a missing counter reads as 0)."""
    client, name = table
    items = client.scan(TableName=name, ConsistentRead=True)["Items"]
    found = {item["PK"]["S"]: int(item["n"]["N"]) for item in items if item["SK"]["S"] == keys.COUNT}
    return {partition: n for partition, n in found.items() if n}


def expected(records: list[dict]) -> dict[str, int]:
    """The counters each record applied exactly once gives (those that are not 0)."""
    totals: Counter[str] = Counter()
    for record in records:
        totals.update(change_of(record).deltas)
    return {partition: n for partition, n in totals.items() if n}


def a_batch() -> list[dict]:
    """Songs arriving, moving partitions, leaving, and changes that count nothing, mixed."""
    return [
        stream_record("INSERT", new="p|all", pk="songs#1"),
        stream_record("INSERT", "posting#genre=Pop", new="p|genre=Pop", pk="songs#1"),
        stream_record("INSERT", new="p|all", pk="songs#2"),
        stream_record("INSERT", "record", pk="songs#2"),  # a record item: no fpk, counts nothing
        stream_record("MODIFY", old="p|all", new="q|all", pk="songs#2"),  # archived: moves partition
        stream_record("MODIFY", "posting#genre=Pop", old="p|genre=Pop", new="p|genre=Pop", pk="songs#1"),  # same
        stream_record("INSERT", "posting#genre=Rock", new="p|genre=Rock", pk="songs#3"),
        stream_record("REMOVE", "posting#genre=Rock", old="p|genre=Rock", pk="songs#3"),
        stream_record("REMOVE", old="p|all", pk="songs#1"),
    ]


# -- which records count ----------------------------------------------------------------------------


def test_a_new_posting_counts_one_in_its_partition() -> None:
    assert change_of(stream_record("INSERT", new="p|all")).deltas == {"p|all": 1}


def test_a_removed_posting_counts_minus_one_in_its_old_partition() -> None:
    assert change_of(stream_record("REMOVE", old="p|all")).deltas == {"p|all": -1}


def test_a_posting_that_changes_partition_moves_one() -> None:
    assert change_of(stream_record("MODIFY", old="p|all", new="q|all")).deltas == {"p|all": -1, "q|all": 1}


def test_a_posting_rewritten_in_the_same_partition_counts_nothing() -> None:
    assert change_of(stream_record("MODIFY", old="p|all", new="p|all")).deltas == {}


@pytest.mark.parametrize("sk", ["record", "count", "applied"])
@pytest.mark.parametrize("event", ["INSERT", "MODIFY", "REMOVE"])
def test_items_other_than_postings_count_nothing(sk: str, event: str) -> None:
    record = stream_record(event, sk, old="p|all" if event != "INSERT" else None, new="p|all" if event != "REMOVE" else None)
    assert change_of(record).deltas == {}


def test_a_posting_without_the_image_it_needs_is_an_error() -> None:
    record = stream_record("REMOVE", old="p|all")
    del record["dynamodb"]["OldImage"]  # a KEYS_ONLY or NEW_IMAGE stream
    with pytest.raises(StreamViewError):
        change_of(record)


def test_groups_fit_one_transaction_and_keep_stream_order() -> None:
    changes = [
        Change(str(number), f"e{number}", {f"p{number % 70}": 1, f"q{number % 3}": -1}) for number in range(300)
    ] + [Change("none", "e-none", {})]
    cut = groups(changes)
    assert [change for group in cut for change in group] == changes[:-1]
    for group in cut:
        partitions = {partition for change in group for partition in change.deltas}
        assert len(group) + len(partitions) <= MAX_ACTIONS


# -- applying batches, idempotently ------------------------------------------------------------------


def test_a_batch_moves_the_counters_it_implies(moto_table: Table) -> None:
    batch = a_batch()
    assert Counters(*moto_table).apply(batch) == {"batchItemFailures": []}
    assert counters(moto_table) == {"q|all": 1, "p|genre=Pop": 1} == expected(batch)


def test_replaying_a_batch_changes_nothing(moto_table: Table) -> None:
    batch = a_batch()
    Counters(*moto_table).apply(batch)
    once = counters(moto_table)
    assert Counters(*moto_table).apply(batch) == {"batchItemFailures": []}
    assert counters(moto_table) == once


def test_replaying_a_partly_applied_batch_applies_only_the_rest(moto_table: Table) -> None:
    batch = a_batch()
    Counters(*moto_table).apply(batch[:4])  # Lambda's retry after a failure: the batch again, from its start
    Counters(*moto_table).apply(batch)
    Counters(*moto_table).apply(batch[2:])  # and a halved batch (bisect on error) once more
    assert counters(moto_table) == {"q|all": 1, "p|genre=Pop": 1}


def test_a_batch_larger_than_one_transaction_is_exact_and_replays_are_dropped(moto_table: Table) -> None:
    batch = [stream_record("INSERT", f"posting#owner={n}", new=f"p|owner={n % 40}", pk=f"songs#{n}") for n in range(150)]
    batch += [stream_record("REMOVE", f"posting#owner={n}", old=f"p|owner={n % 40}", pk=f"songs#{n}") for n in range(0, 150, 7)]
    assert len(groups([change_of(record) for record in batch])) > 2
    Counters(*moto_table).apply(batch)
    Counters(*moto_table).apply(batch[50:120])
    Counters(*moto_table).apply(batch)
    assert counters(moto_table) == expected(batch)


class FailingClient:
    """A client whose transactions fail from the ``fail_from``-th on, as if a hot counter stayed contended."""

    def __init__(self, client: Any, fail_from: int) -> None:
        self._client, self._fail_from, self.calls = client, fail_from, 0

    def transact_write_items(self, **request: Any) -> dict:
        self.calls += 1
        if self.calls >= self._fail_from:
            reasons = [{"Code": "TransactionConflict"} for _ in request["TransactItems"]]
            error = {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}, "CancellationReasons": reasons}
            raise ClientError(error, "TransactWriteItems")
        return self._client.transact_write_items(**request)


def test_a_group_that_stays_contended_is_reported_with_every_later_record(moto_table: Table) -> None:
    client, name = moto_table
    batch = [stream_record("INSERT", f"posting#owner={n}", new=f"p|owner={n}", pk=f"songs#{n}") for n in range(120)]
    failing = FailingClient(client, fail_from=2)
    response = Counters(failing, name, sleep=lambda seconds: None).apply(batch)
    first_group = groups([change_of(record) for record in batch])[0]
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    assert failed == [record["dynamodb"]["SequenceNumber"] for record in batch[len(first_group) :]]
    assert failing.calls == 1 + counting._ATTEMPTS  # the second group tried, paused, and given up
    assert sum(counters(moto_table).values()) == len(first_group)

    # Lambda resumes the shard at the first failed record (and may replay from the batch start too).
    resumed = [record for record in batch if record["dynamodb"]["SequenceNumber"] in set(failed)]
    assert Counters(client, name).apply(resumed) == {"batchItemFailures": []}
    assert Counters(client, name).apply(batch) == {"batchItemFailures": []}
    assert counters(moto_table) == expected(batch)


def test_markers_carry_an_expiry_after_the_streams_retention(moto_table: Table) -> None:
    client, name = moto_table
    record = stream_record("INSERT", new="p|all")
    Counters(client, name, clock=lambda: 1_700_000_000).apply([record])
    marker = client.get_item(TableName=name, Key={k: {"S": v} for k, v in keys.applied_key(record["eventID"]).items()})["Item"]
    assert int(marker[keys.EXPIRES]["N"]) == 1_700_000_000 + counting.MARKER_LIFETIME_S
    assert counting.MARKER_LIFETIME_S > 24 * 3600


# -- the handler ----------------------------------------------------------------------------------------


def test_the_handler_applies_lambdas_event_and_answers_a_partial_batch_response(
    moto_table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.counters import app

    monkeypatch.setattr(counting, "default_counters", lambda: Counters(*moto_table))
    context = LambdaContext("CounterFunction", 256, "arn:aws:lambda:us-east-1:123456789012:function:c", "req-1", 30)
    batch = a_batch()
    assert app.lambda_handler({"Records": batch}, context) == {"batchItemFailures": []}
    assert app.lambda_handler({"Records": batch}, context) == {"batchItemFailures": []}
    assert counters(moto_table) == {"q|all": 1, "p|genre=Pop": 1}
