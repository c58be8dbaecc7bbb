"""The projections kept beside events: open_events (the current state) and closures (in close order)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, and_, delete, func, insert, not_, or_, select

from queries.meta import STATE_AS_OF, get_meta, set_meta
from queries.schema import closures, events, open_events
from queries.sqlfuncs import minutes_between



def rebuild_open_events(conn: Connection, *, as_of: datetime) -> int:
    """Refill open_events with the events open at ``as_of`` (the latest instant the store knows of); return its size."""
    columns = [c.name for c in open_events.columns]
    conn.execute(delete(open_events))
    source = select(*(events.c[name] for name in columns)).where(
        events.c.reported_at <= as_of,
        not_(events.c.is_void),
        or_(events.c.closed_at.is_(None), events.c.closed_at > as_of),
    ).order_by(events.c.reported_at, events.c.id)
    conn.execute(insert(open_events).from_select(columns, source))
    set_meta(conn, STATE_AS_OF, as_of.isoformat())
    return conn.execute(select(func.count()).select_from(open_events)).scalar()


def state_as_of(conn: Connection) -> datetime | None:
    """Return the instant open_events describes, or None when there is none."""
    value = get_meta(conn, STATE_AS_OF)
    return datetime.fromisoformat(value) if value else None


def open_source(conn: Connection, as_of: datetime) -> tuple[Table, bool]:
    """Return (table, is_current_state) to count events open at ``as_of`` from.

    The current-state table is exact for any as_of at or after the instant it describes (nothing is
    known to have changed since); an earlier as_of needs the full history.
    """
    state = state_as_of(conn)
    if state is not None and as_of >= state:
        return open_events, True
    return events, False


def open_at(table: Table, is_current_state: bool, as_of: datetime):
    """Return the clause for 'open at as_of' on ``table`` (parked cases are not counted open)."""
    if is_current_state:
        return and_(table.c.reported_at <= as_of, not_(table.c.is_parked))
    return and_(
        table.c.reported_at <= as_of,
        not_(table.c.is_void),
        not_(table.c.is_parked),
        or_(table.c.closed_at.is_(None), table.c.closed_at > as_of),
    )


def overdue_at(table: Table, as_of: datetime):
    """Return the clause for 'not handled and past the deadline at as_of' (on an open event)."""
    return and_(table.c.deadline_at < as_of, or_(table.c.handled_at.is_(None), table.c.handled_at > as_of))


OPEN_COLUMNS = tuple(c.name for c in open_events.columns)


def open_row(event: Mapping) -> dict | None:
    """Return the open_events row of an events row, or None when it is closed or void (as rebuild_open_events)."""
    if event["is_void"] or event["closed_at"] is not None:
        return None
    # The desk's marks (nullable columns) may be absent from a row built before they existed: empty.
    return {name: event[name] if name in event or not open_events.c[name].nullable else None
            for name in OPEN_COLUMNS}


def closure_row(event: Mapping) -> dict | None:
    """Return the closures row of an events row, or None when it is not closed (as rebuild_closures).

    On time means handled by the deadline; a case closed without a deadline (resolved on the spot)
    is on time. Handling minutes are whole minutes from dispatch to handled, floored.
    """
    if event["is_void"] or event["closed_at"] is None:
        return None
    handled, deadline, dispatched = event["handled_at"], event["deadline_at"], event["dispatched_at"]
    on_time = deadline is None or (handled is not None and handled <= deadline)
    minutes = None
    if handled is not None and dispatched is not None:
        minutes = math.floor((handled - dispatched).total_seconds() / 60)
    return {
        "event_id": event["id"], "closed_at": event["closed_at"], "reported_at": event["reported_at"],
        "category_code": event["category_code"], "class_code": event["class_code"],
        "district_code": event["district_code"], "street_code": event["street_code"],
        "community_code": event["community_code"], "grid_code": event["grid_code"],
        "building_code": event["building_code"], "department_code": event["department_code"],
        "on_time": on_time, "handling_minutes": minutes,
        "handled_at": handled, "deadline_at": deadline,
        # Rows built before the counts existed may lack them: none.
        "extension_count": event.get("extension_count") or 0, "return_count": event.get("return_count") or 0,
        "rework_count": event.get("rework_count") or 0,
    }


# rebuild_closures sorts one window of closing dates at a time: one sort of every closed event (9.7 M at
# 10 M events) ran out of DuckDB's 512 MB; a month of them is a few hundred thousand rows.
REBUILD_WINDOW = timedelta(days=31)


def rebuild_closures(conn: Connection, *, window: timedelta = REBUILD_WINDOW, commit_each: bool = False) -> int:
    """Refill closures from events, in close order, a window of closing dates at a time; return its size.

    ``commit_each`` commits after the emptying and after each window (a connection in commit-as-you-go
    mode): DuckDB holds a transaction's changes in memory, and millions of rows in one ran out of 512 MB.
    A rebuild cut short leaves closures incomplete; its callers mark the work done only at the end.
    """
    conn.execute(delete(closures))
    if commit_each:
        conn.commit()
    closed = and_(events.c.closed_at.is_not(None), not_(events.c.is_void))
    first, last = conn.execute(select(func.min(events.c.closed_at), func.max(events.c.closed_at)).where(closed)).one()
    if first is None:
        return 0
    source = select(
        events.c.id, events.c.closed_at, events.c.reported_at, events.c.category_code, events.c.class_code,
        events.c.district_code, events.c.street_code, events.c.community_code, events.c.grid_code,
        events.c.building_code, events.c.department_code,
        # As closure_row: handled by the deadline; no deadline (resolved on the spot) is on time.
        func.coalesce(events.c.handled_at <= events.c.deadline_at, events.c.deadline_at.is_(None)),
        minutes_between(events.c.dispatched_at, events.c.handled_at),
        events.c.handled_at, events.c.deadline_at, events.c.extension_count, events.c.return_count,
        events.c.rework_count,
    ).where(closed).order_by(events.c.closed_at, events.c.id)
    columns = ["event_id", "closed_at", "reported_at", "category_code", "class_code", "district_code", "street_code",
               "community_code", "grid_code", "building_code", "department_code", "on_time", "handling_minutes",
               *CLOSURE_SLA_COLUMNS]
    start = first
    while start <= last:
        end = start + window
        conn.execute(insert(closures).from_select(
            columns, source.where(events.c.closed_at >= start, events.c.closed_at < end)))
        if commit_each:
            conn.commit()
        start = end
    return conn.execute(select(func.count()).select_from(closures)).scalar()


# The closures columns the SLA page reads (issue 6), copied from the event as it closed.
CLOSURE_SLA_COLUMNS = ("handled_at", "deadline_at", "extension_count", "return_count", "rework_count")


def closures_missing_sla(conn: Connection) -> bool:
    """Return True when some closures row lacks the SLA columns (a store from before them)."""
    row = conn.execute(select(closures.c.event_id).where(closures.c.extension_count.is_(None)).limit(1)).first()
    return row is not None


def fill_closure_sla(conn: Connection, *, commit_each: bool = False) -> int:
    """Give closures rows that lack the SLA columns their values; return the rows filled (0 when none lacks them).

    closures is a projection of events, so the whole table is rebuilt from them in close order: one
    bulk insert, where an UPDATE joining millions of rows to events is many times slower on DuckDB.
    """
    if not closures_missing_sla(conn):
        return 0
    return rebuild_closures(conn, commit_each=commit_each)
