"""DynamoDB's answers as sent: JSON, without botocore's walk of the service model.

botocore parses a JSON answer in two steps: ``json.loads``, then a walk of the result against the
operation's output shape that converts blobs and timestamps, visiting every attribute value of
every item as a structure. For a Query answer of 1,000 compact index entries (272 KB) the walk
costs about 35 ms of CPU, ``json.loads`` about 4 ms; on Lambda that is billed duration on every
request that reads many entries. The store reads DynamoDB's wire form itself
(``catalog.store``), so the walk buys nothing: a successful answer is given as ``json.loads``
reads it (binary values stay base64 text, as on the wire), with botocore's ``ResponseMetadata``.
Error answers still go through botocore's own parsing, so ``ClientError`` and retries see what
they always see.

    session.register_component("response_parser_factory", wire.ParserFactory())
"""

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
