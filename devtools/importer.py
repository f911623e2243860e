"""Import a catalog from JSON Lines into the table (DynamoDB Local or a real AWS table).

Each line is one record: ``{"kind": "owner", ...}``, ``{"kind": "song", ...}`` or
``{"kind": "soundtrack", ...}`` with the fields the API returns. Lines are validated with the API's own models; a bad line is reported with its
number and reason and never stops the good ones. Re-importing the same file changes nothing.

    python -m devtools.importer --table catalog [--endpoint-url URL] [--region REGION] FILE

Exit status: 0 all lines loaded, 2 some lines rejected, 1 nothing could be done.
"""

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError
from tqdm import tqdm

from catalog.collections import SONGS, SOUNDTRACKS
from catalog.model.song import Owner, Song
from catalog.model.soundtrack import Soundtrack
from catalog.writer import CatalogWriter

MODELS: dict[str, type[BaseModel]] = {"owner": Owner, "song": Song, "soundtrack": Soundtrack}


@dataclass
class Report:
    loaded: dict[str, int] = field(default_factory=dict)
    changed: int = 0
    reindexed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{number} {kind}s" for kind, number in sorted(self.loaded.items())) or "nothing"
        out = [f"loaded {kinds} ({self.changed} written, {self.reindexed} re-indexed for owner changes)"]
        out.append(f"rejected {len(self.rejected)} line(s)")
        out += [f"  line {number}: {reason}" for number, reason in self.rejected]
        return out


def _explain(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        parts.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(parts)


def read_records(lines: Iterable[bytes | str], report: Report) -> Iterator[tuple[str, BaseModel]]:
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


def import_lines(writer: CatalogWriter, lines: Iterable[bytes | str], progress: bool = True) -> Report:
    report = Report()
    records = list(read_records(lines, report))
    owners = {record.to_item()["id"]: record for kind, record in records if kind == "owner"}
    songs = [record.to_item() for kind, record in records if kind == "song"]
    soundtracks = [record.to_item() for kind, record in records if kind == "soundtrack"]
    known: dict[str, Owner | None] = dict(owners)
    total = len(owners) + len(songs) + len(soundtracks)
    bar = tqdm(total=total, unit="record", disable=not progress, file=sys.stderr)

    changed_owners = set()
    for owner_id, owner in owners.items():
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

    for song in songs:
        report.changed += writer.put_record(SONGS, song, names(song["ownerId"]))
        bar.update()
    for soundtrack in soundtracks:
        report.changed += writer.put_record(SOUNDTRACKS, soundtrack, [])
        bar.update()
    bar.close()

    imported = {song["id"] for song in songs}
    for owner_id in changed_owners:
        for song_id in set(writer.ids_by_facet(SONGS, "owner", owner_id)) - imported:
            stored = writer.record(SONGS, song_id)
            if stored is not None:
                report.reindexed += writer.put_record(SONGS, stored, names(owner_id))
    writer.flush()
    report.loaded = dict(Counter(kind for kind, _ in records))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="JSON Lines catalog")
    parser.add_argument("--table", required=True, help="table name")
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (DynamoDB Local); default: AWS")
    parser.add_argument("--region", default=None, help="AWS region (default: the environment's)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    if not args.file.is_file():
        parser.exit(1, f"error: no such file: {args.file}\n")
    client = boto3.client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    try:
        client.describe_table(TableName=args.table)
    except client.exceptions.ResourceNotFoundException:
        parser.exit(1, f"error: table {args.table!r} does not exist\n")
    except (BotoCoreError, ClientError) as error:
        parser.exit(1, f"error: cannot reach DynamoDB: {error}\n")
    with args.file.open("rb") as lines:
        report = import_lines(CatalogWriter(client, args.table), lines, progress=not args.quiet)
    sys.stderr.write("\n".join(report.lines()) + "\n")
    return 2 if report.rejected else 0


if __name__ == "__main__":
    sys.exit(main())
