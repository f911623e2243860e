"""The store reads DynamoDB's wire form itself (no boto3 import on the request path): it must read it as boto3 does."""

from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from catalog.store import _item


@pytest.mark.parametrize(
    "value",
    ["text", "", Decimal("1.5"), 3, -10**30, True, False, None, [1, "a", [True, None]], {"a": {"b": [Decimal(2)]}},
     {"a", "b"}, {Decimal(1), Decimal("2.5")}, b"\x00\xff", {b"x", b"y"}, [], {}],
)  # fmt: skip
def test_items_read_as_boto3_reads_them(value: object) -> None:
    wire = {"attribute": TypeSerializer().serialize(value)}
    expected = TypeDeserializer().deserialize(wire["attribute"])
    got = _item(wire)["attribute"]
    plain = lambda v: v.value if isinstance(v, Binary) else {plain(x) for x in v} if isinstance(v, set) else v  # noqa: E731
    assert plain(got) == plain(expected)
