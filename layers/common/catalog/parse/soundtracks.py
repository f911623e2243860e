"""The soundtracks query string: page/size paging, sort and order, and operator-prefixed filters.

A filter value is exact and case-sensitive unless it starts with an operator of the reference API:
``*v`` contains, ``!*v`` not contains, ``a::b`` between, ``:a,b`` in, ``!:a,b`` not in, ``>=``,
``<=``, ``>``, ``<``, ``!v`` not equal. Unknown parameters and empty filter values are ignored.

Each parameter is declared once below (see :class:`catalog.parse.Parameter`); the descriptions are
the Soundtracks document's, with this API's rules added.
"""

import re
from datetime import date

from catalog.collections import SOUNDTRACKS
from catalog.errors import invalid_parameter
from catalog.parse import CURSOR, MAX_LIST_ITEMS, Parameter, Parameters, integer, single
from catalog.query import Condition, Query, Selection, Window

DEFAULT_SIZE = 10
MAX_SIZE = 20
DEFAULT_SORT = "created_at"
SORT_FIELDS = tuple(sort.name for sort in SOUNDTRACKS.sorts)

TEXT, NUMBER, DATE = "text", "number", "date"
_RANGES = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}

_OPERATORS = {
    TEXT: "`!v` not equal, `:a,b` equals one of, `!:a,b` equals none of, `*v` contains (case-sensitive), `!*v` does not contain",
    NUMBER: "`!v` not equal, `:a,b` equals one of, `!:a,b` equals none of, `>v`, `>=v`, `<v`, `<=v`, "
    "`a::b` between (both included)",
}
_OPERATORS[DATE] = _OPERATORS[NUMBER]
_OPERAND = {
    TEXT: "Operands are taken as written (not trimmed); no stored value is longer than 200 characters.",
    NUMBER: "An operand is a whole number of at most 15 digits (no sign, no spaces).",
    DATE: "An operand is a date `YYYY-MM-DD`.",
}


def _filter_parameter(name: str, kind: str, what: str, example: str) -> Parameter:
    return Parameter(
        name, "string",
        f"{what} Exact match, case-sensitive, unless the value starts with an operator: {_OPERATORS[kind]}. "
        f"{_OPERAND[kind]} An operator that does not apply to a {kind} field, an operand that cannot be read, or an "
        f"in-list of more than {MAX_LIST_ITEMS} values is 422. An empty value is no filter. A soundtrack without "
        "the field only matches the negated operators.",
        example=example,
    )  # fmt: skip


NAME = _filter_parameter("name", TEXT, "Filter on the soundtrack's name.", "*Theme")
DURATION = _filter_parameter("duration", NUMBER, "Filter on the duration (an integer).", ">=180000")
ARTIST = _filter_parameter("artist", TEXT, "Filter on the artist.", ":Hildur Sand,Clara Ness")
ALBUM = _filter_parameter("album", TEXT, "Filter on the album.", "The Harbor: Season 3")
RELEASE_DATE = _filter_parameter("release_date", DATE, "Filter on the release date.", "2024-01-01::2024-12-31")
FILTERS = {NAME.name: TEXT, ARTIST.name: TEXT, ALBUM.name: TEXT, DURATION.name: NUMBER, RELEASE_DATE.name: DATE}

SORT = Parameter(
    "sort", "string",
    f"The field to sort by, one of {', '.join(SORT_FIELDS)} (case-sensitive), optionally followed by `,ASC` or "
    "`,DESC` (case-insensitive; it wins over `order`). Default is created_at; an empty value means the default. "
    "Ties are broken by uuid in the same direction; a soundtrack without the field comes last ascending, first "
    "descending; text sorts by Unicode code point. An unknown field is 422 naming `sort`.",
    default=DEFAULT_SORT, example="release_date,DESC",
    allowed=tuple(f"{field}{direction}" for field in SORT_FIELDS for direction in ("", ",ASC", ",DESC")),
)  # fmt: skip
ORDER = Parameter(
    "order", "string",
    "The sort direction: asc or desc, case-insensitive. Default is asc; an empty value means the default. "
    "Anything else is 422 naming `order`.",
    default="asc", allowed=("asc", "desc"),
)  # fmt: skip
PAGE = Parameter(
    "page", "integer",
    "The page number, from 1. Default is 1. Not an integer of at least 1 (an empty value too) is 422. A page past "
    "the end answers `[]` with the paging headers. Cannot be combined with `cursor` (400).",
    default=1, minimum=1,
)  # fmt: skip
SIZE = Parameter(
    "size", "integer",
    f"Soundtracks per page, from 1. Default is {DEFAULT_SIZE}. A size above {MAX_SIZE} is treated as {MAX_SIZE}, "
    "and the paging headers describe that size. Not an integer of at least 1 (an empty value too) is 422.",
    default=DEFAULT_SIZE, minimum=1,
)  # fmt: skip
UUID = Parameter(
    "uuid", "string",
    "UUID of the soundtrack, in the canonical 8-4-4-4-12 hexadecimal form, any case; anything else is 422 "
    "`Invalid UUID string: <uuid>`.",
    location="path", format="uuid", example="b85a9e0c-ab94-4c2f-a85a-439708e3e98b",
)  # fmt: skip

QUERY = (NAME, ARTIST, ALBUM, DURATION, RELEASE_DATE, SORT, ORDER)
"""What :func:`query` reads: the parameters of count and random."""
PAGING = (PAGE, SIZE, CURSOR)
"""What a page reads besides the filters: :func:`page` and the cursor."""


def _typed(name: str, kind: str, text: str) -> object:
    """A filter operand in its field's type: int for numbers, ISO text for dates."""
    if kind == NUMBER:
        if not re.fullmatch(r"\d{1,15}", text):
            raise invalid_parameter(name, f"'{text}' is not a whole number")
        return int(text)
    if kind == DATE:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise ValueError(text)
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise invalid_parameter(name, f"'{text}' is not a date (YYYY-MM-DD)") from None
    return text


def _filter(name: str, kind: str, value: str) -> tuple[Selection | None, Condition | None]:
    """One filter parameter as an index selection (equality, in, not) or a condition (the rest)."""

    def needs(kinds: tuple[str, ...], operator: str) -> None:
        if kind not in kinds:
            raise invalid_parameter(name, f"the operator '{operator}' does not apply to a {kind} field")

    def selected(values: list[str]) -> frozenset:
        if len(values) > MAX_LIST_ITEMS:
            raise invalid_parameter(name, f"more than {MAX_LIST_ITEMS} values")
        return frozenset(str(_typed(name, kind, item)) for item in values)

    if value.startswith("!*") or value.startswith("*"):
        negated = value.startswith("!")
        needs((TEXT,), "!*" if negated else "*")
        return None, Condition(name, "not_contains" if negated else "contains", value[2 if negated else 1 :])
    if value.startswith("!:"):
        return Selection(exclude=selected(value[2:].split(","))), None
    if value.startswith(":"):
        return Selection(include=selected(value[1:].split(","))), None
    for prefix, operator in _RANGES.items():
        if value.startswith(prefix):
            needs((NUMBER, DATE), prefix)
            return None, Condition(name, operator, _typed(name, kind, value[len(prefix) :]))
    if "::" in value:
        needs((NUMBER, DATE), "::")
        low, _, high = value.partition("::")
        return None, Condition(name, "between", (_typed(name, kind, low), _typed(name, kind, high)))
    if value.startswith("!"):
        return Selection(exclude=selected([value[1:]])), None
    return Selection(include=selected([value])), None


def _order(parameters: Parameters) -> tuple[str, bool]:
    """``sort=<field>`` with ``order=asc|desc``, or ``sort=<field>,ASC|DESC`` (which wins)."""
    field, _, direction = (single(parameters, SORT.name) or SORT.default).partition(",")
    field = field.strip()
    if field not in SORT_FIELDS:
        raise invalid_parameter(SORT.name, f"'{field}' is not a sort field ({', '.join(SORT_FIELDS)})")
    direction = (direction or single(parameters, ORDER.name) or ORDER.default).strip().lower()
    if direction not in ORDER.allowed:
        raise invalid_parameter(SORT.name if "," in (single(parameters, SORT.name) or "") else ORDER.name,
                                f"'{direction}' is neither asc nor desc")  # fmt: skip
    return field, direction == "desc"


def query(parameters: Parameters) -> Query:
    facets: dict[str, Selection] = {}
    conditions = []
    for name, kind in FILTERS.items():
        value = single(parameters, name)
        if not value:
            continue  # absent or empty: no filter, as the reference API
        selection, condition = _filter(name, kind, value)
        if selection is not None:
            facets[name] = selection
        if condition is not None:
            conditions.append(condition)
    field, descending = _order(parameters)
    return Query(
        collection=SOUNDTRACKS,
        facets=facets,
        conditions=tuple(conditions),
        sort=SOUNDTRACKS.sort(field),
        descending=descending,
    )


def page(parameters: Parameters) -> tuple[int, int]:
    """``page`` (1-based, default 1) and ``size`` (default 10, clamped to 20)."""
    number = integer(parameters, PAGE)
    size = min(integer(parameters, SIZE), MAX_SIZE)
    return number, size


def window(number: int, size: int) -> Window:
    return Window(offset=(number - 1) * size, limit=size)
