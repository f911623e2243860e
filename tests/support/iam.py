"""An evaluator of the IAM policies of a template as CloudFormation deploys it (after the SAM transform).

Every statement of every role a Lambda function runs with is collected as :class:`Grant` s (one
action on one resource pattern, lower-cased), its resources rendered to ARNs in ``devtools.REGION``
and ``devtools.ACCOUNT_ID``: inline policies, managed policies of the template, the AWS managed
policies it knows (``AWS_MANAGED_POLICIES``) and policies that attach themselves to the role. What
it cannot reason about (NotAction, conditions, a permissions boundary, an unknown AWS managed
policy) raises :class:`Unreadable`, so that a check on it fails rather than passes.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from devtools import ACCOUNT_ID, REGION

# The AWS managed policies a function role may carry, with what they grant (from the IAM managed
# policy reference). Any other AWS managed policy fails the test: its grants are not in the template.
_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
AWS_MANAGED_POLICIES = {
    "service-role/AWSLambdaBasicExecutionRole": [{"Effect": "Allow", "Action": _LOGS, "Resource": "*"}],
    "AWSXrayWriteOnlyAccess": [{
        "Effect": "Allow",
        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                   "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"],
        "Resource": "*",
    }],
    # What SAM attaches to a role it generates for a function with a DynamoDB stream event.
    "service-role/AWSLambdaDynamoDBExecutionRole": [{
        "Effect": "Allow",
        "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                   "dynamodb:ListStreams", *_LOGS],
        "Resource": "*",
    }],
}  # fmt: skip


class Grant(NamedTuple):
    """One action on one resource pattern, allowed to a function, and where it comes from."""

    action: str  # lower case: IAM actions are case-insensitive
    resource: str
    source: str


class Unreadable(Exception):
    """A policy this evaluator cannot reason about (it fails the test rather than passing it)."""


# --- rendering ARNs --------------------------------------------------------------------------------------


def _arn_of(resources: dict[str, Any], logical_id: str, attribute: str) -> str:
    resource_type = resources[logical_id]["Type"]
    if resource_type == "AWS::DynamoDB::Table":
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{logical_id}"
        return {"Arn": arn, "StreamArn": f"{arn}/stream/2026-01-01T00:00:00.000"}[attribute]
    if resource_type == "AWS::SQS::Queue" and attribute == "Arn":
        return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{logical_id}"
    return f"<{logical_id}.{attribute}>"


def render(value: Any, resources: dict[str, Any]) -> str:
    """An ARN expression as a string: a table's Ref is its name and its Arn the ARN with that name."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::URLSuffix": "amazonaws.com"}
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        [(function, argument)] = value.items()
        if function == "Ref":
            return pseudo.get(str(argument), str(argument))
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return _arn_of(resources, logical_id, attribute)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in variables:
                    return render(variables[name], resources)
                if name in pseudo:
                    return pseudo[name]
                if "." in name:
                    return _arn_of(resources, *name.split(".", 1))
                return render({"Ref": name}, resources)

            return re.sub(r"\$\{([^}!]+)\}", substitute, text)
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(render(part, resources) for part in parts)
    raise Unreadable(f"cannot tell which resource {json.dumps(value)} is")


# --- collecting what each function may do ------------------------------------------------------------------


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(statements: Any, source: str, resources: dict[str, Any]) -> list[Grant]:
    found = []
    for statement in listed(statements):
        if "NotAction" in statement or "NotResource" in statement or "NotPrincipal" in statement:
            raise Unreadable(f"{source}: NotAction/NotResource grant everything but a list")
        if statement.get("Effect") != "Allow":
            continue  # a Deny only takes away
        if "Condition" in statement:
            raise Unreadable(f"{source}: conditional grants are not reasoned about here")
        for action in listed(statement["Action"]):
            for resource in listed(statement["Resource"]):
                found.append(Grant(render(action, resources).lower(), render(resource, resources), source))
    return found


def _managed_policy(arn: Any, resources: dict[str, Any], role: str) -> list[Grant]:
    if isinstance(arn, dict) and set(arn) == {"Ref"} and arn["Ref"] in resources:
        policy = resources[arn["Ref"]]
        if policy["Type"] != "AWS::IAM::ManagedPolicy":
            raise Unreadable(f"{role}: {arn['Ref']} is not a managed policy")
        return _grants(policy["Properties"]["PolicyDocument"]["Statement"], arn["Ref"], resources)
    rendered = render(arn, resources)
    name = rendered.removeprefix("arn:aws:iam::aws:policy/")
    if name == rendered or name not in AWS_MANAGED_POLICIES:
        raise Unreadable(f"{role}: what {rendered} grants is not known to this test")
    return _grants(AWS_MANAGED_POLICIES[name], name, resources)


def role_grants(template: dict[str, Any], role: str) -> list[Grant]:
    """Everything the role allows: its inline policies, its managed policies, policies attached to it."""
    resources = template["Resources"]
    properties = resources[role]["Properties"]
    if "PermissionsBoundary" in properties:
        raise Unreadable(f"{role}: a permissions boundary is not reasoned about here")
    found = []
    for policy in properties.get("Policies", []):
        found += _grants(policy["PolicyDocument"]["Statement"], f"{role}/{policy['PolicyName']}", resources)
    for arn in properties.get("ManagedPolicyArns", []):
        found += _managed_policy(arn, resources, role)
    # Policies that attach themselves to the role.
    for name, resource in resources.items():
        attached_to = resource.get("Properties", {}).get("Roles", [])
        if (
            resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
            and {"Ref": role} in attached_to
        ):
            found += _grants(resource["Properties"]["PolicyDocument"]["Statement"], name, resources)
        if resource["Type"] == "AWS::IAM::RolePolicy" and resource["Properties"].get("RoleName") == {"Ref": role}:
            found += _grants(resource["Properties"]["PolicyDocument"]["Statement"], name, resources)
    return found


def function_grants(template: dict[str, Any]) -> dict[str, list[Grant]]:
    """Lambda function logical id -> every grant of the role it runs with."""
    resources = template["Resources"]
    found = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]
        if not (isinstance(role, dict) and role.get("Fn::GetAtt", [None])[0] in resources):
            raise Unreadable(f"{name} runs with a role from outside the template: {json.dumps(role)}")
        found[name] = role_grants(template, role["Fn::GetAtt"][0])
    return found
