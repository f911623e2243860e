"""Where ``make run``'s DynamoDB Local keeps its data: a working copy in memory-backed storage, saved to disk.

DynamoDB Local on its disk store writes about 370 to 470 items a second on these machines, and
about 800 to 900 on a database file in a memory-backed file system (tmpfs) or in memory: it commits
and syncs the SQLite file on every write (measured in docs/PERFORMANCE.md). So ``make run`` gives it
a working directory on tmpfs (``/dev/shm``) and keeps the saved copy in ``.local/dynamodb``:

- ``open(fresh=False)``: the saved copy is copied into a new working directory (a later start:
  under a second for the sample), or, ``fresh=True`` (a ``CATALOG=`` import, a table that differs
  from the template), the working directory starts empty and the next save replaces the saved copy.
  A database never holds an earlier import's tables or streams: those stay in DynamoDB Local's
  SQLite file and slow every later import and stream read down (toolchain notes).
- ``save()``: the working directory, database and the state files beside it, replaces the saved copy
  (written beside it first, then swapped in). ``make run`` saves once the catalog is imported and
  counted, and when it stops; what a client wrote in between is kept if it stops cleanly (Ctrl-C).
- ``close()``: the working directory is removed (it holds RAM).

Where there is no tmpfs, or too little room in it, DynamoDB Local works on the saved copy directly
(slower, same behaviour).
The database is copied with SQLite's backup API while DynamoDB Local is idle, which gives a
consistent copy even if it is not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from catalog import keys
from devtools import TABLE_NAME
from devtools.template import table

log = logging.getLogger(__name__)

DATABASE = "shared-local-instance.db"
"""The file DynamoDB Local keeps every table in, with ``-sharedDb``."""
IMPORTED = "imported-catalog.json"
"""Beside the database: which catalog it holds, under which layout, and whether the import finished."""
TMPFS = Path("/dev/shm")
MIN_FREE_BYTES = 1 << 30
"""The memory-backed storage is used when it has this much room, and four times the saved data (a
container's /dev/shm is often 64 MB: too small for the sample catalog's 90 MB)."""


class LocalData:
    """The saved copy of the local database (``saved``) and the working directory DynamoDB Local uses."""

    def __init__(self, saved: Path, *, tmpfs: Path | None = TMPFS) -> None:
        self.saved = saved
        # One working directory per checkout: two checkouts' `make run`s never share one.
        tag = hashlib.sha256(str(saved.resolve()).encode()).hexdigest()[:12]
        self.in_memory = tmpfs is not None and _room_in(tmpfs) >= max(MIN_FREE_BYTES, 4 * _size(saved))
        self.working = tmpfs / f"songs-catalog-{tag}" if tmpfs is not None and self.in_memory else saved
        if not self.in_memory:
            log.info("no room in memory-backed storage (%s): DynamoDB Local works on %s", tmpfs, saved)

    def open(self, *, fresh: bool) -> Path:
        """A working directory with the saved data (``fresh``: with nothing); returns it."""
        if self.in_memory:
            shutil.rmtree(self.working, ignore_errors=True)  # left by a stack that did not stop cleanly
            self.working.mkdir(parents=True)
            if not fresh and self.saved.is_dir():
                for path in self.saved.iterdir():
                    shutil.copy2(path, self.working / path.name)
        elif fresh:
            shutil.rmtree(self.working, ignore_errors=True)
            self.working.mkdir(parents=True)
        else:
            self.working.mkdir(parents=True, exist_ok=True)
        return self.working

    def save(self) -> None:
        """Replace the saved copy with the working directory's data (nothing to do without tmpfs)."""
        if not self.in_memory:
            return
        staged = self.saved.with_name(self.saved.name + ".saving")
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        for path in self.working.iterdir():
            if path.name == DATABASE:
                _copy_database(path, staged / DATABASE)
            elif path.is_file() and not path.name.startswith(f"{DATABASE}-"):  # not SQLite's journal
                shutil.copy2(path, staged / path.name)
        retired = self.saved.with_name(self.saved.name + ".old")
        shutil.rmtree(retired, ignore_errors=True)
        if self.saved.exists():
            self.saved.rename(retired)
        staged.rename(self.saved)
        shutil.rmtree(retired, ignore_errors=True)
        log.info("local data saved to %s", self.saved)

    def close(self) -> None:
        if self.in_memory:
            shutil.rmtree(self.working, ignore_errors=True)


def table_shape() -> str:
    """What a database must have been written under to be reused: the key layout and the template's tables."""
    definitions = [
        table.table_definition(TABLE_NAME, resource=resource) for resource in (table.TABLE_RESOURCE, table.COUNTERS_RESOURCE)
    ]
    definition = json.dumps(definitions, sort_keys=True)
    return f"layout {keys.LAYOUT}, table {hashlib.sha256(definition.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class Imported:
    """What ``imported-catalog.json`` records about the database beside it."""

    catalog: str
    complete: bool
    shape: str

    def save(self, directory: Path) -> None:
        (directory / IMPORTED).write_text(json.dumps(asdict(self)) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> Imported | None:
        try:
            return cls(**json.loads((directory / IMPORTED).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


def reason_for_a_new_database(saved: Imported | None, catalog: Path | None) -> str | None:
    """Why the saved database cannot be used as it is (``None``: it can)."""
    if catalog is not None:
        return f"importing {catalog}"
    if saved is None:
        return "no catalog imported yet"
    if saved.shape != table_shape():
        return f"the saved table was written under {saved.shape}; the code now has {table_shape()}"
    if not saved.complete:
        return f"the import of {saved.catalog} did not finish last time"
    return None


def _room_in(directory: Path) -> int:
    try:
        return shutil.disk_usage(directory).free if directory.is_dir() else 0
    except OSError:
        return 0


def _size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir() if path.is_file()) if directory.is_dir() else 0


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, with SQLite's online backup."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()
