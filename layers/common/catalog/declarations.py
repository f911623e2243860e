"""What the catalog knows about each collection: keys, access paths, sort orders, searchable text.

A collection is declared, not coded: the planner, the fetcher, the index writer and the shaper
read these declarations, so a new collection costs a model, a parser for its query dialect and a
declaration here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Facet:
    """An attribute with an access path (index partition) per value: exact and include/exclude filters."""

    name: str
    """Its label in partition names, e.g. ``genre``."""
    attribute: str
    """The record attribute holding its value (or values, when ``multi``)."""
    multi: bool = False

    def values(self, item: dict) -> list[str]:
        """Its values in an item, as partition names spell them."""
        value = item.get(self.attribute)
        if value is None:
            return []
        return [str(one) for one in value] if self.multi else [str(value)]


def _text(value: object) -> str:
    return str(value)


def _number(value: Any) -> str:  # an int, or a Decimal as DynamoDB gives numbers
    return f"{int(value):015d}"


@dataclass(frozen=True)
class Sort:
    """An order the collection can be read in: one index whose range key is ``<encoded value>\\x01<id>``."""

    name: str
    """The API's name for it."""
    attribute: str
    index: str
    key: str
    """The postings' attribute holding the index's range key."""
    encode: Callable[[object], str] = _text
    """Value -> text whose byte order is the value's order."""
    page_index: str | None = None
    """An index with the same keys projecting whole records: a page no filter thins out is read from it
    directly. None: pages are read as compact entries, then their records."""


@dataclass(frozen=True)
class Ranged:
    """An attribute whose ranges are counted from counters: its values counted by bucket, coarse to fine
    (``catalog.cells``), so that a range count reads a few bucket items, never the entries in the range."""

    sort: Sort
    """The order of this attribute: its encoding, and the index where a bucket's entries are read."""
    cuts: tuple[int, ...]
    """Lengths of the encoded value's prefixes that name its buckets, coarse to fine (``createdAt``:
    year, day, minute). The counter item holds the coarsest level; each bucket above the finest has
    an item holding its sub-buckets."""
    width: int
    """The encoded value's length. When the finest cut is the whole width, a finest bucket is a single
    value and counters answer every range alone; otherwise the entries of the (at most two) finest
    buckets a range's bounds fall in are read."""
    facets: tuple[str, ...] | None = None
    """The facets whose partitions are counted by range, besides the collection's ``all``; None: every
    facet. A range within another facet's value is counted from that partition's entries."""

    def counts_in(self, facet: str | None) -> bool:
        """Whether the partitions of ``facet`` (None: the ``all`` partition) are counted by range."""
        return facet is None or self.facets is None or facet in self.facets

    @property
    def name(self) -> str:
        return self.sort.attribute

    @property
    def exact(self) -> bool:
        return self.cuts[-1] >= self.width


@dataclass(frozen=True)
class Collection:
    name: str
    """Key prefix and partition prefix, e.g. ``songs``."""
    scope: str | None
    """A boolean attribute every query filters on (songs: ``archived``); it splits every access path."""
    sorts: tuple[Sort, ...]
    """The orders it can be read in; the first is the default (and the one time bounds apply to)."""
    facets: tuple[Facet, ...]
    fields: tuple[str, ...]
    """The JSON fields of a record, in the order the API returns them."""
    id_attribute: str = "id"
    search_attributes: tuple[str, ...] = ()
    """Attributes a ``phrase`` is matched against (plus the owner's names, where there is an owner)."""
    phrase_facets: tuple[str, ...] = ()
    """Facets whose values the phrase index also lists, record keys only (``catalog.grams``), so that a
    phrase with filters on them is answered from the index alone: those with a few values, each held
    by many records."""
    ranges: tuple[Ranged, ...] = ()
    """Attributes counted by range (``catalog.cells``)."""
    combined: tuple[str, ...] = ()
    """Facets whose values are also counted in combination (``catalog.cells``), in the order a
    combination is spelled: single-valued facets first."""
    listed: str | None = None
    """A multi-valued facet whose values are listed with how many matching records carry each (songs:
    genre, ``GET /v1/songs/genres``): the scope's ``with`` item counts every value of it, and so does
    the ``with`` item of each value of the ``paired`` facets (``catalog.cells``)."""
    paired: tuple[str, ...] = ()
    """Facets outside ``combined`` each of whose values counts its records' ``listed`` values (songs:
    owner), spelled before ``combined`` ones in a combination."""

    def ranged(self, attribute: str) -> Ranged | None:
        return next((ranged for ranged in self.ranges if ranged.name == attribute), None)

    def facet(self, name: str) -> Facet:
        return next(facet for facet in self.facets if facet.name == name)

    def listed_name(self) -> str:
        """The name of the listed facet, for a collection that lists one."""
        if self.listed is None:
            raise LookupError(f"{self.name} lists no facet's values")
        return self.listed

    def sort(self, name: str) -> Sort:
        return next(sort for sort in self.sorts if sort.name == name)

    @property
    def entry_attributes(self) -> tuple[str, ...]:
        """What an index entry carries so that filters never need the full record."""
        return tuple(facet.attribute for facet in self.facets) + (("search",) if self.search_attributes else ())


# The JSON fields, in contract order (kept here, not read from the pydantic models, so that the
# request path does not import pydantic's model machinery).
SONG_FIELDS = (
    "id", "archived", "ownerId", "createdAt", "title", "genres", "moods", "coverArtUrl", "lyricsUrl",
    "description", "album", "track", "language", "coverRemixSample", "compositionCopyrightOwner",
    "compositionCopyrightYear", "phonographicCopyrightOwner", "phonographicCopyrightYear", "parentalAdvisory",
    "barcodeType", "barcodeNumber", "isrc", "iswc", "ipis", "releaseDate", "publicationDate", "duration",
    "streamUrl", "nftPolicyId", "nftName", "audioEncodingStatus", "mintingStatus", "marketplaceStatus",
)  # fmt: skip
SOUNDTRACK_FIELDS = (
    "uuid", "href", "name", "duration", "artist", "album", "release_date", "urls", "thumbnail", "sources",
    "created_at", "updated_at",
)  # fmt: skip

_CREATED_AT = Sort("createdAt", "createdAt", "Listing", "fsk", page_index="Pages")
_DURATION = Sort("duration", "duration", "by_duration", "by_duration", encode=_number)
_RELEASE_DATE = Sort("release_date", "release_date", "by_release_date", "by_release_date")

SONGS = Collection(
    name="songs",
    scope="archived",
    sorts=(_CREATED_AT,),
    facets=(
        Facet("owner", "ownerId"),
        Facet("mood", "moods", multi=True),
        Facet("genre", "genres", multi=True),
        Facet("status", "mintingStatus"),
    ),
    fields=SONG_FIELDS,
    search_attributes=("title", "description", "album", "nftName"),
    phrase_facets=("status", "genre", "mood"),
    # 2024-03-05T12:47:55.123456: year, day, minute; the seconds of the two edge minutes are read.
    ranges=(Ranged(_CREATED_AT, cuts=(4, 10, 16), width=26),),
    combined=("status", "genre", "mood"),
    listed="genre",
    paired=("owner",),
)

SOUNDTRACKS = Collection(
    name="soundtracks",
    scope=None,
    sorts=(
        Sort("created_at", "created_at", "Listing", "fsk", page_index="Pages"),
        Sort("updated_at", "updated_at", "by_updated_at", "by_updated_at"),
        Sort("name", "name", "by_name", "by_name"),
        _DURATION,
        Sort("artist", "artist", "by_artist", "by_artist"),
        Sort("album", "album", "by_album", "by_album"),
        _RELEASE_DATE,
    ),
    facets=(
        Facet("name", "name"),
        Facet("artist", "artist"),
        Facet("album", "album"),
        Facet("release_date", "release_date"),
        Facet("duration", "duration"),
    ),
    fields=SOUNDTRACK_FIELDS,
    id_attribute="uuid",
    # 15 digits: millions, thousands, units (a bucket per value at the finest level: exact).
    # 2024-03-05: year, day (exact). Within an artist or an album: a name, a release date or a duration
    # is shared by a handful of soundtracks, whose entries cost less than the buckets would to keep.
    ranges=(
        Ranged(_DURATION, cuts=(9, 12, 15), width=15, facets=("artist", "album")),
        Ranged(_RELEASE_DATE, cuts=(4, 10), width=10, facets=("artist", "album")),
    ),
)

COLLECTIONS = {collection.name: collection for collection in (SONGS, SOUNDTRACKS)}
"""Every collection by name, which is also its records' key prefix (``keys.record_key``)."""
