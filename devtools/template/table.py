"""Read the SAM template: the tables' definitions and the API's routes.

Development tooling only (tests, the local stack); it is not deployed. ``template.yaml`` is the single
source of truth: the local DynamoDB tables are created from the ``CatalogTable`` and ``CountersTable``
resources and the local gateway serves the ``Api`` events of the template's functions, so neither
can drift from what is deployed.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from devtools import REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
"""The project's SAM template."""

TABLE_RESOURCE = "CatalogTable"
"""Logical id of the catalog table in the template."""
COUNTERS_RESOURCE = "CountersTable"
"""Logical id of the counters table in the template."""


def counters_table_name(table_name: str) -> str:
    """The name the local tools give the counters table of a catalog table they create (on AWS,
    CloudFormation names both, and the functions get each name from their environment)."""
    return f"{table_name}-counters"


class CloudFormationLoader(yaml.SafeLoader):
    """A PyYAML safe loader that accepts CloudFormation's short-form intrinsic functions.

    Each tag is turned into the equivalent long (JSON) form, so ``!Ref X`` loads as
    ``{"Ref": "X"}``, ``!GetAtt A.Arn`` as ``{"Fn::GetAtt": ["A", "Arn"]}`` and ``!Sub "..."`` as
    ``{"Fn::Sub": "..."}``. Nothing is evaluated.
    """


def _construct_intrinsic(loader: CloudFormationLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(template_path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Load a CloudFormation/SAM YAML template as a plain dict.

    Short-form intrinsic functions are returned in their long form (see :class:`CloudFormationLoader`).
    The file is parsed once per version of it (its modification time and size); every call returns
    a new copy, which callers may modify.
    """
    stat = Path(template_path).stat()
    return copy.deepcopy(_parsed(str(template_path), stat.st_mtime_ns, stat.st_size))


@functools.cache
def _parsed(template_path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    with Path(template_path).open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ValueError(f"{template_path} is not a CloudFormation template (no Resources)")
    return template


def table_definition(table_name: str, template_path: Path = TEMPLATE_PATH, *, resource: str = TABLE_RESOURCE) -> dict[str, Any]:
    """Return the keyword arguments of boto3's ``DynamoDB.Client.create_table`` for a table of the
    template (``CatalogTable`` unless ``resource`` names another).

    The key schema, attribute definitions and global (and local) secondary indexes are taken from the
    template; the table is always on-demand (``PAY_PER_REQUEST``). A ``StreamSpecification`` in the
    template is carried over. Settings that DynamoDB Local and moto ignore (SSE, point-in-time
    recovery, tags) are left out.

    :param table_name: the name to give the table (the template lets CloudFormation choose one).
    :param template_path: the SAM template to read.
    """
    declared = load_template(template_path)["Resources"].get(resource)
    if not declared or declared.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"{template_path} has no AWS::DynamoDB::Table named {resource}")
    properties = copy.deepcopy(declared["Properties"])

    definition: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    for indexes_key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = properties.get(indexes_key)
        if indexes:
            definition[indexes_key] = [
                {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
                for index in indexes
            ]
    stream = properties.get("StreamSpecification")
    if stream:
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return definition


def create_table(
    client: Any,
    table_name: str,
    template_path: Path = TEMPLATE_PATH,
    *,
    resource: str = TABLE_RESOURCE,
    exist_ok: bool = False,
) -> dict[str, Any]:
    """Create a table of the template with a boto3 DynamoDB client and wait until it is ACTIVE.

    :param client: a boto3 DynamoDB client (real AWS, DynamoDB Local or moto).
    :param table_name: the table's name.
    :param template_path: the SAM template to read the definition from.
    :param resource: the table's logical id in the template (default: the catalog table).
    :param exist_ok: when true, an existing table of that name is accepted as it is (its schema is
        not compared with the template's).
    :return: the table's description (``describe_table()["Table"]``).
    """
    try:
        client.create_table(**table_definition(table_name, template_path, resource=resource))
    except client.exceptions.ResourceInUseException:
        if not exist_ok:
            raise
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return client.describe_table(TableName=table_name)["Table"]


def create_tables(client: Any, table_name: str, template_path: Path = TEMPLATE_PATH, *, exist_ok: bool = False) -> None:
    """Create the catalog table ``table_name`` and its counters table (``counters_table_name``)."""
    create_table(client, table_name, template_path, exist_ok=exist_ok)
    create_table(client, counters_table_name(table_name), template_path, resource=COUNTERS_RESOURCE, exist_ok=exist_ok)


def delete_tables(client: Any, table_name: str) -> None:
    """Delete what ``create_tables`` created."""
    for name in (table_name, counters_table_name(table_name)):
        client.delete_table(TableName=name)


class Route(NamedTuple):
    """One ``Api`` event of a function in the template."""

    method: str
    """HTTP method, upper case (``GET``)."""
    path: str
    """Resource path as API Gateway declares it, e.g. ``/v1/songs/{songId}``."""
    function: str
    """Logical id of the function (``GetFunction``)."""
    code_uri: str
    """The function's ``CodeUri`` as written in the template, relative to the template's folder."""


def _path_specificity(path: str) -> list[tuple[int, str]]:
    """Sort key: at each segment, literal before ``{param}`` before greedy ``{proxy+}``."""
    key = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            key.append((2, ""))
        elif segment.startswith("{"):
            key.append((1, ""))
        else:
            key.append((0, segment))
    return key


def _merge_globals(global_value: Any, own_value: Any) -> Any:
    """SAM's Globals rule: maps are merged, lists are concatenated, anything else is replaced."""
    if isinstance(global_value, dict) and isinstance(own_value, dict):
        merged = dict(global_value)
        for key, value in own_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(own_value, list):
        return global_value + own_value
    return own_value


def function_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """Properties of a function resource with ``Globals.Function`` applied the way SAM applies them.

    Maps (``Environment.Variables``) are merged, lists (``Layers``) concatenated, other values
    (``Runtime``, ``Handler``) taken from the function when it sets them. Intrinsic functions are
    left as they are.
    """
    global_properties = copy.deepcopy(template.get("Globals", {}).get("Function", {}))
    properties = copy.deepcopy(template["Resources"][logical_id].get("Properties", {}))
    return _merge_globals(global_properties, properties)


def api_routes(template_path: Path = TEMPLATE_PATH) -> list[Route]:
    """Every ``Api`` event of every ``AWS::Serverless::Function`` in the template.

    Routes are ordered so that a first-match router behaves like API Gateway: a literal path segment
    (``/v1/songs/count``) comes before a path parameter (``/v1/songs/{songId}``) at the same place.
    """
    template = load_template(template_path)
    routes = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = function_properties(template, logical_id)
        for event in (properties.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            event_properties = event["Properties"]
            routes.append(
                Route(
                    method=str(event_properties["Method"]).upper(),
                    path=event_properties["Path"],
                    function=logical_id,
                    code_uri=properties["CodeUri"],
                )
            )
    routes.sort(key=lambda route: (_path_specificity(route.path), route.method))
    return routes
