"""What the demo's simulator reads from the store: the open events it moves along, the places it
reports from, the catalogue, and the recent report rate. Reads only; it writes through the ingest path."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, not_, select

from queries.schema import CITY, areas, buildings, categories, events, open_events
from queries.scope import Scope

# Statuses the simulator can move on (a parked case waits for the season, a void or closed one is done).
MOVABLE = ("reported", "accepted", "verified", "registered", "dispatched", "handled", "checked")


@dataclass(frozen=True)
class OpenEvent:
    """An open event the simulator may move a step along."""

    id: int
    source: str
    category_code: str
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class Place:
    """A building's point: where a simulated report is made."""

    code: str
    grid_code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class CategoryLimit:
    """A catalogue row as the simulator needs it."""

    code: str
    class_code: str
    name: str
    limit_value: float
    limit_unit: str
    urgent: bool


def open_events_to_move(conn: Connection, *, scope: Scope, now: datetime, limit: int = 1000) -> list[OpenEvent]:
    """Return up to ``limit`` open, unparked events in ``scope`` last changed at or before ``now``, latest first."""
    updated = func.coalesce(events.c.updated_at, events.c.reported_at)
    rows = conn.execute(
        select(events.c.id, events.c.source, events.c.category_code, events.c.status, updated.label("updated_at"))
        .join(open_events, open_events.c.id == events.c.id)
        .where(scope.events_clause(events), events.c.status.in_(MOVABLE), not_(events.c.is_parked),
               events.c.reported_at <= now, updated <= now)
        .order_by(updated.desc(), events.c.id.desc())
        .limit(limit)
    )
    return [OpenEvent(r.id, r.source, r.category_code, r.status, r.updated_at) for r in rows]


def places(conn: Connection, *, scope: Scope, limit: int = 1_000_000) -> list[Place]:
    """Return the buildings in ``scope`` (code, grid, point), by code."""
    rows = conn.execute(
        select(buildings.c.code, buildings.c.grid_code, buildings.c.lat, buildings.c.lon)
        .where(buildings.c.grid_code.startswith(scope.prefix, autoescape=True))
        .order_by(buildings.c.code).limit(limit)
    )
    return [Place(r.code, r.grid_code, r.lat, r.lon) for r in rows]


def category_limits(conn: Connection, *, limit: int = 10_000) -> list[CategoryLimit]:
    """Return the event catalogue with each category's handling limit, by code."""
    rows = conn.execute(
        select(categories.c.code, categories.c.class_code, categories.c.name, categories.c.limit_value, categories.c.limit_unit,
               categories.c.urgent).order_by(categories.c.code).limit(limit)
    )
    return [CategoryLimit(r.code, r.class_code, r.name, float(r.limit_value), r.limit_unit, bool(r.urgent)) for r in rows]


def top_scope(conn: Connection) -> Scope | None:
    """Return the scope of the store's whole city (its first level-0 area), or None in an empty store."""
    code = conn.execute(select(areas.c.code).where(areas.c.level == CITY).order_by(areas.c.code).limit(1)).scalar()
    return None if code is None else Scope(code, CITY)


def reports_per_day(conn: Connection, *, scope: Scope, since: datetime, until: datetime) -> float:
    """Return the events reported in ``scope`` in [since, until) per day (naive local times)."""
    days = (until - since).total_seconds() / 86400
    if days <= 0:
        return 0.0
    count = conn.execute(
        select(func.count()).select_from(events)
        .where(scope.events_clause(events), events.c.reported_at >= since, events.c.reported_at < until)
    ).scalar()
    return count / days


__all__ = ["CategoryLimit", "OpenEvent", "Place", "category_limits", "open_events_to_move", "places",
           "reports_per_day", "top_scope"]
