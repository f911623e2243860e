"""DynamoDB access, and the meter that counts what every request reads.

This is the only module that calls DynamoDB for the API. It reads two tables: the catalog (records,
postings and their indexes) and the counters table the counter function keeps. It reads with
eventual consistency (half the read capacity of strong reads) and counts, per request, the items
DynamoDB read and the read capacity it reports, so that tests and the benchmark can hold each query
to its read budget.

What DynamoDB cannot answer in time (throttling, timeouts, connection errors, its 5xx), once
botocore's retries within the request's time budget (``catalog.budget``) are spent, is raised as
``ServiceUnavailable`` (503 with ``Retry-After``). Any other DynamoDB error (a missing table, a
denied action) is a fault of the deployment and stays an error (500).
"""

import itertools
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as ConnectError

from catalog import budget, grams, keys, wire
from catalog.config import DynamoDBSettings, dynamodb_settings
from catalog.errors import ServiceUnavailable

_BATCH_GET_MAX = 100
_MAX_PAGE = 1000


@dataclass
class ReadMeter:
    items: int = 0
    """Every item DynamoDB read: index entries, postings, records and counters."""
    entries: int = 0
    """Compact index entries among them (keys and what filters look at)."""
    records: int = 0
    """Items carrying a whole record among them (records, postings, entries of whole-record indexes)."""
    capacity: float = 0.0
    """Read capacity units consumed, as DynamoDB reports them."""
    partitions: list[str] = field(default_factory=list)
    """The index partitions read, in the order first read (the driver of a list, a count's edge buckets)."""

    def add(self, items: int, consumed: dict | list | None, *, entries: int = 0, records: int = 0) -> None:
        self.items += items
        self.entries += entries
        self.records += records
        for part in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.capacity += part.get("CapacityUnits", 0.0)


def _whole(items: list[dict]) -> int:
    """How many of these table items are whole records (postings, not counters)."""
    return sum(1 for item in items if item.get("SK", "").startswith(keys.POSTING))


_TRANSIENT_CODES = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "InternalFailure",
})  # fmt: skip
"""DynamoDB errors that say "not now" rather than "never": retried by botocore, then 503."""


_NO_ANSWER = (HTTPClientError, ConnectError, budget.BudgetExhausted)
"""No answer from DynamoDB: read timeouts and closed connections, refused connections and connect
timeouts, or no time left in the request's budget to ask."""


def _unavailable(error: Exception) -> ServiceUnavailable | None:
    """The 503 this DynamoDB error (raised after botocore's retries) comes to, if it is transient."""
    if isinstance(error, _NO_ANSWER):
        reason = type(error).__name__
    elif isinstance(error, ClientError):
        reason = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if reason not in _TRANSIENT_CODES and status < 500:
            return None
    else:
        return None
    return ServiceUnavailable(reason or "DynamoDB error", dynamodb_settings().retry_after)


def _backoff(rounds: int) -> None:
    """Jittered exponential wait before asking again for unprocessed keys (25 ms, 50 ms, ... up to 1 s),
    scaled as botocore's backoff is; the request's deadline still applies to the call that follows."""
    time.sleep(random.random() * min(0.025 * 2 ** (rounds - 1), 1.0) * dynamodb_settings().backoff_scale)


def create_client(settings: DynamoDBSettings) -> Any:
    """A low-level DynamoDB client with these timeouts and retries, held to each request's budget."""
    import botocore.session
    from botocore.config import Config

    config = Config(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"mode": settings.retry_mode, "total_max_attempts": settings.max_attempts},
    )
    session = botocore.session.get_session()
    session.register_component("response_parser_factory", wire.ParserFactory())  # answers as sent: see catalog.wire
    client = session.create_client("dynamodb", config=config)
    budget.install(client, settings)
    return client


def dynamodb_client() -> Any:
    """The API's client, created on first use (botocore directly: faster cold start).

    One per process on Lambda. Keyed by the settings and the endpoint, as ``settings()`` is, for
    the local gateway and the tests, which host functions of several environments in one process.
    """
    return _client(dynamodb_settings(), os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))


@cache
def _client(settings: DynamoDBSettings, _endpoint: str | None) -> Any:
    return create_client(settings)


class Store:
    """Reads of the catalog table and its counters table, metered. Create one per request."""

    def __init__(self, client: Any, table: str, counters_table: str) -> None:
        self._client = client
        self._table = table
        self._counters_table = counters_table
        self.meter = ReadMeter()
        self._heads: dict[tuple[str, str], grams.Head] = {}
        """The phrase index's heads read so far (``gram_heads``): each is read once a request."""

    def _call(self, operation: str, **request: Any) -> dict:
        try:
            return getattr(self._client, operation)(**request)
        except (ClientError, *_NO_ANSWER) as error:
            unavailable = _unavailable(error)
            if unavailable is None:
                raise
            raise unavailable from error

    def get(self, key: dict, *, counters: bool = False) -> dict | None:
        """The item of this key in the catalog table (in the counters table with ``counters``), if any."""
        response = self._call(
            "get_item",
            TableName=self._counters_table if counters else self._table,
            Key={name: {"S": value} for name, value in key.items()},
            ReturnConsumedCapacity="INDEXES",
        )
        item = wire.item(response["Item"]) if "Item" in response else None
        self.meter.add(1 if item else 0, response.get("ConsumedCapacity"), records=_whole([item] if item else []))
        return item

    def batch_get(self, key_list: list[dict], *, counters: bool = False) -> list[dict]:
        """The items of these keys that exist, in the keys' order (from the counters table with ``counters``)."""
        table = self._counters_table if counters else self._table
        found: dict[tuple[str, str], dict] = {}
        for start in range(0, len(key_list), _BATCH_GET_MAX):
            pending = [{name: {"S": value} for name, value in key.items()} for key in key_list[start : start + _BATCH_GET_MAX]]
            for rounds in itertools.count():
                if not pending:
                    break
                if rounds:  # DynamoDB left keys unprocessed (throttled): back off, as botocore would
                    _backoff(rounds)
                response = self._call("batch_get_item", RequestItems={table: {"Keys": pending}}, ReturnConsumedCapacity="INDEXES")
                items = [wire.item(raw) for raw in response["Responses"].get(table, [])]
                self.meter.add(len(items), response.get("ConsumedCapacity"), records=_whole(items))
                found.update({(item["PK"], item["SK"]): item for item in items})
                pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        return [found[key["PK"], key["SK"]] for key in key_list if (key["PK"], key["SK"]) in found]

    def records(self, collection: str, ids: list[str]) -> dict[str, dict]:
        """The records of these ids that exist, by id (BatchGetItem; ids given once each)."""
        read = self.batch_get([keys.record_key(collection, item_id) for item_id in dict.fromkeys(ids)]) if ids else []
        return {keys.id_of(record): record for record in read}

    def query(
        self,
        index: str,
        partition: str,
        *,
        range_key: str,
        low: str | None = None,
        high: str | None = None,
        descending: bool = False,
        page_size: int | None = None,
        whole: bool = False,
        start_after: dict | None = None,
        keys_only: bool = False,
    ) -> Iterator[list[dict]]:
        """Pages of one partition of an index, in range-key order, strictly between low and high (both optional).

        ``whole``: the index projects whole records (else its entries are metered as compact entries).
        ``start_after``: an entry of this partition, from any index with the same keys, to start after.
        ``keys_only``: the entries' keys alone (the same read capacity, half the time to send and parse).
        A bound may be a stored range key (a cursor's position): BETWEEN includes it, so it is dropped here.
        """
        if low is not None and high is not None and low >= high:
            return  # an empty range (newerThan at or after olderThan): nothing to read, and DynamoDB refuses it
        condition = "fpk = :p"
        values: dict[str, dict] = {":p": {"S": partition}}
        if low is not None and high is not None:
            condition += " AND #k BETWEEN :lo AND :hi"
            values.update({":lo": {"S": low}, ":hi": {"S": high}})
        elif low is not None:
            condition += " AND #k > :lo"
            values[":lo"] = {"S": low}
        elif high is not None:
            condition += " AND #k < :hi"
            values[":hi"] = {"S": high}
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            **({"ExpressionAttributeNames": {"#k": range_key}} if "#k" in condition else {}),
            "ScanIndexForward": not descending,
            "ReturnConsumedCapacity": "INDEXES",
        }
        if keys_only:
            request["ProjectionExpression"] = "PK, SK, fpk, #k"
            request.setdefault("ExpressionAttributeNames", {"#k": range_key})
        if start_after is not None:
            request["ExclusiveStartKey"] = {name: {"S": start_after[name]} for name in ("PK", "SK", "fpk", range_key)}
        if partition not in self.meter.partitions:
            self.meter.partitions.append(partition)
        if page_size:  # BETWEEN includes a bound that is a stored key: one more keeps the page whole
            inclusive = low is not None and high is not None and (keys.is_stored(low) or keys.is_stored(high))
            request["Limit"] = page_size + 1 if inclusive else page_size
        while True:
            response = self._call("query", **request)
            items = [wire.item(raw) for raw in response.get("Items", [])]
            scanned = response.get("ScannedCount", len(items))
            entries, records = (0, scanned) if whole else (scanned, 0)
            self.meter.add(scanned, response.get("ConsumedCapacity"), entries=entries, records=records)
            yield [item for item in items if item[range_key] not in (low, high)]
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            if page_size:  # filters are dropping entries: read on in growing pages (at most 2x what is needed)
                request["Limit"] = min(request["Limit"] * 2, _MAX_PAGE)

    def slot(self, partition: str, slot: int) -> dict | None:
        """The posting (a whole record) at one position of a partition of the Sampling index."""
        if partition not in self.meter.partitions:
            self.meter.partitions.append(partition)
        response = self._call(
            "query",
            TableName=self._table,
            IndexName=keys.SAMPLING_INDEX,
            KeyConditionExpression="fpk = :p AND slot = :s",
            ExpressionAttributeValues={":p": {"S": partition}, ":s": {"N": str(slot)}},
            ReturnConsumedCapacity="INDEXES",
        )
        items = [wire.item(raw) for raw in response.get("Items", [])]
        self.meter.add(len(items), response.get("ConsumedCapacity"), records=len(items))
        return items[0] if items else None

    def count(self, partition: str) -> int:
        """The maintained number of postings in a partition (0 when it has none)."""
        counter = self.get(keys.counter_key(partition), counters=True)
        return int(counter["n"]) if counter else 0

    def counts(self, partitions: tuple[str, ...]) -> dict[str, int]:
        """The maintained numbers of postings of several partitions, in one BatchGetItem (none for no partition)."""
        if not partitions:
            return {}
        counters = self.batch_get([keys.counter_key(partition) for partition in partitions], counters=True)
        found = {counter["PK"]: int(counter["n"]) for counter in counters}
        return {partition: found.get(partition, 0) for partition in partitions}

    # -- the phrase index (``catalog.grams``), in the counters table ----------------------------------

    def gram_heads(self, scope: str, names: list[str]) -> dict[str, grams.Head]:
        """The heads of these grams in the scope (how many records hold each, where its blocks start):
        those not read yet in this request, in one BatchGetItem (a random pick that falls back to
        counting asks for the same heads again)."""
        missing = [name for name in names if (scope, name) not in self._heads]
        if missing:
            partition = grams.head_partition(scope)
            found = {
                item["SK"]: item for item in self.batch_get([{"PK": partition, "SK": name} for name in missing], counters=True)
            }
            self._heads.update({(scope, name): grams.Head.of(found.get(name)) for name in missing})
        return {name: self._heads[(scope, name)] for name in names}

    def gram_block(self, scope: str, gram: str, lower: str) -> dict | None:
        """The posting block of a gram whose lower bound is ``lower`` (one listed in its head), in one GetItem."""
        return self.get({"PK": grams.block_partition(scope, gram), "SK": grams.block_sk(lower)}, counters=True)

    def gram_prefix(self, scope: str, prefix: str) -> dict[str, int]:
        """Every gram of the scope starting with ``prefix`` that some record holds, with its count."""
        request: dict[str, Any] = {
            "TableName": self._counters_table,
            "KeyConditionExpression": "PK = :p AND begins_with(SK, :s)",
            "ExpressionAttributeValues": {":p": {"S": grams.head_partition(scope)}, ":s": {"S": prefix}},
            "ReturnConsumedCapacity": "INDEXES",
        }
        found = {}
        while True:
            response = self._call("query", **request)
            items = [wire.item(raw) for raw in response.get("Items", [])]
            self.meter.add(response.get("ScannedCount", len(items)), response.get("ConsumedCapacity"))
            found.update({item["SK"]: int(item.get(grams.HEAD_COUNT, 0)) for item in items})
            if "LastEvaluatedKey" not in response:
                return {name: n for name, n in found.items() if n > 0}
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def gram_blocks(self, scope: str, gram: str, *, start: str | None = None, descending: bool = False,
                    page_size: int = 4) -> Iterator[dict]:  # fmt: skip
        """A gram's posting blocks in key order (descending: the reverse), from the block holding key
        ``start`` on (all of them without ``start``); read in pages that grow, as far as the caller goes."""
        partition = grams.block_partition(scope, gram)
        values: dict[str, dict] = {":p": {"S": partition}}
        condition = "PK = :p"
        if start is not None and descending:
            condition += " AND SK <= :s"
            values[":s"] = {"S": grams.block_sk(start)}
        elif start is not None:
            floor = self.gram_floor(scope, gram, start)
            if floor is None:
                return
            yield floor
            condition += " AND SK > :s"
            values[":s"] = {"S": floor["SK"]}
        request: dict[str, Any] = {
            "TableName": self._counters_table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not descending,
            "ReturnConsumedCapacity": "INDEXES",
            "Limit": page_size,
        }
        while True:
            response = self._call("query", **request)
            items = [wire.item(raw) for raw in response.get("Items", [])]
            self.meter.add(response.get("ScannedCount", len(items)), response.get("ConsumedCapacity"))
            yield from items
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            request["Limit"] = min(request["Limit"] * 2, 64)

    def gram_between(self, scope: str, gram: str, first: str, last: str, hint: int = 4) -> list[dict]:
        """A gram's blocks that hold keys ``first`` to ``last``, in key order: read down from the block
        of ``last`` to that of ``first``, ``hint`` blocks a page at first (the caller's estimate)."""
        request: dict[str, Any] = {
            "TableName": self._counters_table,
            "KeyConditionExpression": "PK = :p AND SK <= :b",
            "ExpressionAttributeValues": {":p": {"S": grams.block_partition(scope, gram)}, ":b": {"S": grams.block_sk(last)}},
            "ScanIndexForward": False,
            "ReturnConsumedCapacity": "INDEXES",
            "Limit": max(1, hint),
        }
        found: list[dict] = []
        while True:
            response = self._call("query", **request)
            items = [wire.item(raw) for raw in response.get("Items", [])]
            self.meter.add(response.get("ScannedCount", len(items)), response.get("ConsumedCapacity"))
            for item in items:
                found.append(item)
                if grams.lower_of(item["SK"]) <= first:
                    return found[::-1]
            if "LastEvaluatedKey" not in response:
                return found[::-1]
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            request["Limit"] = min(request["Limit"] * 2, 64)

    def gram_floor(self, scope: str, gram: str, key: str) -> dict | None:
        """The posting block of a gram that would hold ``key`` (the last whose bound is at or below it)."""
        response = self._call(
            "query",
            TableName=self._counters_table,
            KeyConditionExpression="PK = :p AND SK <= :s",
            ExpressionAttributeValues={":p": {"S": grams.block_partition(scope, gram)}, ":s": {"S": grams.block_sk(key)}},
            ScanIndexForward=False,
            Limit=1,
            ReturnConsumedCapacity="INDEXES",
        )
        items = [wire.item(raw) for raw in response.get("Items", [])]
        self.meter.add(len(items), response.get("ConsumedCapacity"))
        return items[0] if items else None
