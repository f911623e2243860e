"""The cold-start benchmark's child process: one function's init and first request, timed as Lambda runs them.

Run by :mod:`devtools.bench.cold_start` as a script (``python -P``: nothing of this checkout on
``sys.path``), in the function's code directory, with the function's environment. It needs the
standard library and botocore only, and nothing of ``devtools``: what it imports before the
handler is what the handler would find already loaded, so it imports as little as it can.

    python -P cold_start_child.py floor REGION MARKER   # import boto3, one DynamoDB client
    python -P cold_start_child.py function              # the canned set-up on stdin (marshal)

``function`` reads what :func:`devtools.bench.cold_start.targets` canned (items, the event, the
layer's directory, the number of warm requests), registers the DynamoDB stub, puts the function's
code directory and then the layer first on ``sys.path`` (``/var/task``, ``/opt/python``), imports
``app`` and calls ``app.lambda_handler`` once (the cold answer), then ``requests`` more times (the
warm figures). Each mode prints one line, the marker and a JSON object: ``answered_ns`` (monotonic
clock when the first answer was held), ``stub_ns`` (time spent on the stub's set-up, subtracted
by the parent), the answer's status and header names, and the warm timings.
"""

import sys
import time


def floor(region: str, marker: str) -> None:
    """What any Python function that talks to DynamoDB pays before doing anything."""
    import boto3

    boto3.client("dynamodb", region_name=region)
    answered = time.monotonic_ns()

    import json

    print(marker + json.dumps({"answered_ns": answered, "stub_ns": 0, "status": 200, "headers": [], "warm_ns": []}))


class Stub:
    """DynamoDB answered from canned items, in place of the HTTP exchange (what botocore's Stubber does).

    Registered on every botocore session (the hook Powertools uses for its user agent), so on every
    DynamoDB client the store creates however it creates it: one handler notes each call's
    parameters, the other answers the call. GetItem answers the record or posting of the key, or a
    counter of every posting for a ``count`` key; BatchGetItem the items of the keys; Query the
    postings in key order from ``ExclusiveStartKey``, up to ``Limit`` (with a ``LastEvaluatedKey``
    when more follow), or the posting at the asked ``slot``.
    """

    def __init__(self, items: dict, postings: list) -> None:
        self.items = items
        self.postings = postings
        self.calls: list = []

    def install(self, session) -> None:
        session.register("before-parameter-build.dynamodb", self.remember)
        session.register("before-call.dynamodb", self.answer)

    def remember(self, params: dict, **_: object) -> None:
        self.calls.append(params)

    def answer(self, model, **_: object) -> tuple:
        from botocore.awsrequest import AWSResponse

        params = self.calls.pop()
        if model.name == "GetItem":
            key = _key(params["Key"])
            item = self._counter(params["Key"]) if key[1] == "count" else self.items.get(key)
            body: dict = {"Item": item} if item else {}
        elif model.name == "BatchGetItem":
            table, request = next(iter(params["RequestItems"].items()))
            found = [self._counter(key) if key["SK"]["S"] == "count" else self.items[_key(key)] for key in request["Keys"]
                     if key["SK"]["S"] == "count" or _key(key) in self.items]  # fmt: skip
            body = {"Responses": {table: found}, "UnprocessedKeys": {}}
        elif model.name == "Query":
            body = self._query(params)
        else:
            raise AssertionError(f"the stub does not answer {model.name}")
        return AWSResponse(None, 200, {}, None), body

    def _query(self, params: dict) -> dict:
        values = params.get("ExpressionAttributeValues", {})
        if ":s" in values:  # a position in the Sampling index
            slot = int(values[":s"]["N"])
            found = self.postings[slot : slot + 1]
            return {"Items": found, "Count": len(found), "ScannedCount": len(found)}
        ordered = self.postings if params.get("ScanIndexForward", True) else self.postings[::-1]
        start = 0
        if "ExclusiveStartKey" in params:
            last = _key(params["ExclusiveStartKey"])
            start = 1 + next(number for number, item in enumerate(ordered) if _key(item) == last)
        found = ordered[start : start + params.get("Limit", len(ordered))]
        body = {"Items": found, "Count": len(found), "ScannedCount": len(found)}
        if start + len(found) < len(ordered):
            body["LastEvaluatedKey"] = {name: found[-1][name] for name in ("PK", "SK", "fpk", "fsk")}
        return body

    def _counter(self, key: dict) -> dict:
        return {"PK": key["PK"], "SK": {"S": "count"}, "n": {"N": str(len(self.postings))}}


def _key(item: dict) -> tuple[str, str]:
    return item["PK"]["S"], item["SK"]["S"]


class Context:
    """The parts of the Lambda context handlers and Powertools read.

    Not ``devtools.local.lambda_bootstrap.LambdaContext``: that module and the dataclasses, json and
    typing modules it loads would then be loaded before the handler's import, which would not pay for them.
    """

    function_version = "$LATEST"
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    def __init__(self, function_name: str, function_arn: str, memory_mb: int) -> None:
        self.function_name = function_name
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = memory_mb

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def function() -> None:
    """The function's init and first request, then its warm requests."""
    import marshal

    import botocore

    stub_started = time.monotonic_ns()
    canned = marshal.loads(sys.stdin.buffer.read())
    stub = Stub(canned["items"], canned["postings"])
    botocore.register_initializer(stub.install)
    event, context = canned["event"], Context(canned["function_name"], canned["function_arn"], 512)
    sys.path[0:0] = [canned["code_dir"], canned["layer"]]
    stub_ns = time.monotonic_ns() - stub_started

    import app  # type: ignore[import-not-found]  # the function's handler module, on sys.path from here on: its init

    answer = app.lambda_handler(event, context)
    answered = time.monotonic_ns()

    warm_ns = []
    for _ in range(canned["requests"]):
        started = time.perf_counter_ns()
        again = app.lambda_handler(event, context)
        warm_ns.append(time.perf_counter_ns() - started)
        if again["statusCode"] != answer["statusCode"]:
            raise AssertionError(again)

    import json

    headers = sorted({**(answer.get("headers") or {}), **(answer.get("multiValueHeaders") or {})})
    print(canned["result_marker"] + json.dumps({"answered_ns": answered, "stub_ns": stub_ns, "status": answer["statusCode"],
                                                "body": answer.get("body", "")[:300], "headers": headers, "warm_ns": warm_ns}))  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1] == "floor":
        floor(sys.argv[2], sys.argv[3])
    else:
        function()
