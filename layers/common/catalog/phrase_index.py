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

import bisect
import random
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from catalog import grams, keys, wire
from catalog.declarations import COLLECTIONS
from catalog.grams import Document, Positions

logger = Logger(child=True)

MAX_ACTIONS = 100
WRITERS = 4
"""Transactions of a batch sent at once (for different grams)."""
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
        old_grams = old.grams if old is not None else {}
        new_grams = new.grams if new is not None else {}
        if old is not None:
            for gram in old.grams:
                if not (same_place and gram in new_grams):
                    edits[(old.scope, gram)].removes.add(old.key)
        if new is not None:
            for gram, positions in new.grams.items():
                if not (same_place and old_grams.get(gram) == positions):
                    edits[(new.scope, gram)].puts[new.key] = positions
    return dict(edits)


@dataclass
class Unit:
    """One gram's rewrite: its blocks' actions, what its count gains, and its head's directory when it moves."""

    gram: GramKey
    actions: list[dict]
    delta: int
    directory: list[str] | None = None
    """The blocks' bounds after the rewrite, when they changed and the head keeps them (else None)."""
    overflow: bool = False
    """The directory grew past ``grams.MAX_DIRECTORY``: the head stops keeping it."""
    head_version: int | None = None
    """The head's version as read (None: no head yet), the condition of a directory change."""


@dataclass
class Report:
    grams: int = 0
    queried: int = 0
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
            heads = self._heads(pending)
            blocks = self._listed_blocks(pending, edits, heads, report)
            units = [unit for gram in pending for unit in self._plan(gram, edits[gram], heads.get(gram), blocks, report)]
            pending = self._write(units, report)
            if not pending:
                if report.grams:
                    logger.info("phrase index updated", extra=vars(report))
                return report
            report.retries += 1
            self._sleep(random.uniform(0, min(1.0, 0.05 * 2**attempt)))
        raise IndexBusy(f"{len(pending)} grams could not be written after {_ATTEMPTS} attempts")

    def _batch_get(self, keys_list: list[dict]) -> list[dict]:
        """Items of these keys (consistent reads), 100 a call."""
        found = []
        for start in range(0, len(keys_list), 100):
            pending = keys_list[start : start + 100]
            while pending:
                answer = self._client.batch_get_item(RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}})
                found += [wire.item(raw) for raw in answer["Responses"].get(self._table, [])]
                pending = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        return found

    def _heads(self, pending: list[GramKey]) -> dict[GramKey, dict]:
        keys_list = [{"PK": {"S": grams.head_partition(scope)}, "SK": {"S": gram}} for scope, gram in pending]
        return {(item["PK"][len(grams.PREFIX) + 1 :], item["SK"]): item for item in self._batch_get(keys_list)}

    @staticmethod
    def _bounds(head: dict | None) -> list[str] | None:
        """The gram's block bounds as its head lists them; None when the head stopped listing them."""
        listed = grams.Head.of(head).directory
        return None if listed is None else list(listed)

    def _listed_blocks(self, pending: list[GramKey], edits: dict[GramKey, Edits], heads: dict[GramKey, dict],
                       report: Report) -> dict[tuple[GramKey, str], dict]:  # fmt: skip
        """The blocks the changes fall in, of every gram whose head lists its blocks, in BatchGetItems."""
        wanted = []
        for gram in pending:
            bounds = self._bounds(heads.get(gram))
            if bounds is None:
                continue
            touched = {bounds[bisect.bisect_right(bounds, key) - 1] for key in edits[gram].removes | set(edits[gram].puts)}
            wanted += [(gram, lower) for lower in sorted(touched)]
        keys_list = [{"PK": {"S": grams.block_partition(*gram)}, "SK": {"S": grams.block_sk(lower)}} for gram, lower in wanted]
        found = {}
        for item in self._batch_get(keys_list):
            scope_and_gram = item["PK"][len(grams.PREFIX) + 1 :]
            scope = "|".join(scope_and_gram.split("|", 2)[:2])
            found[((scope, scope_and_gram[len(scope) + 1 :]), grams.lower_of(item["SK"]))] = item
        report.blocks_read += len(found)
        return found

    def _queried(self, gram: GramKey, low: str, high: str) -> list[dict]:
        """The gram's blocks covering keys ``low`` to ``high``, in key order (read consistently): for a
        gram whose head no longer lists its blocks."""
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

    def _plan(self, gram: GramKey, edits: Edits, head: dict | None, listed: dict[tuple[GramKey, str], dict],
              report: Report) -> list[Unit]:  # fmt: skip
        changed = sorted(edits.removes | set(edits.puts))
        bounds = self._bounds(head)
        partition = grams.block_partition(*gram)
        if bounds is None:
            read = self._queried(gram, changed[0], changed[-1])
            report.queried += 1
            report.blocks_read += len(read)
            blocks: dict[str, dict | None] = {grams.lower_of(block["SK"]): block for block in read}
            if "" not in blocks and (not read or grams.lower_of(read[0]["SK"]) > changed[0]):
                blocks[""] = {"PK": partition, "SK": grams.block_sk(""), "p": b"", "v": None}
            bounds = sorted(blocks)
        else:
            blocks = {lower: listed.get((gram, lower)) for lower in bounds}
        by_block: dict[str, list[str]] = defaultdict(list)
        for key in changed:
            by_block[bounds[bisect.bisect_right(bounds, key) - 1]].append(key)
        listing = self._bounds(head) is not None
        version = None if head is None else int(head.get(grams.HEAD_VERSION, 0))
        parts: list[Unit] = []
        kept = set(bounds)
        current = Unit(gram, [], 0)
        changed_bounds = False
        for lower, keys_in in sorted(by_block.items()):
            block = blocks.get(lower) or {"PK": partition, "SK": grams.block_sk(lower), "p": b"", "v": None}
            rewritten = self._rewrite(block, keys_in, edits)
            if rewritten is None:
                continue
            block_actions, gained, added, removed = rewritten
            if len(block_actions) >= MAX_ACTIONS - 1:
                raise IndexBusy(f"a block of {gram!r} would split into {len(block_actions)}: a batch too large")
            if current.actions and len(current.actions) + len(block_actions) >= MAX_ACTIONS - 1:
                current.directory = sorted(kept)
                parts.append(current)
                current = Unit(gram, [], 0)
            current.actions += block_actions
            current.delta += gained
            kept |= set(added)
            kept -= {removed} if removed is not None else set()
            changed_bounds |= bool(added) or removed is not None
        if current.actions:
            current.directory = sorted(kept)
            parts.append(current)
        if not parts:
            return []
        # One transaction a part, in order. Several parts: each moves the head's directory (or marks it
        # overflowing) on the condition of the version the one before left, so that a part that fails
        # stops the later ones and the head never lists blocks that are not there.
        chained = len(parts) > 1
        for number, part in enumerate(parts):
            part.head_version = version if number == 0 else (version or 0) + number
            if not listing or not (chained or changed_bounds):
                part.directory = None
            elif len(part.directory or []) > grams.MAX_DIRECTORY:
                part.directory, part.overflow = None, True
        return parts

    def _rewrite(self, block: dict, changed: list[str], edits: Edits) -> tuple[list[dict], int, list[str], str | None] | None:
        """A block's new contents: (actions, postings gained, bounds of new blocks, bound of a deleted block)."""
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
        item_key = {"PK": {"S": block["PK"]}, "SK": {"S": block["SK"]}}
        ordered = sorted(postings.items())
        lower = grams.lower_of(block["SK"])
        if not ordered and lower:
            return [{"Delete": {"TableName": self._table, "Key": item_key, **condition}}], delta, [], lower
        runs = grams.packed(ordered) or [([], b"")]
        next_version = str(int(version or 0) + 1)
        actions = [self._put(item_key, *runs[0], next_version, condition)]
        for run, data in runs[1:]:
            new_key = {"PK": {"S": block["PK"]}, "SK": {"S": grams.block_sk(run[0][0])}}
            actions.append(self._put(new_key, run, data, "1", {"ConditionExpression": "attribute_not_exists(PK)"}))
        return actions, delta, [run[0][0] for run, _ in runs[1:]], None

    def _put(self, key: dict, run: list[tuple[str, Positions]], data: bytes, version: str, condition: dict) -> dict:
        item = {**key, "p": {"B": data}, "c": {"N": str(len(run))}, "v": {"N": version}}
        return {"Put": {"TableName": self._table, "Item": item, **condition}}

    def _head(self, unit: Unit) -> dict | None:
        """The head's update: its count moved by what the blocks gained, and its directory when it changed
        (on the condition that the head is as read: two writers never both rewrite it)."""
        scope, text = unit.gram
        names = {"#n": grams.HEAD_COUNT}
        values: dict[str, dict] = {":d": {"N": str(unit.delta)}}
        update = "ADD #n :d"
        condition: dict[str, Any] = {}
        if unit.directory is not None or unit.overflow:
            names.update({"#l": grams.DIRECTORY, "#o": grams.OVERFLOW, "#h": grams.HEAD_VERSION})
            values[":h1"] = {"N": str((unit.head_version or 0) + 1)}
            if unit.overflow:
                update += " SET #o = :o, #h = :h1 REMOVE #l"
                values[":o"] = {"N": "1"}
            else:
                update += " SET #l = :l, #h = :h1"
                values[":l"] = {"L": [{"S": lower} for lower in unit.directory or []]}
            if unit.head_version is None:
                condition["ConditionExpression"] = "attribute_not_exists(PK)"
            else:
                condition["ConditionExpression"] = "#h = :h0" if unit.head_version else "attribute_not_exists(#h) OR #h = :h0"
                values[":h0"] = {"N": str(unit.head_version)}
        elif unit.delta == 0:
            return None
        if "#o" in names and "#o" not in update:
            del names["#o"]
        if "#l" in names and "#l" not in update:
            del names["#l"]
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"PK": {"S": grams.head_partition(scope)}, "SK": {"S": text}},
                "UpdateExpression": update,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                **condition,
            }
        }

    def _write(self, units: list[Unit], report: Report) -> list[GramKey]:
        """Write the units in transactions of whole parts; the grams of cancelled ones, to plan again.

        A gram's parts go in waves (its first part in the first wave, ...), the transactions of a wave
        side by side (``WRITERS`` at once): parts of different grams touch different items.
        """
        waves: list[list[Unit]] = []
        seen: dict[GramKey, int] = defaultdict(int)
        for unit in units:
            number = seen[unit.gram]
            seen[unit.gram] += 1
            if number == len(waves):
                waves.append([])
            waves[number].append(unit)
        failed: set[GramKey] = set()
        for wave in waves:
            wave = [unit for unit in wave if unit.gram not in failed]
            transactions: list[tuple[list[dict], list[GramKey]]] = []
            batch: list[dict] = []
            grams_in: list[GramKey] = []
            for unit in wave:
                head = self._head(unit)
                actions = unit.actions + ([head] if head else [])
                if batch and len(batch) + len(actions) > MAX_ACTIONS:
                    transactions.append((batch, grams_in))
                    batch, grams_in = [], []
                batch = batch + actions
                grams_in = grams_in + [unit.gram]
            if batch:
                transactions.append((batch, grams_in))

            def send(transaction: tuple[list[dict], list[GramKey]]) -> list[GramKey]:
                actions, grams_of = transaction
                try:
                    self._client.transact_write_items(TransactItems=actions)
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                        raise
                    return grams_of
                report.transactions += 1
                report.blocks_written += sum(1 for action in actions if "Update" not in action)
                return []

            if len(transactions) > 1 and WRITERS > 1:
                with ThreadPoolExecutor(max_workers=WRITERS) as pool:
                    results = list(pool.map(send, transactions))
            else:
                results = [send(transaction) for transaction in transactions]
            for cancelled in results:
                failed.update(cancelled)
        return sorted(failed)
