"""Soundtrack records: the fields of the soundtracks resource, snake_case as its API spells them."""

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import StringConstraints, model_validator

from catalog.model.song import Instant, Record, Text, Whole

SortableText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""Text that is also a sort and partition key: no control characters."""

HREF_PREFIX = "/api/v1/soundtracks/"


class Soundtrack(Record):
    model_config = Record.model_config | {"alias_generator": None}

    uuid: UUID
    href: str | None = None
    """The item's own path; always derived from ``uuid`` (a given value is replaced)."""
    name: SortableText
    duration: Whole | None = None
    artist: SortableText | None = None
    album: SortableText | None = None
    release_date: date | None = None
    urls: list[Text] | None = None
    thumbnail: Text | None = None
    sources: list[Text] | None = None
    created_at: Instant
    updated_at: Instant

    @model_validator(mode="after")
    def _own_href(self) -> "Soundtrack":
        object.__setattr__(self, "href", f"{HREF_PREFIX}{self.uuid}")
        return self
