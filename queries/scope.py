"""What a caller may see: one area of the hierarchy. Every query takes one and applies it itself."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.sql.elements import ColumnElement

from queries.schema import CITY, CODE_LENGTHS, COMMUNITY, DISTRICT, GRID, STREET

# The events column that holds the code of each level (a city is the whole store).
EVENT_COLUMN = {DISTRICT: "district_code", STREET: "street_code", COMMUNITY: "community_code", GRID: "grid_code"}


def code_prefix(code: str, level: int) -> str:
    """Return the prefix every code below ``code`` starts with (a city's is its first 4 digits)."""
    return code[:4] if level == CITY else code


@dataclass(frozen=True)
class Scope:
    """An area a caller may see, and everything under it."""

    area_code: str
    level: int

    @property
    def prefix(self) -> str:
        return code_prefix(self.area_code, self.level)

    def covers(self, code: str) -> bool:
        """Return True when ``code`` (an area or building) is this area or lies under it."""
        if not isinstance(code, str) or not code.isdigit():
            return False
        if self.level == CITY and len(code) == CODE_LENGTHS[CITY] and code == self.area_code:
            return True
        return code.startswith(self.prefix) and len(code) >= CODE_LENGTHS[self.level]

    def events_clause(self, events: Table) -> ColumnElement[bool]:
        """Return the WHERE clause that cuts the events table to this scope."""
        if self.level == CITY:
            return events.c.district_code.startswith(self.prefix, autoescape=True)
        return events.c[EVENT_COLUMN[self.level]] == self.area_code

