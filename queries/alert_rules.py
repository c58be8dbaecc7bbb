"""What the alert rules count, and their firings and webhook deliveries (issue 6 §3; docs/alerts.md).

The rules' conditions read the open cases at ``as_of`` (the open_events projection when it is current,
else the history, as every "open" figure does). A firing is one ``alert_firings`` row per (rule, key)
for as long as the condition holds: ``cleared_at`` is set when it no longer does, and the next time it
holds is a new row. Each attempt to deliver a firing to a webhook is one ``webhook_deliveries`` row.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from queries.schema import (
    COMMUNITY, DISTRICT, STREET, alert_firing_id_seq, alert_firings, areas, categories, webhook_deliveries,
    webhook_delivery_id_seq,
)
from queries.scope import Scope
from queries.state import open_at, open_source

URGENT_CLASS = "04"  # 突发事件 (as queries/alerts.py)
PER_LEVELS = {"district": DISTRICT, "street": STREET, "community": COMMUNITY}
PER_COLUMNS = {"district": "district_code", "street": "street_code", "community": "community_code"}
MAX_HITS = 500  # the most areas or cases one rule reports per evaluation
MAX_LIMIT = 500


@dataclass(frozen=True)
class AreaCount:
    """An area where a counting rule's condition holds: its code, name and the cases counted."""

    code: str
    name: str
    count: int


@dataclass(frozen=True)
class LateDispatch:
    """An urgent case not dispatched in time: where, what, when reported."""

    id: int
    grid_code: str
    grid_name: str
    community_name: str
    category_name: str
    reported_at: datetime
    department_code: str | None


@dataclass(frozen=True)
class Firing:
    """One firing of a rule for one key, as screens and the API list it."""

    id: int
    rule: str
    key: str
    area_code: str
    level: str | None
    raised_at: datetime
    cleared_at: datetime | None
    title: str
    detail: dict
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    department_code: str | None


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver a firing to a webhook (by its configured name, never its URL)."""

    firing_id: int
    target: str
    attempt: int
    attempted_at: datetime
    outcome: str
    http_status: int | None
    error: str | None


def _unhandled(table, as_of: datetime):
    return or_(table.c.handled_at.is_(None), table.c.handled_at > as_of)


def cases_due_by_area(conn: Connection, *, scope: Scope, per: str, since: datetime, until: datetime,
                      as_of: datetime, more_than: int, limit: int = MAX_HITS) -> list[AreaCount]:
    """Return the areas (``per``: district / street / community) with more than ``more_than`` open cases
    not handled at ``as_of`` whose deadline lies in [since, until); most first, then by code.

    [as_of, as_of + H) are the cases turning red within H hours; [as_of − H, as_of) those that turned red
    in the last H hours. Parked and void cases have no clock and never count.
    """
    table, current = open_source(conn, as_of)
    column = table.c[PER_COLUMNS[per]]
    count = func.count().label("n")
    grouped = (select(column.label("code"), count)
               .where(scope.events_clause(table), open_at(table, current, as_of), _unhandled(table, as_of),
                      table.c.deadline_at >= since, table.c.deadline_at < until)
               .group_by(column).having(func.count() > more_than).subquery())
    stmt = (select(grouped.c.code, func.coalesce(areas.c.name, grouped.c.code).label("name"), grouped.c.n)
            .select_from(grouped.outerjoin(areas, areas.c.code == grouped.c.code))
            .order_by(grouped.c.n.desc(), grouped.c.code).limit(max(1, min(int(limit), MAX_HITS))))
    return [AreaCount(r.code, r.name, int(r.n)) for r in conn.execute(stmt).all()]


def undispatched_urgent(conn: Connection, *, scope: Scope, as_of: datetime, minutes: int,
                        limit: int = MAX_HITS) -> list[LateDispatch]:
    """Return the open urgent cases reported at least ``minutes`` before ``as_of`` and not dispatched by then.

    Urgent as the banner's: the category is marked urgent or is of the 突发事件 class (04). Oldest first.
    """
    table, current = open_source(conn, as_of)
    grid, community = aliased(areas), aliased(areas)
    stmt = (
        select(table.c.id, table.c.grid_code, func.coalesce(grid.c.name, table.c.grid_code).label("grid"),
               func.coalesce(community.c.name, table.c.community_code).label("community"),
               func.coalesce(categories.c.name, table.c.category_code).label("category"), table.c.reported_at,
               table.c.department_code)
        .select_from(table.outerjoin(grid, grid.c.code == table.c.grid_code)
                     .outerjoin(community, community.c.code == table.c.community_code)
                     .outerjoin(categories, categories.c.code == table.c.category_code))
        .where(scope.events_clause(table), open_at(table, current, as_of),
               or_(table.c.urgent, table.c.class_code == URGENT_CLASS),
               or_(table.c.dispatched_at.is_(None), table.c.dispatched_at > as_of),
               table.c.reported_at <= as_of - timedelta(minutes=minutes))
        .order_by(table.c.reported_at, table.c.id).limit(max(1, min(int(limit), MAX_HITS)))
    )
    return [LateDispatch(r.id, r.grid_code, r.grid, r.community, r.category, r.reported_at, r.department_code)
            for r in conn.execute(stmt).all()]


# -- firings ----------------------------------------------------------------------------------------------------
def _visible(scope: Scope):
    """Return the clause for the firings a caller of ``scope`` sees: of areas under it; a department's only
    those about one of its cases (an area's count is every department's, so none of its business)."""
    clause = alert_firings.c.area_code.startswith(scope.prefix, autoescape=True)
    if scope.department is not None:
        clause = and_(clause, alert_firings.c.department_code == scope.department)
    return clause


def _firing(row) -> Firing:
    try:
        detail = json.loads(row.detail) if row.detail else {}
    except ValueError:
        detail = {}
    return Firing(row.id, row.rule, row.key, row.area_code, row.level, row.raised_at, row.cleared_at, row.title,
                  detail if isinstance(detail, dict) else {}, row.acknowledged_by, row.acknowledged_at,
                  row.department_code)


def active_firings(conn: Connection, *, scope: Scope, limit: int = 100_000) -> dict[tuple[str, str], int]:
    """Return {(rule, key): firing id} of the firings under ``scope`` whose condition still holds (not cleared)."""
    stmt = (select(alert_firings.c.id, alert_firings.c.rule, alert_firings.c.key)
            .where(alert_firings.c.cleared_at.is_(None), _visible(scope))
            .order_by(alert_firings.c.id).limit(limit))
    return {(r.rule, r.key): r.id for r in conn.execute(stmt).all()}


def raise_firing(conn: Connection, *, rule: str, key: str, area_code: str, level: str, raised_at: datetime,
                 title: str, detail: dict, department_code: str | None = None) -> int:
    """Insert one firing and return its id."""
    firing_id = conn.execute(select(alert_firing_id_seq.next_value())).scalar()
    conn.execute(insert(alert_firings).values(
        id=firing_id, rule=rule[:64], key=key[:64], area_code=area_code[:15], level=level[:16], raised_at=raised_at,
        title=title, detail=json.dumps(detail, ensure_ascii=False, default=str), department_code=department_code))
    return int(firing_id)


def clear_firings(conn: Connection, *, ids: list[int], at: datetime) -> int:
    """Mark the firings ``ids`` cleared at ``at`` (their condition no longer holds); return how many."""
    if not ids:
        return 0
    return conn.execute(update(alert_firings).where(alert_firings.c.id.in_(ids), alert_firings.c.cleared_at.is_(None))
                        .values(cleared_at=at)).rowcount


def firing_areas(conn: Connection, *, ids: list[int]) -> list[str]:
    """Return the area codes of the firings ``ids`` (whose screens a change to them concerns)."""
    if not ids:
        return []
    return list(conn.execute(select(alert_firings.c.area_code).where(alert_firings.c.id.in_(ids)).distinct()
                             .order_by(alert_firings.c.area_code)).scalars())


def open_firings(conn: Connection, *, scope: Scope, limit: int = 20) -> list[Firing]:
    """Return the firings under ``scope`` that still hold and nobody signed for, newest first (the banner)."""
    stmt = (select(alert_firings)
            .where(_visible(scope), alert_firings.c.cleared_at.is_(None), alert_firings.c.acknowledged_at.is_(None))
            .order_by(alert_firings.c.raised_at.desc(), alert_firings.c.id.desc())
            .limit(max(1, min(int(limit), MAX_LIMIT))))
    return [_firing(r) for r in conn.execute(stmt).all()]


def firings(conn: Connection, *, scope: Scope, since: datetime, until: datetime,
            limit: int = 100) -> list[Firing]:
    """Return the firings under ``scope`` raised in [since, until), newest first."""
    stmt = (select(alert_firings)
            .where(_visible(scope), alert_firings.c.raised_at >= since, alert_firings.c.raised_at < until)
            .order_by(alert_firings.c.raised_at.desc(), alert_firings.c.id.desc())
            .limit(max(1, min(int(limit), MAX_LIMIT))))
    return [_firing(r) for r in conn.execute(stmt).all()]


def acknowledge_firing(conn: Connection, *, scope: Scope, firing_id: int, user_name: str,
                       at: datetime) -> tuple[str, str | None]:
    """Sign for firing ``firing_id``: return (outcome, its area code); 'ok', 'already', or 'unknown' (none
    such under the scope: never which)."""
    found = conn.execute(select(alert_firings.c.area_code, alert_firings.c.acknowledged_at)
                         .where(alert_firings.c.id == firing_id, _visible(scope))).first()
    if found is None:
        return "unknown", None
    if found.acknowledged_at is not None:
        return "already", found.area_code
    conn.execute(update(alert_firings).where(alert_firings.c.id == firing_id)
                 .values(acknowledged_by=user_name[:64], acknowledged_at=at))
    return "ok", found.area_code


# -- deliveries -------------------------------------------------------------------------------------------------
def record_attempt(conn: Connection, *, firing_id: int, target: str, attempt: int, at: datetime, outcome: str,
                   http_status: int | None = None, error: str | None = None) -> None:
    """Append one delivery attempt (the webhook by name; ``error`` cut to 500 characters)."""
    conn.execute(insert(webhook_deliveries).values(
        id=webhook_delivery_id_seq.next_value(), firing_id=firing_id, target=target[:64], attempt=attempt,
        attempted_at=at, outcome=outcome[:16], http_status=http_status,
        error=None if error is None else error[:500]))


def deliveries(conn: Connection, *, firing_ids: list[int], limit: int = 5000) -> list[Delivery]:
    """Return the delivery attempts of ``firing_ids``, in order of firing, target and attempt."""
    if not firing_ids:
        return []
    stmt = (select(webhook_deliveries).where(webhook_deliveries.c.firing_id.in_(firing_ids))
            .order_by(webhook_deliveries.c.firing_id, webhook_deliveries.c.target, webhook_deliveries.c.attempt,
                      webhook_deliveries.c.id).limit(limit))
    return [Delivery(r.firing_id, r.target, r.attempt, r.attempted_at, r.outcome, r.http_status, r.error)
            for r in conn.execute(stmt).all()]
