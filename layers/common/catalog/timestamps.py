"""How the catalog writes and reads points in time.

``createdAt`` is stored and returned as a zone-less ISO-8601 date-time in UTC with exactly six
fractional digits (``2022-04-22T20:47:55.738918``): fixed width, so that text order is time order
and the value can serve as a sort key.
"""

import re
from datetime import UTC, datetime, timedelta

_SUB_MICROSECOND_DIGITS = re.compile(r"[.,]\d{6}(\d+)")


class OutsideYears(ValueError):
    """A valid date-time that falls before year 1 or after year 9999 once in UTC."""

    def __init__(self, text: str, *, before: bool) -> None:
        super().__init__(f"{text} is outside the years 1 to 9999 in UTC")
        self.before = before


def parse_instant(text: str, *, round_up: bool = False) -> datetime:
    """Parse ISO-8601 into a naive UTC datetime with microsecond precision.

    Accepts what ``datetime.fromisoformat`` reads (a date alone is midnight; seconds and fractions
    are optional) and a zone as ``Z``, ``±HH``, ``±HHMM`` or ``±HH:MM``. A value without a zone is
    read as UTC. Digits beyond microseconds are dropped, or rounded up when ``round_up`` is set,
    so that an exclusive upper bound keeps its meaning. Raises ``OutsideYears`` (a ``ValueError``)
    for a date-time before year 1 or after 9999 in UTC, ``ValueError`` for anything else.
    """
    text = text.strip().upper()
    instant = datetime.fromisoformat(text)
    extra = _SUB_MICROSECOND_DIGITS.search(text)
    try:
        if round_up and extra and extra.group(1).strip("0"):
            instant += timedelta(microseconds=1)
        if instant.tzinfo is not None:
            instant = instant.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise OutsideYears(text, before=instant.year == 1) from None
    return instant


def format_instant(instant: datetime) -> str:
    """The stored and returned form: naive UTC, six fractional digits."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return instant.isoformat(timespec="microseconds")  # zero-pads years before 1000, unlike strftime
