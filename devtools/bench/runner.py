"""Run the mix at one size: our API through its handlers, and the naive baseline on the same data.

Each shape is requested ``repetitions`` times (fewer when a shape has already taken
``shape_budget_s``: the non-exact counts at 50,000 songs read whole partitions), after one untimed
request per function so that imports are not timed. Every answer is compared with the baseline's:
the same ids in the same order for pages, the same number for counts, the same record for get,
and a pick among the matching records for random. A difference is reported, never hidden.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from devtools.bench import baseline
from devtools.bench.mix import Shape
from devtools.local.in_process import Answer, InProcessApi

log = logging.getLogger(__name__)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (a measured value, no interpolation)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Side:
    """What one side (ours or the baseline) returned, read and took, one entry per repetition."""

    returned: list[int] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    records: list[int] = field(default_factory=list)
    entries: list[int] | None = None
    """Index entries read (only when the store's meter counts them)."""
    capacity: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    """The index partitions the first repetition read (which one drove a list, a count's edge buckets)."""

    def add(self, returned: int, items: int, records: int, capacity: float, seconds: float, entries: int | None = None) -> None:
        self.returned.append(returned)
        self.items.append(items)
        self.records.append(records)
        self.capacity.append(capacity)
        self.seconds.append(seconds)
        if entries is not None:
            self.entries = (self.entries or []) + [entries]

    @staticmethod
    def mean(values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    def amplification(self) -> tuple[float | None, float | None]:
        """Worst repetition's (items read / returned, capacity / (0.5 x returned)); None if nothing returned."""
        per_item = [items / returned for items, returned in zip(self.items, self.returned) if returned]
        per_capacity = [capacity / (0.5 * returned) for capacity, returned in zip(self.capacity, self.returned) if returned]
        return (max(per_item) if per_item else None), (max(per_capacity) if per_capacity else None)

    def summary(self) -> dict[str, Any]:
        items_amplification, capacity_amplification = self.amplification()
        return {
            "repetitions": len(self.items),
            "returned": self.mean(self.returned),
            "items": self.mean(self.items),
            "items_max": max(self.items, default=0),
            "records": self.mean(self.records),
            "records_max": max(self.records, default=0),
            "entries": self.mean(self.entries) if self.entries is not None else None,
            "capacity": self.mean(self.capacity),
            "amplification_items": items_amplification,
            "amplification_capacity": capacity_amplification,
            "ms_p50": 1000 * percentile(self.seconds, 0.5) if self.seconds else None,
            "ms_p95": 1000 * percentile(self.seconds, 0.95) if self.seconds else None,
            "ms_max": 1000 * max(self.seconds) if self.seconds else None,
            "partitions": self.partitions,
        }


@dataclass
class Result:
    shape: Shape
    size: int
    ours: Side | None
    """None when the shape could not be requested (see ``note``)."""
    baseline: Side
    mismatches: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass
class NaiveTables:
    client: Any
    songs: str
    owners: str
    soundtracks: str


# -- answers, in a form both sides can be compared in ------------------------------------------------


def _key(shape: Shape) -> str:
    return baseline.SOUNDTRACK_KEY if shape.collection == "soundtracks" else baseline.SONG_KEY


def _our_answer(shape: Shape, answer: Answer) -> tuple[int, Any]:
    """(items returned, comparable answer) of our API."""
    if answer.status != 200:
        return 0, ("status", answer.status, answer.body)
    key = _key(shape)
    if shape.kind == "list":
        ids = [item[key] for item in answer.body]
        if shape.collection == "soundtracks":
            return len(ids), (ids, int(answer.headers["X-Pagination-Item-Total"]))
        return len(ids), ids
    if shape.kind == "count" and "phrase" in shape.params:
        return answer.body["count"], answer.body["count"]  # the songs counted: what a phrase count reads in proportion to
    if shape.kind in ("count", "genre count"):
        return 1, answer.body["count"]
    if shape.kind == "genres":
        return len(answer.body), answer.body
    return 1, answer.body[key]


@dataclass
class _Expected:
    """The baseline's answer to one shape, and what producing it read and took."""

    returned: int
    answer: Any
    """ids (songs page), (ids, total) (soundtracks page), a number (count), the set of ids random may return,
    genre names (genres page)."""
    items: int
    capacity: float
    seconds: float


def _expected(shape: Shape, params: dict[str, str], scans: dict[str, baseline.Scan], owners: dict[str, dict]) -> _Expected:
    """Answer a shape from Scans already made: their cost plus the shape's own work in memory."""
    started = time.perf_counter()
    key = _key(shape)
    if shape.collection == "songs":
        used = [scans["songs"]] + ([scans["owners"]] if params.get("phrase") else [])
        songs = scans["songs"].items
        if shape.kind == "list":
            answer: Any = [song[key] for song in baseline.songs_page(songs, owners, params)]
            returned = len(answer)
        elif shape.kind == "genres":
            answer = baseline.genres_page(songs, owners, params)
            returned = len(answer)
        elif shape.kind == "genre count":
            answer, returned = len(baseline.genre_counts(songs, owners, params)), 1
        else:
            matched = [song[key] for song in baseline.songs_matching(songs, owners, params)]
            answer, returned = (len(matched), 1) if shape.kind == "count" else (set(matched), 1 if matched else 0)
    else:
        used = [scans["soundtracks"]]
        tracks = scans["soundtracks"].items
        if shape.kind == "list":
            page, total = baseline.soundtracks_page(tracks, params)
            answer, returned = ([track[key] for track in page], total), len(page)
        else:
            matched = [track[key] for track in baseline.soundtracks_matching(tracks, params)]
            answer, returned = (len(matched), 1) if shape.kind == "count" else (set(matched), 1 if matched else 0)
    in_memory = time.perf_counter() - started
    return _Expected(
        returned=returned,
        answer=answer,
        items=sum(len(scan.items) for scan in used),
        capacity=sum(scan.capacity for scan in used),
        seconds=sum(scan.seconds for scan in used) + in_memory,
    )


def _agrees(shape: Shape, ours: Any, expected: Any) -> bool:
    if shape.kind == "random":
        return ours in expected
    return ours == expected


def _describe(ours: Any, expected: Any) -> str:
    def short(value: Any) -> str:
        if isinstance(value, set):
            return f"one of {len(value)} ids"
        text = repr(value)
        return text if len(text) <= 160 else text[:157] + "..."

    return f"ours {short(ours)} != baseline {short(expected)}"


# -- the run --------------------------------------------------------------------------------------


RANDOM_REPETITIONS = 20
"""Requests at least for a random pick, whose reads vary from one pick to the next: the mean of 20
varies about 2.6 times less than that of 3 (the square root of 20 / 3), so that sizes can be compared."""


def _warm_up(api: InProcessApi, shapes: list[Shape]) -> None:
    """One untimed request per function and collection: module imports and first connections."""
    seen = set()
    for shape in shapes:
        if shape.follows is None and (shape.collection, shape.kind) not in seen:
            seen.add((shape.collection, shape.kind))
            api.get(shape.path, shape.params)


@dataclass
class _Ours:
    """Our side of every shape: figures, the comparable answer of each repetition, and why a shape was skipped."""

    sides: dict[str, Side] = field(default_factory=dict)
    answers: dict[str, list[Any]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def _request_ours(api: InProcessApi, shapes: list[Shape], repetitions: int, shape_budget_s: float) -> _Ours:
    ours = _Ours()
    first: dict[str, Answer] = {}  # each shape's first answer, whose next link a following shape reads
    with api.serving():
        _warm_up(api, shapes)
        for shape in shapes:
            side, started = Side(), time.perf_counter()
            for _ in range(max(repetitions, RANDOM_REPETITIONS) if shape.kind == "random" else repetitions):
                if shape.follows is not None:
                    target = first[shape.follows].next_target if shape.follows in first else None
                    if not target:
                        ours.notes[shape.name] = f'not measured: the answer to "{shape.follows}" has no Link rel="next"'
                        break
                    answer = api.get(target)
                else:
                    answer = api.get(shape.path, shape.params)
                first.setdefault(shape.name, answer)
                returned, comparable = _our_answer(shape, answer)
                meter = answer.meter
                side.add(returned, meter.items, meter.records, meter.capacity, answer.seconds, getattr(meter, "entries", None))
                if len(side.items) == 1:
                    side.partitions = list(getattr(meter, "partitions", []))
                ours.answers.setdefault(shape.name, []).append(comparable)
                if time.perf_counter() - started > shape_budget_s:
                    break
            if side.items:
                ours.sides[shape.name] = side
    return ours


def _baseline(shape: Shape, naive: NaiveTables, scans: list[dict[str, baseline.Scan]], repetitions: int) -> tuple[Side, Any]:
    """The baseline's figures for one shape and its answer: a GetItem per repetition for get, else the Scans."""
    side, answer = Side(), None
    if shape.kind == "get":
        table = naive.songs if shape.collection == "songs" else naive.soundtracks
        for _ in range(repetitions):
            got = baseline.get(naive.client, table, _key(shape), shape.path.rsplit("/", 1)[1])
            found = 1 if got.item else 0
            side.add(found, found, found, got.capacity, got.seconds)
            answer = got.item[_key(shape)] if got.item else None
        return side, answer
    params = shape.params
    if shape.follows is not None and shape.baseline_params is not None:  # a followed page: the Scan reads it by offset
        params = shape.baseline_params
    for scan in scans:
        owners = {owner["id"]: owner for owner in scan["owners"].items}
        expected = _expected(shape, params, scan, owners)
        side.add(expected.returned, expected.items, expected.items, expected.capacity, expected.seconds)
        answer = expected.answer
    return side, answer


def measure(
    size: int,
    api: InProcessApi,
    naive: NaiveTables,
    shapes: list[Shape],
    *,
    repetitions: int,
    shape_budget_s: float,
    baseline_scans: int,
) -> list[Result]:
    ours = _request_ours(api, shapes, repetitions, shape_budget_s)
    scans = []
    for _ in range(baseline_scans):
        tables = {"songs": naive.songs, "owners": naive.owners, "soundtracks": naive.soundtracks}
        scans.append({name: baseline.scan(naive.client, table) for name, table in tables.items()})
        log.info("%d songs: baseline Scan of %d songs in %.1f s", size, len(scans[-1]["songs"].items), scans[-1]["songs"].seconds)
    results = []
    for shape in shapes:
        side = ours.sides.get(shape.name)
        theirs, expected = _baseline(shape, naive, scans, len(side.items) if side else 1)
        mismatches = sorted(
            {_describe(answer, expected) for answer in ours.answers.get(shape.name, []) if not _agrees(shape, answer, expected)}
        )
        if mismatches:
            log.error("%d songs, %s: %s", size, shape.name, mismatches[0])
        results.append(Result(shape, size, side, theirs, mismatches, ours.notes.get(shape.name)))
    return results
