"""The Get Songs / Get Song Count (and Get Song Genres / Genre Count) query string: offset/limit paging and
include/exclude lists.

Each parameter is declared once below (see :class:`catalog.parse.Parameter`); the descriptions are
the contract's (the Get Songs and Get Song Count documents) with this API's rules added.
"""

from catalog.declarations import SONGS
from catalog.errors import Unauthorized, invalid_parameter
from catalog.parse import (
    CURSOR,
    MAX_LIST_ITEMS,
    Parameter,
    Parameters,
    choice,
    integer,
    selection,
    single,
    uuid,
)
from catalog.query import Query, Selection, Window
from catalog.timestamps import OutsideYears, format_instant, parse_instant

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10_000
ME = "me"

# The reference server's 22 minting statuses (the Song model's enum spells the same values).
MINTING_STATUS_NAMES = (
    "Undistributed", "StreamTokenAgreementApproved", "MintingPaymentRequested", "MintingPaymentReceived",
    "AwaitingAudioEncoding", "AwaitingCollaboratorApproval", "ReadyToDistribute", "SubmittedForDistribution",
    "Distributed", "Declined", "Pending", "Minted", "MintingPaymentSubmitted", "MintingPaymentTimeout",
    "MintingPaymentException", "DistributionException", "SubmittedForDistributionException",
    "ArweaveUploadException", "MintingException", "ReleaseCheckException", "Released",
    "UpdateTokenMetadataRequested",
)  # fmt: skip
MINTING_STATUSES = frozenset(MINTING_STATUS_NAMES)

_LIST_RULES = (
    f"Prefix each value with `-` to exclude and `+` (optional) to include. Defaults to inclusion if no prefix is "
    f"specified. Items are trimmed; includes are OR'd, any excluded value drops a song; repeating the parameter "
    f"is the same as joining its values with commas. At most {MAX_LIST_ITEMS} items, else 422."
)

# -- paging (Get Songs only) ------------------------------------------------------------------------

OFFSET = Parameter(
    "offset", "integer",
    f"Start offset of paginated results to retrieve. Default is 0. At most {MAX_OFFSET:,}; surrounding spaces are "
    "ignored; anything else, an empty value too, is 422. With a `cursor`, only 0 (400 otherwise). Following the "
    "`Link` header is cheaper than a deep offset.",
    default=0, minimum=0, maximum=MAX_OFFSET,
)  # fmt: skip
LIMIT = Parameter(
    "limit", "integer",
    f"Maximum number of paginated results to retrieve. Default is {DEFAULT_LIMIT}. At most {MAX_LIMIT}; `0` answers "
    "`[]`; anything else, an empty value too, is 422.",
    default=DEFAULT_LIMIT, minimum=0, maximum=MAX_LIMIT,
)  # fmt: skip

# -- filters (Get Songs, Get Song Count, random) ----------------------------------------------------

ARCHIVED = Parameter(
    "archived", "boolean",
    "Indicates if only archived songs should be included. Default is false: only songs that are not archived; "
    "true: only archived songs. `true` or `false`, case-insensitive; anything else, an empty value too, is 422.",
    default=False, allowed=("true", "false"),
)  # fmt: skip
SORT_ORDER = Parameter(
    "sortOrder", "string",
    "Sort order of the results based on createdAt field (ties by song id). Valid values are desc (newest first) and "
    "asc (oldest first), case-insensitive. Default is asc. Anything else, an empty value too, is 422. Checked but "
    "without effect on count and random.",
    default="asc", allowed=("asc", "desc"),
)  # fmt: skip
PHRASE = Parameter(
    "phrase", "string",
    "Case-insensitive phrase to filter out songs by searching the Song title, description, album and nftName "
    "fields as well as the Song Owner nickname if set, otherwise firstName, lastName and \"firstName lastName\". "
    "A literal substring (`%` and `_` are not wildcards), used as sent (not trimmed). If the parameter is missing "
    "or empty, defaults to no filtering out.",
    example="lights",
)  # fmt: skip
IDS = Parameter(
    "ids", "list",
    f"Comma-separated list of song UUID's for filtering results. {_LIST_RULES} A UUID is in the canonical "
    "8-4-4-4-12 hexadecimal form, any case; anything else is 422 `Invalid UUID string: <value>`.",
    format="uuid", example="7bd2862f-8deb-4814-8943-156d9dab80dd",
)  # fmt: skip
OWNER_IDS = Parameter(
    "ownerIds", "list",
    f"Comma-separated list of owner UUID's for filtering results. A value of \"me\" can be used instead of the "
    f"caller's UUID (the access token's `sub`; only lower-case `me`). {_LIST_RULES} Any other value than a "
    "canonical UUID or `me` is 422 `Invalid UUID string: <value>`.",
    format="uuid", allowed=(ME,), example="me",
)  # fmt: skip
GENRES = Parameter(
    "genres", "list",
    f"Comma-separated list of song genres for filtering results, exact and case-sensitive. {_LIST_RULES}",
    example="Pop,-Rock",
)  # fmt: skip
MOODS = Parameter(
    "moods", "list",
    f"Comma-separated list of song moods for filtering results, exact and case-sensitive; excluding a mood keeps "
    f"songs without moods. {_LIST_RULES}",
    example="-Dark",
)  # fmt: skip
MINTING_STATUSES_PARAMETER = Parameter(
    "mintingStatuses", "list",
    f"Comma-separated list of song minting statuses for filtering results, exact and case-sensitive; any other "
    f"value is 422. {_LIST_RULES}",
    allowed=MINTING_STATUS_NAMES,  # no example: Swagger UI would pre-select it, and sends an emptied selection
)  # fmt: skip
_INSTANT_RULES = (
    "Exclusive. Accepts ISO-8601 date-times with or without a zone (zone-less is UTC, as `createdAt` is returned), "
    "`Z` or an offset (`+02:00`, `+0200`, `+02`), without seconds or fractions, a space for the `T`, or a date "
    "alone (midnight UTC). A date-time before year 1 or after 9999 once in UTC is before or after every song. "
    "Anything else, an empty value too, is 422."
)
OLDER_THAN = Parameter(
    "olderThan", "string",
    f"ISO-8601 formatted oldest (maximum) timestamp to filter-out results: only songs created strictly before it. "
    f"If missing, defaults to no filtering out. {_INSTANT_RULES}",
    format="date-time", example="2024-01-01T00:00:00",
)  # fmt: skip
NEWER_THAN = Parameter(
    "newerThan", "string",
    f"ISO-8601 formatted newest (minimum) timestamp to filter-out results: only songs created strictly after it. "
    f"If missing, defaults to no filtering out. {_INSTANT_RULES}",
    format="date-time", example="2024-01-01",
)  # fmt: skip

SONG_ID = Parameter(
    "songId", "string",
    "UUID of the Song, in the canonical 8-4-4-4-12 hexadecimal form, any case; anything else is 422 "
    "`Invalid UUID string: <songId>`.",
    location="path", format="uuid", example="7bd2862f-8deb-4814-8943-156d9dab80dd",
)  # fmt: skip

QUERY = (ARCHIVED, SORT_ORDER, PHRASE, IDS, OWNER_IDS, GENRES, MOODS, MINTING_STATUSES_PARAMETER, OLDER_THAN, NEWER_THAN)
"""What :func:`query` reads: the parameters of count and random."""
PAGING = (OFFSET, LIMIT, CURSOR)
"""What a page reads besides the filters: :func:`window` and the cursor."""

# -- genres (Get Song Genres, Get Song Genre Count) --------------------------------------------------

GENRES_SORT_ORDER = Parameter(
    "sortOrder", "string",
    "Order of the genres by how many matching songs carry each: desc (most first) or asc (fewest first), "
    "case-insensitive; ties by genre name in code point order, in both orders. Default is desc. Anything else, an "
    "empty value too, is 422. Checked but without effect on the genre count.",
    default="desc", allowed=("asc", "desc"),
)  # fmt: skip
GENRES_OFFSET = Parameter(
    "offset", "integer",
    f"Start offset of the genres to retrieve. Default is 0. At most {MAX_OFFSET:,}; surrounding spaces are ignored; "
    "anything else, an empty value too, is 422.",
    default=0, minimum=0, maximum=MAX_OFFSET,
)  # fmt: skip
GENRES_LIMIT = Parameter(
    "limit", "integer",
    f"Maximum number of genres to retrieve. Default is {DEFAULT_LIMIT}. At most {MAX_LIMIT}; `0` answers `[]`; "
    "anything else, an empty value too, is 422.",
    default=DEFAULT_LIMIT, minimum=0, maximum=MAX_LIMIT,
)  # fmt: skip
GENRES_QUERY = tuple(GENRES_SORT_ORDER if declared is SORT_ORDER else declared for declared in QUERY)
"""What :func:`genres_query` reads: the songs' filters, and the order of the genres."""
GENRES_PAGING = (GENRES_OFFSET, GENRES_LIMIT)
"""What the genres list reads besides the filters: :func:`genres_window`."""

_FACETS = ((OWNER_IDS, "owner"), (GENRES, "genre"), (MOODS, "mood"), (MINTING_STATUSES_PARAMETER, "status"))


# Bounds no createdAt passes: nothing is created before the first instant or after the last.
_FIRST_INSTANT, _LAST_INSTANT = "0001-01-01T00:00:00.000000", "9999-12-31T23:59:59.999999"


def _instant(parameters: Parameters, declared: Parameter, *, round_up: bool) -> str | None:
    text = single(parameters, declared.name)
    if text is None:
        return None
    try:
        return format_instant(parse_instant(text, round_up=round_up))
    except OutsideYears as outside:
        # A valid date-time (`0001-01-01T00:00:00+05:00`) beyond the years a createdAt can have: it
        # bounds nothing on the side where every song is, and excludes every song on the other.
        if outside.before == (declared is NEWER_THAN):
            return None
        return _FIRST_INSTANT if outside.before else _LAST_INSTANT
    except ValueError:
        raise invalid_parameter(declared.name, f"'{text}' is not an ISO-8601 date-time") from None


def query(parameters: Parameters, caller: str | None, order: Parameter = SORT_ORDER) -> Query:
    """The filters of Get Songs and Get Song Count; ``order``: the ``sortOrder`` declaration read (its default)."""

    def owner(item: str) -> str:
        if item == ME:
            if caller is None:
                raise Unauthorized("'me' needs an authenticated caller")
            return uuid(caller)
        return uuid(item)

    def minting_status(item: str) -> str:
        if item not in MINTING_STATUSES:
            raise invalid_parameter(MINTING_STATUSES_PARAMETER.name, f"'{item}' is not a minting status")
        return item

    normalizers = {OWNER_IDS: owner, MINTING_STATUSES_PARAMETER: minting_status}
    facets = {}
    for declared, facet in _FACETS:
        chosen = selection(parameters, declared, normalizers.get(declared, str))
        if chosen is not None:
            facets[facet] = chosen
    phrase = single(parameters, PHRASE.name)
    return Query(
        collection=SONGS,
        scoped=choice(parameters, ARCHIVED) == "true",
        ids=selection(parameters, IDS, uuid) or Selection(),
        facets=facets,
        newer_than=_instant(parameters, NEWER_THAN, round_up=False),
        older_than=_instant(parameters, OLDER_THAN, round_up=True),
        phrase=phrase.lower() if phrase else None,
        descending=choice(parameters, order) == "desc",
    )


def genres_query(parameters: Parameters, caller: str | None) -> Query:
    """The filters of Get Song Genres and Get Song Genre Count; ``descending``: most songs first (the default)."""
    return query(parameters, caller, GENRES_SORT_ORDER)


def window(parameters: Parameters) -> Window:
    """The page of Get Songs: ``offset`` (default 0) and ``limit`` (default 25)."""
    return Window(offset=integer(parameters, OFFSET), limit=integer(parameters, LIMIT))


def genres_window(parameters: Parameters) -> Window:
    """The page of Get Song Genres: ``offset`` (default 0) and ``limit`` (default 25)."""
    return Window(offset=integer(parameters, GENRES_OFFSET), limit=integer(parameters, GENRES_LIMIT))
