"""Checks of template.yaml: routes and auth, gateway responses, permissions, runtime, table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from catalog import keys
from catalog.declarations import SONGS, SOUNDTRACKS
from devtools import REPO_ROOT
from devtools.template.table import Route, api_routes, function_properties, load_template, table_definition
from tests.support.iam import listed
from tests.support.least_privilege import COUNTER_WRITE_ACTIONS, READ_ACTIONS, READ_FUNCTIONS, STREAM_READ_ACTIONS, WRITER

REPO = REPO_ROOT
ACCESS_TOKEN_SCOPE = "aws.cognito.signin.user.admin"
TABLE_ARN = {"Fn::GetAtt": ["CatalogTable", "Arn"]}
INDEXES_ARN = {"Fn::Sub": "${CatalogTable.Arn}/index/*"}
COUNTERS_ARN = {"Fn::GetAtt": ["CountersTable", "Arn"]}

# Every response type API Gateway (REST) has. All are customised: a status code on DEFAULT_4XX or
# DEFAULT_5XX would otherwise also become the status of every uncustomised type of that class.
GATEWAY_RESPONSE_TYPES = {
    "ACCESS_DENIED", "API_CONFIGURATION_ERROR", "AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE",
    "BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS", "DEFAULT_4XX", "DEFAULT_5XX", "EXPIRED_TOKEN",
    "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "INVALID_API_KEY", "INVALID_SIGNATURE",
    "MISSING_AUTHENTICATION_TOKEN", "QUOTA_EXCEEDED", "REQUEST_TOO_LARGE", "RESOURCE_NOT_FOUND",
    "THROTTLED", "UNAUTHORIZED", "UNSUPPORTED_MEDIA_TYPE", "WAF_FILTERED",
}  # fmt: skip
EXPECTED_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "MISSING_AUTHENTICATION_TOKEN": 404,
    "THROTTLED": 429,
    "QUOTA_EXCEEDED": 429,
    "BAD_REQUEST_PARAMETERS": 400,
    "REQUEST_TOO_LARGE": 413,
    "INTEGRATION_TIMEOUT": 504,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 500,
}
SONG_ROUTES = {
    Route("GET", "/v1/songs", "ListFunction", "functions/list/"),
    Route("GET", "/v1/songs/count", "CountFunction", "functions/count/"),
    Route("GET", "/v1/songs/genres", "ListFunction", "functions/list/"),
    Route("GET", "/v1/songs/genres/count", "CountFunction", "functions/count/"),
    Route("GET", "/v1/songs/{songId}", "GetFunction", "functions/get/"),
    Route("GET", "/v1/songs/random", "RandomFunction", "functions/random/"),
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Function logical id -> properties with Globals applied."""
    names = resources_of_type(template, "AWS::Serverless::Function")
    return {name: function_properties(template, name) for name in names}


def api_events(template: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (function, event_name, event["Properties"])
        for function, properties in functions(template).items()
        for event_name, event in (properties.get("Events") or {}).items()
        if event["Type"] == "Api"
    ]


def api_properties(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]["CatalogApi"]["Properties"]


# --- loader -----------------------------------------------------------------------------------------


def test_loader_turns_short_tags_into_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  R:\n"
        "    Type: X\n"
        "    Properties:\n"
        "      A: !Ref P\n"
        "      B: !GetAtt T.Arn\n"
        '      C: !Sub "${T.Arn}/index/*"\n'
        "      D: !If [Cond, !GetAtt U.Arn, !Ref P]\n"
        "      E: !Not [!Equals [!Ref P, '']]\n"
    )
    properties = load_template(path)["Resources"]["R"]["Properties"]
    assert properties == {
        "A": {"Ref": "P"},
        "B": {"Fn::GetAtt": ["T", "Arn"]},
        "C": {"Fn::Sub": "${T.Arn}/index/*"},
        "D": {"Fn::If": ["Cond", {"Fn::GetAtt": ["U", "Arn"]}, {"Ref": "P"}]},
        "E": {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]},
    }


def test_template_basics(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert template["Description"]
    assert set(template["Parameters"]) >= {"StageName", "ExistingUserPoolArn", "LogLevel"}
    assert template["Parameters"]["StageName"]["Default"] == "live"
    assert template["Parameters"]["ExistingUserPoolArn"]["Default"] == ""
    assert template["Parameters"]["LogLevel"]["Default"] == "INFO"


# --- API routes and auth -----------------------------------------------------------------------------


def test_song_routes_are_served(template: dict[str, Any]) -> None:
    assert SONG_ROUTES <= set(api_routes())


def test_routes_are_ordered_literal_before_parameter() -> None:
    paths = [route.path for route in api_routes()]
    assert paths.index("/v1/songs/random") < paths.index("/v1/songs/{songId}")
    assert paths.index("/v1/songs/count") < paths.index("/v1/songs/{songId}")
    assert paths.index("/v1/songs/genres") < paths.index("/v1/songs/{songId}")


def test_every_route_uses_the_catalog_api_and_the_cognito_authorizer(template: dict[str, Any]) -> None:
    auth = api_properties(template)["Auth"]
    assert auth["DefaultAuthorizer"] == "CognitoAuthorizer"
    authorizer = auth["Authorizers"]["CognitoAuthorizer"]
    assert authorizer["UserPoolArn"] == {
        "Fn::If": ["CreateUserPool", {"Fn::GetAtt": ["UserPool", "Arn"]}, {"Ref": "ExistingUserPoolArn"}]
    }
    events = api_events(template)
    assert events
    for function, event_name, properties in events:
        where = f"{function}.{event_name}"
        assert properties["RestApiId"] == {"Ref": "CatalogApi"}, where
        event_auth = properties.get("Auth", {})
        assert event_auth.get("Authorizer", "CognitoAuthorizer") == "CognitoAuthorizer", where
        # SAM uses the event's scopes when given, else the authorizer's.
        scopes = event_auth.get("AuthorizationScopes", authorizer.get("AuthorizationScopes"))
        assert scopes and ACCESS_TOKEN_SCOPE in scopes, f"{where} does not accept access tokens"


def test_cors_preflight_is_not_authorized(template: dict[str, Any]) -> None:
    properties = api_properties(template)
    if "Cors" in properties:
        assert properties["Auth"]["AddDefaultAuthorizerToCorsPreflight"] is False


def test_user_pool_is_created_only_without_an_existing_one(template: dict[str, Any]) -> None:
    assert template["Conditions"]["CreateUserPool"] == {"Fn::Equals": [{"Ref": "ExistingUserPoolArn"}, ""]}
    cognito = {name: res for name, res in template["Resources"].items() if res["Type"].startswith("AWS::Cognito::")}
    assert set(cognito) == {"UserPool", "UserPoolClient"}
    assert all(res.get("Condition") == "CreateUserPool" for res in cognito.values())
    client = cognito["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    outputs = template["Outputs"]
    assert outputs["UserPoolId"]["Condition"] == "CreateUserPool"
    assert outputs["UserPoolClientId"]["Condition"] == "CreateUserPool"
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${CatalogApi}.execute-api.${AWS::Region}.amazonaws.com/${StageName}"
    }


# --- gateway responses -------------------------------------------------------------------------------


def test_every_gateway_response_type_is_customised(template: dict[str, Any]) -> None:
    assert set(api_properties(template)["GatewayResponses"]) == GATEWAY_RESPONSE_TYPES


@pytest.mark.parametrize("response_type", sorted(GATEWAY_RESPONSE_TYPES))
def test_gateway_response_answers_the_error_shape(template: dict[str, Any], response_type: str) -> None:
    response = api_properties(template)["GatewayResponses"][response_type]
    status = int(response["StatusCode"])
    if response_type in EXPECTED_STATUS:
        assert status == EXPECTED_STATUS[response_type]
    headers = {"Content-Type": "'application/json'"}
    if status == 429:
        headers["Retry-After"] = "'1'"  # see the next test
    assert response["ResponseParameters"] == {"Headers": headers}
    assert set(response["ResponseTemplates"]) == {"application/json"}

    body_template = response["ResponseTemplates"]["application/json"]
    assert "$context.error.messageString" in body_template
    message = 'Unauthorized "quoted" \\ message'
    body = json.loads(body_template.replace("$context.error.messageString", json.dumps(message)))
    assert set(body) == {"code", "description", "cause"}
    assert body["code"] == status
    assert body["description"] == HTTPStatus(status).phrase
    assert body["cause"] == message


def test_every_429_says_when_to_retry_and_the_document_declares_it(template: dict[str, Any]) -> None:
    responses = api_properties(template)["GatewayResponses"]
    throttling = {name for name, response in responses.items() if response["StatusCode"] == "429"}
    assert throttling == {"THROTTLED", "QUOTA_EXCEEDED"}
    for name in throttling:
        # A static header value is a quoted literal in API Gateway's mapping: seconds, at least 1.
        value = responses[name]["ResponseParameters"]["Headers"]["Retry-After"]
        assert value.startswith("'") and value.endswith("'") and int(value.strip("'")) >= 1, (name, value)
    document = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    for path, item in document["paths"].items():
        header = item["get"]["responses"]["429"]["headers"]["Retry-After"]
        assert header["required"] is True and header["schema"] == {"type": "integer", "minimum": 1}, path


# --- functions -----------------------------------------------------------------------------------------


def test_functions_run_python313_on_arm64_with_the_layer(template: dict[str, Any]) -> None:
    found = functions(template)
    assert set(found) == {*READ_FUNCTIONS, WRITER}
    for name, properties in found.items():
        assert properties["Runtime"] == "python3.13", name
        assert properties["Architectures"] == ["arm64"], name
        assert {"Ref": "CommonLayer"} in properties["Layers"], name
        assert properties["Handler"] == "app.lambda_handler", name
        assert (REPO / properties["CodeUri"]).is_dir(), name
        variables = properties["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": "CatalogTable"}, name
        assert variables["COUNTERS_TABLE_NAME"] == {"Ref": "CountersTable"}, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == "catalog", name
        assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}, name


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    found = policy_document["Statement"]
    return found if isinstance(found, list) else [found]


def test_the_api_functions_can_only_read_the_tables(template: dict[str, Any]) -> None:
    assert "Policies" not in template.get("Globals", {}).get("Function", {})
    for name in READ_FUNCTIONS:
        properties = functions(template)[name]
        assert "Role" not in properties, f"{name} must use the role SAM generates from its Policies"
        # Only the project's read policy: no AWS managed policies, no SAM policy templates.
        assert properties["Policies"] == [{"Ref": "CatalogReadPolicy"}], name
        # A stream event would make SAM add stream read access to the function's role.
        assert all(event["Type"] == "Api" for event in properties["Events"].values()), name
    policy = template["Resources"]["CatalogReadPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    for statement in statements(policy["Properties"]["PolicyDocument"]):
        assert statement["Effect"] == "Allow"
        actions = listed(statement["Action"])
        assert set(actions) <= READ_ACTIONS, actions
        assert not any("*" in action for action in actions)
        assert "NotAction" not in statement and "NotResource" not in statement
        resources = listed(statement["Resource"])
        assert resources and all(r in (TABLE_ARN, INDEXES_ARN, COUNTERS_ARN) for r in resources), resources


def test_only_the_counter_function_can_write_and_only_the_counters_table(template: dict[str, Any]) -> None:
    assert set(functions(template)) == {*READ_FUNCTIONS, WRITER}
    counter = functions(template)[WRITER]
    assert counter["Role"] == {"Fn::GetAtt": ["StreamCounterFunctionRole", "Arn"]}
    assert "Policies" not in counter, "with its own role, SAM adds nothing to it"

    # Every DynamoDB action granted anywhere in the template, by the resource granting it.
    granted: dict[str, set[str]] = {}
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        documents = [properties["PolicyDocument"]] if "PolicyDocument" in properties else []
        documents += [policy["PolicyDocument"] for policy in properties.get("Policies", []) if isinstance(policy, dict)
                      and "PolicyDocument" in policy]  # fmt: skip
        for document in documents:
            for statement in statements(document):
                assert "NotAction" not in statement and "NotResource" not in statement, name
                granted.setdefault(name, set()).update(
                    action for action in listed(statement["Action"]) if action.startswith("dynamodb:")
                )
    writers = {name for name, actions in granted.items() if actions - READ_ACTIONS - STREAM_READ_ACTIONS}
    assert writers == {"StreamCounterFunctionRole"}
    assert granted["CatalogReadPolicy"] == READ_ACTIONS

    role = template["Resources"]["StreamCounterFunctionRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
    ]
    by_actions = {
        frozenset(listed(statement["Action"])): listed(statement["Resource"])
        for policy in role["Policies"]
        for statement in statements(policy["PolicyDocument"])
    }
    # TransactWriteItems is authorised through the actions it holds: conditional puts (markers,
    # pending deltas), updates (counters, the move's cursor) and deletes (moved pending deltas); the
    # pending deltas are read back to be moved. The catalog table is never written: only its stream is read.
    assert by_actions == {
        frozenset(READ_ACTIONS | COUNTER_WRITE_ACTIONS): [COUNTERS_ARN],
        frozenset(STREAM_READ_ACTIONS): [{"Fn::Sub": "${CatalogTable.Arn}/stream/*"}],
        frozenset({"sqs:SendMessage"}): [{"Fn::GetAtt": ["CounterFailureQueue", "Arn"]}],
    }


def test_the_counter_function_is_fed_by_the_tables_stream(template: dict[str, Any]) -> None:
    events = functions(template)[WRITER]["Events"]
    assert [event["Type"] for event in events.values()] == ["DynamoDB"]
    stream = next(iter(events.values()))["Properties"]
    assert stream["Stream"] == {"Fn::GetAtt": ["CatalogTable", "StreamArn"]}
    assert stream["StartingPosition"] == "TRIM_HORIZON"
    assert 1 <= stream["BatchSize"] <= 10_000
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["BisectBatchOnFunctionError"] is True
    assert 0 <= stream["MaximumRetryAttempts"] <= 10_000
    assert stream["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["CounterFailureQueue", "Arn"]},
    }
    assert template["Resources"]["CounterFailureQueue"]["Type"] == "AWS::SQS::Queue"
    # Only postings change counters; the filter keeps the function from waking for anything else.
    [only] = stream["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == {"dynamodb": {"Keys": {"SK": {"S": [keys.ALL_POSTING]}}}}

    table_properties = template["Resources"]["CatalogTable"]["Properties"]
    assert table_properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    # The counter function's markers expire from its own table; that table has no stream to feed back.
    counters_properties = template["Resources"]["CountersTable"]["Properties"]
    assert counters_properties["TimeToLiveSpecification"] == {"AttributeName": keys.EXPIRES, "Enabled": True}
    assert "StreamSpecification" not in counters_properties and "GlobalSecondaryIndexes" not in counters_properties
    assert table_definition("catalog-test")["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }


def test_a_batch_in_the_failure_queue_raises_the_counter_alarm(template: dict[str, Any]) -> None:
    alarms = [
        resource["Properties"] for resource in template["Resources"].values() if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]
    [alarm] = [
        a
        for a in alarms
        if a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["CounterFailureQueue", "QueueName"]}}]
    ]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("GreaterThanThreshold", 0, 1)
    assert alarm["TreatMissingData"] == "notBreaching", "an empty queue sends no data points: that is no failure"
    assert "devtools.cli.recount" in alarm["AlarmDescription"]
    assert alarm["AlarmActions"] == {"Fn::If": ["NotifyAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""


def test_layer_is_built_by_its_makefile_for_arm64_with_unchecked_byte_code(template: dict[str, Any]) -> None:
    layer = template["Resources"]["CommonLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/common/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    # SAM runs `make build-CommonLayer` with the Makefile of ContentUri, which installs into python/.
    makefile = (REPO / "layers" / "common" / "Makefile").read_text(encoding="utf-8")
    assert "\nbuild-CommonLayer:\n" in makefile
    assert "\nLAYER_ARCHITECTURE ?= arm64\n" in makefile, "the Makefile's default is the template's BuildArchitecture"
    assert '--target "$(TARGET)"' in makefile and "TARGET = $(ARTIFACTS_DIR)/python" in makefile
    # Byte code Python uses whatever the sources' time: `sam deploy`'s zip dates every file 1980.
    assert "-m compileall -q -f -j 0 --invalidation-mode unchecked-hash" in makefile
    assert not (REPO / "layers" / "common" / "python").exists()


def test_the_layer_holds_what_the_functions_import_and_nothing_else() -> None:
    """Every module of the layer's package is imported by a function, and no function imports pydantic
    or the importer (a fresh interpreter: the test session has imported both)."""
    functions = [path.parent.name for path in sorted((REPO / "functions").glob("*/app.py"))]
    program = (
        "import importlib, json, sys\n"
        f"for name in {functions!r}: importlib.import_module(f'functions.{{name}}.app')\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "layers" / "common"), str(REPO)])}
    done = subprocess.run([sys.executable, "-c", program], cwd=REPO, env=environment, capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    layer = REPO / "layers" / "common"
    modules = {
        ".".join(path.relative_to(layer).with_suffix("").parts).removesuffix(".__init__")
        for path in (layer / "catalog").rglob("*.py")
    }
    assert modules - loaded == set(), "modules of the layer no function imports"
    assert not {name for name in loaded if name.split(".")[0] in ("pydantic", "importer", "devtools")}
    lines = (layer / "requirements.txt").read_text(encoding="utf-8").lower().splitlines()
    required = {line.split("==")[0] for line in lines if line and not line.startswith("#")}
    assert required == {"aws-lambda-powertools", "cryptography"}, "the runtime brings boto3; pydantic is the importer's"


# --- table ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["CatalogTable", "CountersTable"])
def test_tables_are_on_demand_kept_with_pitr_and_sse(template: dict[str, Any], name: str) -> None:
    resource = template["Resources"][name]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    properties = resource["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert "ProvisionedThroughput" not in properties


def test_table_definition_has_the_key_design() -> None:
    definition = table_definition("catalog-test")
    assert definition["TableName"] == "catalog-test"
    assert definition["BillingMode"] == "PAY_PER_REQUEST"
    assert definition["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in definition["AttributeDefinitions"]} == {
        ("PK", "S"),
        ("SK", "S"),
        ("fpk", "S"),
        ("fsk", "S"),
        ("slot", "N"),
        *((sort.key, "S") for sort in SOUNDTRACKS.sorts[1:]),
    }
    indexes = {index["IndexName"]: index for index in definition["GlobalSecondaryIndexes"]}
    collections = (SONGS, SOUNDTRACKS)
    page_indexes = {sort.page_index for c in collections for sort in c.sorts if sort.page_index}
    assert set(indexes) == {"Sampling"} | page_indexes | {sort.index for c in collections for sort in c.sorts}
    assert indexes["Sampling"]["KeySchema"] == [
        {"AttributeName": "fpk", "KeyType": "HASH"},
        {"AttributeName": "slot", "KeyType": "RANGE"},
    ]
    # Each sort order's index is keyed as the code reads it, and every index carries what filters
    # look at, so that filtering never reads a full record; whole-record indexes project everything.
    for collection in collections:
        needed = set(collection.entry_attributes)
        for sort in collection.sorts:
            index = indexes[sort.index]
            assert index["KeySchema"] == [
                {"AttributeName": "fpk", "KeyType": "HASH"},
                {"AttributeName": sort.key, "KeyType": "RANGE"},
            ]
            assert index["Projection"]["ProjectionType"] == "INCLUDE"
            assert needed <= set(index["Projection"]["NonKeyAttributes"]), (sort.index, needed)
            if sort.page_index:
                assert indexes[sort.page_index]["KeySchema"] == index["KeySchema"]
                assert indexes[sort.page_index]["Projection"] == {"ProjectionType": "ALL"}
    assert indexes["Sampling"]["Projection"] == {"ProjectionType": "ALL"}
    # DynamoDB rejects attribute definitions that no key uses.
    key_attributes = {k["AttributeName"] for k in definition["KeySchema"]} | {
        k["AttributeName"] for index in indexes.values() for k in index["KeySchema"]
    }
    assert key_attributes == {a["AttributeName"] for a in definition["AttributeDefinitions"]}


# --- sample events -------------------------------------------------------------------------------------


# The API events (the stream event, for the counter function, is checked in tests/unit/test_events.py).
EVENTS = sorted(path.stem for path in (REPO / "events").glob("*.json") if "httpMethod" in json.loads(path.read_text()))


def test_every_route_has_a_sample_event() -> None:
    events = [json.loads((REPO / "events" / f"{name}.json").read_text()) for name in EVENTS]
    assert {(route.method, route.path) for route in api_routes()} == {(e["httpMethod"], e["resource"]) for e in events}


@pytest.mark.parametrize("name", EVENTS)
def test_sample_event_matches_a_route(name: str) -> None:
    event = json.loads((REPO / "events" / f"{name}.json").read_text())
    routes = {(route.method, route.path) for route in api_routes()}
    assert (event["httpMethod"], event["resource"]) in routes
    context = event["requestContext"]
    assert context["resourcePath"] == event["resource"]
    assert context["path"] == f"/{context['stage']}{event['path']}"
    claims = context["authorizer"]["claims"]
    assert all(isinstance(value, str) for value in claims.values())
    assert claims["token_use"] == "access"
    assert ACCESS_TOKEN_SCOPE in claims["scope"].split()
    assert event["headers"]["Authorization"].startswith("Bearer eyJ")
    query = event["queryStringParameters"] or {}
    assert {key: [value] for key, value in query.items()} == (event["multiValueQueryStringParameters"] or {})


def test_stage_throttling_and_reserved_concurrency_are_parameters(template: dict[str, Any]) -> None:
    api = template["Resources"]["CatalogApi"]["Properties"]
    (settings,) = api["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    reserved = template["Globals"]["Function"]["ReservedConcurrentExecutions"]
    assert reserved == {"Fn::If": ["ReserveConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == -1, "no reservation unless asked for"


def test_only_the_list_function_holds_the_cursor_secret(template: dict[str, Any]) -> None:
    holders = [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        and "CURSOR_KEY" in ((resource["Properties"].get("Environment") or {}).get("Variables") or {})
    ]
    assert holders == ["ListFunction"]
    assert "CURSOR_KEY" not in template["Globals"]["Function"]["Environment"]["Variables"]
    assert template["Resources"]["CursorSecret"]["Type"] == "AWS::SecretsManager::Secret"


# --- observability -------------------------------------------------------------------------------------


def test_the_api_and_its_functions_are_traced_by_x_ray_and_report_metrics(template: dict[str, Any]) -> None:
    api = next(iter(resources_of_type(template, "AWS::Serverless::Api").values()))["Properties"]
    assert api["TracingEnabled"] is True
    for name in READ_FUNCTIONS:
        properties = functions(template)[name]
        assert properties["Tracing"] == "Active", name
        assert properties["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "SongsCatalog", name
    # The counter function's own role grants no X-Ray writes: tracing it would lose its segments.
    assert functions(template)[WRITER]["Tracing"] == "PassThrough"


def test_x_ray_records_at_most_one_request_a_second_of_the_stage(template: dict[str, Any]) -> None:
    rules = resources_of_type(template, "AWS::XRay::SamplingRule").values()
    (rule,) = (resource["Properties"]["SamplingRule"] for resource in rules)
    assert (rule["ReservoirSize"], rule["FixedRate"]) == (1, 0)
    assert rule["ServiceType"] == "AWS::ApiGateway::Stage"
    stage_arn = "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${CatalogApi}/stages/${StageName}"
    assert rule["ResourceARN"] == {"Fn::Sub": stage_arn}
    assert rule["Priority"] < 10000  # evaluated before X-Ray's default rule
