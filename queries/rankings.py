"""The rankings' counts (issue 7): the units of a level, their counts of a period, frozen months, the cases behind.

docs/metrics.md ("Rankings") defines every count; dashboard/rankings.py scores them (pure). Every count is a
whole number ≥ 0 per unit per period, additive over months, and "as of" a cut-off: a step counts only if its
stamp is at or before it; open and overdue are states at it. Times are naive local times, windows [since, until).

Counts are taken at the finest grain once — per (grid, department) for the case counts, per worker for the
workers' own — and rolled up to community, street and district codes (every code nests in its parent's), so a
parent always equals the sum of its children. The handling counts reuse queries/sla.py's sets (docs/sla.md): the
closures in close order for what was handled and closed by the cut-off, the open cases at the cut-off for the
rest (``open_events`` when the cut-off is at or after the current state, else the history).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection, Date, String, and_, case, cast, distinct, func, insert, literal, not_, null, or_, select,
    true,
)

from queries.areas import Area
from queries.bulk import bulk_insert
from queries.overview import _where
from queries.schema import (
    CITY, CODE_LENGTHS, COMMUNITY, DISTRICT, GRID, RANK_COUNTS, STREET, areas, buildings, closures, departments,
    events, hotline_followups, open_events, patrols, rank_facts, rank_periods, visits, workers,
)
from queries.scope import Scope, code_prefix
from queries.sla import _Sets, case_page
from queries.state import overdue_at

LEVELS = ("district", "street", "community", "grid", "worker", "department")
AREA_LEVELS = {"district": DISTRICT, "street": STREET, "community": COMMUNITY, "grid": GRID}
AREA_COLUMN = {"district": "district_code", "street": "street_code", "community": "community_code",
               "grid": "grid_code"}
PUBLIC_SOURCES = ("hotline", "citizen")  # 监督举报: what the public reported
CASE_LIMIT = 200
# Which table a count's cases come from: the events, the field work rows, or none (a calendar / a stock).
COUNT_SOURCES: dict[str, str] = {
    **{name: "events" for name in RANK_COUNTS},
    "patrol_days": "patrols", "visits": "visits", "buildings_visited": "visits",
    "work_days": "none", "grid_buildings": "none",
}
WORKER_COUNTS = ("reports", "valid_reports", "to_verify", "verified_on_time", "to_check", "checked_on_time",
                 "grid_registered", "missed", "patrol_days", "work_days", "grid_buildings", "buildings_visited",
                 "visits")
HANDLING_COUNTS = ("handled", "handled_on_time", "overdue_open", "closed", "closed_on_time", "reworked", "extended")
AREA_COUNTS = ("registered", "public_registered")
HOTLINE_COUNTS = ("followups", "contacted", "resolved", "satisfied", "basically_satisfied")


class Unit(NamedTuple):
    """One rankable unit (a named tuple: a worker ranking lists 5,000, and a frozen dataclass costs 8 µs each)."""

    level: str
    code: str
    name: str
    parent_code: str | None  # area: its parent; worker: its grid; department: its district_code
    parent_name: str | None
    households: int  # area: its own; worker: its grid's; department: 0
    grids: int  # area: grids under it (grid: 1); worker: 1; department: 0
    kind: str | None  # worker: full_time / part_time; department: departments.kind; area: None


@dataclass(frozen=True)
class FactParams:
    verify_limit_minutes: int = 120
    check_limit_minutes: int = 120
    patrol_classes: tuple[str, ...] = ("01", "02", "03", "05")
    work_days: int = 0  # working days of the period up to the cut-off (the caller computes it)


@dataclass(frozen=True)
class FrozenMonth:
    month: date
    frozen_at: datetime
    as_of: datetime
    config: str  # JSON: the configuration its scores use


# -- what a scope may rank ------------------------------------------------------------------------------------


def levels_for(scope: Scope) -> tuple[str, ...]:
    """Return the levels ``scope`` may rank: strictly below its own (a department: its department only)."""
    if scope.department is not None:
        return ("department",)
    return {
        CITY: LEVELS,
        DISTRICT: ("street", "community", "grid", "worker", "department"),
        STREET: ("community", "grid", "worker"),
        COMMUNITY: ("grid", "worker"),
        GRID: ("worker",),
    }.get(scope.level, ())


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")


def _area_prefix(scope: Scope, area: Area) -> str | None:
    """Return the code prefix of scope ∧ area (the deeper of the two), or None when they do not meet."""
    a, s = code_prefix(area.code, area.level), scope.prefix
    if a.startswith(s):
        return a
    if s.startswith(a):
        return s
    return None


def _department_district(scope: Scope, area: Area) -> tuple[bool, str | None]:
    """Return (any district, district) whose departments scope ∧ area ranks: (True, None) for the whole city."""
    codes = [c for c, lvl in ((scope.area_code, scope.level), (area.code, area.level)) if lvl != CITY]
    if not codes:
        return True, None
    return False, max(codes, key=len)[:CODE_LENGTHS[DISTRICT]]


def units(conn: Connection, *, scope: Scope, level: str, area: Area) -> list[Unit]:
    """Return the units of ``level`` inside scope ∧ area, sorted by code; [] when the scope may not rank it."""
    _check_level(level)
    if level not in levels_for(scope):
        return []
    if level == "department":
        stmt = select(departments.c.code, departments.c.name, departments.c.district_code, departments.c.kind)
        if scope.department is not None:
            stmt = stmt.where(departments.c.code == scope.department)
        whole, district = _department_district(scope, area)
        if not whole:
            stmt = stmt.where(departments.c.district_code == district)
        parents = dict(conn.execute(select(areas.c.code, areas.c.name).where(areas.c.level == DISTRICT)).all())
        rows = conn.execute(stmt).all()
        return sorted((Unit("department", r.code, r.name, r.district_code, parents.get(r.district_code), 0, 0, r.kind)
                       for r in rows), key=lambda u: u.code)
    prefix = _area_prefix(scope, area)
    if prefix is None:
        return []
    parent = areas.alias("parent")
    if level == "worker":
        grid = areas.alias("grid")
        stmt = (select(workers.c.id, workers.c.name, workers.c.kind, workers.c.grid_code, grid.c.name.label("gname"),
                       grid.c.households)
                .select_from(workers.outerjoin(grid, grid.c.code == workers.c.grid_code))
                .where(workers.c.grid_code.startswith(prefix, autoescape=True)))
        out = [Unit("worker", str(r.id), r.name, r.grid_code, r.gname, int(r.households or 0), 1, r.kind)
               for r in conn.execute(stmt).all()]
        return sorted(out, key=lambda u: u.code)
    lvl = AREA_LEVELS[level]
    stmt = (select(areas.c.code, areas.c.name, areas.c.parent_code, parent.c.name.label("pname"), areas.c.households)
            .select_from(areas.outerjoin(parent, parent.c.code == areas.c.parent_code))
            .where(areas.c.level == lvl, areas.c.code.startswith(prefix, autoescape=True)))
    rows = conn.execute(stmt).all()
    grids = _grid_counts(conn, prefix, lvl)
    return sorted((Unit(level, r.code, r.name, r.parent_code, r.pname, int(r.households or 0),
                        1 if lvl == GRID else grids.get(r.code, 0), None) for r in rows), key=lambda u: u.code)


def _grid_counts(conn: Connection, prefix: str, level: int) -> dict[str, int]:
    """Return {code of ``level``: grids under it} below ``prefix``."""
    if level == GRID:
        return {}
    key = func.substr(areas.c.code, 1, CODE_LENGTHS[level]).label("k")
    stmt = (select(key, func.count()).where(areas.c.level == GRID, areas.c.code.startswith(prefix, autoescape=True))
            .group_by(key))
    return {k: int(n) for k, n in conn.execute(stmt).all()}


# -- the scans ------------------------------------------------------------------------------------------------
# Each returns DataFrames of (key columns…, counts…) for the key columns asked (names shared by events, closures
# and open_events: an area level's code column, department_code, or grid_code with department_code for the
# freeze); ``_sum`` adds them up per key. Frames, not rows: 45,000 (grid, department) keys a month are summed
# by pandas in milliseconds where Python loops took seconds.

COLUMNS = list(RANK_COUNTS)


def _window(stamp, since: datetime, until: datetime, cutoff: datetime):
    return and_(stamp >= since, stamp < until, stamp <= cutoff)


def _fetch(conn: Connection, stmt, columns: Sequence[str]) -> pd.DataFrame:
    """Return the rows of ``stmt`` as a DataFrame named ``columns`` (DuckDB hands its columns over whole)."""
    result = conn.execute(stmt)
    fetch = getattr(result.cursor, "fetch_df", None) if conn.dialect.name == "duckdb" else None
    frame = fetch() if fetch is not None else pd.DataFrame(result.fetchall(), columns=list(columns))
    frame.columns = list(columns)
    return frame


def _count(clause):
    return func.count().filter(clause)


def _sum(frames: Sequence[pd.DataFrame], keys: Sequence[str]) -> pd.DataFrame:
    """Return the frames' counts summed per key, every RANK_COUNTS column (a null key is kept: a case with no
    department still counts for its areas)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        index = pd.MultiIndex.from_tuples([], names=list(keys)) if len(keys) > 1 else pd.Index([], name=keys[0])
        return pd.DataFrame(0, index=index, columns=COLUMNS, dtype="int64")
    both = pd.concat(frames, ignore_index=True)
    summed = both.groupby(list(keys), dropna=False, sort=False).sum(min_count=0)
    return summed.reindex(columns=COLUMNS, fill_value=0).fillna(0).astype("int64")


def _handling(conn: Connection, scope: Scope, area: Area, since, until, cutoff, keys: Sequence[str]) -> list:
    """Return handled, handled_on_time, overdue_open, closed, closed_on_time, reworked, extended (docs/sla.md)."""
    sets = _Sets(conn, scope, area, since, until, cutoff)
    c = closures.c
    hw, cw = sets.handled_closed_window, sets.closed_window
    cols = [c[k] for k in keys]
    stmt = (select(*cols, _count(hw), _count(and_(hw, c.on_time)), _count(cw), _count(and_(cw, c.on_time)),
                   _count(and_(cw, func.coalesce(c.rework_count, 0) > 0)),
                   _count(and_(hw, func.coalesce(c.extension_count, 0) > 0)))
            # handled ≤ closed: a case handled in the window closed after it began (the scan is pruned).
            .where(sets.c_area, c.closed_at >= since, c.closed_at <= cutoff, or_(cw, hw))
            .group_by(*cols))
    out = [_fetch(conn, stmt, [*keys, "handled", "handled_on_time", "closed", "closed_on_time", "reworked",
                               "extended"])]
    for source, t, where, extension in _open_sides(sets, scope, area, cutoff):
        hw, dw = _window(t.c.handled_at, since, until, cutoff), _overdue(t, since, until, cutoff)
        ok = or_(t.c.deadline_at.is_(None), t.c.handled_at <= t.c.deadline_at)
        cols = [t.c[k] for k in keys]
        stmt = (select(*cols, _count(hw), _count(and_(hw, ok)), _count(dw),
                       _count(and_(or_(hw, dw), func.coalesce(extension, 0) > 0)))
                .select_from(source).where(where, or_(hw, dw)).group_by(*cols))
        out.append(_fetch(conn, stmt, [*keys, "handled", "handled_on_time", "overdue_open", "extended"]))
    return out


def _overdue(t, since, until, cutoff):
    """超期待处置 at the cut-off (docs/sla.md): not handled by it, the deadline in the window and before it."""
    return and_(overdue_at(t, cutoff), _window(t.c.deadline_at, since, until, cutoff))


def _open_sides(sets: _Sets, scope: Scope, area: Area, cutoff: datetime) -> list[tuple]:
    """Return the cases open at ``cutoff`` as (FROM, table, WHERE, extension count column) parts.

    At or after the current state: ``open_events`` (what docs/sla.md's sets read). Before it, the same cases
    are those closed since the cut-off (``closures``, in close order: a short tail) and those still open
    (``open_events``), reported by then — not a scan of the whole history. Void cases are in neither, and a
    closed case is never parked (a parked case can only be unparked), so the two parts are exactly the open
    cases of queries.state.open_at. ``open_events`` carries no extension count: its events rows do.
    """
    o = open_events
    current = and_(_where(scope, area, o), o.c.reported_at <= cutoff, not_(o.c.is_parked))
    parts = [(o.join(events, events.c.id == o.c.id), o, current, events.c.extension_count)]
    if sets.table is events:  # a cut-off before the current state
        c = closures.c
        parts.insert(0, (closures, closures, and_(sets.c_area, c.closed_at > cutoff, c.reported_at <= cutoff),
                         c.extension_count))
    return parts


def _registered(conn: Connection, scope: Scope, area: Area, since, until, cutoff, keys: Sequence[str],
                params: FactParams) -> list:
    """Return registered, public_registered and missed (public, of a class a patrol should find)."""
    e = events.c
    public = e.source.in_(PUBLIC_SOURCES)
    cols = [e[k] for k in keys]
    stmt = (select(*cols, func.count(), _count(public), _count(and_(public, e.class_code.in_(params.patrol_classes))))
            .where(_where(scope, area), _window(e.registered_at, since, until, cutoff), not_(e.is_void),
                   not_(e.is_parked))  # 挂账 is excluded from 立案数 (DOMAIN.md §4)
            .group_by(*cols))
    return [_fetch(conn, stmt, [*keys, "registered", "public_registered", "missed"])]


def _hotline(conn: Connection, scope: Scope, area: Area, since, until, cutoff, keys: Sequence[str]) -> list:
    """Return the 12345 follow-ups: valid ones of hotline tickets followed up in the window."""
    e, f = events.c, hotline_followups.c
    cols = [e[k] for k in keys]
    stmt = (select(*cols, func.count(), _count(f.contacted), _count(f.resolved), _count(f.satisfaction == "satisfied"),
                   _count(f.satisfaction == "basic"))
            .select_from(hotline_followups.join(events, events.c.id == f.event_id))
            .where(_where(scope, area), _window(f.followed_at, since, until, cutoff), f.valid,
                   e.source == "hotline", not_(e.is_void))
            .group_by(*cols))
    return [_fetch(conn, stmt, [*keys, *HOTLINE_COUNTS])]


def _on_time(stamp, start, minutes: int, cutoff: datetime):
    """Return 'stamp within ``minutes`` clock minutes of ``start``, and by the cut-off'."""
    return and_(stamp.is_not(None), stamp <= start + timedelta(minutes=int(minutes)), stamp <= cutoff)


def _verify_check(conn: Connection, scope: Scope, area: Area, since, until, cutoff, params: FactParams) -> list:
    """Return per grid: to_verify / verified_on_time (public reports accepted), to_check / checked_on_time."""
    e = events.c
    stmt = (select(e.grid_code, func.count(), _count(_on_time(e.verified_at, e.accepted_at,
                                                               params.verify_limit_minutes, cutoff)))
            .where(_where(scope, area), e.source.in_(PUBLIC_SOURCES), _window(e.accepted_at, since, until, cutoff),
                   not_(e.is_void))
            .group_by(e.grid_code))
    out = [_fetch(conn, stmt, ["grid_code", "to_verify", "verified_on_time"])]
    # The handled cases of docs/sla.md: handled in the window by the cut-off, and closed by it or open then
    # (a parked open case is not counted open).
    stmt = (select(e.grid_code, func.count(), _count(_on_time(e.checked_at, e.handled_at,
                                                               params.check_limit_minutes, cutoff)))
            .where(_where(scope, area), _window(e.handled_at, since, until, cutoff), not_(e.is_void),
                   or_(e.closed_at <= cutoff, not_(e.is_parked)))
            .group_by(e.grid_code))
    out.append(_fetch(conn, stmt, ["grid_code", "to_check", "checked_on_time"]))
    return out


def _reports(conn: Connection, since, until, cutoff) -> list:
    """Return reports, valid_reports per worker id: the workers' own reports, wherever they are."""
    e = events.c
    valid = and_(not_(e.is_void), func.coalesce(e.registered_at, e.closed_at) <= cutoff)
    stmt = (select(e.worker_id, func.count(), _count(valid))
            .where(e.source == "grid_worker", e.worker_id.is_not(None), _window(e.reported_at, since, until, cutoff))
            .group_by(e.worker_id))
    return [_fetch(conn, stmt, ["worker_id", "reports", "valid_reports"])]


def _fieldwork(conn: Connection, prefix: str, since, until, cutoff) -> list:
    """Return patrol_days (uncapped), visits, buildings_visited per worker id of the workers under ``prefix``."""
    p, v, w = patrols.c, visits.c, workers.c
    mine = w.grid_code.startswith(prefix, autoescape=True)
    day = cast(p.started_at, Date)
    stmt = (select(p.worker_id, func.count(distinct(day)))
            .select_from(patrols.join(workers, w.id == p.worker_id))
            .where(mine, _window(p.started_at, since, until, cutoff)).group_by(p.worker_id))
    out = [_fetch(conn, stmt, ["worker_id", "patrol_days"])]
    own = func.substr(v.building_code, 1, CODE_LENGTHS[GRID]) == w.grid_code
    stmt = (select(v.worker_id, func.count(), func.count(distinct(case((own, v.building_code), else_=null()))))
            .select_from(visits.join(workers, w.id == v.worker_id))
            .where(mine, _window(v.visited_at, since, until, cutoff)).group_by(v.worker_id))
    out.append(_fetch(conn, stmt, ["worker_id", "visits", "buildings_visited"]))
    return out


def _grid_buildings(conn: Connection, prefix: str) -> pd.Series:
    stmt = (select(buildings.c.grid_code, func.count()).where(buildings.c.grid_code.startswith(prefix, autoescape=True))
            .group_by(buildings.c.grid_code))
    frame = _fetch(conn, stmt, ["grid_code", "n"])
    return frame.set_index("grid_code")["n"]


# -- rolling up -----------------------------------------------------------------------------------------------


def _zeros() -> dict[str, int]:
    return dict.fromkeys(RANK_COUNTS, 0)


def _units_frame(frame: pd.DataFrame, codes: Sequence[str], worker: bool = False) -> pd.DataFrame:
    """Return ``frame`` (counts per code) cut and filled to ``codes``, in their order; a unit of an area or
    department level has no worker count ``missed`` (its grid's registered public reports of patrol classes)."""
    out = frame.reindex(pd.Index(list(codes), name="unit_code"), fill_value=0).astype("int64")
    if not worker:
        out["missed"] = 0
    return out


def _workers_frame(grid: pd.DataFrame, own: pd.DataFrame, grid_buildings: pd.Series, listed: Sequence[Unit],
                   work_days: int) -> pd.DataFrame:
    """Return each worker's counts: their own reports and field work (``own``, by id), their grid's cases."""
    codes = [u.code for u in listed]
    grids = pd.Index([u.parent_code for u in listed])
    full = np.array([u.kind == "full_time" for u in listed], dtype=bool)
    out = pd.DataFrame(0, index=pd.Index(codes, name="unit_code"), columns=COLUMNS, dtype="int64")
    g = grid.reindex(grids, fill_value=0)
    out["grid_registered"] = g["registered"].to_numpy()
    out["missed"] = g["missed"].to_numpy()
    for name in ("to_verify", "verified_on_time", "to_check", "checked_on_time"):
        # the grid's 监督员 verifies and checks; a part-time worker does not
        out[name] = np.where(full, g[name].to_numpy(), 0)
    own = own.copy()
    own.index = own.index.astype(str)
    mine = own.reindex(out.index, fill_value=0)
    for name in ("reports", "valid_reports", "visits", "buildings_visited"):
        out[name] = mine[name].to_numpy()
    days = max(int(work_days), 0)
    out["patrol_days"] = np.minimum(mine["patrol_days"].to_numpy(), days)
    out["work_days"] = days
    out["grid_buildings"] = grid_buildings.reindex(grids, fill_value=0).to_numpy()
    return out.astype("int64")


def _dicts(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Return {unit code: {count: n}} of a counts frame (plain ints)."""
    names = list(frame.columns)
    return {code: dict(zip(names, row)) for code, row in zip(frame.index, frame.to_numpy().tolist())}


def _check_window(since: datetime, until: datetime, cutoff: datetime) -> None:
    for name, value in (("since", since), ("until", until), ("cutoff", cutoff)):
        if not isinstance(value, datetime):
            raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")
    if not since < until:
        raise ValueError("since must come before until")


def facts_frame(conn: Connection, *, scope: Scope, level: str, area: Area, since: datetime, until: datetime,
                cutoff: datetime, params: FactParams) -> pd.DataFrame:
    """Return the counts of every unit of ``units(...)`` over [since, until) as of ``cutoff``: a frame indexed by
    unit code (in units' order), one int64 column per RANK_COUNTS name; the counts a level does not use are 0."""
    _check_level(level)
    _check_window(since, until, cutoff)
    listed = units(conn, scope=scope, level=level, area=area)
    codes = [u.code for u in listed]
    empty = pd.DataFrame(0, index=pd.Index(codes, name="unit_code"), columns=COLUMNS, dtype="int64")
    if not listed or cutoff < since:
        return empty
    if level == "worker":
        prefix = _area_prefix(scope, area)
        grid = _sum(_registered(conn, scope, area, since, until, cutoff, ["grid_code"], params)
                    + _verify_check(conn, scope, area, since, until, cutoff, params), ["grid_code"])
        own = _sum(_reports(conn, since, until, cutoff) + _fieldwork(conn, prefix, since, until, cutoff),
                   ["worker_id"])
        return _workers_frame(grid, own, _grid_buildings(conn, prefix), listed, params.work_days)
    key = ["department_code" if level == "department" else AREA_COLUMN[level]]
    found = _sum(_handling(conn, scope, area, since, until, cutoff, key)
                 + _registered(conn, scope, area, since, until, cutoff, key, params)
                 + _hotline(conn, scope, area, since, until, cutoff, key), key)
    return _units_frame(found, codes)


def facts(conn: Connection, *, scope: Scope, level: str, area: Area, since: datetime, until: datetime,
          cutoff: datetime, params: FactParams) -> dict[str, dict[str, int]]:
    """Return {unit code: {count: n}} for every unit of ``units(...)`` over [since, until) as of ``cutoff``.

    Every RANK_COUNTS key is present (zeros included); the counts a level does not use are 0.
    """
    return _dicts(facts_frame(conn, scope=scope, level=level, area=area, since=since, until=until, cutoff=cutoff,
                              params=params))


# -- frozen months --------------------------------------------------------------------------------------------


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """Return [since, until) of the month holding ``month``."""
    first = month.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return datetime.combine(first, datetime.min.time()), datetime.combine(nxt, datetime.min.time())


def frozen(conn: Connection) -> dict[date, FrozenMonth]:
    """Return every frozen month: when it was frozen, what its counts are as of, its configuration (JSON)."""
    r = rank_periods.c
    rows = conn.execute(select(r.month, r.frozen_at, r.as_of, r.config).order_by(r.month)).all()
    return {_as_date(m): FrozenMonth(_as_date(m), at, as_of, config) for m, at, as_of, config in rows}


def _as_date(value) -> date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.date() if isinstance(value, datetime) else value


def frozen_frames(conn: Connection, *, scope: Scope, level: str, area: Area, months: Iterable[date],
                  columns: Sequence[str] | None = None) -> dict[date, pd.DataFrame]:
    """Return {month: counts frame indexed by unit code} of the frozen ``months`` (one read); only the counts
    ``columns`` names when given (a sparkline's months need a scheme's dozen of the 27).

    Only stored rows of units in scope ∧ area (a unit added since its freeze is absent: reindex on ``units``); a
    month not frozen is absent. The fast path for many units: 12 months of 5,000 workers as frames, not dicts.
    """
    _check_level(level)
    wanted = sorted({m.replace(day=1) for m in months})
    if not wanted or level not in levels_for(scope):
        return {}
    prefix = _area_prefix(scope, area)
    if prefix is None:
        return {}
    f = rank_facts.c
    names = [n for n in RANK_COUNTS if columns is None or n in set(columns)]
    stmt = select(f.month, f.unit_code, *(f[n] for n in names)).where(f.level == level, f.month.in_(wanted))
    if level in AREA_LEVELS:
        stmt = stmt.where(f.unit_code.startswith(prefix, autoescape=True))
    elif level == "worker":
        if len(prefix) > CODE_LENGTHS[CITY] - 2:  # below the city: its workers only
            mine = select(cast(workers.c.id, String)).where(workers.c.grid_code.startswith(prefix, autoescape=True))
            stmt = stmt.where(f.unit_code.in_(mine))
    else:
        stmt = stmt.where(f.unit_code.in_([u.code for u in units(conn, scope=scope, level=level, area=area)]))
    done = [_as_date(m) for (m,) in conn.execute(select(rank_periods.c.month)
                                                 .where(rank_periods.c.month.in_(wanted))).all()]
    if not done:
        return {}
    rows = _fetch(conn, stmt, ["month", "unit_code", *names])
    out = {m: pd.DataFrame(0, index=pd.Index([], name="unit_code", dtype=object), columns=names, dtype="int64")
           for m in done}
    for m, part in rows.groupby("month", sort=False):  # a dozen keys: converted once each, not per row
        m = _as_date(pd.Timestamp(m))
        if m in out:
            out[m] = part.set_index("unit_code")[names]
    return out


def frozen_facts(conn: Connection, *, scope: Scope, level: str, area: Area,
                 months: Iterable[date]) -> dict[date, dict[str, dict[str, int]]]:
    """Return {month: {unit code: counts}} of frozen ``months`` for the units of ``units(...)`` (one read).

    A month not frozen is absent; a unit listed now but not in a month's facts gets zeros.
    """
    frames = frozen_frames(conn, scope=scope, level=level, area=area, months=months)
    if not frames:
        return {}
    codes = [u.code for u in units(conn, scope=scope, level=level, area=area)]
    return {m: _dicts(frame.reindex(pd.Index(codes, name="unit_code"), fill_value=0)) for m, frame in frames.items()}


def due_months(conn: Connection, *, now: datetime, settle_days: int) -> list[date]:
    """Return the months with events that ended at least ``settle_days`` before ``now`` and are not frozen."""
    first = conn.execute(select(func.min(events.c.reported_at))).scalar()
    if first is None:
        return []
    done = set(frozen(conn))
    out, month = [], first.date().replace(day=1)
    while True:
        _, until = month_bounds(month)
        if now < until + timedelta(days=int(settle_days)):
            break
        if month not in done:
            out.append(month)
        month = until.date()
    return out


def all_facts(conn: Connection, *, since: datetime, until: datetime, cutoff: datetime,
              params: FactParams) -> dict[str, pd.DataFrame]:
    """Return {level: counts frame by unit code} for every level and unit of the whole city (what a freeze writes).

    The case counts are taken once per (grid, department) and rolled up; the workers' from the same scans.
    """
    _check_window(since, until, cutoff)
    city = _city_area(conn)
    scope = Scope(city.code, CITY)
    listed = {level: units(conn, scope=scope, level=level, area=city) for level in LEVELS}
    codes = {level: [u.code for u in us] for level, us in listed.items()}
    if cutoff < since:
        return {level: _units_frame(pd.DataFrame(columns=COLUMNS), codes[level], level == "worker")
                for level in LEVELS}
    keys = ["grid_code", "department_code"]
    base = _sum(_handling(conn, scope, city, since, until, cutoff, keys)
                + _registered(conn, scope, city, since, until, cutoff, keys, params)
                + _hotline(conn, scope, city, since, until, cutoff, keys), keys)
    flat = base.reset_index()
    out = {}
    for level, lvl in AREA_LEVELS.items():
        rolled = flat.groupby(flat["grid_code"].str[:CODE_LENGTHS[lvl]])[COLUMNS].sum()
        out[level] = _units_frame(rolled, codes[level])
    out["department"] = _units_frame(flat.dropna(subset=["department_code"]).groupby("department_code")[COLUMNS].sum(),
                                     codes["department"])
    grid = _sum([flat[["grid_code", "registered", "missed"]]]
                + _verify_check(conn, scope, city, since, until, cutoff, params), ["grid_code"])
    prefix = city.code[:4]
    own = _sum(_reports(conn, since, until, cutoff) + _fieldwork(conn, prefix, since, until, cutoff), ["worker_id"])
    out["worker"] = _workers_frame(grid, own, _grid_buildings(conn, prefix), listed["worker"], params.work_days)
    return out


def _city_area(conn: Connection) -> Area:
    from queries.areas import get_area

    code = conn.execute(select(areas.c.code).where(areas.c.level == CITY)).scalar()
    if code is None:
        raise LookupError("the store has no city")
    return get_area(conn, scope=Scope(code, CITY), code=code)


def freeze(conn: Connection, *, month: date, now: datetime, config: str, params: FactParams,
           counts: dict[str, pd.DataFrame] | None = None) -> bool:
    """Freeze ``month``: write the counts of every level and unit (whole city) as of the month's end, and its
    configuration, once; return False (writing nothing) when it is frozen already.

    The caller holds the write lock and the transaction (both rows sets commit together, or neither).
    ``counts``: the month's ``all_facts`` taken beforehand, outside the write lock (seconds at 10 M events), so
    the lock is held only for the write; None counts here.
    """
    if not isinstance(month, date) or isinstance(month, datetime) or month.day != 1:
        raise ValueError("month must be the first day of a month (a date)")
    since, until = month_bounds(month)
    if now < until:
        raise ValueError(f"{month:%Y-%m} has not ended yet")
    json.loads(config)  # a frozen month's configuration must at least be JSON
    if conn.execute(select(rank_periods.c.month).where(rank_periods.c.month == month)).first() is not None:
        return False
    if counts is None:
        counts = all_facts(conn, since=since, until=until, cutoff=until, params=params)
    elif set(counts) != set(LEVELS):
        raise ValueError("counts must be all_facts of the month: one frame per level")
    conn.execute(insert(rank_periods).values(month=month, frozen_at=now, as_of=until, config=config))
    parts = []
    for level, frame in counts.items():
        part = frame.reset_index()
        part.insert(0, "level", level)
        part.insert(0, "month", month)
        parts.append(part)
    rows = pd.concat(parts, ignore_index=True)
    if len(rows):
        bulk_insert(conn, rank_facts, rows[["month", "level", "unit_code", *RANK_COUNTS]])
    return True


# -- the cases behind a count ---------------------------------------------------------------------------------


def _unit_clause(level: str, unit: Unit, table):
    if level == "department":
        return table.c.department_code == unit.code
    if level == "worker":
        return table.c.grid_code == unit.parent_code
    return table.c[AREA_COLUMN[level]] == unit.code


def _event_sets(conn: Connection, scope: Scope, level: str, area: Area, unit: Unit, count: str, since, until,
                cutoff, params: FactParams) -> list[tuple]:
    """Return the (FROM, WHERE) sets whose rows are the events behind ``count`` of ``unit`` (as facts counts)."""
    e = events.c
    if count in ("reports", "valid_reports"):
        if level != "worker":
            return []
        where = [e.source == "grid_worker", e.worker_id == int(unit.code), _window(e.reported_at, since, until, cutoff)]
        if count == "valid_reports":
            where += [not_(e.is_void), func.coalesce(e.registered_at, e.closed_at) <= cutoff]
        return [(events, and_(*where))]
    worker_only = ("to_verify", "verified_on_time", "to_check", "checked_on_time", "grid_registered", "missed")
    if (level == "worker") != (count in worker_only):
        return []
    if count in ("to_verify", "verified_on_time", "to_check", "checked_on_time") and unit.kind != "full_time":
        return []
    mine = and_(_where(scope, area), _unit_clause(level, unit, events))
    if count in ("registered", "public_registered", "grid_registered", "missed"):
        where = [mine, _window(e.registered_at, since, until, cutoff), not_(e.is_void), not_(e.is_parked)]
        if count in ("public_registered", "missed"):
            where.append(e.source.in_(PUBLIC_SOURCES))
        if count == "missed":
            where.append(e.class_code.in_(params.patrol_classes))
        return [(events, and_(*where))]
    if count in ("to_verify", "verified_on_time"):
        where = [mine, e.source.in_(PUBLIC_SOURCES), _window(e.accepted_at, since, until, cutoff), not_(e.is_void)]
        if count == "verified_on_time":
            where.append(_on_time(e.verified_at, e.accepted_at, params.verify_limit_minutes, cutoff))
        return [(events, and_(*where))]
    if count in ("to_check", "checked_on_time"):
        where = [mine, _window(e.handled_at, since, until, cutoff), not_(e.is_void),
                 or_(e.closed_at <= cutoff, not_(e.is_parked))]
        if count == "checked_on_time":
            where.append(_on_time(e.checked_at, e.handled_at, params.check_limit_minutes, cutoff))
        return [(events, and_(*where))]
    if count in HOTLINE_COUNTS:
        f = hotline_followups.c
        flag = {"followups": true(), "contacted": f.contacted, "resolved": f.resolved,
                "satisfied": f.satisfaction == "satisfied", "basically_satisfied": f.satisfaction == "basic"}[count]
        source = (hotline_followups.join(events, events.c.id == f.event_id), events)
        return [(source, and_(mine, _window(f.followed_at, since, until, cutoff), f.valid, e.source == "hotline",
                              not_(e.is_void), flag))]
    # The handling counts: docs/sla.md's sets, cut to the unit.
    s = _Sets(conn, scope, area, since, until, cutoff)
    c = closures.c
    in_c = and_(s.c_area, _unit_clause(level, unit, closures))
    opened = [(source, t, and_(where, _unit_clause(level, unit, t)), ext)
              for source, t, where, ext in _open_sides(s, scope, area, cutoff)]

    if count in ("handled", "handled_on_time"):
        ok = c.on_time if count == "handled_on_time" else true()
        out = [(closures, and_(in_c, s.handled_closed_window, ok))]
        for _, t, where, _ in opened:
            ok = or_(t.c.deadline_at.is_(None), t.c.handled_at <= t.c.deadline_at) if count == "handled_on_time" \
                else true()
            out.append((t, and_(where, _window(t.c.handled_at, since, until, cutoff), ok)))
        return out
    if count == "overdue_open":
        return [(t, and_(where, _overdue(t, since, until, cutoff))) for _, t, where, _ in opened]
    if count in ("closed", "closed_on_time", "reworked"):
        extra = {"closed": true(), "closed_on_time": c.on_time,
                 "reworked": func.coalesce(c.rework_count, 0) > 0}[count]
        return [(closures, and_(in_c, s.closed_window, extra))]
    if count == "extended":
        out = [(closures, and_(in_c, s.handled_closed_window, func.coalesce(c.extension_count, 0) > 0))]
        for source, t, where, ext in opened:
            out.append(((source, t), and_(where, or_(_window(t.c.handled_at, since, until, cutoff),
                                                     _overdue(t, since, until, cutoff)),
                                          func.coalesce(ext, 0) > 0)))
        return out
    raise ValueError(f"count {count!r} has no cases")  # pragma: no cover - every events count is handled above


def _field_rows(conn: Connection, unit: Unit, count: str, since, until, cutoff, offset: int, limit: int):
    """Return (total, rows) of the worker's patrols or visits behind ``count``, oldest first."""
    if count == "patrol_days":
        p = patrols.c
        where = and_(p.worker_id == int(unit.code), _window(p.started_at, since, until, cutoff))
        cols = [p.id, p.worker_id.label("worker"), p.grid_code.label("grid"), literal(None, String).label("building"),
                p.started_at.label("at"), p.checkins.label("checkins")]
        table, stamp = patrols, p.started_at
    else:
        v = visits.c
        where = and_(v.worker_id == int(unit.code), _window(v.visited_at, since, until, cutoff))
        if count == "buildings_visited":
            where = and_(where, func.substr(v.building_code, 1, CODE_LENGTHS[GRID]) == unit.parent_code)
        cols = [v.id, v.worker_id.label("worker"), v.grid_code.label("grid"), v.building_code.label("building"),
                v.visited_at.label("at"), v.households.label("households")]
        table, stamp = visits, v.visited_at
    total = int(conn.execute(select(func.count()).select_from(table).where(where)).scalar() or 0)
    rows = conn.execute(select(*cols).where(where).order_by(stamp, cols[0]).offset(offset).limit(limit)).all()
    return total, rows


def cases(conn: Connection, *, scope: Scope, level: str, area: Area, unit: str, count: str, since: datetime,
          until: datetime, cutoff: datetime, params: FactParams, offset: int = 0, limit: int = 50) -> tuple[int, list]:
    """Return (how many, one page) of the rows behind ``count`` of ``unit``, oldest first.

    Events counts: rows as queries.sla.case_rows; patrols / visits counts: the field rows (id, worker, grid,
    building, at, checkins / households); work_days and grid_buildings have none. ValueError for an unknown level
    or count or a bad page; LookupError when ``unit`` is not a unit of the level in scope ∧ area.
    """
    _check_level(level)
    if count not in COUNT_SOURCES:
        raise ValueError(f"unknown count {count!r}")
    _check_window(since, until, cutoff)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError("offset must be a whole number ≥ 0")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("limit must be a whole number ≥ 1")
    limit = min(limit, CASE_LIMIT)
    if not isinstance(unit, str) or len(unit) > 16:
        raise LookupError("no such unit in your scope")
    found = [u for u in units(conn, scope=scope, level=level, area=area) if u.code == unit]
    if not found:
        raise LookupError(f"no {level} {unit!r} in your scope")
    u = found[0]
    source = COUNT_SOURCES[count]
    if source == "none" or cutoff < since:
        return 0, []
    if source in ("patrols", "visits"):
        if level != "worker":
            return 0, []
        return _field_rows(conn, u, count, since, until, cutoff, offset, limit)
    sets = _event_sets(conn, scope, level, area, u, count, since, until, cutoff, params)
    # The open cases' part first: the SLA case list types a closure's "started" as a bare NULL, and PostgreSQL
    # types a UNION of two bare NULLs as text, which the open cases' timestamp then cannot join.
    sets.sort(key=lambda part: (part[0][1] if isinstance(part[0], tuple) else part[0]) is closures)
    return case_page(conn, sets=sets, offset=offset, limit=limit)
