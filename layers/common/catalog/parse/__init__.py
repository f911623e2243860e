"""Step 1 of a request: read the query string into a validated Query and Window.

Each collection has its own dialect (``songs``, ``soundtracks``); the rules they share live here.
Every value is checked before anything is read, and each refusal names the parameter.

Every parameter is declared once, as a :class:`Parameter`: the parsers read its name, default and
bounds from the declaration, and the OpenAPI document (``devtools/openapi/``, ``docs/openapi.json``)
is generated from the same declarations, so the names, defaults and bounds it gives are the parser's.
"""

import re
from collections.abc import Callable, Mapping

from catalog.errors import BadRequest, invalid_parameter, invalid_uuid
from catalog.query import Selection

MAX_LIST_ITEMS = 100
MAX_INTEGER_DIGITS = 18
"""An integer parameter has at most this many digits (larger is refused, whatever its bounds)."""

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

Parameters = Mapping[str, list[str]]
"""The query string: name -> every value given."""


class Parameter:
    """A request parameter: its name, where it is, its type and rules, and what it means to a client.

    A plain class (not a dataclass or a pydantic model): the functions import these declarations at
    cold start. ``type`` is ``integer``, ``boolean``, ``string`` or ``list`` (comma-separated items,
    each optionally prefixed with ``+`` to include or ``-`` to exclude). A string, or a list's item
    (its prefix aside), is accepted when it has the ``format`` (``uuid``, ``date-time``) or is one of
    ``allowed``; with neither, any text is.
    """

    __slots__ = (
        "name", "type", "description", "location", "default", "minimum", "maximum", "allowed", "format", "example",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        type: str,  # noqa: A002 - OpenAPI's word
        description: str,
        *,
        location: str = "query",
        default: object = None,
        minimum: int | None = None,
        maximum: int | None = None,
        allowed: tuple[str, ...] = (),
        format: str | None = None,  # noqa: A002 - OpenAPI's word
        example: object = None,
    ) -> None:
        self.name = name
        self.type = type
        self.description = description
        self.location = location
        self.default = default
        self.minimum = minimum
        self.maximum = maximum
        self.allowed = allowed
        self.format = format
        self.example = example

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, {self.type!r})"


CURSOR = Parameter(
    "cursor",
    "string",
    'Where the page starts: copy it from the previous answer\'s `Link` header (`rel="next"`), whose URL '
    "already carries it. Opaque and sealed; it belongs to the query it was issued for. Another filter, order "
    "or collection, an altered cursor, one from another deployment, or anything else is 400, and so is a "
    "cursor given together with the parameter that also says where the page starts (`offset` for songs, "
    "`page` for soundtracks).",
)


def uuid(value: str) -> str:
    """A UUID in canonical 8-4-4-4-12 hex form, lower-cased; anything else is 422."""
    if not _UUID.fullmatch(value):
        raise invalid_uuid(value)
    return value.lower()


def single(parameters: Parameters, name: str) -> str | None:
    """A scalar parameter's value; None when absent. Given twice with different values: 422."""
    values = parameters.get(name)
    if not values:
        return None
    if len(set(values)) > 1:
        raise invalid_parameter(name, "given more than once with different values")
    return values[0]


def integer(parameters: Parameters, declared: Parameter) -> int:
    """An integer parameter within its declared [minimum, maximum] (no maximum when None)."""
    name, minimum, maximum = declared.name, declared.minimum, declared.maximum
    text = single(parameters, name)
    if text is None:
        return declared.default
    if not re.fullmatch(rf"[+-]?\d{{1,{MAX_INTEGER_DIGITS}}}", text.strip()) or int(text) < minimum:
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise invalid_parameter(name, f"'{text}' is not an integer {bounds}")
    value = int(text)
    if maximum is not None and value > maximum:
        raise invalid_parameter(name, f"{value} is above the maximum of {maximum}")
    return value


def choice(parameters: Parameters, declared: Parameter) -> str:
    """One of the declared allowed values (case-insensitive), lower-cased."""
    name, allowed = declared.name, declared.allowed
    text = single(parameters, name)
    if text is None:
        return str(declared.default).lower()
    if text.strip().lower() not in allowed:
        raise invalid_parameter(name, f"'{text}' is not one of {', '.join(allowed)}")
    return text.strip().lower()


def selection(parameters: Parameters, declared: Parameter, normalize: Callable[[str], str] = str) -> Selection | None:
    """A comma-separated include/exclude list: items trimmed, ``-`` excludes, ``+`` or nothing includes.

    Repeating the parameter is the same as joining its values with commas.
    """
    name = declared.name
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


def cursor(parameters: Parameters, position: Parameter) -> str | None:
    """The ``cursor`` a list answer's ``Link`` gave; it says where the page starts, so it cannot be
    combined with the parameter that also does (``offset``, ``page``): 400."""
    text = single(parameters, CURSOR.name)
    if text is not None and parameters.get(position.name):
        raise BadRequest(f"Give either '{CURSOR.name}' or '{position.name}', not both")
    return text
