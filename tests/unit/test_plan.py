"""The planner (``catalog.plan``): which partitions drive a query, with and without the counters read first, in
which key range, and how a page resumes."""

from catalog import keys
from catalog.parse.songs import query as songs_query
from catalog.plan import candidates, plan, resume

CALLER = "3f0c7a52-6d1e-4c8b-9a27-5b4e1f0d2c61"


def query(**params: str):
    return songs_query({name: [value] for name, value in params.items()}, CALLER)


def partition(facet: str, value: str) -> str:
    return keys.partition("songs", "archived", False, keys.path(facet, value))


def test_one_include_facet_leaves_no_choice_and_reads_no_counter() -> None:
    assert candidates(query(genres="Pop,Rock")) == ()
    assert candidates(query(genres="Pop", moods="-Calm")) == ()
    assert candidates(query()) == ()


def test_with_two_include_facets_every_included_value_is_a_candidate() -> None:
    asked = query(genres="Pop,Rock", moods="Calm")
    assert set(candidates(asked)) == {partition("genre", "Pop"), partition("genre", "Rock"), partition("mood", "Calm")}


def test_the_facet_whose_partitions_hold_fewest_postings_drives() -> None:
    asked = query(genres="Pop", moods="Calm,Dark")
    without_counters = plan(asked)
    assert without_counters.driver == "genre", "without counters: the facet with the fewest values"
    sizes = {partition("genre", "Pop"): 900, partition("mood", "Calm"): 30, partition("mood", "Dark"): 40}
    chosen = plan(asked, sizes)
    assert chosen.driver == "mood" and chosen.partitions == (partition("mood", "Calm"), partition("mood", "Dark"))
    assert plan(asked, {**sizes, partition("genre", "Pop"): 50}).driver == "genre"


def test_a_value_no_song_carries_has_no_counter_and_drives() -> None:
    asked = query(genres="Pop", moods="Calm")
    chosen = plan(asked, {partition("genre", "Pop"): 900})  # no counter for Calm: no posting
    assert chosen.driver == "mood"


def test_ids_drive_a_plan_of_their_records_keys_and_no_partition() -> None:
    chosen = plan(query(ids="b0000000-0000-4000-8000-000000000002,a0000000-0000-4000-8000-000000000001", genres="Pop"))
    assert chosen.partitions == () and chosen.driver is None
    assert chosen.posting_keys == (
        keys.record_key("songs", "a0000000-0000-4000-8000-000000000001"),
        keys.record_key("songs", "b0000000-0000-4000-8000-000000000002"),
    )
    assert chosen.scope_partition == keys.partition("songs", "archived", False, keys.path()), "a posting read must be in it"


def test_without_an_include_facet_the_scopes_all_partition_is_read() -> None:
    chosen = plan(query(genres="-Pop", moods="-Calm"))
    assert chosen.partitions == (keys.partition("songs", "archived", False, keys.path()),) and chosen.driver is None
    assert plan(query(archived="true")).partitions == (keys.partition("songs", "archived", True, keys.path()),)


def test_a_value_whose_partition_cannot_exist_is_not_read() -> None:
    assert plan(query(genres="Pop," + "x" * 3000)).partitions == (partition("genre", "Pop"),)


def test_time_bounds_are_the_key_range_exclusive() -> None:
    chosen = plan(query(newerThan="2024-01-01T00:00:00", olderThan="2024-02-01T00:00:00"))
    assert (chosen.low, chosen.high) == (keys.after("2024-01-01T00:00:00.000000"), keys.before("2024-02-01T00:00:00.000000"))
    inside = keys.sort_key("2024-01-15T00:00:00.000000", "some-id")
    outside = keys.sort_key("2024-02-01T00:00:00.000000", "some-id")
    assert chosen.within(inside) and not chosen.within(outside)
    assert chosen.unthinned, "time bounds alone: every entry of the range matches"
    assert not plan(query(newerThan="2024-01-01T00:00:00", phrase="x")).unthinned


def test_resuming_reads_on_after_the_position_in_the_querys_order() -> None:
    position = keys.sort_key("2024-01-15T00:00:00.000000", "some-id")
    ascending = plan(query(newerThan="2024-01-01T00:00:00"))
    assert (resume(ascending, position).low, resume(ascending, position).high) == (position, None)
    descending = plan(query(sortOrder="desc", olderThan="2024-02-01T00:00:00"))
    assert resume(descending, position).high == position and resume(descending, position).low is None
    earlier = keys.sort_key("2023-06-01T00:00:00.000000", "some-id")
    assert resume(plan(query(olderThan="2023-01-01T00:00:00", sortOrder="desc")), earlier).high == keys.before(
        "2023-01-01T00:00:00.000000"
    ), "a position past a bound keeps the bound"


def test_a_song_in_two_included_genres_is_reached_twice() -> None:
    chosen = plan(query(genres="Pop,Rock,Jazz"))
    assert chosen.multiplicity({"genres": ["Pop", "Rock"]}) == 2
    assert chosen.multiplicity({"genres": ["Jazz"]}) == 1
    assert plan(query()).multiplicity({"genres": ["Pop", "Rock"]}) == 1
