"""Keep the phrase index (``catalog.grams``) from the catalog table's stream: the counter function's other work.

The stream records read are the counters' own (``catalog.counting``): one per record change, its
``all`` posting, whose images carry the record's ``search`` texts and its sort key. For each record
of a batch, its first old image and its last new image say what the batch did to it; their grams
give, per (scope, gram), the postings to remove (the old key, when the gram or the key went) and the
postings to put (the new key with its positions, when they are new or moved). An owner's rename
rewrites the owner's records' ``all`` postings with new ``search`` texts, so it reaches the index
the same way.

Each touched gram's blocks that cover the changed keys are read (one Query, from the block of the
highest key down to that of the lowest), changed, split when past ``grams.MAX_BLOCK_BYTES``, and
written back in transactions: each block's put (or delete) is conditioned on the version it was
read at, its new pieces on not existing, and the gram's head gets ``ADD n`` of what the blocks
really gained or lost, in the same transaction. A batch so writes each touched block once, however
many of its records touch it.

Why a replay changes nothing: a posting is put only when absent or different and removed only when
present, the head moving by exactly what changed, in the transaction that changes it. A batch Lambda
hands over again (whole, halved, or from a failed record on) finds its changes made and writes
nothing, or makes those that are missing; later records of the same item come after it in the
shard, so the last image wins. A transaction cancelled (another writer changed a block since it was
read, a conflict, throttling) wrote nothing: its grams are read again and planned again, a few
times, then the batch fails and Lambda retries it.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from catalog import grams, keys, wire
from catalog.declarations import COLLECTIONS
from catalog.grams import Document, Positions

logger = Logger(child=True)

MAX_ACTIONS = 100
_ATTEMPTS = 6

GramKey = tuple[str, str]
"""(scope, gram)."""


class IndexBusy(RuntimeError):
    """A gram's blocks kept changing under its writer (or DynamoDB kept refusing): the batch fails."""


@dataclass
class Edits:
    """What a batch does to one gram's list: keys to remove, postings to put."""

    removes: set[str] = field(default_factory=set)
    puts: dict[str, Positions] = field(default_factory=dict)


def _document(stream: dict, image: str) -> Document | None:
    raw = stream.get(image)
    if raw is None:
        return None
    record = wire.item(raw)
    return grams.document(COLLECTIONS[keys.prefix_of(record["PK"])], record)


def edits_of(records: list[dict]) -> dict[GramKey, Edits]:
    """Per (scope, gram), what a batch of stream records changes in the index."""
    first_old: dict[str, Document | None] = {}
    last_new: dict[str, Document | None] = {}
    for record in records:
        stream = record["dynamodb"]
        if stream["Keys"]["SK"]["S"] != keys.ALL_POSTING:
            continue
        if not COLLECTIONS[keys.prefix_of(stream["Keys"]["PK"]["S"])].search_attributes:
            continue
        pk = stream["Keys"]["PK"]["S"]
        event = record["eventName"]
        old = _document(stream, "OldImage") if event in ("MODIFY", "REMOVE") else None
        new = _document(stream, "NewImage") if event in ("INSERT", "MODIFY") else None
        if pk not in first_old:
            first_old[pk] = old
        last_new[pk] = new
    edits: dict[GramKey, Edits] = defaultdict(Edits)
    for pk, old in first_old.items():
        new = last_new[pk]
        same_place = old is not None and new is not None and (old.scope, old.key) == (new.scope, new.key)
        if old is not None:
            for gram in old.grams:
                if not (same_place and gram in new.grams):
                    edits[(old.scope, gram)].removes.add(old.key)
        if new is not None:
            for gram, positions in new.grams.items():
                if not (same_place and old.grams.get(gram) == positions):
                    edits[(new.scope, gram)].puts[new.key] = positions
    return dict(edits)


@dataclass
class Unit:
    """One block's rewrite: its actions (the block, its new pieces) and what the gram's count gains."""

    gram: GramKey
    actions: list[dict]
    delta: int


@dataclass
class Report:
    grams: int = 0
    blocks_read: int = 0
    blocks_written: int = 0
    transactions: int = 0
    retries: int = 0


class PhraseIndex:
    """Applies batches of stream records to the phrase index in one counters table, idempotently."""

    def __init__(self, client: Any, table: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._table = table
        self._sleep = sleep

    def apply(self, records: list[dict]) -> Report:
        report = Report()
        edits = edits_of(records)
        report.grams = len(edits)
        pending = sorted(edits)
        for attempt in range(_ATTEMPTS):
            units = [unit for gram in pending for unit in self._plan(gram, edits[gram], report)]
            pending = self._write(units, report)
            if not pending:
                if report.grams:
                    logger.info("phrase index updated", extra=vars(report))
                return report
            report.retries += 1
            self._sleep(random.uniform(0, min(1.0, 0.05 * 2**attempt)))
        raise IndexBusy(f"{len(pending)} grams could not be written after {_ATTEMPTS} attempts")

    def _blocks(self, gram: GramKey, low: str, high: str) -> list[dict]:
        """The gram's blocks covering keys ``low`` to ``high``, in key order (read consistently)."""
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND SK <= :high",
            "ExpressionAttributeValues": {":pk": {"S": grams.block_partition(*gram)}, ":high": {"S": grams.block_sk(high)}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        found: list[dict] = []
        while True:
            page = self._client.query(**request)
            for raw in page.get("Items", []):
                found.append(wire.item(raw))
                if grams.lower_of(found[-1]["SK"]) <= low:
                    return found[::-1]
            if "LastEvaluatedKey" not in page:
                return found[::-1]
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _plan(self, gram: GramKey, edits: Edits, report: Report) -> list[Unit]:
        changed = sorted(edits.removes | set(edits.puts))
        blocks = self._blocks(gram, changed[0], changed[-1])
        report.blocks_read += len(blocks)
        if not blocks or grams.lower_of(blocks[0]["SK"]) > changed[0]:
            blocks.insert(0, {"PK": grams.block_partition(*gram), "SK": grams.block_sk(""), "p": b"", "v": None})
        units = []
        bounds = [grams.lower_of(block["SK"]) for block in blocks]
        start = 0
        for number, block in enumerate(blocks):
            upper = bounds[number + 1] if number + 1 < len(bounds) else None
            end = start
            while end < len(changed) and (upper is None or changed[end] < upper):
                end += 1
            mine, start = changed[start:end], end
            if mine:
                unit = self._rewrite(gram, block, mine, edits)
                if unit is not None:
                    units.append(unit)
        return units

    def _rewrite(self, gram: GramKey, block: dict, changed: list[str], edits: Edits) -> Unit | None:
        original = dict(grams.decode(block["p"]))
        postings = dict(original)
        delta = 0
        for key in changed:
            if key in edits.puts:
                delta += key not in postings
                postings[key] = edits.puts[key]
            elif postings.pop(key, None) is not None:
                delta -= 1
        if postings == original:
            return None
        version = block["v"]
        condition = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if version is None
            else {"ConditionExpression": "v = :v", "ExpressionAttributeValues": {":v": {"N": str(version)}}}
        )
        key = {"PK": {"S": block["PK"]}, "SK": {"S": block["SK"]}}
        ordered = sorted(postings.items())
        lower = grams.lower_of(block["SK"])
        if not ordered and lower:
            return Unit(gram, [{"Delete": {"TableName": self._table, "Key": key, **condition}}], delta)
        runs = grams.pieces(ordered) or [[]]
        next_version = str(int(version or 0) + 1)
        actions = [self._put(key, runs[0], next_version, condition)]
        for run in runs[1:]:
            new_key = {"PK": {"S": block["PK"]}, "SK": {"S": grams.block_sk(run[0][0])}}
            actions.append(self._put(new_key, run, "1", {"ConditionExpression": "attribute_not_exists(PK)"}))
        if len(actions) >= MAX_ACTIONS:
            raise IndexBusy(f"one block of {gram!r} would split into {len(actions)} blocks: a batch too large")
        return Unit(gram, actions, delta)

    def _put(self, key: dict, run: list[tuple[str, Positions]], version: str, condition: dict) -> dict:
        item = {**key, "p": {"B": grams.encode(run)}, "c": {"N": str(len(run))}, "v": {"N": version}}
        return {"Put": {"TableName": self._table, "Item": item, **condition}}

    def _head(self, gram: GramKey, delta: int) -> dict:
        scope, text = gram
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"PK": {"S": grams.head_partition(scope)}, "SK": {"S": text}},
                "UpdateExpression": "ADD #n :d",
                "ExpressionAttributeNames": {"#n": grams.HEAD_COUNT},
                "ExpressionAttributeValues": {":d": {"N": str(delta)}},
            }
        }

    def _write(self, units: list[Unit], report: Report) -> list[GramKey]:
        """Write the units in transactions of whole units; the grams of cancelled ones, to plan again."""
        failed: set[GramKey] = set()
        batch: list[Unit] = []

        def size(chosen: list[Unit]) -> int:
            return sum(len(unit.actions) for unit in chosen) + len({unit.gram for unit in chosen})

        def flush() -> None:
            if not batch:
                return
            deltas: dict[GramKey, int] = defaultdict(int)
            for unit in batch:
                deltas[unit.gram] += unit.delta
            actions = [action for unit in batch for action in unit.actions]
            actions += [self._head(gram, delta) for gram, delta in sorted(deltas.items()) if delta]
            try:
                self._client.transact_write_items(TransactItems=actions)
                report.transactions += 1
                report.blocks_written += sum(len(unit.actions) for unit in batch)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                failed.update(unit.gram for unit in batch)
            batch.clear()

        for unit in units:
            if batch and size([*batch, unit]) > MAX_ACTIONS:
                flush()
            batch.append(unit)
        flush()
        return sorted(failed)
