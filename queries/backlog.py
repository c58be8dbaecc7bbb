"""The backlog desk's reads: the open cases in a caller's scope with their names joined, the district's departments.

A department handler sees its department's cases and those whistled to it (吹哨: "部门报到"); anyone
else the open cases of their area. One frame per data version is cached by ``dashboard.data``; the
page, its sort, filters and search are cut from it in ``dashboard.backlog`` (pure pandas).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, and_, exists, false, or_, select

from queries.schema import CITY, areas, categories, departments, events, open_events, whistle_calls
from queries.scope import EVENT_COLUMN, Scope

# A sane ceiling: a street center has tens of thousands of open cases at most; a city a few hundred thousand.
MAX_CASES = 500_000
DELTA_IDS = 2_000  # a refresh of a few grids names up to this many ids outright

FRAME_COLUMNS = (
    "id", "category_code", "category", "class_name", "limit_unit", "urgent", "street_code", "community_code",
    "community", "grid_code", "grid", "department_code", "department", "status", "reported_at", "dispatched_at",
    "clock_started_at", "deadline_at", "handled_at", "is_parked", "urge_count", "last_urged_at", "supervised_until",
    "extension_requested_at", "extension_requested_until", "whistled_at", "extension_count", "return_count",
    "rework_count", "whistled_to_me",
)


def _area_clause(scope: Scope, table):
    """Return the area part of ``scope`` on ``table`` (never its department)."""
    if scope.level == CITY:
        return table.c.district_code.startswith(scope.prefix, autoescape=True)
    return table.c[EVENT_COLUMN[scope.level]] == scope.area_code


def open_cases(conn: Connection, *, scope: Scope, grids: Sequence[str] | None = None,
               limit: int = MAX_CASES) -> pd.DataFrame:
    """Return the open cases in ``scope`` (FRAME_COLUMNS), oldest report first; times naive local.

    A department's scope takes its own cases and those whistled to it (``whistled_to_me``). With
    ``grids``, only the cases in those grids (a frame refreshed where a change happened).
    """
    o = open_events
    community, grid = areas.alias("community"), areas.alias("grid")
    if scope.department is None:
        cut, mine = _area_clause(scope, o), None
    else:
        mine = exists().where(whistle_calls.c.event_id == o.c.id,
                              whistle_calls.c.department_code == scope.department)
        cut = and_(_area_clause(scope, o), or_(o.c.department_code == scope.department, mine))
    if grids is not None:
        cut = and_(cut, o.c.grid_code.in_(list(grids)))
    # The extension, return and rework counts live on events only: read just the open cases' nonzero ones
    # (a scan of three small columns; joining every open case to 10 M events cost four times as much).
    # A few grids' cases (a refresh after a change) name their ids instead: the store then reads only the
    # row groups that hold them.
    counted = or_(events.c.extension_count > 0, events.c.return_count > 0, events.c.rework_count > 0)
    ids = select(o.c.id).where(cut)
    if grids is not None:
        few = conn.execute(ids.limit(DELTA_IDS + 1)).scalars().all()
        if len(few) <= DELTA_IDS:
            ids = few if few else [-1]
    counts = select(events.c.id, events.c.extension_count, events.c.return_count, events.c.rework_count).where(
        counted, events.c.id.in_(ids)).subquery("counts")
    stmt = (
        select(
            o.c.id, o.c.category_code, categories.c.name.label("category"), categories.c.class_name,
            categories.c.limit_unit, o.c.urgent, o.c.street_code, o.c.community_code,
            community.c.name.label("community"), o.c.grid_code, grid.c.name.label("grid"), o.c.department_code,
            departments.c.name.label("department"), o.c.status, o.c.reported_at, o.c.dispatched_at,
            o.c.clock_started_at, o.c.deadline_at, o.c.handled_at, o.c.is_parked, o.c.urge_count, o.c.last_urged_at,
            o.c.supervised_until, o.c.extension_requested_at, o.c.extension_requested_until, o.c.whistled_at,
            counts.c.extension_count, counts.c.return_count, counts.c.rework_count,
            (mine if mine is not None else false()).label("whistled_to_me"),
        )
        .select_from(o)
        .join(categories, categories.c.code == o.c.category_code, isouter=True)
        .join(community, community.c.code == o.c.community_code, isouter=True)
        .join(grid, grid.c.code == o.c.grid_code, isouter=True)
        .join(departments, departments.c.code == o.c.department_code, isouter=True)
        .join(counts, counts.c.id == o.c.id, isouter=True)
        .where(cut)
        .order_by(o.c.reported_at, o.c.id)
        .limit(limit)
    )
    result = conn.execute(stmt)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for column in ("urge_count", "extension_count", "return_count", "rework_count"):
        frame[column] = frame[column].fillna(0).astype("int64")
    for column in ("urgent", "is_parked", "whistled_to_me"):
        frame[column] = frame[column].fillna(False).astype(bool)
    for column in ("reported_at", "dispatched_at", "clock_started_at", "deadline_at", "handled_at",
                   "last_urged_at", "supervised_until", "extension_requested_at", "extension_requested_until",
                   "whistled_at"):
        frame[column] = pd.to_datetime(frame[column])
    frame["id"] = frame["id"].astype("int64")
    return frame


@dataclass(frozen=True)
class Department:
    """A department a case may be sent to (改派) or whistled to (吹哨)."""

    code: str
    name: str


def district_departments(conn: Connection, *, scope: Scope, limit: int = 200) -> list[Department]:
    """Return the departments serving the scope's district (and the city's own), in code order.

    A city-wide scope gets every department. The codes offered are only those a district's desk may name.
    """
    stmt = select(departments.c.code, departments.c.name)
    if scope.level != CITY:
        district = scope.area_code[:6]
        stmt = stmt.where(or_(departments.c.district_code == district, departments.c.district_code.is_(None)))
    rows = conn.execute(stmt.order_by(departments.c.code).limit(limit)).all()
    return [Department(code, name) for code, name in rows]
