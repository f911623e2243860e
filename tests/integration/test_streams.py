"""The local stream feeder (``devtools.local.streams``): Lambda-shaped events, resuming after failures, shard order.

The handler here is a recorder; tests/integration/test_counters.py hands the stream to the real one.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from devtools.local.streams import StreamFeeder, StreamFeedError, filter_patterns, lambda_record, streams_client
from tests.support.backends import table_on

Table = tuple[Any, str]


@pytest.fixture
def moto_table(request: pytest.FixtureRequest) -> Iterator[Table]:
    with table_on("moto", request) as made:
        yield made


class Recorder:
    """A handler that keeps the events it gets; it may fail records once, from a given sequence number on."""

    def __init__(self, fail_from: int | None = None) -> None:
        self.events: list[dict] = []
        self._fail_from = fail_from

    def __call__(self, event: dict) -> dict:
        self.events.append(event)
        records = event["Records"]
        if self._fail_from is not None and self._fail_from < len(records):
            failed = records[self._fail_from :]
            self._fail_from = None
            return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failed]}
        return {"batchItemFailures": []}

    def keys(self) -> list[str]:
        return [record["dynamodb"]["Keys"]["PK"]["S"] for event in self.events for record in event["Records"]]


def put(table: Table, count: int, start: int = 0) -> None:
    client, name = table
    for number in range(start, start + count):
        client.put_item(TableName=name, Item={"PK": {"S": f"k{number:03d}"}, "SK": {"S": "record"}})


def feeder(table: Table, deliver: Any, **options: Any) -> StreamFeeder:
    client, name = table
    return StreamFeeder(client, streams_client(client), name, deliver, **options)


def test_records_are_handed_over_in_order_in_lambdas_shape(moto_table: Table) -> None:
    put(moto_table, 7)
    recorder = Recorder()
    assert feeder(moto_table, recorder, batch_size=3).drain() == 7
    assert [len(event["Records"]) for event in recorder.events] == [3, 3, 1]
    assert recorder.keys() == [f"k{number:03d}" for number in range(7)]
    record = recorder.events[0]["Records"][0]
    assert record["eventName"] == "INSERT" and record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:") and "/stream/" in record["eventSourceARN"]
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["PK"] == {"S": "k000"}
    assert json.dumps(recorder.events)  # what Lambda sends is JSON


def test_a_drain_hands_over_only_what_is_new(moto_table: Table) -> None:
    recorder = Recorder()
    feed = feeder(moto_table, recorder)
    put(moto_table, 3)
    assert feed.drain() == 3
    assert feed.drain() == 0
    put(moto_table, 2, start=3)
    assert feed.drain() == 2
    assert recorder.keys() == ["k000", "k001", "k002", "k003", "k004"]


def test_a_partial_batch_failure_is_handed_over_again_from_the_first_failed_record(moto_table: Table) -> None:
    put(moto_table, 5)
    recorder = Recorder(fail_from=2)
    assert feeder(moto_table, recorder, batch_size=5).drain() == 5
    assert [[r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"]] for event in recorder.events] == [
        ["k000", "k001", "k002", "k003", "k004"],
        ["k002", "k003", "k004"],
    ]


def test_a_handler_that_keeps_failing_stops_the_feed(moto_table: Table) -> None:
    put(moto_table, 2)

    def failing(event: dict) -> dict:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}

    with pytest.raises(StreamFeedError):
        feeder(moto_table, failing).drain()


def test_positions_are_kept_across_feeders_of_the_same_stream(moto_table: Table, tmp_path: Path) -> None:
    positions = tmp_path / "positions.json"
    put(moto_table, 3)
    assert feeder(moto_table, Recorder(), positions_path=positions).drain() == 3
    put(moto_table, 1, start=3)
    recorder = Recorder()
    assert feeder(moto_table, recorder, positions_path=positions).drain() == 1
    assert recorder.keys() == ["k003"]

    saved = json.loads(positions.read_text())
    positions.write_text(json.dumps({**saved, "stream": "arn:of:another:table/stream/1"}))
    assert feeder(moto_table, Recorder(), positions_path=positions).drain() == 4, "another stream's positions: from the start"


def test_a_datetime_from_get_records_becomes_epoch_seconds() -> None:
    created = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    record: dict[str, Any] = {
        "eventID": "1",
        "eventName": "INSERT",
        "dynamodb": {"ApproximateCreationDateTime": created, "SequenceNumber": "1"},
    }
    shaped = lambda_record(record, "arn:stream")
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == int(created.timestamp())
    assert shaped["eventSourceARN"] == "arn:stream"
    assert record["dynamodb"]["ApproximateCreationDateTime"] is created, "the record read is left as it is"


class TwoShards:
    """A stream with a closed parent shard and its open child, the child listed first."""

    def __init__(self) -> None:
        self.records = {
            "parent": [self._record("p1", "1"), self._record("p2", "2")],
            "child": [self._record("c1", "3")],
        }

    @staticmethod
    def _record(key: str, sequence: str) -> dict:
        return {"eventID": key, "eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": key}}, "SequenceNumber": sequence}}

    def describe_stream(self, **request: Any) -> dict:
        return {"StreamDescription": {"Shards": [
            {"ShardId": "child", "ParentShardId": "parent"},
            {"ShardId": "parent", "SequenceNumberRange": {"EndingSequenceNumber": "2"}},
        ]}}  # fmt: skip

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str = "0") -> dict:
        start = 0 if ShardIteratorType == "TRIM_HORIZON" else int(SequenceNumber)
        return {"ShardIterator": json.dumps([ShardId, start])}

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        shard, start = json.loads(ShardIterator)
        records = [r for r in self.records[shard] if int(r["dynamodb"]["SequenceNumber"]) > start]
        response: dict[str, Any] = {"Records": records}
        if shard == "child" or records:  # the parent is closed: no iterator once read to its end
            last = records[-1]["dynamodb"]["SequenceNumber"] if records else str(start)
            response["NextShardIterator"] = json.dumps([shard, int(last)])
        return response


class OneTable:
    def describe_table(self, TableName: str) -> dict:
        return {"Table": {"LatestStreamArn": "arn:stream"}}


def test_a_parent_shard_is_handed_over_before_its_child() -> None:
    recorder = Recorder()
    assert StreamFeeder(OneTable(), TwoShards(), "t", recorder).drain() == 3
    assert recorder.keys() == ["p1", "p2", "c1"]


def test_only_records_the_filter_lets_through_are_handed_over_in_full_batches(moto_table: Table) -> None:
    """As Lambda's event source mapping: filtered out before batching, and passed by the checkpoint."""
    client, name = moto_table
    for number in range(10):
        client.put_item(TableName=name, Item={"PK": {"S": f"k{number:03d}"}, "SK": {"S": "posting#all"}})
        client.put_item(TableName=name, Item={"PK": {"S": f"k{number:03d}"}, "SK": {"S": "record"}})
    patterns = filter_patterns()
    recorder = Recorder()
    fed = feeder(moto_table, recorder, batch_size=4, patterns=patterns)
    assert fed.drain() == 10
    assert [len(event["Records"]) for event in recorder.events] == [4, 4, 2]
    assert {r["dynamodb"]["Keys"]["SK"]["S"] for e in recorder.events for r in e["Records"]} == {"posting#all"}
    client.put_item(TableName=name, Item={"PK": {"S": "k999"}, "SK": {"S": "record"}})
    assert fed.drain() == 0 and len(recorder.events) == 3
