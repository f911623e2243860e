"""Write records as their postings (the ``all`` posting is the record) and keep postings and slots exact.

Used by the catalog importer. Every partition keeps its postings at dense positions 0..n-1
(``slot``, indexed by ``Sampling``), so that a random pick reads one entry. Adding a posting takes
position n; removing one moves the partition's last posting into the freed position (swap-remove).

The writer does not write counters: the counter function counts postings from the table's stream
(``catalog.counting``), so counts catch up with a write a moment after it. A partition's size n is
learnt once per run from the ``Sampling`` index (its highest slot + 1, one entry read), then kept
here. That index, like the positions this writer looks up in it, is eventually consistent; it
shows every earlier import within a second or so. So the writer assumes it is the table's only
writer while it runs, and that imports run one at a time.

For the same reason, a table that holds nothing when the writer first looks (one Scan of one item)
is known to hold only what this writer wrote: it then reads an item collection only when it wrote
to it before (a record given twice), and an import into a new table costs its writes alone.
"""

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from catalog import keys
from catalog.declarations import Collection
from importer import postings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_BATCH_WRITE_MAX = 25
_FLUSH_AT = 500
_WRITERS = 4
_IN_FLIGHT = 4 * _WRITERS
"""BatchWriteItem calls handed to the writers and not finished yet, at most: the import goes on
preparing the next items while they are written, with a bounded backlog."""

Key = tuple[str, str]


def _wire(item: dict) -> dict:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _plain(raw: dict) -> dict:
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}


def _key(pk: str, sk: str) -> dict:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


class CatalogWriter:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table
        self._puts: dict[Key, dict] = {}
        self._deletes: set[Key] = set()
        self._sizes: dict[str, int] = {}
        self._occupants: dict[str, dict[int, Key]] = {}
        self._empty: bool | None = None  # whether the table held nothing before this writer: checked once
        self._touched: set[str] = set()  # the partition keys this writer wrote or deleted in
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: list[Future] = []
        self.items_written = 0
        """Items put or deleted so far (every write goes out in a BatchWriteItem)."""

    # -- records -----------------------------------------------------------------------------

    def put_owner(self, owner: dict) -> bool:
        """Store an owner; True when it is new or changed (its songs then need re-indexing)."""
        stored = self._get(keys.owner_key(owner["id"]))
        item = {**keys.owner_key(owner["id"]), **owner}
        if stored == item:
            return False
        self._put(item)
        return True

    def owner(self, owner_id: str) -> dict | None:
        item = self._get(keys.owner_key(owner_id))
        return {name: value for name, value in item.items() if name not in ("PK", "SK")} if item else None

    def put_record(self, collection: Collection, record: dict, owner_names: list[str]) -> bool:
        """Store a record as its postings (its ``all`` posting is the record); True when anything changed."""
        record_key = keys.record_key(collection.name, record[collection.id_attribute])
        stored = {item["SK"]: item for item in self._item_collection(record_key["PK"])}
        wanted = postings.postings(collection, record, owner_names)
        changed = False
        for sk, held in stored.items():
            new = wanted.get(sk)
            if sk.startswith(keys.POSTING) and (new is None or new["fpk"] != held["fpk"]):
                self._release(held["fpk"], int(held["slot"]))
                if new is None:
                    self._delete((held["PK"], sk))
                changed = True
        for sk, posting in wanted.items():
            old = stored.get(sk)
            if old is not None and old["fpk"] == posting["fpk"]:
                slot = int(old["slot"])
                if {name: value for name, value in old.items() if name not in ("PK", "SK", "slot")} == posting:
                    continue
            else:
                slot = self._claim(posting["fpk"], (record_key["PK"], sk))
            self._put({"PK": record_key["PK"], "SK": sk, **posting, "slot": slot})
            changed = True
        return changed

    def record(self, collection: Collection, item_id: str) -> dict | None:
        item = self._get(keys.record_key(collection.name, item_id))
        return postings.record_of(collection, item) if item else None

    def delete_record(self, collection: Collection, item_id: str) -> bool:
        """Remove a record and its postings, freeing their positions; True when there was one."""
        record_key = keys.record_key(collection.name, item_id)
        stored = self._item_collection(record_key["PK"])
        for item in stored:
            if item["SK"].startswith(keys.POSTING):
                self._release(item["fpk"], int(item["slot"]))
            self._delete((item["PK"], item["SK"]))
        return bool(stored)

    def ids_by_facet(self, collection: Collection, facet: str, value: str) -> list[str]:
        """Ids of the records having a facet value, in every scope (from the Listing index)."""
        scopes = [None] if collection.scope is None else [False, True]
        found = []
        for scoped in scopes:
            partition = keys.partition(collection.name, collection.scope, scoped, keys.path(facet, value))
            request = {
                "TableName": self._table,
                "IndexName": keys.LISTING_INDEX,
                "KeyConditionExpression": "fpk = :p",
                "ExpressionAttributeValues": {":p": {"S": partition}},
            }
            while True:
                response = self._call("query", **request)
                found += [keys.id_of(_plain(raw)) for raw in response.get("Items", [])]
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    # -- slots ---------------------------------------------------------------------------------

    def _size(self, partition: str) -> int:
        """How many postings the partition holds: its highest position + 1, read once per run."""
        if partition not in self._sizes and self._was_empty():
            self._sizes[partition] = 0
        if partition not in self._sizes:
            response = self._call(
                "query",
                TableName=self._table,
                IndexName=keys.SAMPLING_INDEX,
                KeyConditionExpression="fpk = :p",
                ExpressionAttributeValues={":p": {"S": partition}},
                ProjectionExpression="slot",
                ScanIndexForward=False,
                Limit=1,
            )
            items = response.get("Items", [])
            self._sizes[partition] = int(items[0]["slot"]["N"]) + 1 if items else 0
        return self._sizes[partition]

    def _claim(self, partition: str, posting: Key) -> int:
        slot = self._size(partition)
        self._occupants.setdefault(partition, {})[slot] = posting
        self._sizes[partition] = slot + 1
        return slot

    def _release(self, partition: str, slot: int) -> None:
        last = self._size(partition) - 1
        occupants = self._occupants.setdefault(partition, {})
        if slot != last:
            mover = occupants.get(last) or self._occupant(partition, last)
            occupants[slot] = mover
            self._move(mover, slot)
        occupants.pop(last, None)
        self._sizes[partition] = last

    def _occupant(self, partition: str, slot: int) -> Key:
        """Who holds a position this run has not touched: the Sampling index knows."""
        response = self._call(
            "query",
            TableName=self._table,
            IndexName=keys.SAMPLING_INDEX,
            KeyConditionExpression="fpk = :p AND slot = :s",
            ExpressionAttributeValues={":p": {"S": partition}, ":s": {"N": str(slot)}},
        )
        items = response.get("Items", [])
        if not items:
            raise RuntimeError(f"partition {partition} has no posting at position {slot}: positions out of step")
        return items[0]["PK"]["S"], items[0]["SK"]["S"]

    def _move(self, posting: Key, slot: int) -> None:
        if posting in self._puts:
            self._puts[posting]["slot"] = slot
            return
        self._call(
            "update_item",
            TableName=self._table,
            Key=_key(*posting),
            UpdateExpression="SET slot = :s",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":s": {"N": str(slot)}},
        )

    # -- buffered writes -----------------------------------------------------------------------

    @property
    def started_empty(self) -> bool:
        """Whether the table held nothing before this writer wrote: all it holds came from here."""
        return self._was_empty()

    def _was_empty(self) -> bool:
        """Whether the table held nothing before this writer wrote (so all it holds is known here)."""
        if self._empty is None:
            response = self._call("scan", TableName=self._table, Limit=1, ConsistentRead=True)
            self._empty = not response.get("Items") and not self._touched
        return self._empty

    def _unread(self, pk: str) -> bool:
        """Whether the table holds nothing under this partition key but what is buffered here."""
        return pk not in self._touched and self._was_empty()

    def _get(self, key: dict) -> dict | None:
        pending = self._puts.get((key["PK"], key["SK"]))
        if pending is not None or self._unread(key["PK"]):
            return pending
        response = self._call("get_item", TableName=self._table, Key=_key(key["PK"], key["SK"]), ConsistentRead=True)
        return _plain(response["Item"]) if "Item" in response else None

    def _item_collection(self, pk: str) -> list[dict]:
        if self._unread(pk):
            return []
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        stored = {}
        while True:
            response = self._call("query", **request)
            stored.update({(item["PK"], item["SK"]): item for item in map(_plain, response.get("Items", []))})
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        stored.update({key: item for key, item in self._puts.items() if key[0] == pk})
        return [item for key, item in stored.items() if key not in self._deletes]

    def _put(self, item: dict) -> None:
        key = (item["PK"], item["SK"])
        self._touched.add(key[0])
        self._deletes.discard(key)
        self._puts[key] = item
        if len(self._puts) + len(self._deletes) >= _FLUSH_AT:
            self._send()

    def _delete(self, key: Key) -> None:
        self._touched.add(key[0])
        self._puts.pop(key, None)
        self._deletes.add(key)

    def flush(self) -> None:
        """Write what is buffered, and return once every write has landed."""
        self._send()
        self._settle()

    def _call(self, operation: str, **request: Any) -> dict:
        """A read (or a single update) of the table, once every write handed out has landed."""
        self._settle()
        return getattr(self._client, operation)(**request)

    def _send(self) -> None:
        """Hand what is buffered to the writers, in BatchWriteItem chunks of 25, without waiting."""
        requests = [{"PutRequest": {"Item": _wire(item)}} for item in self._puts.values()]
        requests += [{"DeleteRequest": {"Key": _key(*key)}} for key in self._deletes]
        self._puts, self._deletes = {}, set()
        self.items_written += len(requests)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=_WRITERS, thread_name_prefix="catalog-writer")
        for start in range(0, len(requests), _BATCH_WRITE_MAX):
            self._in_flight.append(self._pool.submit(self._write_chunk, requests[start : start + _BATCH_WRITE_MAX]))
        while len(self._in_flight) > _IN_FLIGHT:
            self._in_flight.pop(0).result()

    def _settle(self) -> None:
        """Wait for every write handed out (raising the first error one met)."""
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            future.result()

    def _write_chunk(self, pending: list[dict]) -> None:
        while pending:
            response = self._client.batch_write_item(RequestItems={self._table: pending})
            pending = response.get("UnprocessedItems", {}).get(self._table, [])
