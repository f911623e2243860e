"""Turn stored records into the JSON a client gets."""

from decimal import Decimal

from catalog.model.song import SONG_FIELDS


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def song(record: dict) -> dict:
    """A song as the contract spells it: its fields in the contract's order, absent ones omitted."""
    return {name: _plain(record[name]) for name in SONG_FIELDS if record.get(name) is not None}


def songs(records: list[dict]) -> list[dict]:
    return [song(record) for record in records]


def count(number: int) -> dict:
    return {"count": number}
