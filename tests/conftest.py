"""Fixtures every kind of test may use: DynamoDB Local (one per session) and a table on each backend
(``tests.support.backends``); dummy AWS credentials before any client exists."""

import os
from collections.abc import Iterator
from typing import Any

import pytest

from devtools import REGION
from devtools.local.dynamodb_local import DynamoDBLocal
from tests.support.backends import BACKENDS, table_on

# Dummy credentials before any client exists: nothing here may reach AWS.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(variable, None)


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDBLocal]:
    with DynamoDBLocal(log_path=tmp_path_factory.mktemp("dynamodb-local") / "dynamodb-local.log") as server:
        yield server


@pytest.fixture(params=BACKENDS)
def table(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    with table_on(request.param, request) as made:
        yield made
