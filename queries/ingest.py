"""Writes of the ingest path: new events with their log, steps along the loop, and the projections.

Every write keeps what the readers rely on in the same transaction: the events row, its event_log
rows (the source of truth for transitions), open_events (the current state), closures (in close
order), store_meta 'state_as_of' and the data version caches key on. The caller holds the store's
write lock and commits.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, literal, not_, or_, select, text, tuple_, update

from queries.bulk import bulk_insert
from queries.meta import bump_data_version, get_meta, set_meta
from queries.schema import (
    areas, buildings, categories, closures, departments, event_id_seq, event_log, event_log_id_seq, events,
    open_events, workers,
)
from queries.scope import Scope
from queries.sqlfuncs import minutes_between
from queries.state import STATE_AS_OF

AREAS_VERSION = "areas_version"
LOOKUP_CHUNK = 2_000


def next_ids(conn: Connection, sequence, count: int) -> list[int]:
    """Return ``count`` fresh values of ``sequence`` (in increasing order)."""
    if count == 0:
        return []
    name = conn.dialect.identifier_preparer.format_sequence(sequence)
    if conn.dialect.name == "duckdb":
        rows = conn.execute(text(f"SELECT nextval('{name}') FROM range(:n)"), {"n": count}).fetchall()
    else:
        rows = conn.execute(text(f"SELECT nextval('{name}') FROM generate_series(1, :n)"), {"n": count}).fetchall()
    return sorted(int(r[0]) for r in rows)


def existing_ids(conn: Connection, *, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Return {(source, external_id): id} for the keys already stored."""
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start:start + LOOKUP_CHUNK]
        if len(chunk) == 1:
            (source, external), = chunk
            where = and_(events.c.source == source, events.c.external_id == external)
        else:
            where = and_(events.c.external_id.in_([k[1] for k in chunk]),
                         tuple_(events.c.source, events.c.external_id).in_(chunk))
        rows = conn.execute(select(events.c.source, events.c.external_id, events.c.id).where(where)
                            .order_by(events.c.id).limit(len(chunk)))
        found.update({(r.source, r.external_id): r.id for r in rows})
    return found


def statuses(conn: Connection, *, ids: list[int]) -> dict[int, str]:
    """Return {id: status} of the given events."""
    out: dict[int, str] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start:start + LOOKUP_CHUNK]
        out.update(conn.execute(select(events.c.id, events.c.status).where(events.c.id.in_(chunk))
                                .order_by(events.c.id).limit(len(chunk))).fetchall())
    return out


def insert_events(conn: Connection, event_frame: pd.DataFrame, log_frame: pd.DataFrame) -> None:
    """Append events (ids already assigned) and their log rows."""
    bulk_insert(conn, events, event_frame)
    bulk_insert(conn, event_log, log_frame)


def event_row(conn: Connection, *, scope: Scope, event_id: int):
    """Return the events row of ``event_id`` (a Row) when it lies in ``scope``, or None."""
    return conn.execute(select(events).where(events.c.id == event_id, scope.events_clause(events)).limit(1)).first()


def last_park(conn: Connection, *, event_id: int):
    """Return the latest 'park' log row of ``event_id`` (occurred_at, from_status), or None."""
    return conn.execute(
        select(event_log.c.occurred_at, event_log.c.from_status)
        .where(event_log.c.event_id == event_id, event_log.c.action == "park")
        .order_by(event_log.c.id.desc()).limit(1)
    ).first()


def event_log_rows(conn: Connection, *, event_id: int, limit: int = 500) -> list:
    """Return the log of ``event_id`` in the order it happened."""
    return conn.execute(
        select(event_log).where(event_log.c.event_id == event_id).order_by(event_log.c.id).limit(limit)
    ).fetchall()


def update_event(conn: Connection, *, event_id: int, values: dict) -> None:
    """Write the state columns of one event."""
    conn.execute(update(events).where(events.c.id == event_id).values(**values))


def append_log(conn: Connection, rows: list[dict]) -> None:
    """Append log rows (ids from the sequence)."""
    ids = next_ids(conn, event_log_id_seq, len(rows))
    conn.execute(insert(event_log), [dict(row, id=i) for i, row in zip(ids, rows)])


def refresh_projections(conn: Connection, *, first_id: int, last_id: int) -> None:
    """Bring open_events and closures in step with events for the ids in [first_id, last_id]."""
    in_range = events.c.id.between(first_id, last_id)
    conn.execute(delete(open_events).where(open_events.c.id.between(first_id, last_id)))
    columns = [c.name for c in open_events.columns]
    conn.execute(insert(open_events).from_select(columns, select(*(events.c[c] for c in columns)).where(
        in_range, not_(events.c.is_void), events.c.closed_at.is_(None))))
    conn.execute(delete(closures).where(closures.c.event_id.between(first_id, last_id)))
    closure_columns = ["event_id", "closed_at", "reported_at", "category_code", "class_code", "district_code",
                       "street_code", "community_code", "grid_code", "building_code", "department_code", "on_time",
                       "handling_minutes"]
    conn.execute(insert(closures).from_select(closure_columns, select(
        events.c.id, events.c.closed_at, events.c.reported_at, events.c.category_code, events.c.class_code,
        events.c.district_code, events.c.street_code, events.c.community_code, events.c.grid_code,
        events.c.building_code, events.c.department_code,
        # A case without a deadline (resolved on the spot) is on time by definition.
        func.coalesce(events.c.handled_at <= events.c.deadline_at, events.c.deadline_at.is_(None)),
        minutes_between(events.c.dispatched_at, events.c.handled_at),
    ).where(in_range, events.c.closed_at.is_not(None), not_(events.c.is_void))))


def mark_written(conn: Connection, *, now: datetime) -> int:
    """Record a write at ``now``: advance 'state_as_of' (never backwards) and the data version; return it."""
    current = get_meta(conn, STATE_AS_OF)
    if current is None or datetime.fromisoformat(current) < now:
        set_meta(conn, STATE_AS_OF, now.isoformat())
    return bump_data_version(conn)


def areas_version(conn: Connection) -> str:
    """Return the version of the area map (changes when a city imports its own)."""
    return get_meta(conn, AREAS_VERSION, "0")


def grid_shapes(conn: Connection, *, limit: int = 1_000_000) -> list:
    """Return (code, geometry GeoJSON text) of every grid, by code."""
    return conn.execute(select(areas.c.code, areas.c.geometry).where(areas.c.level == 4)
                        .order_by(areas.c.code).limit(limit)).fetchall()


def building_points(conn: Connection, *, limit: int = 10_000_000) -> list:
    """Return (code, grid_code, lat, lon) of every building, by code."""
    return conn.execute(select(buildings.c.code, buildings.c.grid_code, buildings.c.lat, buildings.c.lon)
                        .order_by(buildings.c.code).limit(limit)).fetchall()


def category_rows(conn: Connection, *, limit: int = 10_000) -> list:
    """Return the event catalogue, by code."""
    return conn.execute(select(categories).order_by(categories.c.code).limit(limit)).fetchall()


def department_rows(conn: Connection, *, limit: int = 100_000) -> list:
    """Return every department, by code."""
    return conn.execute(select(departments).order_by(departments.c.code).limit(limit)).fetchall()


def worker_ids(conn: Connection, *, limit: int = 10_000_000) -> set[int]:
    """Return the ids of every grid worker."""
    return {r[0] for r in conn.execute(select(workers.c.id).order_by(workers.c.id).limit(limit))}


__all__ = [
    "append_log", "areas_version", "building_points", "category_rows", "department_rows", "event_log_rows",
    "event_row", "existing_ids", "grid_shapes", "insert_events", "last_park", "mark_written", "next_ids",
    "refresh_projections", "update_event", "worker_ids",
]
