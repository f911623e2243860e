"""The counter function's work (``catalog.counting``) on a table: counters written once a batch, and
replays that never count twice.

The batches here are Lambda-shaped stream records built by hand (``tests.support.stream_records``),
applied to a moto table; the stream itself is read in test_counters.py, which records count in
tests/unit/test_counting.py.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from catalog import cells, counting, grams, keys
from catalog.cells import Cell
from catalog.counting import Counters, change_of, gatherings
from catalog.declarations import SONGS
from devtools.local.lambda_runtime import LambdaContext
from devtools.template.table import counters_table_name
from tests.support.backends import table_on
from tests.support.stream_records import SCOPE, expected, partitions, song, stream_record

Table = tuple[Any, str]


@pytest.fixture
def moto_table(request: pytest.FixtureRequest) -> Iterator[Table]:
    """(client, counters table name) on moto: the table the counter function writes."""
    with table_on("moto", request) as (client, name):
        yield client, counters_table_name(name)


def counters(table: Table, *, settled: bool = True) -> dict[Cell, int]:
    """Every count of the counters table that is not 0 (a test-only Scan; a missing count reads as 0);
    ``settled``: and nothing of the counter function's pending deltas left behind."""
    client, name = table
    items = client.scan(TableName=name, ConsistentRead=True)["Items"]
    found = {}
    for item in items:
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if sk == "applied" or pk.startswith("ngrams|"):
            continue  # markers, and the phrase index (tests/integration/test_phrase_index.py)
        if pk.startswith("pending#"):
            assert not settled, f"pending deltas left behind: {pk} {sk}"
            continue
        found.update({(pk, sk, name): int(value["N"]) for name, value in item.items() if name not in ("PK", "SK")})
    return {cell: n for cell, n in found.items() if n}


def a_batch() -> list[dict]:
    """Songs arriving, changing genres and scope, leaving, and changes that count nothing, mixed."""
    return [
        stream_record("INSERT", new=song(1)),
        stream_record("INSERT", new=song(2, genres=["Pop", "Rock"])),
        stream_record("INSERT", new=song(2, genres=["Pop", "Rock"]), sk="posting#genre=Rock"),  # not the all posting
        stream_record("INSERT", new=song(2), sk="record"),  # the record item: counts nothing
        stream_record("MODIFY", old=song(2, genres=["Pop", "Rock"]), new=song(2, genres=["Pop", "Rock"], archived=True)),
        stream_record("MODIFY", old=song(1), new=song(1, title="B")),  # same partitions
        stream_record("INSERT", new=song(3, genres=["Jazz"])),
        stream_record("REMOVE", old=song(3, genres=["Jazz"])),
        stream_record("REMOVE", old=song(1)),
    ]


# -- writing the counters table ---------------------------------------------------------------------


def _of_the_index(request: dict) -> bool:
    """Whether a transaction writes the phrase index (its lists of the songs' genres and statuses, here),
    which these tests leave to ``test_phrase_index``: the clients below pass it through."""

    def partition(action: dict) -> str:
        (write,) = action.values()
        return (write.get("Key") or write["Item"])["PK"]["S"]

    return all(grams.is_index_key(partition(action)) for action in request["TransactItems"])


class CountingClient:
    """A client that counts the transactions' actions and the transactions that move deltas (no markers)."""

    def __init__(self, client: Any) -> None:
        self._client, self.actions, self.moves = client, 0, 0

    def transact_write_items(self, **request: Any) -> dict:
        if _of_the_index(request):
            return self._client.transact_write_items(**request)
        self.actions += len(request["TransactItems"])
        self.moves += not any("Put" in action for action in request["TransactItems"])
        return self._client.transact_write_items(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_counters_shared_by_a_batch_are_written_once_for_it(moto_table: Table) -> None:
    """Songs of 20 genres and 22 statuses, each with an owner of its own, on one day: about one marker
    and the owner's few items a song (its counter, buckets and with item), the shared items once per
    batch (not once per transaction)."""
    client, name = moto_table
    batch = [stream_record("INSERT", new=song(n, ownerId=f"o{n}", genres=[f"g{n % 20}"], mintingStatus=f"s{n % 22}"))
             for n in range(200)]  # fmt: skip
    counting_client = CountingClient(client)
    Counters(counting_client, name).apply(batch)
    assert counters(moto_table) == expected(batch)
    items = {(pk, sk) for pk, sk, _ in expected(batch)}
    assert counting_client.actions <= 200 + len(items) + 20  # + deltas items, cursor moves and deletions
    assert len(items) < 200 * 5 + 3 * (1 + 20 + 22) + 22, "an owner's items for each song (its with item too), the rest shared"


def test_a_record_with_more_values_than_combinations_take_counts_in_the_overflow(moto_table: Table) -> None:
    # 100 genres: moto's expression parser gives up (RecursionError) past about 150 attributes in one update.
    many = song(genres=[f"g{n}" for n in range(100)], moods=[f"m{n}" for n in range(60)])
    record = stream_record("INSERT", new=many)
    deltas = change_of(record).deltas
    assert deltas[(f"{SCOPE}|all", keys.WITH, "overflow:genre")] == 1
    listed = {cell for cell in deltas if cell[:2] in ((f"{SCOPE}|all", keys.WITH), (f"{SCOPE}|owner=o1", keys.WITH))
              and cell[2].startswith('["genre=')}  # fmt: skip
    assert len(listed) == 2 * 100, "each genre listed in the scope's and the owner's with items: one cell a genre"
    combinations = [cell for cell in deltas if cell[1] == keys.WITH and cell not in listed]
    assert sorted(cell[2] for cell in combinations) == ["overflow:genre", "overflow:mood"], "no combinations of 100 genres"
    Counters(*moto_table).apply([record])
    Counters(*moto_table).apply([record])  # replayed: dropped by its marker
    assert counters(moto_table) == expected([record])
    assert sum(partitions(counters(moto_table)).values()) == 1 + 1 + 1 + 100 + 60


# -- applying batches, idempotently ------------------------------------------------------------------


def test_a_batch_moves_the_counters_it_implies(moto_table: Table) -> None:
    batch = a_batch()
    assert Counters(*moto_table).apply(batch) == {"batchItemFailures": []}
    song_two = song(2, genres=["Pop", "Rock"], archived=True)
    assert counters(moto_table) == dict(cells.of(SONGS, song_two)) == expected(batch)


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
    assert counters(moto_table) == expected(batch)


def test_a_batch_larger_than_one_transaction_is_exact_and_replays_are_dropped(moto_table: Table) -> None:
    batch = [stream_record("INSERT", new=song(n, ownerId=f"o{n % 40}", genres=[f"g{n}"])) for n in range(150)]
    batch += [stream_record("REMOVE", old=song(n, ownerId=f"o{n % 40}", genres=[f"g{n}"])) for n in range(0, 150, 7)]
    assert len(gatherings([change_of(record) for record in batch])) > 1
    Counters(*moto_table).apply(batch)
    Counters(*moto_table).apply(batch[50:120])
    Counters(*moto_table).apply(batch)
    assert counters(moto_table) == expected(batch)


class FailingClient:
    """A client whose transactions of one kind fail from the ``fail_from``-th of that kind on, as if a hot
    counter stayed contended: those writing markers (``gathering``), or those moving deltas."""

    def __init__(self, client: Any, fail_from: int, *, gathering: bool = True, times: int | None = None) -> None:
        self._client, self._fail_from, self._gathering, self._times = client, fail_from, gathering, times
        self.calls = 0

    def transact_write_items(self, **request: Any) -> dict:
        if not _of_the_index(request) and any("Put" in action for action in request["TransactItems"]) == self._gathering:
            self.calls += 1
            if self.calls >= self._fail_from and (self._times is None or self.calls < self._fail_from + self._times):
                reasons = [{"Code": "TransactionConflict"} for _ in request["TransactItems"]]
                error = {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}, "CancellationReasons": reasons}
                raise ClientError(error, "TransactWriteItems")
        return self._client.transact_write_items(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_transaction_that_stays_contended_is_reported_from_the_first_record_it_holds(moto_table: Table) -> None:
    client, name = moto_table
    batch = [stream_record("INSERT", new=song(n, ownerId=f"o{n}", genres=[f"g{n}"])) for n in range(150)]
    failing = FailingClient(client, fail_from=2)
    response = Counters(failing, name, sleep=lambda seconds: None).apply(batch)
    first_transaction = gatherings([change_of(record) for record in batch])[0]
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    assert failed == [record["dynamodb"]["SequenceNumber"] for record in batch[len(first_transaction) :]]
    assert failing.calls == 1 + counting._ATTEMPTS  # the second transaction tried, paused, and given up
    # What the first transaction gathered was moved into the counters before the batch gave up.
    assert counters(moto_table) == expected(batch[: len(first_transaction)])

    # Lambda resumes the shard at the first failed record (and may replay from the batch start too).
    resumed = [record for record in batch if record["dynamodb"]["SequenceNumber"] in set(failed)]
    assert Counters(client, name).apply(resumed) == {"batchItemFailures": []}
    assert Counters(client, name).apply(batch) == {"batchItemFailures": []}
    assert counters(moto_table) == expected(batch)


def test_deltas_that_cannot_be_moved_fail_the_batch_and_its_retry_moves_them(moto_table: Table) -> None:
    client, name = moto_table
    batch = [stream_record("INSERT", new=song(n, ownerId=f"o{n}")) for n in range(150)]  # more than 99 counters
    failing = FailingClient(client, fail_from=2, gathering=False, times=counting._ATTEMPTS)
    with pytest.raises(counting.CountersBusy):
        Counters(failing, name, sleep=lambda seconds: None).apply(batch)
    assert counters(moto_table, settled=False) != expected(batch)  # the first share of the deltas moved, the rest waits

    assert Counters(failing, name, sleep=lambda seconds: None).apply(batch) == {"batchItemFailures": []}  # Lambda's retry
    assert counters(moto_table) == expected(batch)


def test_a_halved_retry_whose_first_half_counts_nothing_still_moves_what_the_whole_gathered(moto_table: Table) -> None:
    """Lambda halves a batch that failed: the first half starts with the same record, so it finds the
    pending deltas the whole batch gathered, even when its own records count nothing."""
    client, name = moto_table
    unchanged = [stream_record("MODIFY", old=song(n), new=song(n, title="B")) for n in range(80)]
    inserts = [stream_record("INSERT", new=song(n, ownerId=f"o{n}", genres=[f"g{n}"])) for n in range(100, 180)]  # 162 counters
    batch = unchanged + inserts
    failing = FailingClient(client, fail_from=2, gathering=False, times=counting._ATTEMPTS)
    with pytest.raises(counting.CountersBusy):
        Counters(failing, name, sleep=lambda seconds: None).apply(batch)
    assert counters(moto_table, settled=False) != expected(batch)

    for half in (batch[:80], batch[80:]):  # the retries, halved
        assert Counters(failing, name, sleep=lambda seconds: None).apply(half) == {"batchItemFailures": []}
    assert counters(moto_table) == expected(batch)


def test_markers_carry_an_expiry_after_the_streams_retention(moto_table: Table) -> None:
    client, name = moto_table
    record = stream_record("INSERT", new=song())
    Counters(client, name, clock=lambda: 1_700_000_000).apply([record])
    marker = client.get_item(TableName=name, Key={k: {"S": v} for k, v in keys.applied_key(record["eventID"]).items()})["Item"]
    assert int(marker[keys.EXPIRES]["N"]) == 1_700_000_000 + counting.MARKER_LIFETIME_S
    assert counting.MARKER_LIFETIME_S > 24 * 3600


# -- the handler ----------------------------------------------------------------------------------------


def test_the_handler_applies_lambdas_event_and_answers_a_partial_batch_response(
    moto_table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.stream_counter import app

    monkeypatch.setattr(counting, "default_counters", lambda: Counters(*moto_table))
    context = LambdaContext("StreamCounterFunction", 256, "arn:aws:lambda:us-east-1:123456789012:function:c", "req-1", 30)
    batch = a_batch()
    assert app.lambda_handler({"Records": batch}, context) == {"batchItemFailures": []}
    assert app.lambda_handler({"Records": batch}, context) == {"batchItemFailures": []}
    assert counters(moto_table) == expected(batch)
