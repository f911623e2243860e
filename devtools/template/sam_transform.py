"""Print ``template.yaml`` as the CloudFormation template the SAM transform turns it into, as JSON.

Development tooling only. What CloudFormation deploys is the transformed template: the roles SAM
generates for functions from their ``Policies``, the permissions event sources add to them, the
API's stage and deployment. The least-privilege test reads it from here. It runs offline, with the
SAM virtualenv's Python (``samtranslator`` pins a pydantic the project's virtualenv does not have)::

    .venv-sam/bin/python -m devtools.template.sam_transform [--region REGION] [TEMPLATE ...]

With several templates it prints a JSON list of them, in order (one interpreter start for all).

Policies named by AWS managed policy name (``AmazonDynamoDBReadOnlyAccess``) come out as that
policy's ARN, without asking IAM, so that a reader sees them rather than an error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

from devtools.template.table import TEMPLATE_PATH, load_template


class _AwsManagedPolicies(dict):
    """Any name SAM looks up is an AWS managed policy: ``arn:aws:iam::aws:policy/<name>``."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __missing__(self, name: str) -> str:
        return f"arn:aws:iam::aws:policy/{name}"


# What `sam package` replaces with an S3 location once it has uploaded the folder.
_LOCAL_CODE = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def _stand_in_for_uploaded_code(template: dict[str, Any]) -> None:
    for resource in template["Resources"].values():
        key = _LOCAL_CODE.get(resource.get("Type"))
        location = (resource.get("Properties") or {}).get(key)
        if isinstance(location, str) and not location.startswith("s3://"):
            resource["Properties"][key] = f"s3://local-code/{location.strip('/')}"


def transformed(template_path: Path = TEMPLATE_PATH, region: str = "us-east-1") -> dict[str, Any]:
    """The template after the SAM transform, with its parameters' defaults (as ``samtranslator``'s own
    ``transform`` does it, with a region given rather than looked up)."""
    template = load_template(template_path)
    _stand_in_for_uploaded_code(template)
    parameters: dict[str, Any] = {}
    to_py27_compatible_template(template, parameters)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    result = translator.translate(template, parameters, get_managed_policy_map=_AwsManagedPolicies)
    return undo_mark_unicode_str_in_template(result)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.ERROR)  # samtranslator notes missing feature toggles at WARNING
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="*", type=Path, default=[TEMPLATE_PATH], metavar="TEMPLATE")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    results = [transformed(path, args.region) for path in args.templates]
    json.dump(results[0] if len(results) == 1 else results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
