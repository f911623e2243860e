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
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from catalog import cells, counting, keys
from catalog.cells import Cell
from catalog.counting import MAX_ACTIONS, Change, Counters, StreamViewError, change_of, gatherings
from catalog.declarations import SONGS
from devtools.local.lambda_runtime import LambdaContext
from devtools.template.table import counters_table_name
from tests.conftest import table_on

Table = tuple[Any, str]
_sequence = itertools.count(1)
_serializer = TypeSerializer()

SCOPE = "songs|archived=false"
ARCHIVED = "songs|archived=true"


@pytest.fixture
def moto_table(request: pytest.FixtureRequest) -> Iterator[Table]:
    """(client, counters table name) on moto: the table the counter function writes."""
    with table_on("moto", request) as (client, name):
        yield client, counters_table_name(name)


def song(number: int = 1, **fields: Any) -> dict:
    """A song's all posting as the writer stores it: the record's fields (a few are enough here)."""
    return {"id": f"s{number}", "archived": False, "ownerId": "o1", "mintingStatus": "Minted", "genres": ["Pop"],
            "title": "A", "createdAt": f"2024-03-05T12:{number % 60:02d}:00.000000", **fields}  # fmt: skip


def stream_record(event: str, old: dict | None = None, new: dict | None = None, *, sk: str = keys.ALL_POSTING,
                  collection: str = "songs") -> dict:  # fmt: skip
    """One record as Lambda delivers it (NEW_AND_OLD_IMAGES): ``old``/``new`` are the item's fields."""
    item_id = (old or new or {}).get("id") or (old or new or {}).get("uuid") or "x"
    key = {"PK": {"S": f"{collection}#{item_id}"}, "SK": {"S": sk}}
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_700_000_000,
        "Keys": key,
        "SequenceNumber": f"{next(_sequence):021d}",
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    for image, fields in (("OldImage", old), ("NewImage", new)):
        if fields is not None:
            dynamodb[image] = {**key, **{name: _serializer.serialize(value) for name, value in fields.items()}}
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000",
        "dynamodb": dynamodb,
    }


def counters(table: Table, *, settled: bool = True) -> dict[Cell, int]:
    """Every count of the counters table that is not 0 (a test-only Scan; a missing count reads as 0);
    ``settled``: and nothing of the counter function's pending deltas left behind."""
    client, name = table
    items = client.scan(TableName=name, ConsistentRead=True)["Items"]
    found = {}
    for item in items:
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if sk == "applied":
            continue
        if pk.startswith("pending#"):
            assert not settled, f"pending deltas left behind: {pk} {sk}"
            continue
        found.update({(pk, sk, name): int(value["N"]) for name, value in item.items() if name not in ("PK", "SK")})
    return {cell: n for cell, n in found.items() if n}


def expected(records: list[dict]) -> dict[Cell, int]:
    """The counts each record applied exactly once gives (those that are not 0)."""
    totals: Counter[Cell] = Counter()
    for record in records:
        totals.update(change_of(record).deltas)
    return {cell: n for cell, n in totals.items() if n}


def partitions(deltas: dict[Cell, int]) -> dict[str, int]:
    """The partition counters' share of some deltas: partition -> change of its postings."""
    return {pk: delta for (pk, sk, attribute), delta in deltas.items() if (sk, attribute) == (keys.COUNT, keys.COUNTED)}


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


# -- which records count ----------------------------------------------------------------------------


def test_a_new_song_counts_one_in_each_of_its_partitions() -> None:
    new = song(genres=["Pop", "Rock"], moods=["Calm"])
    change = change_of(stream_record("INSERT", new=new))
    assert partitions(change.deltas) == {f"{SCOPE}|all": 1, f"{SCOPE}|owner=o1": 1, f"{SCOPE}|status=Minted": 1,
                                         f"{SCOPE}|genre=Pop": 1, f"{SCOPE}|genre=Rock": 1, f"{SCOPE}|mood=Calm": 1}  # fmt: skip
    assert change.deltas == dict(cells.of(SONGS, new)), "and every other cell of the layout, once"
    assert (f"{SCOPE}|genre=Pop", "createdAt:2024-03-05", "T12:01") in change.deltas


def test_a_removed_song_counts_minus_one_in_each_of_its_old_partitions() -> None:
    change = change_of(stream_record("REMOVE", old=song()))
    assert partitions(change.deltas) == {f"{SCOPE}|all": -1, f"{SCOPE}|owner=o1": -1, f"{SCOPE}|status=Minted": -1,
                                         f"{SCOPE}|genre=Pop": -1}  # fmt: skip
    assert change.deltas == {cell: -1 for cell in cells.of(SONGS, song())}


def test_a_song_whose_genres_change_moves_between_the_genres_only() -> None:
    change = change_of(stream_record("MODIFY", old=song(genres=["Pop", "Rock"]), new=song(genres=["Rock", "Jazz"])))
    assert partitions(change.deltas) == {f"{SCOPE}|genre=Pop": -1, f"{SCOPE}|genre=Jazz": 1}
    assert {pk for pk, _, _ in change.deltas} == {f"{SCOPE}|genre=Pop", f"{SCOPE}|genre=Jazz", f"{SCOPE}|status=Minted",
                                                  f"{SCOPE}|all", f"{SCOPE}|owner=o1"}  # fmt: skip
    assert change.deltas[(f"{SCOPE}|genre=Jazz", keys.WITH, '["genre=Rock"]')] == 1
    assert change.deltas[(f"{SCOPE}|genre=Pop", keys.WITH, '["genre=Rock"]')] == -1
    for listing in (f"{SCOPE}|all", f"{SCOPE}|owner=o1", f"{SCOPE}|status=Minted"):  # a genre's count in each
        assert change.deltas[(listing, keys.WITH, '["genre=Pop"]')] == -1
        assert change.deltas[(listing, keys.WITH, '["genre=Jazz"]')] == 1
        assert (listing, keys.WITH, '["genre=Rock"]') not in change.deltas


def test_a_songs_genres_are_listed_in_its_scopes_and_its_owners_with_items_once_each() -> None:
    new = song(genres=["Pop", "Rock", "Pop"], ownerId="o7")
    found = cells.of(SONGS, new)
    assert {cell: n for cell, n in found.items() if cell[0] in (f"{SCOPE}|all", f"{SCOPE}|owner=o7") and cell[1] == keys.WITH} == {
        (f"{SCOPE}|all", keys.WITH, '["genre=Pop"]'): 1, (f"{SCOPE}|all", keys.WITH, '["genre=Rock"]'): 1,
        (f"{SCOPE}|owner=o7", keys.WITH, '["genre=Pop"]'): 1, (f"{SCOPE}|owner=o7", keys.WITH, '["genre=Rock"]'): 1,
    }  # fmt: skip
    assert cells.listed_in(SONGS, {"PK": "p", "SK": keys.WITH, '["genre=Pop"]': 2, '["genre=Rock"]': 0,
                                   '["genre=a\\"b"]': 1, '["mood=Calm"]': 4, "overflow:genre": 1}) == {"Pop": 2, 'a"b': 1}  # fmt: skip
    owner_pop = frozenset([("owner", "o7"), ("genre", "Pop")])
    assert cells.cell_of(SONGS, False, owner_pop) == (f"{SCOPE}|owner=o7", keys.WITH, '["genre=Pop"]')
    assert cells.cell_of(SONGS, False, owner_pop | {("genre", "Rock")}) is None, "an owner with two genres: not counted"
    assert cells.cell_of(SONGS, False, frozenset([("owner", "o7"), ("mood", "Calm")])) is None
    assert cells.overflows(SONGS, owner_pop) == set(), "an owner's genres count every song, however many genres"
    assert cells.overflows(SONGS, frozenset([("genre", "Pop"), ("mood", "Calm")])) == {"genre", "mood"}


def test_an_archived_song_moves_every_partition_to_the_other_scope() -> None:
    change = change_of(stream_record("MODIFY", old=song(), new=song(archived=True)))
    assert partitions(change.deltas) == {f"{SCOPE}|all": -1, f"{SCOPE}|owner=o1": -1, f"{SCOPE}|status=Minted": -1,
                                         f"{SCOPE}|genre=Pop": -1, f"{ARCHIVED}|all": 1, f"{ARCHIVED}|owner=o1": 1,
                                         f"{ARCHIVED}|status=Minted": 1, f"{ARCHIVED}|genre=Pop": 1}  # fmt: skip


def test_a_song_whose_creation_time_changes_moves_between_buckets_only() -> None:
    change = change_of(stream_record("MODIFY", old=song(), new=song(createdAt="2025-01-02T03:04:05.000000")))
    assert partitions(change.deltas) == {}
    assert change.deltas[(f"{SCOPE}|all", keys.COUNT, "createdAt:2024")] == -1
    assert change.deltas[(f"{SCOPE}|all", keys.COUNT, "createdAt:2025")] == 1
    assert change.deltas[(f"{SCOPE}|genre=Pop", "createdAt:2025-01-02", "T03:04")] == 1


def test_a_song_rewritten_within_the_same_partitions_counts_nothing() -> None:
    assert change_of(stream_record("MODIFY", old=song(), new=song(title="Other", genres=["Pop", "Pop"]))).deltas == {}


def test_a_soundtrack_counts_in_the_partitions_of_its_facets() -> None:
    soundtrack = {"uuid": "t1", "name": "Main Title", "artist": "Hildur", "duration": 201000}
    change = change_of(stream_record("INSERT", new=soundtrack, collection="soundtracks"))
    assert partitions(change.deltas) == {"soundtracks|all": 1, "soundtracks|name=Main Title": 1,
                                         "soundtracks|artist=Hildur": 1, "soundtracks|duration=201000": 1}  # fmt: skip
    assert change.deltas[("soundtracks|artist=Hildur", "duration:000000000", "201")] == 1


@pytest.mark.parametrize("sk", ["record", "posting#genre=Pop", "count", "applied"])
@pytest.mark.parametrize("event", ["INSERT", "MODIFY", "REMOVE"])
def test_items_other_than_all_postings_count_nothing(sk: str, event: str) -> None:
    record = stream_record(event, old=song() if event != "INSERT" else None, new=song() if event != "REMOVE" else None, sk=sk)
    assert change_of(record).deltas == {}


def test_an_all_posting_without_the_image_it_needs_is_an_error() -> None:
    record = stream_record("REMOVE", old=song())
    del record["dynamodb"]["OldImage"]  # a KEYS_ONLY or NEW_IMAGE stream
    with pytest.raises(StreamViewError):
        change_of(record)


def test_gatherings_fit_dynamodbs_limit_and_keep_stream_order() -> None:
    changes = [Change(str(n), f"e{n}", {(f"p{n % 70}", "count", "n"): 1, (f"own{n}", "count", "n"): 1}) for n in range(300)]
    changes.append(Change("none", "e-none", {}))
    packed = gatherings(changes)
    assert [change.event_id for group in packed for change in group] == [f"e{n}" for n in range(300)]
    assert all(len(group) + 2 <= MAX_ACTIONS for group in packed)  # the markers and the deltas items


def test_deltas_survive_their_items_and_updates_fit_an_expression() -> None:
    deltas = {(f"p{n % 3}", "day", f"a{n}"): n - 250 for n in range(500) if n != 250}
    texts = counting.encode(deltas)
    assert counting.decode(texts) == deltas
    planned = counting.updates(deltas)
    assert all(len(attributes) <= counting.MAX_ATTRIBUTES for _, attributes in planned)
    for begin, end in counting.moves(planned, 0):  # an item at most once per transaction
        assert len({key for key, _ in planned[begin:end]}) == end - begin <= MAX_ACTIONS - 1


class CountingClient:
    """A client that counts the transactions' actions and the transactions that move deltas (no markers)."""

    def __init__(self, client: Any) -> None:
        self._client, self.actions, self.moves = client, 0, 0

    def transact_write_items(self, **request: Any) -> dict:
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
        if any("Put" in action for action in request["TransactItems"]) == self._gathering:
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
