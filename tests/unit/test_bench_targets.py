"""The bench's verdict on how a request's cost moves between catalog sizes (``devtools.bench.targets.flat``):
a page per item returned, a phrase count per song counted, anything else per request."""

from devtools.bench import targets
from devtools.bench.mix import SONGS_PATH, Shape
from devtools.bench.runner import Result, Side


def _result(shape: Shape, size: int, returned: int, items: int, capacity: float) -> Result:
    ours = Side()
    ours.add(returned, items, 0, capacity, 0.01)
    return Result(shape, size, ours, Side())


def _verdict(shape: Shape, small: tuple[int, int, float], large: tuple[int, int, float]) -> targets.Verdict:
    (verdict,) = targets.flat([_result(shape, 10_000, *small)], [_result(shape, 50_000, *large)])
    return verdict


PAGE = Shape("songs list: phrase", SONGS_PATH, {"phrase": "fire"})
COUNT = Shape("songs count: phrase", f"{SONGS_PATH}/count", {"phrase": "fire"})
RANDOM = Shape("songs random: genres: 3", f"{SONGS_PATH}/random", {"genres": "a,b,c"})


def test_a_page_that_reads_more_per_song_returned_at_the_larger_size_is_not_met() -> None:
    verdict = _verdict(PAGE, (25, 35, 20.0), (25, 43, 21.0))
    assert not verdict.met and "items per item returned 1.40 → 1.72" in verdict.detail


def test_a_count_is_judged_per_song_counted_and_a_fall_is_met_and_said() -> None:
    grown = _verdict(COUNT, (900, 12, 10.5), (4_500, 60, 52.5))  # five times the songs for five times the reads
    assert grown.met
    fallen = _verdict(COUNT, (900, 12, 10.5), (4_412, 32, 31.0))  # the heads spread over more songs
    assert fallen.met and fallen.detail.endswith("(falls)")
    worse = _verdict(COUNT, (900, 12, 10.5), (900, 14, 12.0))
    assert not worse.met


def test_other_requests_are_judged_per_request_on_items_and_capacity_alike() -> None:
    assert _verdict(RANDOM, (1, 6, 4.0), (1, 6, 4.0)).met
    assert not _verdict(RANDOM, (1, 6, 4.0), (1, 6, 4.5)).met, "12.5% more read units"
    assert not _verdict(RANDOM, (1, 6, 4.0), (1, 7, 4.0)).met


def test_unbounded_shapes_are_not_judged() -> None:
    unbounded = Shape("songs list: exclude", SONGS_PATH, {"genres": "-a"}, bounded=False)
    assert targets.flat([_result(unbounded, 10_000, 25, 30, 9.0)], [_result(unbounded, 50_000, 25, 90, 30.0)]) == []
