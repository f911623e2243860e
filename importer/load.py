"""Import a catalog from JSON Lines into the tables (DynamoDB Local or a real AWS table).

Each line is one record: ``{"kind": "owner", ...}``, ``{"kind": "song", ...}`` or
``{"kind": "soundtrack", ...}`` with the fields the API returns. Lines are validated with the
records' models (``importer.model``) first, so every bad line is reported with its number and
reason, even when nothing can be written; a bad line never stops the good ones. Re-importing the
same file changes nothing. The command line is ``python -m devtools.cli.import_catalog``.
"""

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from tqdm import tqdm

from catalog.declarations import SONGS, SOUNDTRACKS
from devtools.template import table
from importer.model.song import Owner, Record, Song
from importer.model.soundtrack import Soundtrack
from importer.writer import CatalogWriter

MODELS: dict[str, type[Record]] = {"owner": Owner, "song": Song, "soundtrack": Soundtrack}


@dataclass
class Report:
    loaded: dict[str, int] = field(default_factory=dict)
    changed: int = 0
    reindexed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    items_written: int = 0
    write_seconds: float = 0.0

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{number} {kind}s" for kind, number in sorted(self.loaded.items())) or "nothing"
        out = [f"loaded {kinds} ({self.changed} written, {self.reindexed} re-indexed for owner changes)"]
        if self.write_seconds:
            rate = self.items_written / self.write_seconds
            out.append(f"wrote {self.items_written} items in {self.write_seconds:.1f} s ({rate:.0f} items/s)")
        out.append(f"rejected {len(self.rejected)} line(s)")
        out += [f"  line {number}: {reason}" for number, reason in self.rejected]
        return out


def _explain(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        parts.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(parts)


def read_records(lines: Iterable[bytes | str], report: Report) -> Iterator[tuple[str, Record]]:
    """Validated (kind, record) pairs; every bad line is added to the report instead."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except UnicodeDecodeError:
            report.rejected.append((number, "not UTF-8 text"))
            continue
        except json.JSONDecodeError as error:
            report.rejected.append((number, f"not JSON ({error.msg} at column {error.colno})"))
            continue
        if not isinstance(data, dict):
            report.rejected.append((number, "not a JSON object"))
            continue
        kind = data.pop("kind", None)
        if not isinstance(kind, str) or kind not in MODELS:
            expected = " or ".join(MODELS)
            reason = "no 'kind' field" if kind is None else f"unknown kind {kind!r}"
            report.rejected.append((number, f"{reason} (expected {expected})"))
            continue
        try:
            yield kind, MODELS[kind].model_validate(data)
        except ValidationError as error:
            report.rejected.append((number, f"invalid {kind}: {_explain(error)}"))


@dataclass
class Catalog:
    """A file's valid records, by kind, as the models store them."""

    owners: dict[str, Owner] = field(default_factory=dict)
    songs: list[dict] = field(default_factory=list)
    soundtracks: list[dict] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def size(self) -> int:
        return len(self.owners) + len(self.songs) + len(self.soundtracks)


def read_catalog(lines: Iterable[bytes | str], report: Report) -> Catalog:
    """Every valid record of a file; every bad line is added to the report instead."""
    catalog = Catalog()
    for kind, record in read_records(lines, report):
        catalog.kinds[kind] += 1
        if isinstance(record, Owner):
            catalog.owners[record.to_item()["id"]] = record
        elif kind == "song":
            catalog.songs.append(record.to_item())
        else:
            catalog.soundtracks.append(record.to_item())
    return catalog


def write_catalog(writer: CatalogWriter, catalog: Catalog, report: Report, progress: bool = True) -> None:
    """Write a catalog's records, and re-index the stored songs of owners whose names changed.

    Songs go out scope by scope and owner by owner (a song given twice, in its last version): the
    counter function then finds the songs that share counters next to each other in the stream,
    and applies them in fewer transactions.
    """
    started = time.monotonic()
    known: dict[str, Owner | None] = dict(catalog.owners)
    bar = tqdm(total=catalog.size, unit="record", disable=not progress, file=sys.stderr)

    changed_owners = set()
    for owner_id, owner in catalog.owners.items():
        if writer.put_owner(owner.to_item()):
            changed_owners.add(owner_id)
            report.changed += 1
        bar.update()

    def names(owner_id: str) -> list[str]:
        if owner_id not in known:
            stored = writer.owner(owner_id)
            known[owner_id] = Owner.model_validate(stored) if stored else None
        owner = known[owner_id]
        return owner.search_names() if owner else []

    latest = {song["id"]: song for song in catalog.songs}.values()  # a song given twice: its last version
    for song in sorted(latest, key=lambda song: (song["archived"], song["ownerId"])):
        report.changed += writer.put_record(SONGS, song, names(song["ownerId"]))
        bar.update()
    for soundtrack in catalog.soundtracks:
        report.changed += writer.put_record(SOUNDTRACKS, soundtrack, [])
        bar.update()
    bar.close()

    imported = {song["id"] for song in catalog.songs}
    for owner_id in () if writer.started_empty else changed_owners:  # no song was there before this import
        for song_id in set(writer.ids_by_facet(SONGS, "owner", owner_id)) - imported:
            stored = writer.record(SONGS, song_id)
            if stored is not None:
                report.reindexed += writer.put_record(SONGS, stored, names(owner_id))
    writer.flush()
    report.loaded = dict(catalog.kinds)
    report.items_written, report.write_seconds = writer.items_written, time.monotonic() - started


def import_lines(writer: CatalogWriter, lines: Iterable[bytes | str], progress: bool = True) -> Report:
    report = Report()
    write_catalog(writer, read_catalog(lines, report), report, progress)
    return report


class CannotImport(RuntimeError):
    """Nothing can be written: no region, no credentials, no table, DynamoDB unreachable."""


def dynamodb_client(endpoint_url: str | None, region: str | None) -> Any:
    """The importer's client: the environment's credentials and region, or dummy credentials for an endpoint."""
    session = botocore.session.get_session()
    region = region or session.get_config_variable("region")
    if not region:
        raise CannotImport("no AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION)")
    credentials: dict[str, str] = {}
    if session.get_credentials() is None:
        if endpoint_url is None:
            raise CannotImport("no AWS credentials found (environment, ~/.aws, or an instance role)")
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}  # DynamoDB Local takes any
    # Without botocore's check of each request against the API model: the writer builds every request
    # from validated records, DynamoDB checks them again, and the check was a third of the
    # importer's CPU (on 2 cores, CPU DynamoDB Local's data thread then lacks).
    config = Config(parameter_validation=False)
    return boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region, config=config, **credentials)


def ensure_table(client: Any, name: str, *, create: bool) -> None:
    """Check that the table exists; with ``create``, create it and its counters table from the template
    when it does not."""
    try:
        client.describe_table(TableName=name)
        return
    except client.exceptions.ResourceNotFoundException:
        if not create:
            raise CannotImport(f"table {name!r} does not exist (--create-table creates it from template.yaml)") from None
    except (BotoCoreError, ClientError) as error:
        raise CannotImport(f"cannot reach DynamoDB: {error}") from None
    try:
        table.create_tables(client, name, exist_ok=True)
    except (BotoCoreError, ClientError) as error:
        raise CannotImport(f"cannot create table {name!r}: {error}") from None
    sys.stderr.write(f"created table {name!r} and its counters table {table.counters_table_name(name)!r} from template.yaml\n")
