"""Grid workers' field work (patrols 巡查, household visits 走访) and 12345 follow-ups (回访): reads and writes.

The demo's seeder reads the workers, buildings and closed hotline tickets it builds on (as DataFrames); the
ingest API (dashboard/fieldwork_api.py) looks up what a batch names inside the caller's Scope and writes the
rows. The caller holds the store's write lock and commits; nothing here commits.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, delete, false, select, tuple_

from queries.bulk import bulk_insert, restart_sequence
from queries.ingest import next_ids
from queries.meta import get_meta
from queries.schema import (
    GRID, areas, buildings, events, hotline_followups, patrol_id_seq, patrols, visit_id_seq, visits, workers,
)
from queries.scope import Scope

LOOKUP_CHUNK = 2_000


def _frame(conn: Connection, stmt, columns: list[str]) -> pd.DataFrame:
    """Return the rows of ``stmt`` as a DataFrame (DuckDB hands over its columns whole; elsewhere row by row)."""
    result = conn.execute(stmt)
    fetch = getattr(result.cursor, "fetch_df", None) if conn.dialect.name == "duckdb" else None
    frame = fetch() if fetch is not None else pd.DataFrame(result.fetchall(), columns=columns)
    frame.columns = columns
    return frame


# -- what the demo's seeder builds on -------------------------------------------------------------------------
def worker_frame(conn: Connection) -> pd.DataFrame:
    """Return every worker: id, kind, grid_code (by id)."""
    return _frame(conn, select(workers.c.id, workers.c.kind, workers.c.grid_code).order_by(workers.c.id),
                  ["id", "kind", "grid_code"])


def building_frame(conn: Connection) -> pd.DataFrame:
    """Return every building: code, grid_code, households (by code)."""
    return _frame(conn, select(buildings.c.code, buildings.c.grid_code, buildings.c.households)
                  .order_by(buildings.c.code), ["code", "grid_code", "households"])


def closed_hotline(conn: Connection, *, until: datetime) -> pd.DataFrame:
    """Return the closed, non-void 12345 tickets (source 'hotline') closed before ``until``: id, closed_at, department_code."""
    stmt = (select(events.c.id, events.c.closed_at, events.c.department_code)
            .where(events.c.source == "hotline", events.c.closed_at.is_not(None), events.c.closed_at < until,
                   events.c.is_void == false())
            .order_by(events.c.id))
    return _frame(conn, stmt, ["id", "closed_at", "department_code"])


def write_seeded(conn: Connection, *, patrol_rows: pd.DataFrame, visit_rows: pd.DataFrame,
                 followup_rows: pd.DataFrame) -> tuple[int, int, int]:
    """Bulk-write the demo's rows (patrols and visits with their ids) and move the id sequences past them."""
    counts = (bulk_insert(conn, patrols, patrol_rows), bulk_insert(conn, visits, visit_rows),
              bulk_insert(conn, hotline_followups, followup_rows))
    restart_sequence(conn, patrol_id_seq, int(patrol_rows["id"].max()) + 1 if len(patrol_rows) else 1)
    restart_sequence(conn, visit_id_seq, int(visit_rows["id"].max()) + 1 if len(visit_rows) else 1)
    return counts


def seeding(conn: Connection) -> tuple[int | None, datetime | None]:
    """Return the store's seed and seeding "now" (store_meta 'seed', 'seeded_at'), None where missing."""
    seed, seeded_at = get_meta(conn, "seed"), get_meta(conn, "seeded_at")
    return (None if seed is None else int(seed), None if seeded_at is None else datetime.fromisoformat(seeded_at))


def clear_fieldwork(conn: Connection) -> None:
    """Delete every patrol, visit and follow-up (before the demo's are written again)."""
    for table in (patrols, visits, hotline_followups):
        conn.execute(delete(table))


# -- what an API batch names, inside the caller's scope ---------------------------------------------------------
def _chunks(values: list):
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start:start + LOOKUP_CHUNK]


def workers_in_scope(conn: Connection, *, scope: Scope, ids: list[int]) -> dict[int, str]:
    """Return {worker id: grid code} of the given workers whose grid lies in ``scope``.

    A department's scope holds no workers (they belong to areas): {} for it.
    """
    if scope.department is not None or not ids:
        return {}
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = conn.execute(select(workers.c.id, workers.c.grid_code)
                            .where(workers.c.id.in_(chunk),
                                   workers.c.grid_code.startswith(scope.prefix, autoescape=True))
                            .order_by(workers.c.id).limit(len(chunk)))
        out.update({int(r.id): r.grid_code for r in rows if scope.covers(r.grid_code)})
    return out


def grids_in_scope(conn: Connection, *, scope: Scope, codes: list[str]) -> set[str]:
    """Return the given codes that are grids lying in ``scope`` (a department's scope: none)."""
    if scope.department is not None or not codes:
        return set()
    out: set[str] = set()
    for chunk in _chunks(sorted(set(codes))):
        rows = conn.execute(select(areas.c.code).where(areas.c.code.in_(chunk), areas.c.level == GRID,
                                                        areas.c.code.startswith(scope.prefix, autoescape=True))
                            .order_by(areas.c.code).limit(len(chunk)))
        out.update(code for code in rows.scalars() if scope.covers(code))
    return out


def buildings_in_scope(conn: Connection, *, scope: Scope, codes: list[str]) -> dict[str, str]:
    """Return {building code: grid code} of the given buildings lying in ``scope`` (a department's scope: none)."""
    if scope.department is not None or not codes:
        return {}
    out: dict[str, str] = {}
    for chunk in _chunks(sorted(set(codes))):
        rows = conn.execute(select(buildings.c.code, buildings.c.grid_code)
                            .where(buildings.c.code.in_(chunk),
                                   buildings.c.grid_code.startswith(scope.prefix, autoescape=True))
                            .order_by(buildings.c.code).limit(len(chunk)))
        out.update({r.code: r.grid_code for r in rows if scope.covers(r.grid_code)})
    return out


def hotline_tickets_in_scope(conn: Connection, *, scope: Scope, ids: list[int]) -> dict[int, datetime]:
    """Return {event id: reported_at} of the given events that are 12345 tickets (source 'hotline') in ``scope``."""
    if not ids:
        return {}
    out: dict[int, datetime] = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = conn.execute(select(events.c.id, events.c.reported_at)
                            .where(events.c.id.in_(chunk), events.c.source == "hotline", scope.events_clause(events))
                            .order_by(events.c.id).limit(len(chunk)))
        out.update({int(r.id): r.reported_at for r in rows})
    return out


def _known_keys(conn: Connection, table, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for chunk in _chunks(sorted(set(keys))):
        rows = conn.execute(select(table.c.worker_id, table.c.external_id)
                            .where(table.c.external_id.in_([k[1] for k in chunk]),
                                   tuple_(table.c.worker_id, table.c.external_id).in_(chunk))
                            .limit(len(chunk)))
        found.update((int(r.worker_id), r.external_id) for r in rows)
    return found


def known_patrols(conn: Connection, *, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Return the (worker id, external id) pairs of ``keys`` already stored as patrols."""
    return _known_keys(conn, patrols, keys)


def known_visits(conn: Connection, *, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Return the (worker id, external id) pairs of ``keys`` already stored as visits."""
    return _known_keys(conn, visits, keys)


def stored_followups(conn: Connection, *, ids: list[int]) -> dict[int, tuple]:
    """Return {event id: (followed_at, valid, contacted, resolved, satisfaction)} of the stored follow-ups."""
    out: dict[int, tuple] = {}
    c = hotline_followups.c
    for chunk in _chunks(sorted(set(ids))):
        rows = conn.execute(select(c.event_id, c.followed_at, c.valid, c.contacted, c.resolved, c.satisfaction)
                            .where(c.event_id.in_(chunk)).limit(len(chunk)))
        out.update({int(r.event_id): (r.followed_at, bool(r.valid), bool(r.contacted), bool(r.resolved),
                                      r.satisfaction) for r in rows})
    return out


# -- writes (the caller holds the write lock and commits) ----------------------------------------------------
_PATROL_COLUMNS = ["id", "worker_id", "grid_code", "started_at", "ended_at", "checkins", "distance_m", "external_id"]
_VISIT_COLUMNS = ["id", "worker_id", "grid_code", "building_code", "visited_at", "households", "external_id"]


def _insert_with_ids(conn: Connection, table, sequence, rows: list[dict], columns: list[str]) -> int:
    if not rows:
        return 0
    ids = next_ids(conn, sequence, len(rows))
    frame = pd.DataFrame([{**row, "id": i} for row, i in zip(rows, ids)], columns=columns)
    for name in columns:  # nullable integers stay integers (a column of ints and None would turn float)
        if name in ("distance_m",):
            frame[name] = frame[name].astype("Int64")
    return bulk_insert(conn, table, frame)


def insert_patrols(conn: Connection, rows: list[dict]) -> int:
    """Insert patrols (dicts of the patrols columns but id); return how many."""
    return _insert_with_ids(conn, patrols, patrol_id_seq, rows, _PATROL_COLUMNS)


def insert_visits(conn: Connection, rows: list[dict]) -> int:
    """Insert visits (dicts of the visits columns but id); return how many."""
    return _insert_with_ids(conn, visits, visit_id_seq, rows, _VISIT_COLUMNS)


def replace_followups(conn: Connection, rows: list[dict]) -> int:
    """Write follow-ups, each replacing the event's stored one (one row per event); return how many."""
    if not rows:
        return 0
    for chunk in _chunks(sorted({row["event_id"] for row in rows})):
        conn.execute(delete(hotline_followups).where(hotline_followups.c.event_id.in_(chunk)))
    columns = ["event_id", "followed_at", "valid", "contacted", "resolved", "satisfaction"]
    return bulk_insert(conn, hotline_followups, pd.DataFrame(rows, columns=columns))


def patrol_rows(conn: Connection, *, worker_id: int) -> list:
    """Return one worker's patrols, oldest first (tests and the API's readers)."""
    return conn.execute(select(patrols).where(patrols.c.worker_id == worker_id)
                        .order_by(patrols.c.started_at, patrols.c.id)).fetchall()


def visit_rows(conn: Connection, *, worker_id: int) -> list:
    """Return one worker's visits, oldest first."""
    return conn.execute(select(visits).where(visits.c.worker_id == worker_id)
                        .order_by(visits.c.visited_at, visits.c.id)).fetchall()


def followup_row(conn: Connection, *, event_id: int):
    """Return the stored follow-up of one event, or None."""
    return conn.execute(select(hotline_followups).where(hotline_followups.c.event_id == event_id)).first()


__all__ = [
    "building_frame", "clear_fieldwork", "seeding", "buildings_in_scope", "closed_hotline", "followup_row", "grids_in_scope",
    "hotline_tickets_in_scope", "insert_patrols", "insert_visits", "known_patrols", "known_visits", "patrol_rows",
    "replace_followups", "stored_followups", "visit_rows", "worker_frame", "workers_in_scope", "write_seeded",
]
