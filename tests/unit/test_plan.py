"""The planner's choice of the partitions that drive a query, with and without the counters read first."""

from catalog import keys
from catalog.parse.songs import query as songs_query
from catalog.plan import candidates, plan

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
