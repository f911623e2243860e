"""The API ``template.yaml`` declares, as the local stack runs it: routes, functions, gateway responses.

Read from the template (through :mod:`devtools.template.table`): each route's method, path and
function, the authorizer's scopes and header, the stage name, the gateway responses, and each
function's handler, environment (``Globals`` + its own, intrinsic functions resolved for the local
account), memory size and timeout. Locally the catalog table is ``TABLE_NAME`` (its counters table
``table.counters_table_name(TABLE_NAME)``) in ``REGION`` of ``ACCOUNT_ID``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from devtools import ACCOUNT_ID, REGION, TABLE_NAME
from devtools.template import table

log = logging.getLogger(__name__)

_TABLE_TYPES = {"AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"}


def table_environment(table_name: str) -> dict[str, str]:
    """The variables naming the tables a function reads, for the local catalog table ``table_name``."""
    return {"TABLE_NAME": table_name, "COUNTERS_TABLE_NAME": table.counters_table_name(table_name)}


@dataclass(frozen=True)
class Function:
    logical_id: str
    module: str  # "functions.list.app": imported by package path, never by file name
    handler: str  # "lambda_handler"
    environment: Mapping[str, str]
    memory_mb: int
    timeout_s: int
    code_dir: Path  # its CodeUri, where Lambda runs it from (/var/task)
    entry_point: str  # the template's Handler, "app.lambda_handler": a module of code_dir and its function


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # "/v1/songs/{songId}"
    function: Function
    scopes: tuple[str, ...] | None  # None: no authorizer on this method

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """The path parameters if this route serves ``method raw_path``, else ``None``."""
        if self.method not in (method, "ANY"):
            return None
        return _match_path(self.resource, raw_path)


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    headers: Mapping[str, str]
    template: str | None


@dataclass(frozen=True)
class Api:
    stage: str
    routes: tuple[Route, ...]  # ordered so that the first match is API Gateway's match
    responses: Mapping[str, GatewayResponse]
    identity_header: str
    layer_paths: tuple[Path, ...]

    def route(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.match(method, raw_path)
            if parameters is not None:
                return route, parameters
        return None


def _match_path(resource: str, raw_path: str) -> dict[str, str] | None:
    """Path parameters (decoded) if the still percent-encoded ``raw_path`` is an instance of ``resource``."""
    expected = resource.strip("/").split("/")
    actual = raw_path.strip("/").split("/")
    parameters: dict[str, str] = {}
    for index, segment in enumerate(expected):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = actual[index:]
            if not rest or rest == [""]:
                return None
            parameters[segment[1:-2]] = unquote("/".join(rest))
            return parameters
        if index >= len(actual):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            if not actual[index]:
                return None
            parameters[segment[1:-1]] = unquote(actual[index])
        elif segment != unquote(actual[index]):
            return None
    return parameters if len(actual) == len(expected) else None


def load_api(template_path: Path = table.TEMPLATE_PATH, *, table_name: str = TABLE_NAME) -> Api:
    """What the gateway needs from the template; intrinsic functions resolved for the local stack."""
    template = table.load_template(template_path)
    resolver = _Resolver(template, table_name)
    api_properties = _api_properties(template)
    auth = api_properties.get("Auth") or {}
    authorizers = auth.get("Authorizers") or {}
    default_authorizer = auth.get("DefaultAuthorizer")
    identity_header = "Authorization"
    for authorizer in authorizers.values():
        identity_header = ((authorizer.get("Identity") or {}).get("Header")) or identity_header

    functions: dict[str, Function] = {}
    routes = []
    for declared in table.api_routes(template_path):
        if declared.function not in functions:
            functions[declared.function] = _function(
                template, declared.function, declared.code_uri, resolver, template_path.parent
            )
        event_auth = _event_auth(template, declared)
        authorizer_name = event_auth.get("Authorizer", default_authorizer)
        scopes: tuple[str, ...] | None = None
        if authorizer_name and authorizer_name != "NONE":
            authorizer = authorizers.get(authorizer_name) or {}
            scopes = tuple(event_auth.get("AuthorizationScopes") or authorizer.get("AuthorizationScopes") or ())
        routes.append(Route(declared.method, declared.path, functions[declared.function], scopes))

    responses = {
        name: GatewayResponse(
            status=int(spec["StatusCode"]) if spec.get("StatusCode") else None,
            headers={
                header: _static_value(str(value))
                for header, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items()
            },
            template=(spec.get("ResponseTemplates") or {}).get("application/json"),
        )
        for name, spec in (api_properties.get("GatewayResponses") or {}).items()
    }
    return Api(
        stage=str(resolver.resolve(api_properties.get("StageName", "Prod"))),
        routes=tuple(routes),
        responses=responses,
        identity_header=identity_header,
        layer_paths=layer_paths(template_path),
    )


def layer_paths(template_path: Path = table.TEMPLATE_PATH) -> tuple[Path, ...]:
    """The content directory of each layer of the template (its ``ContentUri``)."""
    template = table.load_template(template_path)
    return tuple(
        (template_path.parent / resource["Properties"]["ContentUri"]).resolve()
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
        and isinstance(resource.get("Properties", {}).get("ContentUri"), str)
    )


def load_function(logical_id: str, template_path: Path = table.TEMPLATE_PATH, *, table_name: str = TABLE_NAME) -> Function:
    """One function of the template, routed or not (the counter function is fed by the stream).

    ``KeyError`` when the template has no function ``logical_id``.
    """
    template = table.load_template(template_path)
    if (template["Resources"].get(logical_id) or {}).get("Type") != "AWS::Serverless::Function":
        raise KeyError(logical_id)
    code_uri = table.function_properties(template, logical_id)["CodeUri"]
    return _function(template, logical_id, code_uri, _Resolver(template, table_name), template_path.parent)


def function_ids(template_path: Path = table.TEMPLATE_PATH) -> list[str]:
    """The logical ids of the template's functions, sorted."""
    resources = table.load_template(template_path)["Resources"]
    return sorted(name for name, resource in resources.items() if resource.get("Type") == "AWS::Serverless::Function")


def _api_properties(template: dict[str, Any]) -> dict[str, Any]:
    """``Globals.Api`` with the (first) ``AWS::Serverless::Api`` resource's properties over it."""
    merged = dict((template.get("Globals") or {}).get("Api") or {})
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Api":
            merged.update(resource.get("Properties") or {})
            break
    return merged


def _event_auth(template: dict[str, Any], declared: table.Route) -> dict[str, Any]:
    events = table.function_properties(template, declared.function).get("Events") or {}
    for event in events.values():
        properties = event.get("Properties") or {}
        if (
            event.get("Type") == "Api"
            and properties.get("Path") == declared.path
            and str(properties.get("Method", "")).upper() == declared.method
        ):
            return properties.get("Auth") or {}
    return {}


def _function(template: dict[str, Any], logical_id: str, code_uri: str, resolver: _Resolver, base: Path) -> Function:
    properties = table.function_properties(template, logical_id)
    entry_point = str(properties.get("Handler", "app.lambda_handler"))
    handler_module, _, handler_name = entry_point.rpartition(".")
    package = ".".join(PurePosixPath(code_uri.strip("/")).parts)
    environment = {}
    for name, value in ((properties.get("Environment") or {}).get("Variables") or {}).items():
        resolved = resolver.resolve(value)
        if resolved is None:
            log.warning("%s: cannot resolve %s=%r locally: left unset", logical_id, name, value)
        else:
            environment[name] = str(resolved)
    return Function(
        logical_id=logical_id,
        module=f"{package}.{handler_module}",
        handler=handler_name,
        environment=environment,
        memory_mb=int(properties.get("MemorySize", 128)),
        timeout_s=int(properties.get("Timeout", 3)),
        code_dir=(base / code_uri).resolve(),
        entry_point=entry_point,
    )


class _Resolver:
    """Intrinsic functions as far as the local stack can answer them (``None`` when it cannot)."""

    def __init__(self, template: dict[str, Any], table_name: str) -> None:
        self.template = template
        self.table_name = table_name
        self.local_secret = secrets.token_urlsafe(48)
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": "local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            if self._is_table(resource):
                return {"Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{self._table(resource)}"}.get(attribute)
            return None
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return self._sub(value["Fn::Sub"])
        return None

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        parameter = (self.template.get("Parameters") or {}).get(name)
        if parameter is not None:
            return parameter.get("Default")
        if self._is_table(name):
            return self._table(name)
        return None

    def _sub(self, text: str) -> str | None:
        if text.startswith("{{resolve:secretsmanager:"):
            return self.local_secret  # a Secrets Manager value: a secret of this local stack's own
        out, rest = [], text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            resource, _, attribute = name.partition(".")
            value = self.resolve({"Fn::GetAtt": [resource, attribute]} if attribute else {"Ref": name})
            if value is None:
                return None
            out += [before, str(value)]
        return "".join([*out, rest])

    def _table(self, resource: str) -> str:
        """The local name of a table resource: the catalog table's, or its counters table's."""
        return table.counters_table_name(self.table_name) if resource == table.COUNTERS_RESOURCE else self.table_name

    def _is_table(self, name: str) -> bool:
        return (self.template["Resources"].get(name) or {}).get("Type") in _TABLE_TYPES


def _static_value(value: str) -> str:
    """``"'application/json'"`` (a static value in API Gateway's mapping syntax) -> ``application/json``."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value
