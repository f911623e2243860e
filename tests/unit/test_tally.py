"""Inclusion–exclusion over the counters' value combinations (``catalog.tally.terms``): its terms, and
what a filter with many values costs to plan."""

import tracemalloc

from catalog.parse.songs import query as songs_query
from catalog.tally import MAX_TERMS, terms

CALLER = "3f0c7a52-6d1e-4c8b-9a27-5b4e1f0d2c61"


def query(**params: str):
    return songs_query({name: [value] for name, value in params.items()}, CALLER)


def genres(*values: str) -> frozenset:
    return frozenset(("genre", value) for value in values)


def test_a_union_of_two_genres_counts_each_and_takes_their_overlap_once() -> None:
    assert terms(query(genres="Pop,Rock")) == {genres("Pop"): 1, genres("Rock"): 1, genres("Pop", "Rock"): -1}


def test_an_exclusion_is_the_scope_less_the_value() -> None:
    assert terms(query(genres="-Rock")) == {frozenset(): 1, genres("Rock"): -1}


def test_too_many_values_for_inclusion_exclusion_leave_the_count_to_the_entries() -> None:
    values = [f"g{number}" for number in range(13)]  # 2^13 - 1 subsets: more than MAX_TERMS
    assert 2 ** len(values) - 1 > MAX_TERMS
    assert terms(query(genres=",".join(values))) is None


def test_a_filter_with_many_values_is_refused_before_its_subsets_are_built() -> None:
    # 20 genres have 2^20 subsets: building them before checking their number took all of a machine's
    # memory (a fuzzed `genres=` of a few dozen values did). The check comes first, so planning stays small.
    asked = query(genres=",".join(f"g{number}" for number in range(20)), moods="-a,-b")
    tracemalloc.start()
    try:
        assert terms(asked) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"{peak} bytes to plan a count"
