"""Song and Owner records: the fields, names and enums of the Get Songs contract.

Fields are declared in the contract's table order, so JSON comes out in that order. Optional
fields are ``None`` when absent and omitted from JSON. Unknown fields are rejected on import, which
catches typos such as the example's ``nftPolicyName`` (the contract's field is ``nftName``).
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints
from pydantic.alias_generators import to_camel

from catalog.model.timestamps import format_instant, parse_instant


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


Instant = Annotated[datetime, BeforeValidator(_to_instant), PlainSerializer(format_instant, return_type=str)]
"""A point in time, read as ISO-8601 (zone-less means UTC), written as naive UTC with microseconds."""

Whole = Annotated[int, Field(ge=0, lt=10**15)]
"""A non-negative integer DynamoDB stores exactly (it keeps 38 significant digits)."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""Values that become part of an index key (genres, moods) are kept short (see ``keys.MAX_VALUE_BYTES``)."""


class Record(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, use_enum_values=True
    )

    def to_item(self) -> dict:
        """The JSON form, which is also how the record is stored."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Song(Record):
    id: UUID
    archived: bool
    owner_id: UUID
    created_at: Instant
    title: Text
    genres: list[Name]
    moods: list[Name] | None = None
    cover_art_url: Text | None = None
    lyrics_url: Text | None = None
    description: Text | None = None
    album: Text | None = None
    track: Whole | None = None
    language: Text | None = None
    cover_remix_sample: bool
    composition_copyright_owner: Text | None = None
    composition_copyright_year: Whole | None = None
    phonographic_copyright_owner: Text | None = None
    phonographic_copyright_year: Whole | None = None
    parental_advisory: Text | None = None
    barcode_type: BarcodeType | None = None
    barcode_number: Text | None = None
    isrc: Text | None = None
    iswc: Text | None = None
    ipis: list[Text] | None = None
    release_date: date | None = None
    publication_date: date | None = None
    duration: Whole | None = None
    stream_url: Text | None = None
    nft_policy_id: Text | None = None
    nft_name: Text | None = None
    audio_encoding_status: AudioEncodingStatus
    minting_status: MintingStatus
    marketplace_status: MarketplaceStatus


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
