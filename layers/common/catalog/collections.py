"""What the catalog knows about each collection: its key prefix, access paths and searchable text.

A collection is declared, not coded: the planner, the fetcher and the index writer read these
declarations, so a new collection costs a model and a declaration.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Facet:
    """An attribute with an access path (index partition) per value."""

    name: str
    """Its label in partition names, e.g. ``genre``."""
    attribute: str
    """The record attribute holding its value (or values, when ``multi``)."""
    multi: bool = False

    def values(self, item: dict) -> list[str]:
        value = item.get(self.attribute)
        if value is None:
            return []
        return list(value) if self.multi else [value]


@dataclass(frozen=True)
class Collection:
    name: str
    """Key prefix and partition prefix, e.g. ``songs``."""
    scope: str | None
    """A boolean attribute every query filters on (songs: ``archived``); it splits every access path."""
    sort_attribute: str
    """Fixed-width text attribute ordering the collection (ties broken by id)."""
    facets: tuple[Facet, ...]
    search_attributes: tuple[str, ...]
    """Attributes a ``phrase`` is matched against (plus the owner's names, where there is an owner)."""

    def facet(self, name: str) -> Facet:
        return next(facet for facet in self.facets if facet.name == name)

    @property
    def entry_attributes(self) -> tuple[str, ...]:
        """What an index entry carries so that filters never need the full record."""
        return tuple(facet.attribute for facet in self.facets) + ("search",)


SONGS = Collection(
    name="songs",
    scope="archived",
    sort_attribute="createdAt",
    facets=(
        Facet("owner", "ownerId"),
        Facet("mood", "moods", multi=True),
        Facet("genre", "genres", multi=True),
        Facet("status", "mintingStatus"),
    ),
    search_attributes=("title", "description", "album", "nftName"),
)
