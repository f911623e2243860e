"""A stand-in for ``catalog.store.Store`` over a catalog held in memory, that records every read.

Its items are what the importer writes (postings with dense slots, ``importer.postings``) and its
counters what the counter function keeps (``devtools.counts``), built by the bench's loader from
catalog lines (``devtools.bench.loader``). It answers the store's calls as DynamoDB would: a
partition of an index in range-key order, strictly between the bounds, in pages of ``page_size``;
items of keys; a posting at a slot; counters. Every index projects whole postings here: what a
test looks at is which reads are made, and what a page returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from catalog import grams, keys
from catalog.store import ReadMeter, Store
from devtools.bench import loader


@dataclass
class Read:
    """One call of the store: what was read, and how much came back."""

    call: str  # query, batch_get, get, slot
    index: str | None = None
    partition: str | None = None
    low: str | None = None
    high: str | None = None
    descending: bool = False
    page_size: int | None = None
    keys: tuple[tuple[str, str], ...] = ()
    returned: int = 0


class FakeStore(Store):
    """A ``Store`` for the code that takes one: it answers each of the store's reads itself (the type
    checker holds the signatures to the store's), and so has no client of DynamoDB to set up."""

    def __init__(self, lines: Iterable[dict]) -> None:  # no super().__init__: there is no client to keep
        items, counters = loader.catalog_items(loader.validate(lines))
        self.items = {(item["PK"], item["SK"]): item for item in items}
        self.counters = {(item["PK"], item["SK"]): item for item in counters}
        self.reads: list[Read] = []
        self.meter = ReadMeter()
        self._heads = {}  # the store's own gram_heads and gram_block read through get and batch_get below

    def partitions_queried(self) -> list[str]:
        return [read.partition for read in self.reads if read.call == "query" and read.partition]

    def get(self, key: dict, *, counters: bool = False) -> dict | None:
        item = (self.counters if counters else self.items).get((key["PK"], key["SK"]))
        self.reads.append(Read("get", keys=((key["PK"], key["SK"]),), returned=int(item is not None)))
        return dict(item) if item else None

    def batch_get(self, key_list: list[dict], *, counters: bool = False) -> list[dict]:
        held = self.counters if counters else self.items
        found = [dict(held[key["PK"], key["SK"]]) for key in key_list if (key["PK"], key["SK"]) in held]
        self.reads.append(Read("batch_get", keys=tuple((key["PK"], key["SK"]) for key in key_list), returned=len(found)))
        return found

    def query(
        self,
        index: str,
        partition: str,
        *,
        range_key: str,
        low: str | None = None,
        high: str | None = None,
        descending: bool = False,
        page_size: int | None = None,
        whole: bool = False,
        start_after: dict | None = None,
        keys_only: bool = False,
    ) -> Iterator[list[dict]]:
        entries = sorted(
            (item for item in self.items.values() if item.get("fpk") == partition and range_key in item),
            key=lambda item: item[range_key],
            reverse=descending,
        )
        entries = [
            item for item in entries if (low is None or item[range_key] > low) and (high is None or item[range_key] < high)
        ]
        if start_after is not None:
            after = start_after[range_key]
            entries = [item for item in entries if (item[range_key] < after if descending else item[range_key] > after)]
        if keys_only:
            entries = [{name: item[name] for name in ("PK", "SK", "fpk", range_key)} for item in entries]
        read = Read("query", index, partition, low, high, descending, page_size)
        self.reads.append(read)
        pages = iter(entries)
        while page := [dict(item) for item in islice(pages, page_size or len(entries) or 1)]:
            read.returned += len(page)  # what the caller went on to read: it may stop before the last page
            yield page

    def slot(self, partition: str, slot: int) -> dict | None:
        found = [item for item in self.items.values() if item.get("fpk") == partition and item.get("slot") == slot]
        self.reads.append(Read("slot", partition=partition, returned=len(found)))
        return dict(found[0]) if found else None

    def count(self, partition: str) -> int:
        counter = self.get(keys.counter_key(partition), counters=True)
        return int(counter["n"]) if counter else 0

    def counts(self, partitions: tuple[str, ...]) -> dict[str, int]:
        if not partitions:
            return {}
        found = {item["PK"]: int(item["n"]) for item in self.batch_get([keys.counter_key(p) for p in partitions], counters=True)}
        return {partition: found.get(partition, 0) for partition in partitions}

    # -- the phrase index, over the counters as the loader builds them (``devtools.counts.index_items``)

    def gram_prefix(self, scope: str, prefix: str) -> dict[str, int]:
        self.reads.append(Read("gram_prefix", partition=grams.head_partition(scope)))
        return {sk: int(item["n"]) for (pk, sk), item in sorted(self.counters.items())
                if pk == grams.head_partition(scope) and sk.startswith(prefix) and int(item["n"]) > 0}  # fmt: skip

    def _blocks(self, scope: str, gram: str) -> list[dict]:
        return [dict(item) for (pk, _), item in sorted(self.counters.items()) if pk == grams.block_partition(scope, gram)]

    def gram_blocks(self, scope: str, gram: str, *, start: str | None = None, descending: bool = False,
                    page_size: int = 4) -> Iterator[dict]:  # fmt: skip
        blocks = self._blocks(scope, gram)
        if start is not None:
            floor = [number for number, block in enumerate(blocks) if block["SK"] <= grams.block_sk(start)]
            if not floor:
                return
            blocks = blocks[: floor[-1] + 1][::-1] if descending else blocks[floor[-1] :]
        elif descending:
            blocks = blocks[::-1]
        for block in blocks:
            self.reads.append(Read("gram_block", partition=block["PK"], returned=1))
            yield block

    def gram_between(self, scope: str, gram: str, first: str, last: str, hint: int = 4) -> list[dict]:
        blocks = self._blocks(scope, gram)
        floor = [number for number, block in enumerate(blocks) if block["SK"] <= grams.block_sk(first)]
        found = [block for block in blocks[floor[-1] if floor else 0 :] if block["SK"] <= grams.block_sk(last)]
        self.reads.append(Read("gram_between", partition=grams.block_partition(scope, gram), returned=len(found)))
        return found

    def gram_floor(self, scope: str, gram: str, key: str) -> dict | None:
        self.reads.append(Read("gram_floor", partition=grams.block_partition(scope, gram)))
        floor = [block for block in self._blocks(scope, gram) if block["SK"] <= grams.block_sk(key)]
        return floor[-1] if floor else None

    def postings_of(self, partition: str) -> list[dict[str, Any]]:
        """Every posting of a partition, in the default order: what a test expects a read to find."""
        return sorted((item for item in self.items.values() if item.get("fpk") == partition), key=lambda item: item["fsk"])
