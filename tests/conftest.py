"""Backends for the tests: moto (in process) and DynamoDB Local (the real engine, one per session).

Both get a table created from template.yaml's own definition, so tests cannot drift from what is
deployed.
"""

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.dynamodb_local import DynamoDBLocal
from devtools.table import create_table

BACKENDS = ("moto", "dynamodb-local")
REGION = "us-east-1"
_table_numbers = itertools.count()

# Dummy credentials before any client exists: nothing here may reach AWS.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(variable, None)


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDBLocal]:
    with DynamoDBLocal(log_path=tmp_path_factory.mktemp("dynamodb-local") / "dynamodb-local.log") as server:
        yield server


@contextmanager
def table_on(backend: str, request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    """A fresh table from the template on a backend: (low-level client, table name)."""
    name = f"catalog-test-{next(_table_numbers)}"
    if backend == "moto":
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            create_table(client, name)
            yield client, name
        return
    server: DynamoDBLocal = request.getfixturevalue("dynamodb_local")
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=server.endpoint_url)
    create_table(client, name)
    try:
        yield client, name
    finally:
        client.delete_table(TableName=name)


@pytest.fixture(params=BACKENDS)
def table(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    with table_on(request.param, request) as made:
        yield made
