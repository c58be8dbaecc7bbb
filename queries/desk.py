"""Reads and writes of the backlog desk's actions (dashboard/desk.py, docs/desk.md): cases by id, whistle calls.

The caller holds the store's write lock and commits; every read takes the caller's scope.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import (
    BigInteger, Column, Connection, MetaData, Table, and_, bindparam, delete, not_, select, update,
)

from queries.ingest import insert_rows
from queries.schema import (
    closures, departments, event_log, event_log_id_seq, events, open_events, whistle_calls,
)
from queries.scope import Scope
from queries.state import closure_row, open_row

CHUNK = 1_000
ONE_BY_ONE_BELOW = 20  # rows from which update_events stages them and updates with one join
# The desk writes a handful of rows to each of six tables per case: from this many, one DataFrame scan
# per table beats DuckDB's executemany (measured: 50 cases took ~1 s one row at a time).
BULK_FROM = 20


def event_rows(conn: Connection, *, scope: Scope, ids: list[int]) -> dict[int, object]:
    """Return {id: events row} of the given ids that lie in ``scope`` (others are simply absent)."""
    out: dict[int, object] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        # The range lets DuckDB skip the row groups outside it (events are stored in id order).
        rows = conn.execute(select(events).where(events.c.id.between(min(chunk), max(chunk)), events.c.id.in_(chunk),
                                                 scope.events_clause(events))
                            .order_by(events.c.id).limit(len(chunk)))
        out.update({row.id: row for row in rows})
    return out


def calls_of(conn: Connection, *, ids: list[int], limit: int = 100_000) -> dict[int, dict[str, object]]:
    """Return {event id: {department code: whistle_calls row}} of the given events."""
    out: dict[int, dict[str, object]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = conn.execute(select(whistle_calls).where(whistle_calls.c.event_id.in_(chunk))
                            .order_by(whistle_calls.c.event_id, whistle_calls.c.department_code).limit(limit))
        for row in rows:
            out.setdefault(row.event_id, {})[row.department_code] = row
    return out


def whistled_to(conn: Connection, *, scope: Scope, department: str, ids: list[int]) -> set[int]:
    """Return the ids among ``ids`` in ``scope``'s area whose whistle called ``department``, answered or not.

    A department reports back on a case whistled to it even when the case is another's (docs/desk.md):
    the department part of ``scope`` is not applied here, the call is.
    """
    area = Scope(scope.area_code, scope.level)
    out: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        stmt = (select(events.c.id)
                .join(whistle_calls, and_(whistle_calls.c.event_id == events.c.id,
                                          whistle_calls.c.department_code == department))
                .where(events.c.id.in_(chunk), area.events_clause(events)).order_by(events.c.id).limit(len(chunk)))
        out.update(conn.execute(stmt).scalars())
    return out


def update_events(conn: Connection, rows: list[dict]) -> None:
    """Write the state columns of several events: each dict holds ``id`` and the same set of columns.

    A few rows go as one UPDATE each; more go into a temporary table first and then one UPDATE … FROM
    it: an UPDATE by id finds its row by scanning (zone maps help, no index on DuckDB), so 500 of them
    cost 500 scans where the join costs one.
    """
    if not rows:
        return
    columns = [name for name in rows[0] if name != "id"]
    if len(rows) < ONE_BY_ONE_BELOW:
        stmt = (update(events).where(events.c.id == bindparam("_id"))
                .values({name: bindparam(f"v_{name}") for name in columns}))
        conn.execute(stmt, [{"_id": row["id"], **{f"v_{name}": row[name] for name in columns}} for row in rows])
        return
    staged = Table("desk_staged_updates", MetaData(), Column("id", BigInteger, primary_key=True, autoincrement=False),
                   *(Column(name, events.c[name].type) for name in columns), prefixes=["TEMPORARY"])
    staged.drop(conn, checkfirst=True)
    staged.create(conn)
    insert_rows(conn, staged, rows, bulk_from=BULK_FROM)
    conn.execute(update(events).where(events.c.id == staged.c.id)
                 .values({name: staged.c[name] for name in columns}))
    staged.drop(conn)


def replace_projections(conn: Connection, rows: list[dict]) -> None:
    """Bring the open_events and closures rows of several changed events (whole events rows) in step."""
    if not rows:
        return
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        conn.execute(delete(open_events).where(open_events.c.id.in_(chunk)))
        conn.execute(delete(closures).where(closures.c.event_id.in_(chunk)))
    insert_rows(conn, open_events, [r for r in map(open_row, rows) if r is not None], bulk_from=BULK_FROM)
    insert_rows(conn, closures, [r for r in map(closure_row, rows) if r is not None], bulk_from=BULK_FROM)


def append_log(conn: Connection, rows: list[dict]) -> None:
    """Append event_log rows, ids drawn from the sequence in one round trip, in the order given."""
    from queries.ingest import next_ids

    if rows:
        ids = next_ids(conn, event_log_id_seq, len(rows))
        insert_rows(conn, event_log, [dict(row, id=i) for i, row in zip(ids, rows)], bulk_from=BULK_FROM)


def add_calls(conn: Connection, rows: list[dict]) -> None:
    """Insert whistle_calls rows (event_id, department_code, called_at, called_by)."""
    insert_rows(conn, whistle_calls, [dict(row, answered_at=None, answer=None) for row in rows], bulk_from=BULK_FROM)


def answer_calls(conn: Connection, *, department: str, answers: dict[int, tuple[datetime, str]]) -> None:
    """Record ``department``'s report back (报到) on each event of ``answers``: {event id: (at, answer)}."""
    if not answers:
        return
    stmt = (update(whistle_calls)
            .where(whistle_calls.c.event_id == bindparam("_event"), whistle_calls.c.department_code == department)
            .values(answered_at=bindparam("_at"), answer=bindparam("_answer")))
    conn.execute(stmt, [{"_event": event_id, "_at": at, "_answer": text} for event_id, (at, text) in answers.items()])


def audit_many(conn: Connection, rows: list[dict]) -> None:
    """Append audit_log rows (occurred_at, actor, action, target, outcome, source, detail) in one statement."""
    from queries.ingest import next_ids
    from queries.schema import audit_log, audit_log_id_seq

    if rows:
        ids = next_ids(conn, audit_log_id_seq, len(rows))
        insert_rows(conn, audit_log, [dict(row, id=i) for i, row in zip(ids, rows)], bulk_from=BULK_FROM)


# -- the demo's marks (dashboard/seed/marks.py) ----------------------------------------------------------------
def open_cases(conn: Connection, *, now: datetime, limit: int = 5_000_000) -> pd.DataFrame:
    """Return the open, unparked cases a desk could mark at ``now``: id, status, district, department, times."""
    stmt = (select(events.c.id, events.c.status, events.c.district_code, events.c.department_code,
                   events.c.deadline_at, events.c.updated_at)
            .where(events.c.status.in_(("registered", "dispatched", "handled")), not_(events.c.is_parked),
                   not_(events.c.is_void), events.c.reported_at <= now)
            .order_by(events.c.id).limit(limit))
    frame = pd.DataFrame(conn.execute(stmt).fetchall(), columns=["id", "status", "district_code", "department_code",
                                                                   "deadline_at", "updated_at"])
    for column in ("deadline_at", "updated_at"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def department_codes(conn: Connection, *, limit: int = 100_000) -> list[tuple[str, str | None]]:
    """Return (code, district served; None for the city's) of every department, by code."""
    return [tuple(r) for r in conn.execute(select(departments.c.code, departments.c.district_code)
                                           .order_by(departments.c.code).limit(limit))]


def set_marks(conn: Connection, rows: list[dict]) -> None:
    """Write the desk's marks (and updated_at) of several events: dicts with ``id`` and the same columns."""
    update_events(conn, rows)


def insert_log(conn: Connection, rows: list[dict]) -> None:
    """Insert event_log rows whose ids are given."""
    insert_rows(conn, event_log, rows)


def insert_calls(conn: Connection, rows: list[dict]) -> None:
    """Insert whole whistle_calls rows (answered or not)."""
    insert_rows(conn, whistle_calls, rows)


__all__ = ["add_calls", "answer_calls", "append_log", "audit_many", "calls_of", "department_codes",
           "event_rows", "insert_calls", "insert_log", "open_cases", "replace_projections", "set_marks", "update_events",
           "whistled_to"]
