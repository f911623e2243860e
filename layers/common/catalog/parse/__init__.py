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
MAX_INTEGER = 10**18 - 1
"""The largest value of an integer parameter without a smaller maximum of its own (18 digits)."""
_INTEGER = re.compile(r"([+-]?)0*([0-9]+)")  # ASCII digits only, as OpenAPI's `integer` means

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

Parameters = Mapping[str, list[str]]
"""The query string: name -> every value given."""


class Parameter:
    """A request parameter: its name, where it is, its type and rules, and what it means to a client.

    A plain class (not a dataclass or a pydantic model): the functions import these declarations at
    cold start. ``type`` is ``integer``, ``boolean``, ``string`` or ``list`` (comma-separated items,
    each optionally prefixed with ``+`` to include or ``-`` to exclude). A string, or a list's item
    (its prefix aside), is accepted when it has the ``format`` (``uuid``, ``date-time``) or is one of
    ``allowed``; with neither, any text is. ``pattern`` (an ECMA-262 regular expression, as OpenAPI
    means it) tells clients the grammar of a string the parser reads itself; a test proves that both agree.
    """

    __slots__ = (
        "name", "type", "description", "location", "default", "minimum", "maximum", "allowed", "format", "pattern",
        "example",
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
        pattern: str | None = None,
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
        self.pattern = pattern
        self.example = example

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, {self.type!r})"


CURSOR = Parameter(
    "cursor",
    "string",
    'Where the page starts: copy it from the previous answer\'s `Link` header (`rel="next"`), whose URL '
    "already carries it. Opaque and sealed; it belongs to the query it was issued for. Another filter, order "
    "or collection, an altered cursor, one from another deployment, or anything else is 400. The parameter "
    "that also says where the page starts (`offset` for songs, `page` for soundtracks) may be sent at its "
    "default with a cursor (generated clients do), any other value of it is 400. An empty `cursor` is no "
    "cursor: the first page.",
)


IF_NONE_MATCH = Parameter(
    "If-None-Match",
    "string",
    "The `ETag` of an earlier 200 answer to the same request (or a list of them, or `*`): when the answer would "
    "carry that tag, it is 304 Not Modified with no body. The request is still served (and read); only the body "
    'is not sent again. Weak tags (`W/"..."`) match as their strong form.',
    location="header",
    example='"861b7fe488aa118cdd0fd7fa50923b20"',  # the ETag of {"count":300}
)
"""Read by ``catalog.http`` for every GET (declared here, as every parameter, for the OpenAPI document)."""


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
    """An integer parameter within its declared [minimum, maximum] (MAX_INTEGER when it declares none).

    ASCII digits, an optional sign, surrounding spaces ignored; any other text, whatever digits it
    holds (``５``), is not an integer. Every integer above the maximum gets the same answer, however
    many digits it has.
    """
    name, minimum, default = declared.name, declared.minimum, declared.default
    if not isinstance(default, int) or minimum is None:
        raise TypeError(f"{declared!r}: an integer parameter declares an integer default and a minimum")
    maximum = MAX_INTEGER if declared.maximum is None else declared.maximum
    text = single(parameters, name)
    if text is None:
        return default
    read = _INTEGER.fullmatch(text.strip())
    negative = read is not None and read.group(1) == "-" and read.group(2) != "0"
    if read is None or negative and minimum >= 0:
        raise invalid_parameter(name, f"'{text}' is not an integer from {minimum} to {maximum}")
    digits = read.group(2)
    # Compared as text first: int() of thousands of digits is slow, and every bound has at most 18.
    if len(digits) > len(str(maximum)) or int(digits) > maximum:
        raise invalid_parameter(name, f"{digits} is above the maximum of {maximum}")
    value = -int(digits) if negative else int(digits)
    if value < minimum:
        raise invalid_parameter(name, f"'{text}' is not an integer from {minimum} to {maximum}")
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
    include: set[str] = set()
    exclude: set[str] = set()
    for item in items:
        target = exclude if item.startswith("-") else include
        target.add(normalize(item[1:] if item[:1] in "+-" and item else item))
    return Selection(frozenset(include), frozenset(exclude))


def cursor(parameters: Parameters, position: Parameter) -> str | None:
    """The ``cursor`` a list answer's ``Link`` gave, or None (absent or empty: the first page).

    The cursor says where the page starts, and so does ``position`` (``offset``, ``page``): with a
    cursor, ``position`` may only be absent or at its default, which generated clients always send; any
    other value is a conflict, 400.
    """
    text = single(parameters, CURSOR.name)
    if not text:
        return None
    if integer(parameters, position) != position.default:
        raise BadRequest(
            f"Give either '{CURSOR.name}' or '{position.name}', not both ('{position.name}' may only be "
            f"{position.default} with a cursor)"
        )
    return text
