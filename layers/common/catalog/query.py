"""What a client asked for, independent of how it was spelled and of how it will be read."""

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog import keys
from catalog.declarations import Collection, Sort


@dataclass(frozen=True)
class Selection:
    """Include/exclude values of one list parameter: includes are OR'd, any exclude drops."""

    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()

    def admits(self, values: list[str]) -> bool:
        if self.exclude.intersection(values):
            return False
        return not self.include or not self.include.isdisjoint(values)


@dataclass(frozen=True)
class Condition:
    """A comparison no index answers, checked on each index entry: ``attribute <operator> operand``."""

    attribute: str
    operator: str
    """One of ``OPERATORS``."""
    operand: Any
    """The value parsed for the attribute, or (low, high) for ``between``."""

    def admits(self, value: object) -> bool:
        if value is None:
            return self.operator == "not_contains"
        return OPERATORS[self.operator](value, self.operand)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {  # an attribute's value, and the operand parsed for it
    "contains": lambda value, operand: operand in value,
    "not_contains": lambda value, operand: operand not in value,
    "between": lambda value, operand: operand[0] <= value <= operand[1],
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


@dataclass(frozen=True)
class Query:
    collection: Collection
    scoped: bool | None = None
    """The value of the collection's scope attribute to keep (songs: archived or not)."""
    ids: Selection = Selection()
    facets: dict[str, Selection] = field(default_factory=dict)
    """Selections by facet name; a facet without selection is absent."""
    newer_than: str | None = None
    """Exclusive lower bound on the sort value."""
    older_than: str | None = None
    """Exclusive upper bound on the sort value."""
    phrase: str | None = None
    """Lower-cased literal substring to find in the searchable text."""
    conditions: tuple[Condition, ...] = ()
    sort: Sort | None = None
    """The order to read in; None: the collection's default."""
    descending: bool = False

    @property
    def order(self) -> Sort:
        return self.sort or self.collection.sorts[0]

    def fingerprint(self) -> bytes:
        """What the query asks for, however it was spelled: equal queries, equal bytes."""

        def selection(chosen: Selection) -> list[list[str]]:
            return [sorted(chosen.include), sorted(chosen.exclude)]

        canonical = [
            self.collection.name,
            self.scoped,
            selection(self.ids),
            sorted([name, selection(chosen)] for name, chosen in self.facets.items()),
            self.newer_than,
            self.older_than,
            self.phrase,
            sorted([c.attribute, c.operator, repr(c.operand)] for c in self.conditions),
            self.order.name,
            self.descending,
        ]
        return json.dumps(canonical, separators=(",", ":")).encode()

    def matches(self, entry: dict) -> bool:
        """Whether an index entry (or posting) satisfies every condition of the query but scope."""
        if not self.ids.admits([keys.id_of(entry)]):
            return False
        for name, selection in self.facets.items():
            if not selection.admits(self.collection.facet(name).values(entry)):
                return False
        if self.newer_than is not None or self.older_than is not None:
            sort_value = keys.sort_value_of(entry)  # time bounds are on the default order's values (fsk)
            if self.newer_than is not None and not sort_value > self.newer_than:
                return False
            if self.older_than is not None and not sort_value < self.older_than:
                return False
        if self.phrase and not any(self.phrase in text for text in entry.get("search", ())):
            return False
        return all(condition.admits(entry.get(condition.attribute)) for condition in self.conditions)


@dataclass(frozen=True)
class Window:
    offset: int = 0
    limit: int = 25
