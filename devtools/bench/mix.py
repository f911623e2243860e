"""The bench's query mix: fixed shapes, with filter values picked from the generated catalog.

Every value is derived from the catalog deterministically (the most common genre, the owner in the
middle of the ranking by song count, the median ``createdAt``...), never written in, so the mix
means the same thing at every size. Each shape says whether its read cost should be independent
of the catalog's size (``bounded``) and which of issue 6's targets it is held to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

from devtools.bench.loader import Catalog

SONGS_PATH = "/v1/songs"
GENRES_PATH = "/v1/songs/genres"
SOUNDTRACKS_PATH = "/api/v1/soundtracks"
DEEP_OFFSET = 5_000
PAGE_SIZE = 25
"""The songs list's default ``limit``."""


class Target(Enum):
    """Issue 6's bounds on one request's reads (the whole-mix, phrase and flatness targets are in ``targets``)."""

    ONE_ITEM = "1 item read"
    AT_MOST_TWO_ITEMS = "≤ 2 items read"
    AMPLIFICATION_1_1 = "amplification ≤ 1.1"
    AMPLIFICATION_1_5 = "amplification ≤ 1.5"
    NO_RECORDS = "keys only (0 records)"
    SKIP_BY_ENTRIES = "skipped items cost entries (records ≤ returned + 1)"
    """The one record beyond the page is the look-ahead that tells whether a next page follows."""
    COUNTERS = "≤ 64 items read"
    """Issue 12's bound on a count answered by counters, at any catalog size."""
    PHRASE_ITEMS = "≤ 50 items read"
    """Issue 13's bound on a count or a random pick for an owner's name, at any catalog size."""
    GENRES = "≤ the scope's genres + 1 items read"
    """Issue 16's bound on the genres (and genre count) of no filter, ``archived``, or one value of one facet:
    ``Shape.item_bound`` is that number for the catalog."""


@dataclass(frozen=True)
class Shape:
    name: str
    path: str
    """Route path, e.g. ``/v1/songs/count`` or ``/v1/songs/<id>``."""
    params: dict[str, str] = field(default_factory=dict)
    bounded: bool = True
    """The design promises a read cost independent of the catalog's size (held flat between sizes): not
    so where entries are read until enough match (exclude-only, conditions beyond the driving
    parameter, phrase), nor for counts that enumerate entries."""
    target: Target | None = None
    follows: str | None = None
    """A cursor page: request the ``Link: rel="next"`` of that shape's answer instead of ``params``."""
    baseline_params: dict[str, str] | None = None
    """What the baseline answers for a cursor page (the equivalent offset or page)."""
    item_bound: int | None = None
    """The items ``Target.GENRES`` allows this shape: the distinct genres of its scope in the catalog, + 1."""

    @property
    def collection(self) -> str:
        return "soundtracks" if self.path.startswith(SOUNDTRACKS_PATH) else "songs"

    @property
    def kind(self) -> str:
        """``list``, ``count``, ``random``, ``get``, or for songs ``genres`` and ``genre count``."""
        base = SOUNDTRACKS_PATH if self.collection == "soundtracks" else SONGS_PATH
        if self.path == base:
            return "list"
        if self.path == GENRES_PATH:
            return "genres"
        if self.path == f"{GENRES_PATH}/count":
            return "genre count"
        last = self.path.rsplit("/", 1)[1]
        return last if last in ("count", "random") else "get"


def _ranked(values: list) -> list:
    """Distinct values, most common first (ties in value order, so the ranking is deterministic)."""
    counts = Counter(values)
    return sorted(counts, key=lambda value: (-counts[value], value))


def _middle(ranked: list, number: int = 1) -> list:
    start = max(0, len(ranked) // 2 - number // 2)
    return ranked[start : start + number]


@dataclass(frozen=True)
class _Picks:
    """The catalog's values the mix uses."""

    genres: list[str]
    moods: list[str]
    statuses: list[str]
    owners: list[str]
    """Owners around the median of the ranking by number of (non-archived) songs."""
    one_id: str
    ten_ids: list[str]
    newer_than: str
    older_than: str
    range_low: str
    range_high: str
    common_word: str
    owner_name: str
    two_characters: str
    """The first two letters of the common word."""
    three_words: str
    """The three-word title of the median song that has one."""
    no_match: str
    """A phrase of words that exist, in an order no text has."""
    rare_pair: tuple[str, str]
    """The (genre, mood) pair the fewest songs carry together (at least one)."""
    scope_genres: dict[bool, int]
    """How many distinct genres the songs of each archive state carry."""

    @classmethod
    def of(cls, catalog: Catalog) -> _Picks:
        live = sorted((song for song in catalog.songs if not song["archived"]), key=lambda s: (s["createdAt"], s["id"]))
        times = [song["createdAt"] for song in live]
        owners = _middle(_ranked([song["ownerId"] for song in live]), 3)
        names = catalog.owner_names(owners[0])
        common_word = _ranked([word.lower() for song in live for word in song["title"].split()])[0]
        three = [song["title"].lower() for song in live if len(song["title"].split()) == 3]
        pairs = Counter((genre, mood) for song in live for genre in song["genres"] for mood in song.get("moods", []))
        return cls(
            genres=_ranked([genre for song in live for genre in song["genres"]])[:5],
            moods=_ranked([mood for song in live for mood in song.get("moods", [])])[:3],
            statuses=_ranked([song["mintingStatus"] for song in live])[:3],
            owners=owners,
            one_id=live[len(live) // 2]["id"],
            ten_ids=[live[index * len(live) // 10]["id"] for index in range(10)],
            newer_than=times[len(times) // 2],
            older_than=times[len(times) // 2],
            range_low=times[len(times) * 3 // 10],
            range_high=times[len(times) * 7 // 10],
            common_word=common_word,
            owner_name=names[0] if names else owners[0],
            two_characters=common_word[:2],
            three_words=three[len(three) // 2] if three else common_word,
            no_match=f"{common_word} {common_word} nft",
            rare_pair=min(pairs, key=lambda pair: (pairs[pair], pair)),
            scope_genres={state: len({genre for song in catalog.songs if song["archived"] is state for genre in song["genres"]})
                          for state in (False, True)},
        )  # fmt: skip


def _song_filters(p: _Picks) -> list[tuple[str, dict[str, str], bool, Target | None, Target | None]]:
    """(name, filters, bounded, target of the page, target of the count) for every songs filter shape.

    A count without ``phrase`` is answered by counters (issue 12: at most 64 items, flat between sizes).
    """
    one, several, exact_count = Target.AMPLIFICATION_1_1, Target.AMPLIFICATION_1_5, Target.ONE_ITEM
    keys_only, counters = Target.NO_RECORDS, Target.COUNTERS
    three_genres = ",".join(p.genres[:3])
    genre, mood = p.rare_pair
    return [
        ("archived=true", {"archived": "true"}, True, one, exact_count),
        ("ids: 1", {"ids": p.one_id}, True, one, None),
        ("ids: 10", {"ids": ",".join(p.ten_ids)}, True, several, None),
        ("ownerIds: 1", {"ownerIds": p.owners[0]}, True, one, exact_count),
        ("ownerIds: 3", {"ownerIds": ",".join(p.owners)}, True, several, counters),
        ("genres: 1", {"genres": p.genres[0]}, True, one, exact_count),
        ("genres: 3", {"genres": three_genres}, True, several, counters),
        ("genres: 5", {"genres": ",".join(p.genres)}, True, None, counters),
        ("moods: 1", {"moods": p.moods[0]}, True, one, exact_count),
        ("moods: 3", {"moods": ",".join(p.moods)}, True, several, counters),
        ("mintingStatuses: 1", {"mintingStatuses": p.statuses[0]}, True, one, exact_count),
        ("mintingStatuses: 3", {"mintingStatuses": ",".join(p.statuses)}, True, several, counters),
        ("exclude genres: -1", {"genres": f"-{p.genres[0]}"}, False, None, counters),
        ("exclude moods -2, statuses -1", {"moods": f"-{p.moods[0]},-{p.moods[1]}", "mintingStatuses": f"-{p.statuses[0]}"},
         False, None, counters),
        ("newerThan", {"newerThan": p.newer_than}, True, one, counters),
        ("olderThan", {"olderThan": p.older_than}, True, one, counters),
        ("newerThan + olderThan", {"newerThan": p.range_low, "olderThan": p.range_high}, True, one, counters),
        ("archived=true + newerThan", {"archived": "true", "newerThan": p.newer_than}, True, one, counters),
        ("mintingStatuses: 3 + olderThan", {"mintingStatuses": ",".join(p.statuses), "olderThan": p.older_than},
         True, several, counters),
        ("phrase: common word", {"phrase": p.common_word}, True, None, keys_only),
        ("phrase: owner name", {"phrase": p.owner_name}, True, None, Target.PHRASE_ITEMS),
        ("phrase: 2 characters", {"phrase": p.two_characters}, True, None, keys_only),
        ("phrase: 3 words", {"phrase": p.three_words}, True, None, Target.PHRASE_ITEMS),  # its record may prove it
        ("phrase: no match", {"phrase": p.no_match}, True, None, keys_only),
        ("genres: 1 + moods: -1", {"genres": p.genres[0], "moods": f"-{p.moods[0]}"}, True, several, counters),
        ("genres: 1 + moods: 1", {"genres": p.genres[0], "moods": p.moods[0]}, False, None, counters),
        ("genres + moods: a rare pair", {"genres": genre, "moods": mood}, False, None, counters),
        ("ownerIds: 1 + newerThan, desc", {"ownerIds": p.owners[0], "newerThan": p.range_low, "sortOrder": "desc"},
         True, None, counters),
        ("phrase + genres: 1", {"phrase": p.common_word, "genres": p.genres[0]}, True, None, keys_only),
    ]  # fmt: skip


def _songs(catalog: Catalog) -> list[Shape]:
    p = _Picks.of(catalog)
    three_genres = ",".join(p.genres[:3])
    page, count, random = SONGS_PATH, f"{SONGS_PATH}/count", f"{SONGS_PATH}/random"
    deep = f"songs list: offset {DEEP_OFFSET:,}"
    shapes = [
        Shape("songs list: default page", page, {}, target=Target.AMPLIFICATION_1_1),
        Shape(deep, page, {"offset": str(DEEP_OFFSET)}, target=Target.SKIP_BY_ENTRIES),
        Shape(f"songs list: cursor page after offset {DEEP_OFFSET:,}", page, follows=deep,
              baseline_params={"offset": str(DEEP_OFFSET + PAGE_SIZE)}, target=Target.AMPLIFICATION_1_1),
        Shape("songs list: sortOrder=desc", page, {"sortOrder": "desc"}, target=Target.AMPLIFICATION_1_1),
    ]  # fmt: skip
    filters = _song_filters(p)
    shapes += [Shape(f"songs list: {name}", page, params, bounded, target) for name, params, bounded, target, _ in filters]
    shapes.append(Shape("songs count: no filter", count, {}, target=Target.ONE_ITEM))
    # A count is bounded: counters answer it, or it reads the postings of given ids, or (a phrase, with
    # or without a genre) the index's blocks, in proportion to the songs counted (held flat per song counted).
    shapes += [Shape(f"songs count: {name}", count, params, True, count_target) for name, params, _, _, count_target in filters]
    shapes += [
        Shape("songs get", f"{SONGS_PATH}/{p.one_id}", target=Target.ONE_ITEM),
        Shape("songs random: no filter", random, {}, target=Target.AT_MOST_TWO_ITEMS),
        Shape("songs random: genres: 1", random, {"genres": p.genres[0]}, target=Target.AT_MOST_TWO_ITEMS),
        Shape("songs random: ownerIds: 1", random, {"ownerIds": p.owners[0]}, target=Target.AT_MOST_TWO_ITEMS),
        Shape("songs random: genres: 3", random, {"genres": three_genres}, bounded=True),
        Shape("songs random: genres: 1 + moods: -1", random, {"genres": p.genres[0], "moods": f"-{p.moods[0]}"}, bounded=True),
        Shape("songs random: newerThan + olderThan", random, {"newerThan": p.range_low, "olderThan": p.range_high}, bounded=True),
        Shape("songs random: phrase", random, {"phrase": p.common_word}, bounded=True),  # drawn from the index's blocks
        Shape("songs random: phrase: owner name", random, {"phrase": p.owner_name}, target=Target.PHRASE_ITEMS),
    ]
    return shapes + _genres(p)


def _genres(p: _Picks) -> list[Shape]:
    """Issue 16: the genres of the matching songs, and their number. From counters with no filter, ``archived``
    or one value of one facet (at most the scope's genres + 1 items), other facet filters the layout counts, a
    time range (per genre, from its range buckets); from entries beyond (bounded as a count by entries is not)."""
    genres, count = GENRES_PATH, f"{GENRES_PATH}/count"
    bound = {False: p.scope_genres[False] + 1, True: p.scope_genres[True] + 1}
    one = [
        ("no filter", {}, False), ("archived=true", {"archived": "true"}, True), ("genres: 1", {"genres": p.genres[0]}, False),
        ("moods: 1", {"moods": p.moods[0]}, False), ("mintingStatuses: 1", {"mintingStatuses": p.statuses[0]}, False),
        ("ownerIds: 1", {"ownerIds": p.owners[0]}, False),
    ]  # fmt: skip
    shapes = [Shape(f"songs genres: {name}", genres, params, target=Target.GENRES, item_bound=bound[archived])
              for name, params, archived in one]  # fmt: skip
    shapes += [
        Shape("songs genres: sortOrder=asc, offset 5, limit 5", genres, {"sortOrder": "asc", "offset": "5", "limit": "5"},
              target=Target.GENRES, item_bound=bound[False]),
        Shape("songs genres: genres: 3", genres, {"genres": ",".join(p.genres[:3])}, target=Target.COUNTERS),
        Shape("songs genres: genres: -1", genres, {"genres": f"-{p.genres[0]}"}, target=Target.COUNTERS),
        Shape("songs genres: newerThan", genres, {"newerThan": p.newer_than}, target=Target.NO_RECORDS),
        Shape("songs genres: genres: 1 + moods: 1", genres, {"genres": p.genres[0], "moods": p.moods[0]}, False,
              Target.NO_RECORDS),
        Shape("songs genres: phrase", genres, {"phrase": p.common_word}, False, Target.NO_RECORDS),
    ]  # fmt: skip
    shapes += [Shape(f"songs genre count: {name}", count, params, target=Target.GENRES, item_bound=bound[archived])
               for name, params, archived in one if name in ("no filter", "genres: 1", "moods: 1", "ownerIds: 1")]  # fmt: skip
    return shapes


def _soundtracks(catalog: Catalog) -> list[Shape]:
    tracks = catalog.soundtracks
    artists = _ranked([track["artist"] for track in tracks if "artist" in track])
    name = _ranked([track["name"] for track in tracks])[0]
    word = _ranked([track["name"].split()[-1] for track in tracks])[0]
    durations = sorted(track["duration"] for track in tracks if "duration" in track)
    dates = sorted(track["release_date"] for track in tracks if "release_date" in track)
    page, count, random = SOUNDTRACKS_PATH, f"{SOUNDTRACKS_PATH}/count", f"{SOUNDTRACKS_PATH}/random"
    median = durations[len(durations) // 2]
    between = f"{dates[len(dates) // 4]}::{dates[len(dates) * 3 // 4]}"
    shapes = [
        Shape("soundtracks list: default page", page, {}, target=Target.AMPLIFICATION_1_1),
        Shape("soundtracks list: page 5", page, {"page": "5"}),
    ]
    shapes += [
        Shape(f"soundtracks list: sort={sort}", page, {"sort": sort})
        for sort in ("created_at,DESC", "updated_at", "name", "duration", "artist", "album", "release_date,DESC")
    ]
    filters = [
        ("name=<most common>", {"name": name}, True, Target.AMPLIFICATION_1_1, Target.ONE_ITEM),
        ("artist=<most common>", {"artist": artists[0]}, True, Target.AMPLIFICATION_1_1, Target.ONE_ITEM),
        ("artist=:<2 artists>", {"artist": f":{artists[1]},{artists[2]}"}, True, Target.AMPLIFICATION_1_5, None),
        ("artist=!<most common>", {"artist": f"!{artists[0]}"}, False, None, None),
        ("name=*<word>", {"name": f"*{word}"}, False, None, None),
        ("album=!*<word>", {"album": f"!*{word}"}, False, None, None),
        ("duration=>=<median>", {"duration": f">={median}"}, False, None, None),
        ("release_date=<a::b>", {"release_date": between}, False, None, None),
        ("artist + duration, sort=release_date,DESC, page 2 of 5",
         {"artist": f":{artists[0]},{artists[1]}", "duration": f">={median}", "sort": "release_date,DESC",
          "size": "5", "page": "2"}, False, None, None),
    ]  # fmt: skip
    shapes += [
        Shape(f"soundtracks list: {label}", page, params, bounded, target) for label, params, bounded, target, _ in filters
    ]
    shapes.append(Shape("soundtracks count: no filter", count, {}, target=Target.ONE_ITEM))
    shapes += [
        Shape(f"soundtracks count: {label}", count, params, count_target is not None, count_target)
        for label, params, _, _, count_target in filters[:5]
    ]
    shapes += [  # ranges, from range buckets (issue 12)
        Shape(f"soundtracks count: {label}", count, params, True, Target.COUNTERS)
        for label, params, *_ in filters
        if label in ("duration=>=<median>", "release_date=<a::b>")
    ]
    shapes += [
        Shape("soundtracks get", f"{SOUNDTRACKS_PATH}/{tracks[len(tracks) // 2]['uuid']}", target=Target.ONE_ITEM),
        Shape("soundtracks random: no filter", random, {}, target=Target.AT_MOST_TWO_ITEMS),
        Shape("soundtracks random: artist=<most common>", random, {"artist": artists[0]}, target=Target.AT_MOST_TWO_ITEMS),
        Shape("soundtracks random: duration=>=<median>", random, {"duration": f">={median}"}, bounded=False),
    ]
    return shapes


def shapes(catalog: Catalog) -> list[Shape]:
    """The whole mix, songs then soundtracks: one request of each shape is 'the mix'."""
    return _songs(catalog) + _soundtracks(catalog)
