"""The current-state table of open events, and when it is valid."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, and_, delete, func, insert, not_, or_, select

from queries.meta import get_meta, set_meta
from queries.schema import events, open_events

STATE_AS_OF = "state_as_of"


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
