"""Step 1 of a request: read the query string into a validated Query and Window.

Each collection has its own dialect (``songs``, ``soundtracks``); the rules they share live here.
Every value is checked before anything is read, and each refusal names the parameter.
"""

import re
from collections.abc import Callable, Mapping

from catalog.errors import BadRequest, invalid_parameter, invalid_uuid
from catalog.query import Selection

MAX_LIST_ITEMS = 100

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

Parameters = Mapping[str, list[str]]
"""The query string: name -> every value given."""


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


def integer(parameters: Parameters, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """An integer parameter within [minimum, maximum] (no maximum when None)."""
    text = single(parameters, name)
    if text is None:
        return default
    if not re.fullmatch(r"[+-]?\d{1,18}", text.strip()) or int(text) < minimum:
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise invalid_parameter(name, f"'{text}' is not an integer {bounds}")
    value = int(text)
    if maximum is not None and value > maximum:
        raise invalid_parameter(name, f"{value} is above the maximum of {maximum}")
    return value


def choice(parameters: Parameters, name: str, default: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed`` (case-insensitive), lower-cased."""
    text = single(parameters, name)
    if text is None:
        return default
    if text.strip().lower() not in allowed:
        raise invalid_parameter(name, f"'{text}' is not one of {', '.join(allowed)}")
    return text.strip().lower()


def selection(parameters: Parameters, name: str, normalize: Callable[[str], str] = str) -> Selection | None:
    """A comma-separated include/exclude list: items trimmed, ``-`` excludes, ``+`` or nothing includes.

    Repeating the parameter is the same as joining its values with commas.
    """
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


def cursor(parameters: Parameters, position_parameter: str) -> str | None:
    """The ``cursor`` a list answer's ``Link`` gave; it says where the page starts, so it cannot be
    combined with the parameter that also does (``offset``, ``page``): 400."""
    text = single(parameters, "cursor")
    if text is not None and parameters.get(position_parameter):
        raise BadRequest(f"Give either 'cursor' or '{position_parameter}', not both")
    return text
