"""Soundtrack records: the fields of the soundtracks resource, snake_case as its API spells them."""

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import StringConstraints, model_validator

from importer.model.song import Instant, Record, Text, Whole

SortableText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""Text that is also a sort and partition key: no control characters."""

HREF_PREFIX = "/api/v1/soundtracks/"


SOUNDTRACK_EXAMPLE = {
    "uuid": "b85a9e0c-ab94-4c2f-a85a-439708e3e98b",
    "href": "/api/v1/soundtracks/b85a9e0c-ab94-4c2f-a85a-439708e3e98b",
    "name": "Shadows Main Title",
    "duration": 172736,
    "artist": "Mica Lévi-Strand",
    "album": "The Harbor: Season 3",
    "release_date": "2021-03-26",
    "urls": ["https://music.example.com/shadows-main-title"],
    "thumbnail": "https://img.example.com/shadows-main-title.jpg",
    "sources": ["apple-music", "youtube", "spotify"],
    "created_at": "2022-06-12T16:18:09.713970",
    "updated_at": "2023-03-22T15:41:46.713970",
}
"""A soundtrack as the API returns it (the OpenAPI document shows it)."""


class Soundtrack(Record):
    """A soundtrack, snake_case as the Soundtracks document spells it; fields without a value are left out."""

    model_config = Record.model_config | {"alias_generator": None}

    uuid: UUID
    """UUID of the soundtrack, lower case."""
    href: str | None = None
    """The soundtrack's own path, `/api/v1/soundtracks/<uuid>`, without the stage; always derived from `uuid`."""
    name: SortableText
    """Name of the soundtrack (1 to 200 characters, no control characters)."""
    duration: Whole | None = None
    """Duration, a whole number."""
    artist: SortableText | None = None
    """Artist (1 to 200 characters, no control characters)."""
    album: SortableText | None = None
    """Album (1 to 200 characters, no control characters)."""
    release_date: date | None = None
    """Release date, `YYYY-MM-DD`."""
    urls: list[Text] | None = None
    """URLs of the soundtrack."""
    thumbnail: Text | None = None
    """Thumbnail URL."""
    sources: list[Text] | None = None
    """Where the soundtrack can be found."""
    created_at: Instant
    """When the record was created: zone-less ISO-8601 date-time in UTC, six fractional digits."""
    updated_at: Instant
    """When the record was last updated: zone-less ISO-8601 date-time in UTC, six fractional digits."""

    @model_validator(mode="after")
    def _own_href(self) -> "Soundtrack":
        object.__setattr__(self, "href", f"{HREF_PREFIX}{self.uuid}")
        return self
