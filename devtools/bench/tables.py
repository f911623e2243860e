"""The bench's tables: per catalog size, the catalog and counters tables the API reads and the baseline's naive tables.

DynamoDB Local writes one item at a time per process, so loading is spread over several
processes: tables go in groups (a size's catalog and counters tables; a size's naive tables), largest group
first to the least loaded process, and all processes load at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.bench import loader, mix, runner
from devtools.local.dynamodb_local import DynamoDBLocal
from devtools.local.in_process import InProcessApi
from devtools.local.lambda_runtime import local_environment
from devtools.sample_catalog import generate
from devtools.template import table

log = logging.getLogger(__name__)


@dataclass
class Group:
    """Tables loaded together, into one DynamoDB Local."""

    tables: dict[str, tuple[list[dict], Callable[[Any, str], None]]]
    """name -> (items, what creates the table: ``create(client, name)``)."""
    instance: int = 0
    loads: list[loader.LoadReport] = field(default_factory=list)

    @property
    def items(self) -> int:
        return sum(len(items) for items, _ in self.tables.values())


@dataclass
class SizeSetup:
    size: int
    catalog: loader.Catalog
    catalog_group: Group
    naive_group: Group
    prefix: str

    def name(self, kind: str) -> str:
        return f"{self.prefix}{kind}-{self.size}"


def prepare(size: int, *, owners: int, soundtracks: int, seed: int, prefix: str = "") -> SizeSetup:
    """Generate and validate a catalog of ``size`` songs, and every item of its tables."""
    catalog = loader.validate(generate(size, owners, seed, soundtracks))
    setup = SizeSetup(size, catalog, Group({}), Group({}), prefix)
    catalog_table, counters_table = loader.catalog_items(catalog)
    name = setup.name("catalog")
    setup.catalog_group.tables.update({
        name: (catalog_table, loader.create_catalog_table),
        table.counters_table_name(name): (counters_table, loader.create_counters_table),
    })  # fmt: skip

    def naive(key: str) -> Callable[[Any, str], None]:
        return lambda client, name: loader.create_naive_table(client, name, key)

    setup.naive_group.tables.update({
        setup.name("naive-songs"): (catalog.songs, naive("id")),
        setup.name("naive-owners"): (list(catalog.owners.values()), naive("id")),
        setup.name("naive-soundtracks"): (catalog.soundtracks, naive("uuid")),
    })  # fmt: skip
    return setup


def assign(groups: list[Group], instances: int) -> None:
    """Largest group first, each to the least loaded instance: the slowest instance decides the load time."""
    totals = [0] * instances
    for group in sorted(groups, key=lambda group: -group.items):
        group.instance = totals.index(min(totals))
        totals[group.instance] += group.items


def load(servers: list[DynamoDBLocal], groups: list[Group]) -> None:
    """Create and fill every group's tables, each DynamoDB Local in its own thread."""
    failures: list[BaseException] = []

    def load_instance(index: int) -> None:
        try:
            # The items are built here from validated records: skipping botocore's validation saves CPU.
            client = servers[index].client(max_pool_connections=2 * loader.WRITERS, parameter_validation=False)
            for group in (group for group in groups if group.instance == index):
                for name, (items, create) in group.tables.items():
                    create(client, name)
                    report = loader.write_all(client, name, items)
                    group.loads.append(report)
                    log.info("loaded %s: %d items in %.1f s (%.0f items/s)", name, report.items, report.seconds,
                             report.items_per_second)  # fmt: skip
        except BaseException as error:  # reported by the caller's thread
            failures.append(error)

    threads = [threading.Thread(target=load_instance, args=(index,)) for index in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def measure(
    setup: SizeSetup, servers: list[DynamoDBLocal], *, repetitions: int, shape_budget_s: float, baseline_scans: int
) -> list[runner.Result]:
    """The whole mix at this size, ours and the baseline's."""
    catalog_server, naive_server = servers[setup.catalog_group.instance], servers[setup.naive_group.instance]
    # INFO logs a line per request to stdout; the bench keeps stdout for its report.
    environment = {**local_environment(catalog_server.endpoint_url), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    api = InProcessApi(catalog_server.client(), setup.name("catalog"), environment)
    naive = runner.NaiveTables(
        naive_server.client(), setup.name("naive-songs"), setup.name("naive-owners"), setup.name("naive-soundtracks")
    )
    shapes = mix.shapes(setup.catalog)
    log.info("%d songs: measuring %d shapes", setup.size, len(shapes))
    return runner.measure(
        setup.size, api, naive, shapes, repetitions=repetitions, shape_budget_s=shape_budget_s, baseline_scans=baseline_scans
    )
