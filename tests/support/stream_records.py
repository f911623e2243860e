"""DynamoDB stream records of song postings as Lambda delivers them, built by hand, and what they count."""

import itertools
import uuid
from collections import Counter
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from catalog import keys
from catalog.cells import Cell
from catalog.counting import change_of
from devtools import ACCOUNT_ID, REGION

_sequence = itertools.count(1)
_serializer = TypeSerializer()

SCOPE = "songs|archived=false"
ARCHIVED = "songs|archived=true"


def song(number: int = 1, **fields: Any) -> dict:
    """A song's all posting as the writer stores it: the record's fields (a few are enough here)."""
    return {"id": f"s{number}", "archived": False, "ownerId": "o1", "mintingStatus": "Minted", "genres": ["Pop"],
            "title": "A", "createdAt": f"2024-03-05T12:{number % 60:02d}:00.000000", **fields}  # fmt: skip


def stream_record(
    event: str, old: dict | None = None, new: dict | None = None, *, sk: str = keys.ALL_POSTING, collection: str = "songs"
) -> dict:
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
        "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/t/stream/2024-01-01T00:00:00.000",
        "dynamodb": dynamodb,
    }


def expected(records: list[dict]) -> dict[Cell, int]:
    """The counts each record applied exactly once gives (those that are not 0)."""
    totals: Counter[Cell] = Counter()
    for record in records:
        totals.update(change_of(record).deltas)
    return {cell: n for cell, n in totals.items() if n}


def partitions(deltas: dict[Cell, int]) -> dict[str, int]:
    """The partition counters' share of some deltas: partition -> change of its postings."""
    return {pk: delta for (pk, sk, attribute), delta in deltas.items() if (sk, attribute) == (keys.COUNT, keys.COUNTED)}
