"""Writes of the ingest path: new events with their log, steps along the loop, and the projections.

Every write keeps what the readers rely on in the same transaction: the events row, its event_log
rows (the source of truth for transitions), open_events (the current state), closures (in close
order), store_meta 'state_as_of' and the data version caches key on. The caller holds the store's
write lock and commits.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, DateTime, Integer, and_, bindparam, delete, insert, select, text, tuple_, update

from queries.bulk import bulk_insert
from queries.meta import DATA_VERSION, get_meta, set_meta
from queries.schema import (
    areas, buildings, categories, closures, departments, event_log, event_log_id_seq, events, open_events, workers,
)
from queries.scope import Scope
from queries.state import STATE_AS_OF, closure_row, open_row

AREAS_VERSION = "areas_version"
BULK_FROM = 200  # rows from which a DataFrame scan beats executemany on DuckDB
LOOKUP_CHUNK = 2_000


def next_ids(conn: Connection, sequence, count: int) -> list[int]:
    """Return ``count`` fresh values of ``sequence`` (in increasing order)."""
    return next_ids_of(conn, {sequence: count})[sequence.name]


def next_ids_of(conn: Connection, counts: dict) -> dict[str, list[int]]:
    """Return fresh values of several sequences in one round trip: {sequence name: ids, increasing}."""
    quote = conn.dialect.identifier_preparer
    rows_of = "range(:n{i})" if conn.dialect.name == "duckdb" else "generate_series(1, :n{i})"
    parts, params = [], {}
    for i, (sequence, count) in enumerate(counts.items()):
        if count:
            # The sequence name is our own schema's, quoted by the dialect; counts are bound.
            parts.append(f"SELECT {i} AS k, nextval('{quote.format_sequence(sequence)}') AS v "
                         f"FROM {rows_of.format(i=i)}")
            params[f"n{i}"] = int(count)
    out: dict[str, list[int]] = {sequence.name: [] for sequence in counts}
    if parts:
        names = [sequence.name for sequence in counts]
        for k, v in conn.execute(text(" UNION ALL ".join(parts)), params).fetchall():
            out[names[k]].append(int(v))
    return {name: sorted(ids) for name, ids in out.items()}


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


class DuplicateKey(Exception):
    """An event with the same (source, external_id) is stored already."""


def insert_rows(conn: Connection, table, rows: list[dict], *, bulk_from: int = BULK_FROM) -> None:
    """Insert ``rows`` (dicts keyed by column): executemany when fewer than ``bulk_from``, DuckDB's bulk scan else."""
    if not rows:
        return
    if conn.dialect.name == "duckdb" and len(rows) >= bulk_from:
        columns = [c.name for c in table.columns]
        frame = pd.DataFrame(rows, columns=columns)
        for column in table.columns:
            if isinstance(column.type, DateTime):
                frame[column.name] = pd.to_datetime(frame[column.name]).astype("datetime64[us]")
            elif isinstance(column.type, Integer) and not column.primary_key:
                frame[column.name] = frame[column.name].astype("Int64")
        bulk_insert(conn, table, frame)
    elif conn.dialect.name == "duckdb":
        # The statement is SQLAlchemy's own, compiled once per table; the rows go to DuckDB's cursor
        # as positional parameters, skipping SQLAlchemy's per-call work (~0.5 ms a statement on the
        # single-event path, where every millisecond counts).
        sql, names = _compiled_insert(conn, table)
        cursor = conn.connection.driver_connection
        if len(rows) == 1:
            cursor.execute(sql, [rows[0].get(name) for name in names])
        else:
            cursor.executemany(sql, [[row.get(name) for name in names] for row in rows])
    else:
        conn.execute(insert(table), rows)


_COMPILED: dict[tuple[str, str], tuple[str, list[str]]] = {}


def _compiled(conn: Connection, name: str, build) -> tuple[str, list[str]]:
    """Return (SQL, bound names in parameter order) of the statement ``build()`` makes, compiled once per dialect."""
    key = (conn.dialect.name, name)
    if key not in _COMPILED:
        compiled = build().compile(dialect=conn.dialect)
        _COMPILED[key] = (str(compiled), list(compiled.positiontup or []))
    return _COMPILED[key]


def _compiled_insert(conn: Connection, table) -> tuple[str, list[str]]:
    """Return (SQL, column names in parameter order) of an INSERT of every column of ``table``."""
    return _compiled(conn, f"insert:{table.name}", lambda: insert(table).values(
        {c.name: bindparam(c.name) for c in table.columns}))


def insert_events(conn: Connection, event_rows: list[dict], log_rows: list[dict]) -> None:
    """Append events (ids already assigned) and their log rows; raise DuplicateKey on a resend."""
    try:
        insert_rows(conn, events, event_rows)
    except Exception as error:  # the driver's own class differs (duckdb.ConstraintException, IntegrityError)
        text_ = str(error)
        if "uq_events_source_external" in text_ or ("external_id" in text_ and "onstraint" in text_):
            raise DuplicateKey(text_) from error
        raise
    insert_rows(conn, event_log, log_rows)


def add_projections(conn: Connection, event_rows: list[dict]) -> None:
    """Add the open_events and closures rows of newly inserted events."""
    insert_rows(conn, open_events, [r for r in map(open_row, event_rows) if r is not None])
    insert_rows(conn, closures, [r for r in map(closure_row, event_rows) if r is not None])


def replace_projections(conn: Connection, event: dict) -> None:
    """Bring the open_events and closures rows of one changed event in step with it."""
    conn.execute(delete(open_events).where(open_events.c.id == event["id"]))
    conn.execute(delete(closures).where(closures.c.event_id == event["id"]))
    add_projections(conn, [event])


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


def mark_written(conn: Connection, *, now: datetime) -> int:
    """Record a write at ``now``: advance 'state_as_of' (never backwards) and the data version; return it.

    One UPDATE for both in the usual case (ISO 8601 text of one format compares in time order).
    """
    stamp = now.isoformat()
    rows = dict(_run(conn, "mark_written", _MARK_WRITTEN,
                     {"stamp": stamp, "state_key": STATE_AS_OF, "version_key": DATA_VERSION}))
    if STATE_AS_OF not in rows:
        set_meta(conn, STATE_AS_OF, stamp)
    if DATA_VERSION not in rows:
        set_meta(conn, DATA_VERSION, "1")
        return 1
    return int(rows[DATA_VERSION])


# One UPDATE for both keys; written as text (the same SQL on both engines) so that DuckDB's cursor
# can take it raw, compiled once, on the single-event path.
_MARK_WRITTEN = text(
    "UPDATE store_meta SET value = CASE WHEN key = :version_key THEN CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
    "WHEN value < :stamp THEN :stamp ELSE value END "
    "WHERE key IN (:state_key, :version_key) RETURNING key, value"
)


def _run(conn: Connection, name: str, statement, params: dict) -> list:
    """Execute ``statement`` with ``params`` and fetch all; on DuckDB compiled once and sent to its cursor."""
    if conn.dialect.name != "duckdb":
        return conn.execute(statement, params).fetchall()
    sql, order = _compiled(conn, name, lambda: statement)
    return conn.connection.driver_connection.execute(sql, [params[n] for n in order]).fetchall()


def areas_version(conn: Connection) -> str:
    """Return the version of the area map (changes when a city imports its own)."""
    return get_meta(conn, AREAS_VERSION, "0")


def grid_shapes(conn: Connection, *, limit: int = 1_000_000) -> list:
    """Return (code, geometry GeoJSON text, centroid_lat, centroid_lon) of every grid, by code."""
    return conn.execute(select(areas.c.code, areas.c.geometry, areas.c.centroid_lat, areas.c.centroid_lon)
                        .where(areas.c.level == 4)
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
    "event_row", "existing_ids", "next_ids_of", "grid_shapes", "insert_events", "last_park", "mark_written", "next_ids",
    "update_event", "worker_ids", "DuplicateKey", "add_projections", "replace_projections", "insert_rows",
]
