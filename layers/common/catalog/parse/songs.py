"""The Get Songs / Get Song Count query string: offset/limit paging and include/exclude lists."""

from catalog.collections import SONGS
from catalog.errors import Unauthorized, invalid_parameter
from catalog.model.timestamps import format_instant, parse_instant
from catalog.parse import Parameters, choice, integer, selection, single, uuid
from catalog.query import Query, Selection, Window

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10_000
ME = "me"

# The reference server's 22 minting statuses (the Song model's enum spells the same values).
MINTING_STATUSES = frozenset({
    "Undistributed", "StreamTokenAgreementApproved", "MintingPaymentRequested", "MintingPaymentReceived",
    "AwaitingAudioEncoding", "AwaitingCollaboratorApproval", "ReadyToDistribute", "SubmittedForDistribution",
    "Distributed", "Declined", "Pending", "Minted", "MintingPaymentSubmitted", "MintingPaymentTimeout",
    "MintingPaymentException", "DistributionException", "SubmittedForDistributionException",
    "ArweaveUploadException", "MintingException", "ReleaseCheckException", "Released",
    "UpdateTokenMetadataRequested",
})  # fmt: skip
_FACETS = {"ownerIds": "owner", "genres": "genre", "moods": "mood", "mintingStatuses": "status"}


def _instant(parameters: Parameters, name: str, *, round_up: bool) -> str | None:
    text = single(parameters, name)
    if text is None:
        return None
    try:
        return format_instant(parse_instant(text, round_up=round_up))
    except ValueError:
        raise invalid_parameter(name, f"'{text}' is not an ISO-8601 date-time") from None


def query(parameters: Parameters, caller: str | None) -> Query:
    """The filters of Get Songs and Get Song Count."""

    def owner(item: str) -> str:
        if item == ME:
            if caller is None:
                raise Unauthorized("'me' needs an authenticated caller")
            return uuid(caller)
        return uuid(item)

    def minting_status(item: str) -> str:
        if item not in MINTING_STATUSES:
            raise invalid_parameter("mintingStatuses", f"'{item}' is not a minting status")
        return item

    normalizers = {"ownerIds": owner, "mintingStatuses": minting_status}
    facets = {}
    for name, facet in _FACETS.items():
        chosen = selection(parameters, name, normalizers.get(name, str))
        if chosen is not None:
            facets[facet] = chosen
    phrase = single(parameters, "phrase")
    return Query(
        collection=SONGS,
        scoped=choice(parameters, "archived", "false", ("true", "false")) == "true",
        ids=selection(parameters, "ids", uuid) or Selection(),
        facets=facets,
        newer_than=_instant(parameters, "newerThan", round_up=False),
        older_than=_instant(parameters, "olderThan", round_up=True),
        phrase=phrase.lower() if phrase else None,
        descending=choice(parameters, "sortOrder", "asc", ("asc", "desc")) == "desc",
    )


def window(parameters: Parameters) -> Window:
    """The page of Get Songs: ``offset`` (default 0) and ``limit`` (default 25)."""
    return Window(
        offset=integer(parameters, "offset", 0, 0, MAX_OFFSET),
        limit=integer(parameters, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT),
    )
