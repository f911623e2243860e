"""The tables ``devtools.template.table`` creates from template.yaml, on moto (the tests' and the local
stack's tables are made this way): indexes as declared, creation idempotent on request, the counters
table without indexes or stream."""

import boto3
import moto
import pytest

from devtools.template import table
from devtools.template.table import table_definition


def test_create_table_on_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        description = table.create_table(client, "catalog-test")
        assert description["TableStatus"] == "ACTIVE"
        assert {index["IndexName"] for index in description["GlobalSecondaryIndexes"]} == {
            index["IndexName"] for index in table_definition("catalog-test")["GlobalSecondaryIndexes"]
        }
        with pytest.raises(client.exceptions.ResourceInUseException):
            table.create_table(client, "catalog-test")
        assert table.create_table(client, "catalog-test", exist_ok=True)["TableName"] == "catalog-test"

        table.create_tables(client, "other", exist_ok=True)
        counters = client.describe_table(TableName=table.counters_table_name("other"))["Table"]
        assert [key["AttributeName"] for key in counters["KeySchema"]] == ["PK", "SK"]
        assert not counters.get("GlobalSecondaryIndexes") and not counters.get("StreamSpecification")
