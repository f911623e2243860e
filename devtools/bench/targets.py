"""Issue 6's targets, each judged met or not from a run's figures.

Per request (at every size, on the worst repetition): get reads 1 item; random with no filter or
one include value reads at most 2; a default page or a single include value has an amplification
of at most 1.1, several include values or include + exclude at most 1.5. Amplification is the
issue's: read capacity / (0.5 x items returned), 0.5 being one eventually consistent read of an
item under 4 KB (items read / items returned is shown beside it: compact index entries count there
as items, although a few hundred of them cost one read unit); counts answered by a counter read 1 item, other counts no
full record; a deep offset page reads no more full records than it returns, plus one (the
look-ahead telling whether a next page follows).

Over the mix, at the largest size: the whole mix reads at least 100x less capacity than the
baseline, every ``phrase`` shape at least 50x less (issue 13), and no shape takes over 2 s in process. A count
answered by counters (issue 12) reads at most 64 items; the genres of no filter, ``archived`` or one
value of one facet (issue 16) at most the scope's distinct genres + 1. Between the smallest and the largest size,
every bounded shape's items and capacity per request stay within 10%.
"""

from __future__ import annotations

from dataclasses import dataclass

from devtools.bench.mix import Target
from devtools.bench.runner import Result, Side

MIX_RATIO = 100.0
PHRASE_RATIO = 50.0
"""Issue 13 (was 10x in issue 6)."""
PHRASE_ITEMS = 50
COUNTER_ITEMS = 64
"""Issue 12: a count answered by counters reads at most this many items."""
SECONDS_IN_PROCESS = 2.0
"""Issue 12: no shape takes longer in process (handler and DynamoDB Local) at the largest size."""
FLAT_WITHIN = 0.10
COLD_START_RATIO = 1.25
WARM_OVERHEAD_MS = 2.0


@dataclass
class Verdict:
    target: str
    scope: str
    met: bool
    detail: str


def _amplification_detail(items: float | None, capacity: float | None) -> str:
    def shown(value: float | None) -> str:
        return "n/a (nothing returned)" if value is None else f"{value:.2f}"

    return f"items {shown(items)}, capacity {shown(capacity)}"


def per_request(result: Result) -> Verdict | None:
    shape, ours = result.shape, result.ours
    if shape.target is None:
        return None
    scope = f"{shape.name} @ {result.size:,}"
    if ours is None:
        return Verdict(shape.target.value, scope, False, result.note or "not measured")
    worst_items, worst_records = max(ours.items), max(ours.records)
    if shape.target is Target.ONE_ITEM:
        return Verdict(shape.target.value, scope, worst_items == 1, f"{worst_items} items")
    if shape.target is Target.AT_MOST_TWO_ITEMS:
        return Verdict(shape.target.value, scope, worst_items <= 2, f"at most {worst_items} items")
    if shape.target is Target.PHRASE_ITEMS:
        return Verdict(shape.target.value, scope, worst_items <= PHRASE_ITEMS, f"at most {worst_items} items")
    if shape.target is Target.COUNTERS:
        return Verdict(shape.target.value, scope, worst_items <= COUNTER_ITEMS, f"at most {worst_items} items")
    if shape.target is Target.GENRES:
        return Verdict(shape.target.value, scope, shape.item_bound is not None and worst_items <= shape.item_bound,
                       f"at most {worst_items} items, of {shape.item_bound} allowed")  # fmt: skip
    if shape.target is Target.NO_RECORDS:
        return Verdict(shape.target.value, scope, worst_records == 0, f"{worst_records} records")
    if shape.target is Target.SKIP_BY_ENTRIES:
        returned = min(ours.returned)
        return Verdict(shape.target.value, scope, worst_records <= returned + 1,
                       f"{worst_records} records for {returned} returned; {ours.mean(ours.capacity):.1f} RCU in all")  # fmt: skip
    bound = 1.1 if shape.target is Target.AMPLIFICATION_1_1 else 1.5
    items, capacity = ours.amplification()
    met = capacity is not None and capacity <= bound
    return Verdict(shape.target.value, scope, met, _amplification_detail(items, capacity))


def whole_mix(results: list[Result]) -> Verdict:
    """Sum of one request of every shape, ours against the baseline's, at one size."""
    measured = [(result.ours, result.baseline) for result in results if result.ours is not None]
    ours = sum(side.mean(side.capacity) for side, _ in measured)
    theirs = sum(baseline.mean(baseline.capacity) for _, baseline in measured)
    ratio = theirs / ours if ours else float("inf")
    size = results[0].size
    return Verdict(f"whole mix ≥ {MIX_RATIO:.0f}x less capacity than the Scan baseline", f"{len(measured)} shapes @ {size:,}",
                   ratio >= MIX_RATIO, f"{ours:,.1f} RCU vs {theirs:,.1f} RCU: {ratio:,.1f}x")  # fmt: skip


def phrase(results: list[Result]) -> list[Verdict]:
    verdicts = []
    for result in results:
        params = result.shape.baseline_params or result.shape.params
        if "phrase" not in params or result.ours is None:
            continue
        ours, theirs = result.ours.mean(result.ours.capacity), result.baseline.mean(result.baseline.capacity)
        ratio = theirs / ours if ours else float("inf")
        verdicts.append(Verdict(f"phrase ≥ {PHRASE_RATIO:.0f}x less capacity than the Scan baseline",
                                f"{result.shape.name} @ {result.size:,}", ratio >= PHRASE_RATIO,
                                f"{ours:,.1f} RCU vs {theirs:,.1f} RCU: {ratio:,.1f}x"))  # fmt: skip
    return verdicts


def flat(smallest: list[Result], largest: list[Result]) -> list[Verdict]:
    """Bounded shapes: items and capacity grow by at most 10% from the smallest to the largest size.

    Pages are compared per item returned (an owner's page holds as many songs as that owner has), a
    count with a phrase per song counted (it reads the index in proportion to its matches), other
    requests per request. A figure that falls is met, and its detail says so: a request's fixed
    reads (a phrase's heads, a counter) spread over more matches, or a 4 KB rounding that a larger
    item fills better; the rule is that no request costs more as the catalog grows.
    """
    by_name = {result.shape.name: result for result in smallest}
    verdicts = []
    for result in largest:
        small = by_name.get(result.shape.name)
        if not result.shape.bounded or small is None or small.ours is None or result.ours is None:
            continue
        counted = result.shape.kind == "count" and "phrase" in result.shape.params
        per_item = (result.shape.kind == "list" or counted) and min(small.ours.returned) > 0 and min(result.ours.returned) > 0
        unit = " per item returned" if per_item else ""

        def figures(side: Side, per_item: bool = per_item) -> tuple[float, float]:
            returned = side.mean(side.returned) if per_item else 1.0
            return side.mean(side.items) / returned, side.mean(side.capacity) / returned

        changes = []
        for label, before, after in zip(("items", "RCU"), figures(small.ours), figures(result.ours), strict=True):
            change = (after - before) / before if before else (0.0 if after == before else float("inf"))
            changes.append((label, before, after, change))
        met = all(change <= FLAT_WITHIN for *_, change in changes)
        detail = ", ".join(f"{label}{unit} {before:,.2f} → {after:,.2f}" for label, before, after, _ in changes)
        if any(change < -FLAT_WITHIN for *_, change in changes):
            detail += " (falls)"
        verdicts.append(Verdict(f"grows at most {FLAT_WITHIN:.0%} between sizes",
                                f"{result.shape.name} ({small.size:,} → {result.size:,})", met, detail))  # fmt: skip
    return verdicts


def in_time(results: list[Result]) -> list[Verdict]:
    """Every shape's slowest repetition within ``SECONDS_IN_PROCESS``: one verdict, and one per shape past it."""
    measured = [(result, result.ours) for result in results if result.ours is not None]
    slow = [(result, side) for result, side in measured if max(side.seconds) > SECONDS_IN_PROCESS]
    target = f"≤ {SECONDS_IN_PROCESS:g} s in process"
    verdicts = [
        Verdict(target, f"{result.shape.name} @ {result.size:,}", False, f"{max(side.seconds):,.1f} s") for result, side in slow
    ]
    size = results[0].size if results else 0
    verdicts.append(
        Verdict(target, f"every shape @ {size:,}", not slow, f"{len(measured) - len(slow)} of {len(measured)} shapes")
    )
    return verdicts


def cold_start(rows: list[dict]) -> list[Verdict]:
    verdicts = []
    for row in rows:
        verdicts.append(Verdict(f"cold start ≤ {COLD_START_RATIO}x the boto3 floor", row["function"],
                                row["ratio"] <= COLD_START_RATIO,
                                f"{row['cold_ms_p50']:.0f} ms vs {row['floor_ms_p50']:.0f} ms: {row['ratio']:.2f}x"))  # fmt: skip
        verdicts.append(Verdict(f"warm overhead ≤ {WARM_OVERHEAD_MS:.0f} ms", row["function"],
                                row["warm_ms_p50"] <= WARM_OVERHEAD_MS, f"{row['warm_ms_p50']:.2f} ms"))  # fmt: skip
    return verdicts


def judge(results_by_size: dict[int, list[Result]], cold_start_rows: list[dict] | None) -> list[Verdict]:
    sizes = sorted(results_by_size)
    verdicts = [v for size in sizes for result in results_by_size[size] if (v := per_request(result)) is not None]
    largest = results_by_size[sizes[-1]]
    verdicts.append(whole_mix(largest))
    verdicts += phrase(largest)
    verdicts += in_time(largest)
    if len(sizes) > 1:
        verdicts += flat(results_by_size[sizes[0]], largest)
    if cold_start_rows:
        verdicts += cold_start(cold_start_rows)
    return verdicts
