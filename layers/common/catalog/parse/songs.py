"""Read the Get Songs / Get Song Count query string into a Query and a Window.

Every value is checked here, so that later steps never see bad input; each refusal names the
parameter (a malformed UUID answers the contract's ``Invalid UUID string: <value>``).
"""

import re
from collections.abc import Mapping

from catalog.collections import SONGS
from catalog.errors import Unauthorized, invalid_parameter, invalid_uuid
from catalog.model.song import MintingStatus
from catalog.model.timestamps import format_instant, parse_instant
from catalog.query import Query, Selection, Window

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_LIST_ITEMS = 100
ME = "me"

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MINTING_STATUSES = frozenset(status.value for status in MintingStatus)
_SONG_FACETS = {"ownerIds": "owner", "genres": "genre", "moods": "mood", "mintingStatuses": "status"}

Parameters = Mapping[str, list[str]]


def uuid(value: str) -> str:
    """A UUID in canonical 8-4-4-4-12 hex form, lower-cased; anything else is 422."""
    if not _UUID.fullmatch(value):
        raise invalid_uuid(value)
    return value.lower()


def _single(parameters: Parameters, name: str) -> str | None:
    values = parameters.get(name)
    if not values:
        return None
    if len(set(values)) > 1:
        raise invalid_parameter(name, "given more than once with different values")
    return values[0]


def _integer(parameters: Parameters, name: str, default: int, maximum: int) -> int:
    text = _single(parameters, name)
    if text is None:
        return default
    if not re.fullmatch(r"\+?\d{1,9}", text.strip()):
        raise invalid_parameter(name, f"'{text}' is not an integer from 0 to {maximum}")
    value = int(text)
    if value > maximum:
        raise invalid_parameter(name, f"{value} is above the maximum of {maximum}")
    return value


def _boolean(parameters: Parameters, name: str, default: bool) -> bool:
    text = _single(parameters, name)
    if text is None:
        return default
    if text.strip().lower() not in ("true", "false"):
        raise invalid_parameter(name, f"'{text}' is not a boolean (true or false)")
    return text.strip().lower() == "true"


def _instant(parameters: Parameters, name: str, *, round_up: bool) -> str | None:
    text = _single(parameters, name)
    if text is None:
        return None
    try:
        return format_instant(parse_instant(text, round_up=round_up))
    except ValueError:
        raise invalid_parameter(name, f"'{text}' is not an ISO-8601 date-time") from None


def selection(parameters: Parameters, name: str, normalize=lambda item: item) -> Selection | None:
    """A comma-separated include/exclude list: items trimmed, ``-`` excludes, ``+`` or nothing includes.

    Repeating the parameter is the same as joining its values with commas.
    """
    values = parameters.get(name)
    if values is None:
        return None
    items = [item.strip() for value in values for item in value.split(",")]
    if len(items) > MAX_LIST_ITEMS:
        raise invalid_parameter(name, f"more than {MAX_LIST_ITEMS} items")
    include, exclude = set(), set()
    for item in items:
        target = exclude if item.startswith("-") else include
        target.add(normalize(item[1:] if item[:1] in "+-" and item else item))
    return Selection(frozenset(include), frozenset(exclude))


def songs_query(parameters: Parameters, caller: str | None) -> Query:
    """The filters of Get Songs and Get Song Count."""

    def owner(item: str) -> str:
        if item == ME:
            if caller is None:
                raise Unauthorized("'me' needs an authenticated caller")
            return uuid(caller)
        return uuid(item)

    def minting_status(item: str) -> str:
        if item not in _MINTING_STATUSES:
            raise invalid_parameter("mintingStatuses", f"'{item}' is not a minting status")
        return item

    normalizers = {"ownerIds": owner, "mintingStatuses": minting_status}
    facets = {}
    for name, facet in _SONG_FACETS.items():
        chosen = selection(parameters, name, normalizers.get(name, lambda item: item))
        if chosen is not None:
            facets[facet] = chosen
    sort_text = _single(parameters, "sortOrder") or "asc"
    sort_order = sort_text.strip().lower()
    if sort_order not in ("asc", "desc"):
        raise invalid_parameter("sortOrder", f"'{sort_text}' is neither asc nor desc")
    phrase = _single(parameters, "phrase")
    return Query(
        collection=SONGS,
        scoped=_boolean(parameters, "archived", default=False),
        ids=selection(parameters, "ids", uuid) or Selection(),
        facets=facets,
        newer_than=_instant(parameters, "newerThan", round_up=False),
        older_than=_instant(parameters, "olderThan", round_up=True),
        phrase=phrase.lower() if phrase else None,
        descending=sort_order == "desc",
    )


def songs_window(parameters: Parameters) -> Window:
    """The page of Get Songs: ``offset`` (default 0) and ``limit`` (default 25)."""
    return Window(
        offset=_integer(parameters, "offset", 0, MAX_OFFSET),
        limit=_integer(parameters, "limit", DEFAULT_LIMIT, MAX_LIMIT),
    )
