"""Event density on H3 cells: events reported in a window counted per cell, and the h3 column's backfill.

``events.h3`` holds each event's cell at resolution 11 (schema.H3_RESOLUTION); a coarser cell is its
parent, computed in SQL from the bits (sqlfuncs.h3_parent), so one column serves every zoom. Counts
are reports (上报) in [since, until), void events excluded; times are naive local. docs/heat.md.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, and_, bindparam, desc, func, not_, or_, select, update

from queries.areas import Area
from queries.bulk import bulk_update
from queries.overview import _where
from queries.schema import H3_RESOLUTION, areas, buildings, events
from queries.scope import Scope
from queries.sqlfuncs import h3_parent

MAX_LIMIT = 100_000


def heat_cells(conn: Connection, *, scope: Scope, area: Area, resolution: int, since: datetime, until: datetime,
               classes: Sequence[str] = (), sources: Sequence[str] = (), urgent_only: bool = False,
               limit: int = 20_000) -> list[tuple[int, int]]:
    """Return (H3 cell at ``resolution`` as int, events) for events reported in [since, until) inside ``area``.

    Void events are left out. ``classes`` (category class codes such as "04") and ``sources``
    (schema.SOURCES) keep only those when given; ``urgent_only`` only urgent ones. The densest
    ``limit`` cells come first (ties by cell).
    """
    if not 0 <= resolution <= H3_RESOLUTION:
        raise ValueError(f"cells are kept at resolution {H3_RESOLUTION}: ask for 0–{H3_RESOLUTION}, not {resolution}")
    cell = h3_parent(events.c.h3, resolution)
    where = [_where(scope, area), events.c.reported_at >= since, events.c.reported_at < until,
             not_(events.c.is_void), events.c.h3.is_not(None)]
    if classes:
        where.append(events.c.class_code.in_(list(classes)))
    if sources:
        where.append(events.c.source.in_(list(sources)))
    if urgent_only:
        where.append(events.c.urgent)
    rows = conn.execute(
        select(cell.label("cell"), func.count().label("n")).where(and_(*where)).group_by(cell)
        .order_by(desc("n"), cell).limit(max(0, min(int(limit), MAX_LIMIT)))
    ).fetchall()
    return [(int(c), int(n)) for c, n in rows]


def id_range(conn: Connection) -> tuple[int, int]:
    """Return the smallest and largest event id (0, 0 when there are none)."""
    low, high = conn.execute(select(func.min(events.c.id), func.max(events.c.id))).fetchall()[0]
    return (int(low), int(high)) if low is not None else (0, 0)


def points_to_fill(conn: Connection, *, first_id: int, last_id: int) -> pd.DataFrame:
    """Return (id, lat, lon) of the events with ids in [first_id, last_id] whose h3 is NULL, by id.

    An event without a point takes its building's, else its grid's centroid; one whose grid is
    unknown keeps NaN (it cannot be placed).
    """
    in_range = and_(events.c.id.between(first_id, last_id), events.c.h3.is_(None))
    limit = last_id - first_id + 1
    # Two statements: the plain scan for events with a point (nearly all), the joins only for the rest
    # (one statement with both joins ran out of DuckDB's 512 MB on 500,000 ids of the 10 M store).
    located = conn.execute(
        select(events.c.id, events.c.lat, events.c.lon).where(in_range, events.c.lat.is_not(None),
                                                              events.c.lon.is_not(None))
        .order_by(events.c.id).limit(limit)
    ).fetchall()
    grid = areas.alias("grid")
    placed = conn.execute(
        select(events.c.id, func.coalesce(buildings.c.lat, grid.c.centroid_lat),
               func.coalesce(buildings.c.lon, grid.c.centroid_lon))
        .select_from(events.outerjoin(buildings, buildings.c.code == events.c.building_code)
                     .outerjoin(grid, grid.c.code == events.c.grid_code))
        .where(in_range, or_(events.c.lat.is_(None), events.c.lon.is_(None)))
        .order_by(events.c.id).limit(limit)
    ).fetchall()
    frame = pd.DataFrame([*located, *placed], columns=["id", "lat", "lon"])
    return frame.astype({"id": "int64", "lat": float, "lon": float}).sort_values("id", ignore_index=True)


def write_cells(conn: Connection, frame: pd.DataFrame) -> int:
    """Set events.h3 from a frame of (id, h3); return the rows given."""
    if frame.empty:
        return 0
    if conn.dialect.name == "duckdb":
        return bulk_update(conn, events, frame[["id", "h3"]], key="id")
    statement = update(events).where(events.c.id == bindparam("b_id")).values(h3=bindparam("b_h3"))
    conn.execute(statement, [{"b_id": int(i), "b_h3": int(h)} for i, h in zip(frame["id"], frame["h3"])])
    return len(frame)


__all__ = ["heat_cells", "id_range", "points_to_fill", "write_cells"]
