"""The live ticker and urgent alerts: the newest events of an area, and urgent ones nobody signed for yet.

An event is urgent when its category is marked urgent or it is of the 突发事件 class (04): the
``urgent`` flag of ``events`` holds that from the ingest. An alert is open until someone
acknowledges it (``alert_acks``: the first acknowledgement counts; the audit log keeps every one).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, insert, or_, select
from sqlalchemy.orm import aliased

from queries.areas import Area
from queries.overview import _where
from queries.schema import alert_acks, areas, categories, events
from queries.scope import Scope

URGENT_CLASS = "04"  # 突发事件
TICKER_DAYS = 7  # the ticker looks this far back (a time window DuckDB prunes by zone maps)
MAX_LIMIT = 200


@dataclass(frozen=True)
class TickerEvent:
    """One event as the ticker and the alert banner show it."""

    id: int
    reported_at: datetime
    category_code: str
    category_name: str
    class_name: str
    source: str
    status: str
    urgent: bool
    community_name: str
    grid_name: str
    grid_code: str
    lat: float | None
    lon: float | None


def _urgent(table=events):
    return or_(table.c.urgent, table.c.class_code == URGENT_CLASS)


def _select(where, as_of: datetime, since: datetime, limit: int):
    grid = aliased(areas)
    community = aliased(areas)
    return (
        select(events.c.id, events.c.reported_at, events.c.category_code, categories.c.name, categories.c.class_name,
               events.c.source, events.c.status, _urgent().label("urgent"), community.c.name.label("community"),
               grid.c.name.label("grid"), events.c.grid_code, events.c.lat, events.c.lon)
        .join(categories, categories.c.code == events.c.category_code)
        .join(grid, grid.c.code == events.c.grid_code)
        .join(community, community.c.code == events.c.community_code)
        .where(where, events.c.reported_at >= since, events.c.reported_at <= as_of)
        .order_by(events.c.reported_at.desc(), events.c.id.desc())
        .limit(max(1, min(int(limit), MAX_LIMIT)))
    )


def _rows(conn: Connection, stmt) -> list[TickerEvent]:
    return [TickerEvent(r.id, r.reported_at, r.category_code, r.name, r.class_name, r.source, r.status,
                        bool(r.urgent), r.community, r.grid, r.grid_code, r.lat, r.lon)
            for r in conn.execute(stmt).all()]


def recent_events(conn: Connection, *, scope: Scope, area: Area, as_of: datetime, limit: int = 20,
                  days: int = TICKER_DAYS) -> list[TickerEvent]:
    """Return the newest events reported in ``area`` up to ``as_of`` (the last ``days`` days), newest first."""
    if not scope.covers(area.code):
        return []
    return _rows(conn, _select(_where(scope, area), as_of, as_of - timedelta(days=days), limit))


def open_alerts(conn: Connection, *, scope: Scope, as_of: datetime, hours: int = 24,
                limit: int = 20) -> list[TickerEvent]:
    """Return the urgent events of the scope reported in the last ``hours`` that nobody acknowledged, newest first.

    Void events raise no alert.
    """
    acked = select(alert_acks.c.event_id).where(alert_acks.c.event_id == events.c.id).exists()
    where = and_(scope.events_clause(events), _urgent(), ~events.c.is_void, ~acked)
    return _rows(conn, _select(where, as_of, as_of - timedelta(hours=hours), limit))


def acknowledge(conn: Connection, *, scope: Scope, event_id: int, user_name: str,
                at: datetime) -> tuple[str, str | None]:
    """Sign for the alert of urgent event ``event_id``.

    Return (outcome, the event's grid code): 'ok', 'already', or 'unknown' (not urgent, or not in scope: never which).
    """
    found = conn.execute(select(events.c.grid_code).where(events.c.id == event_id, scope.events_clause(events),
                                                          _urgent())).first()
    if found is None:
        return "unknown", None
    if conn.execute(select(alert_acks.c.event_id).where(alert_acks.c.event_id == event_id)).first() is not None:
        return "already", found.grid_code
    conn.execute(insert(alert_acks).values(event_id=event_id, user_name=user_name, acknowledged_at=at))
    return "ok", found.grid_code
