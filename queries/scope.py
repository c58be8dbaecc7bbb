"""What a caller may see: one area of the hierarchy (and, for a department, only its cases in it).

Every query takes one and applies it itself.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, and_
from sqlalchemy.sql.elements import ColumnElement

from queries.schema import CITY, CODE_LENGTHS, COMMUNITY, DISTRICT, GRID, STREET

# The events column that holds the code of each level (a city is the whole store).
EVENT_COLUMN = {DISTRICT: "district_code", STREET: "street_code", COMMUNITY: "community_code", GRID: "grid_code"}


def code_prefix(code: str, level: int) -> str:
    """Return the prefix every code below ``code`` starts with (a city's is its first 4 digits)."""
    return code[:4] if level == CITY else code


@dataclass(frozen=True)
class Scope:
    """An area a caller may see, and everything under it; with ``department``, only that department's events."""

    area_code: str
    level: int
    department: str | None = None

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
        """Return the WHERE clause that cuts the events table (or a projection of it) to this scope."""
        if self.level == CITY:
            clause = events.c.district_code.startswith(self.prefix, autoescape=True)
        else:
            clause = events.c[EVENT_COLUMN[self.level]] == self.area_code
        return clause if self.department is None else and_(clause, events.c.department_code == self.department)

