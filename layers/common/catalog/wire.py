"""DynamoDB's answers as sent: JSON, without botocore's walk of the service model.

botocore parses a JSON answer in two steps: ``json.loads``, then a walk of the result against the
operation's output shape that converts blobs and timestamps, visiting every attribute value of
every item as a structure. For a Query answer of 1,000 compact index entries (272 KB) the walk
costs about 35 ms of CPU, ``json.loads`` about 4 ms; on Lambda that is billed duration on every
request that reads many entries. Items are read from the wire form here (:func:`item`), so the
walk buys nothing: a successful answer is given as ``json.loads`` reads it (binary values stay
base64 text, as on the wire), with botocore's ``ResponseMetadata``. Error answers still go through
botocore's own parsing, so ``ClientError`` and retries see what they always see.

    session.register_component("response_parser_factory", wire.ParserFactory())

:func:`item` reads the wire form of an item: the store's answers, and the images of the stream
records the counter function gets (which Lambda delivers in the same form).
"""

import base64
from decimal import Decimal
from typing import Any

from botocore.parsers import JSONParser, ResponseParserFactory


class JSONAsSent(JSONParser):
    """botocore's parser of the ``json`` protocol, minus the model walk of successful answers."""

    def _do_parse(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
        parsed = self._parse_body_as_json(response["body"])
        self._inject_response_metadata(parsed, response["headers"])
        return parsed


class ParserFactory(ResponseParserFactory):
    """botocore's parser factory, with ``JSONAsSent`` for the ``json`` protocol (DynamoDB's)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return JSONAsSent()
        return super().create_parser(protocol_name)


def item(raw: dict) -> dict:
    """An item from DynamoDB's wire form (an answer read as sent, or a stream record's image)."""
    return {name: _value(wire) for name, wire in raw.items()}


def _value(wire: dict) -> Any:
    """One attribute from DynamoDB's wire form, as boto3's TypeDeserializer reads it (without
    importing boto3, whose package import drags s3transfer in: about 100 ms of every cold start)."""
    ((kind, value),) = wire.items()
    if kind in ("S", "BOOL"):
        return value
    if kind == "B":
        return _binary(value)
    if kind == "N":
        return Decimal(value)
    if kind == "NULL":
        return None
    if kind == "L":
        return [_value(element) for element in value]
    if kind == "M":
        return {name: _value(element) for name, element in value.items()}
    if kind == "NS":
        return {Decimal(number) for number in value}
    if kind == "SS":
        return set(value)
    if kind == "BS":
        return {_binary(element) for element in value}
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def _binary(value: str | bytes) -> bytes:
    """A binary value: base64 text on the wire (as sent), bytes from a client that decodes it."""
    return value if isinstance(value, bytes) else base64.b64decode(value)
