"""The soundtracks query string: page/size paging, sort and order, and operator-prefixed filters.

A filter value is exact and case-sensitive unless it starts with an operator of the reference API:
``*v`` contains, ``!*v`` not contains, ``a::b`` between, ``:a,b`` in, ``!:a,b`` not in, ``>=``,
``<=``, ``>``, ``<``, ``!v`` not equal. Unknown parameters and empty filter values are ignored.
"""

import re
from datetime import date

from catalog.collections import SOUNDTRACKS
from catalog.errors import invalid_parameter
from catalog.parse import MAX_LIST_ITEMS, Parameters, integer, single
from catalog.query import Condition, Query, Selection, Window

DEFAULT_SIZE = 10
MAX_SIZE = 20
DEFAULT_SORT = "created_at"

TEXT, NUMBER, DATE = "text", "number", "date"
FILTERS = {"name": TEXT, "artist": TEXT, "album": TEXT, "duration": NUMBER, "release_date": DATE}
_RANGES = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}


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
    field, _, direction = (single(parameters, "sort") or DEFAULT_SORT).partition(",")
    field = field.strip()
    if field not in {sort.name for sort in SOUNDTRACKS.sorts}:
        allowed = ", ".join(sort.name for sort in SOUNDTRACKS.sorts)
        raise invalid_parameter("sort", f"'{field}' is not a sort field ({allowed})")
    direction = (direction or single(parameters, "order") or "asc").strip().lower()
    if direction not in ("asc", "desc"):
        raise invalid_parameter("sort" if "," in (single(parameters, "sort") or "") else "order",
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
    number = integer(parameters, "page", 1, 1)
    size = min(integer(parameters, "size", DEFAULT_SIZE, 1), MAX_SIZE)
    return number, size


def window(number: int, size: int) -> Window:
    return Window(offset=(number - 1) * size, limit=size)
