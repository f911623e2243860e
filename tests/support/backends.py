"""Backends for the tests: moto (in process) and DynamoDB Local (the real engine, one per session).

Both get a catalog table and its counters table created from template.yaml's own definitions, so
tests cannot drift from what is deployed. A test gets the catalog table's name; its counters
table's is ``counters_table_name(name)``.
"""

import copy
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import moto.dynamodb.models as moto_dynamodb
import pytest
from moto import mock_aws

from catalog import phrase_index
from devtools import REGION
from devtools.local.dynamodb_local import DynamoDBLocal
from devtools.template.table import create_tables, delete_tables

BACKENDS = ("moto", "dynamodb-local")
_table_numbers = itertools.count()


def _one_backup_per_transaction(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, backing the table up once instead of once per action.

    moto deep-copies the whole table (its stream included) for every action of a transaction, to
    restore it if the transaction fails; the copies are all taken before anything is written, so
    they are identical. Keeping the first is the same behaviour, in time linear in the table's size
    rather than 100 times that: the counter function's transactions hold up to 100 actions.
    """
    backups: dict[int, Any] = {}

    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        if isinstance(value, moto_dynamodb.Table):
            if id(value) not in backups:
                backups[id(value)] = copy.deepcopy(value, memo)
            return backups[id(value)]
        return copy.deepcopy(value, memo)

    with mock.patch.object(moto_dynamodb, "copy", SimpleNamespace(deepcopy=deepcopy)):
        return _moto_transact_write_items(backend, transact_items)


_moto_transact_write_items = moto_dynamodb.DynamoDBBackend.transact_write_items


@contextmanager
def table_on(backend: str, request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    """Fresh tables from the template on a backend: (low-level client, catalog table name)."""
    name = f"catalog-test-{next(_table_numbers)}"
    if backend == "moto":
        # moto's transactions copy the table while they run: not thread-safe, so the phrase index's
        # writer sends one transaction at a time here.
        with (
            mock_aws(),
            mock.patch.object(moto_dynamodb.DynamoDBBackend, "transact_write_items", _one_backup_per_transaction),
            mock.patch.object(phrase_index, "WRITERS", 1),
        ):
            client = boto3.client("dynamodb", region_name=REGION)
            create_tables(client, name)
            yield client, name
        return
    server: DynamoDBLocal = request.getfixturevalue("dynamodb_local")
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=server.endpoint_url)
    create_tables(client, name)
    try:
        yield client, name
    finally:
        delete_tables(client, name)
