"""DynamoDB's answers read as sent (``catalog.wire``): the same items as through botocore's own parser
and boto3's deserializer (no boto3 import on the request path), and errors still botocore's ``ClientError``."""

import base64
import json
from decimal import Decimal

import botocore.session
import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.parsers import create_parser

from catalog import wire

_MODEL = botocore.session.get_session().get_service_model("dynamodb")
_ITEMS = [
    {"PK": {"S": "song#1"}, "SK": {"S": "record"}, "n": {"N": "12.50"}, "big": {"N": "-1000000000000000000000000000001"},
     "flag": {"BOOL": True}, "none": {"NULL": True}, "genres": {"SS": ["Pop", "Rock"]}, "counts": {"NS": ["1", "2.5"]},
     "blob": {"B": base64.b64encode(b"\x00\xff").decode()}, "blobs": {"BS": [base64.b64encode(b"x").decode()]},
     "list": {"L": [{"S": "a"}, {"M": {"deep": {"N": "3"}}}]}},
    {"PK": {"S": "song#2"}, "SK": {"S": "entry"}},
]  # fmt: skip
_ANSWER = {"Items": _ITEMS, "Count": 2, "ScannedCount": 2, "LastEvaluatedKey": {"PK": {"S": "song#2"}, "SK": {"S": "entry"}},
           "ConsumedCapacity": {"TableName": "catalog", "CapacityUnits": 1.5, "Table": {"CapacityUnits": 1.5}}}  # fmt: skip


def _response(status: int, body: dict) -> dict:
    return {"status_code": status, "headers": {"x-amzn-requestid": "request-1"}, "body": json.dumps(body).encode()}


def test_a_query_answer_reads_as_through_botocores_parser() -> None:
    shape = _MODEL.operation_model("Query").output_shape
    ours = wire.ParserFactory().create_parser("json").parse(_response(200, _ANSWER), shape)
    theirs = create_parser("json").parse(_response(200, _ANSWER), shape)
    assert [wire.item(raw) for raw in ours["Items"]] == [wire.item(raw) for raw in theirs["Items"]]
    assert wire.item(ours["Items"][0])["blob"] == b"\x00\xff"
    for name in ("Count", "ScannedCount", "LastEvaluatedKey", "ConsumedCapacity"):
        assert ours[name] == theirs[name]
    assert ours["ResponseMetadata"]["RequestId"] == "request-1"
    assert ours["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_an_error_answer_is_parsed_by_botocore() -> None:
    error = {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": "slow down"}
    shape = _MODEL.operation_model("Query").output_shape
    parsed = wire.ParserFactory().create_parser("json").parse(_response(400, error), shape)
    assert parsed["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert parsed["Error"]["Message"] == "slow down"
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_other_protocols_keep_botocores_parsers() -> None:
    assert type(wire.ParserFactory().create_parser("query")) is type(create_parser("query"))


@pytest.mark.parametrize(
    "value",
    ["text", "", Decimal("1.5"), 3, -10**30, True, False, None, [1, "a", [True, None]], {"a": {"b": [Decimal(2)]}},
     {"a", "b"}, {Decimal(1), Decimal("2.5")}, b"\x00\xff", {b"x", b"y"}, [], {}],
)  # fmt: skip
def test_items_read_as_boto3_reads_them(value: object) -> None:
    sent = {"attribute": TypeSerializer().serialize(value)}
    expected = TypeDeserializer().deserialize(sent["attribute"])
    got = wire.item(sent)["attribute"]

    def plain(v: object) -> object:
        return v.value if isinstance(v, Binary) else {plain(x) for x in v} if isinstance(v, set) else v

    assert plain(got) == plain(expected)
