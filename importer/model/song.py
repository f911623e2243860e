"""Song and Owner records: the fields, names and enums of the Get Songs contract.

Fields are declared in the contract's table order, so JSON comes out in that order. Optional
fields are ``None`` when absent and omitted from JSON. Unknown fields are rejected on import, which
catches typos such as the example's ``nftPolicyName`` (the contract's field is ``nftName``).
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints, WithJsonSchema
from pydantic.alias_generators import to_camel

from catalog.timestamps import format_instant, parse_instant


class AudioEncodingStatus(StrEnum):
    NOT_STARTED = "NotStarted"
    STARTED = "Started"
    COMPLETED = "Completed"
    FAILED = "Failed"


class MintingStatus(StrEnum):
    """All 22 statuses of the reference server (its wiki lists the first 12)."""

    UNDISTRIBUTED = "Undistributed"
    STREAM_TOKEN_AGREEMENT_APPROVED = "StreamTokenAgreementApproved"
    MINTING_PAYMENT_REQUESTED = "MintingPaymentRequested"
    MINTING_PAYMENT_RECEIVED = "MintingPaymentReceived"
    AWAITING_AUDIO_ENCODING = "AwaitingAudioEncoding"
    AWAITING_COLLABORATOR_APPROVAL = "AwaitingCollaboratorApproval"
    READY_TO_DISTRIBUTE = "ReadyToDistribute"
    SUBMITTED_FOR_DISTRIBUTION = "SubmittedForDistribution"
    DISTRIBUTED = "Distributed"
    DECLINED = "Declined"
    PENDING = "Pending"
    MINTED = "Minted"
    MINTING_PAYMENT_SUBMITTED = "MintingPaymentSubmitted"
    MINTING_PAYMENT_TIMEOUT = "MintingPaymentTimeout"
    MINTING_PAYMENT_EXCEPTION = "MintingPaymentException"
    DISTRIBUTION_EXCEPTION = "DistributionException"
    SUBMITTED_FOR_DISTRIBUTION_EXCEPTION = "SubmittedForDistributionException"
    ARWEAVE_UPLOAD_EXCEPTION = "ArweaveUploadException"
    MINTING_EXCEPTION = "MintingException"
    RELEASE_CHECK_EXCEPTION = "ReleaseCheckException"
    RELEASED = "Released"
    UPDATE_TOKEN_METADATA_REQUESTED = "UpdateTokenMetadataRequested"


class MarketplaceStatus(StrEnum):
    NOT_SELLING = "NotSelling"
    SELLING = "Selling"


class BarcodeType(StrEnum):
    UPC = "Upc"
    EAN = "Ean"
    JAN = "Jan"


def _to_instant(value: object) -> object:
    return parse_instant(value) if isinstance(value, str) else value


INSTANT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$"

Instant = Annotated[
    datetime,
    BeforeValidator(_to_instant),
    PlainSerializer(format_instant, return_type=str),
    # As clients see it: not an RFC 3339 date-time (no zone), hence a pattern rather than a format.
    WithJsonSchema({"type": "string", "pattern": INSTANT_PATTERN, "example": "2022-04-22T20:47:55.738918"}, mode="serialization"),
]
"""A point in time, read as ISO-8601 (zone-less means UTC), written as naive UTC with microseconds."""

Whole = Annotated[int, Field(ge=0, lt=10**15)]
"""A non-negative integer DynamoDB stores exactly (it keeps 38 significant digits)."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""Values that become part of an index key (genres, moods) are kept short (see ``keys.MAX_VALUE_BYTES``)."""


class Record(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=True,
        use_attribute_docstrings=True,  # the field docstrings describe the fields in the OpenAPI document
    )

    def to_item(self) -> dict:
        """The JSON form, which is also how the record is stored."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


SONG_EXAMPLE = {
    "id": "7bd2862f-8deb-4814-8943-156d9dab80dd",
    "archived": False,
    "ownerId": "842f5460-76f8-41d8-add9-d043a7a381de",
    "createdAt": "2022-04-22T20:47:55.738918",
    "title": "Blinding Lights",
    "genres": ["Synthwave", "Synthpop"],
    "moods": ["Cool", "Upbeat"],
    "coverArtUrl": "https://www.example.com/bindinglights/cover.png",
    "lyricsUrl": "https://www.example.com/bindinglights/lyrics.txt",
    "description": "Song by The Weeknd",
    "coverRemixSample": False,
    "compositionCopyrightOwner": "© The Weeknd",
    "compositionCopyrightYear": 2022,
    "duration": 132202,
    "streamUrl": "https://www.example.com/bindinglights/blinding_lights.m4a",
    "nftPolicyId": "11123344555",
    "nftName": "Blinding Lights NFT",
    "audioEncodingStatus": "Completed",
    "mintingStatus": "Minted",
    "marketplaceStatus": "Selling",
}
"""The contract's example song, its ``nftPolicyName`` typo corrected (the OpenAPI document shows it)."""


class Song(Record):
    """A song, as the Get Songs contract spells it: fields without a value are left out (never null)."""

    id: UUID
    """UUID of the Song."""
    archived: bool
    """Song archive indicator."""
    owner_id: UUID
    """UUID of the Song owner (creator)."""
    created_at: Instant
    """Date and time when the Song was created (ISO-8601 format): zone-less UTC with six fractional digits."""
    title: Text
    """Song title."""
    genres: list[Name]
    """Song genres."""
    moods: list[Name] | None = None
    """Song moods."""
    cover_art_url: Text | None = None
    """Valid URL of cover art picture file."""
    lyrics_url: Text | None = None
    """Valid URL of song lyrics file."""
    description: Text | None = None
    """Song description."""
    album: Text | None = None
    """Song album."""
    track: Whole | None = None
    """Song track."""
    language: Text | None = None
    """Song language."""
    cover_remix_sample: bool
    """Indicates if the Song is a Cover, Remix or Sample."""
    composition_copyright_owner: Text | None = None
    """Song composition copyright owner."""
    composition_copyright_year: Whole | None = None
    """Song composition copyright year."""
    phonographic_copyright_owner: Text | None = None
    """Song phonographic copyright owner."""
    phonographic_copyright_year: Whole | None = None
    """Song phonographic copyright year."""
    parental_advisory: Text | None = None
    """Song parental advisory."""
    barcode_type: BarcodeType | None = None
    """Song barcode type. Valid values are: Upc, Ean and Jan."""
    barcode_number: Text | None = None
    """Song barcode number."""
    isrc: Text | None = None
    """International Standard Recording Code (ISRC)."""
    iswc: Text | None = None
    """International Standard Musical Work Code (ISWC)."""
    ipis: list[Text] | None = None
    """Interested Party Information (IPIS) Numbers."""
    release_date: date | None = None
    """Song release date (ISO-8601 format)."""
    publication_date: date | None = None
    """Song publication date (ISO-8601 format)."""
    duration: Whole | None = None
    """Song duration in milliseconds."""
    stream_url: Text | None = None
    """Song streaming URL."""
    nft_policy_id: Text | None = None
    """Song NFT Policy ID."""
    nft_name: Text | None = None
    """Song NFT Name."""
    audio_encoding_status: AudioEncodingStatus
    """Song audio encoding status."""
    minting_status: MintingStatus
    """Song minting status (the reference server's 22 values)."""
    marketplace_status: MarketplaceStatus
    """Song marketplace status."""


class Owner(Record):
    """A song's owner: only what the catalog needs to search songs by their owner's name."""

    id: UUID
    nickname: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None

    def search_names(self) -> list[str]:
        """The names a phrase is matched against: the nickname if set, else first, last and full name."""
        if self.nickname:
            return [self.nickname]
        names = [name for name in (self.first_name, self.last_name) if name]
        if len(names) == 2:
            names.append(f"{self.first_name} {self.last_name}")
        return names
