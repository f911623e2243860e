"""The soundtracks query string: page/size paging, sort and order, and operator-prefixed filters.

A filter value is exact and case-sensitive unless it starts with an operator of the reference API:
``*v`` contains, ``!*v`` not contains, ``a::b`` between, ``:a,b`` in, ``!:a,b`` not in, ``>=``,
``<=``, ``>``, ``<``, ``!v`` not equal. Unknown parameters and empty filter values are ignored.

Each parameter is declared once below (see :class:`catalog.parse.Parameter`); the descriptions are
the Soundtracks document's, with this API's rules added.
"""

import re
from datetime import date

from catalog.declarations import SOUNDTRACKS
from catalog.errors import invalid_parameter
from catalog.parse import CURSOR, MAX_INTEGER, MAX_LIST_ITEMS, Parameter, Parameters, integer, single
from catalog.query import Condition, Query, Selection, Window

DEFAULT_SIZE = 10
MAX_SIZE = 20
DEFAULT_SORT = "created_at"
SORT_FIELDS = tuple(sort.name for sort in SOUNDTRACKS.sorts)

TEXT, NUMBER, DATE = "text", "number", "date"
_DIRECTIONS = ("asc", "desc")
_RANGES = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}

_OPERATORS = {
    TEXT: "`!v` not equal, `:a,b` equals one of, `!:a,b` equals none of, `*v` contains (case-sensitive), `!*v` does not contain",
    NUMBER: "`!v` not equal, `:a,b` equals one of, `!:a,b` equals none of, `>v`, `>=v`, `<v`, `<=v`, "
    "`a::b` between (both included)",
}
_OPERATORS[DATE] = _OPERATORS[NUMBER]
_OPERAND = {
    TEXT: "Operands are taken as written (not trimmed); no stored value is longer than 200 characters.",
    NUMBER: "An operand is a whole number of at most 15 ASCII digits (no sign, no spaces).",
    DATE: "An operand is a date `YYYY-MM-DD` (years 0001 to 9999).",
}

# The grammar of each kind of filter value as one ECMA-262 pattern (what OpenAPI's `pattern` means; it
# reads the same in Python with re.fullmatch), for the document: generated clients, validators and
# fuzzers learn from it which values the parser below accepts. Empty is no filter. Written with
# [0-9], never \d (which Python reads as any Unicode digit), and without look-arounds, so that any
# regex engine reads it alike. tests/unit/test_parse_grammar.py proves that the parser
# accepts exactly what these match.
_NUMBER = "[0-9]{1,15}"
_NONZERO_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][48]|[13579][26]|[2468]0)00)"
_DATE = (
    f"(?:{_NONZERO_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    f"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)"
)


def _ordered_grammar(operand: str) -> str:
    """Equality, or one operand after `!`, `:`/`!:` and up to 99 more, a comparison, or `a::` (between)."""
    return f"^(?:(?:!?:(?:{operand},){{0,{MAX_LIST_ITEMS - 1}}}|!|[<>]=?|{operand}::)?{operand})?$"


_NO_DOUBLE_COLON = "[^:]*(?::[^:]+)*:?"
GRAMMAR = {
    NUMBER: _ordered_grammar(_NUMBER),
    DATE: _ordered_grammar(_DATE),
    # (Not) contains anything; (not) in a list; not equal to a value that does not start another
    # operator; equal to a value that starts no operator. Outside a contains or a list, `::` is between,
    # which a text field refuses.
    TEXT: (
        f"^(?:!?\\*[\\s\\S]*|!?:[^,]*(?:,[^,]*){{0,{MAX_LIST_ITEMS - 1}}}|!(?:[^*:]{_NO_DOUBLE_COLON})?"
        f"|(?:[^*:<>!]{_NO_DOUBLE_COLON})?)$"
    ),
}


def _filter_parameter(name: str, kind: str, what: str, example: str) -> Parameter:
    return Parameter(
        name, "string",
        f"{what} Exact match, case-sensitive, unless the value starts with an operator: {_OPERATORS[kind]}. "
        f"{_OPERAND[kind]} An operator that does not apply to a {kind} field, an operand that cannot be read, or an "
        f"in-list of more than {MAX_LIST_ITEMS} values is 422. An empty value is no filter. A soundtrack without "
        "the field only matches the negated operators. The pattern is this grammar.",
        pattern=GRAMMAR[kind], example=example,
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
    # "" too: an empty value is the default (the enum lists the canonical spellings; see docs/API.md).
    allowed=(*(f"{field}{direction}" for field in SORT_FIELDS for direction in ("", ",ASC", ",DESC")), ""),
)  # fmt: skip
ORDER = Parameter(
    "order", "string",
    "The sort direction: asc or desc, case-insensitive. Default is asc; an empty value means the default. "
    "Anything else is 422 naming `order`.",
    default="asc", allowed=("asc", "desc", ""),  # "": an empty value is the default
)  # fmt: skip
PAGE = Parameter(
    "page", "integer",
    "The page number, from 1. Default is 1. Not an integer from 1 to the maximum (an empty value too) is 422. A "
    "page past the end answers `[]` with the paging headers. With a `cursor`, only 1 (400 otherwise).",
    default=1, minimum=1, maximum=MAX_INTEGER,
)  # fmt: skip
SIZE = Parameter(
    "size", "integer",
    f"Soundtracks per page, from 1. Default is {DEFAULT_SIZE}. A size above {MAX_SIZE} is treated as {MAX_SIZE}, "
    "and the paging headers describe that size. Not an integer from 1 to the maximum (an empty value too) is 422.",
    default=DEFAULT_SIZE, minimum=1, maximum=MAX_INTEGER,
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
        if not re.fullmatch(r"[0-9]{1,15}", text):
            raise invalid_parameter(name, f"'{text}' is not a whole number")
        return int(text)
    if kind == DATE:
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
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
    """``sort=<field>`` with ``order=asc|desc``, or ``sort=<field>,ASC|DESC`` (which wins; ``order`` is
    still checked, as the document declares it)."""
    field, _, direction = (single(parameters, SORT.name) or str(SORT.default)).partition(",")
    field = field.strip()
    if field not in SORT_FIELDS:
        raise invalid_parameter(SORT.name, f"'{field}' is not a sort field ({', '.join(SORT_FIELDS)})")
    order = (single(parameters, ORDER.name) or str(ORDER.default)).strip().lower()
    if order not in _DIRECTIONS:
        raise invalid_parameter(ORDER.name, f"'{order}' is neither asc nor desc")
    direction = direction.strip().lower() or order
    if direction not in _DIRECTIONS:
        raise invalid_parameter(SORT.name, f"'{direction}' is neither asc nor desc")
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
