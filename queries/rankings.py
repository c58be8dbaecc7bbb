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
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Connection, Date, String, and_, case, cast, distinct, func, insert, literal, not_, null, or_, select,
    true,
)

from queries.areas import Area
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


@dataclass(frozen=True)
class Unit:
    """One rankable unit."""

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
# Each returns {key tuple: {count: n}} for the key columns asked (column names shared by events, closures and
# open_events: an area level's code column, department_code, or grid_code with department_code for the freeze).

Counts = dict[tuple, dict[str, int]]


def _window(stamp, since: datetime, until: datetime, cutoff: datetime):
    return and_(stamp >= since, stamp < until, stamp <= cutoff)


def _collect(conn: Connection, stmt, names: Sequence[str], nkeys: int, out: Counts | None = None) -> Counts:
    """Add the rows of ``stmt`` (keys…, counts…) into ``out`` under ``names``."""
    out = {} if out is None else out
    for row in conn.execute(stmt).all():
        slot = out.setdefault(tuple(row[:nkeys]), {})
        for name, n in zip(names, row[nkeys:]):
            slot[name] = slot.get(name, 0) + int(n or 0)
    return out


def _count(clause):
    return func.count().filter(clause)


def _handling(conn: Connection, scope: Scope, area: Area, since, until, cutoff, keys: Sequence[str],
              out: Counts) -> None:
    """Add handled, handled_on_time, overdue_open, closed, closed_on_time, reworked, extended (docs/sla.md sets)."""
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
    _collect(conn, stmt, ("handled", "handled_on_time", "closed", "closed_on_time", "reworked", "extended"),
             len(keys), out)
    for source, t, where, extension in _open_sides(sets, scope, area, cutoff):
        hw, dw = _window(t.c.handled_at, since, until, cutoff), _overdue(t, since, until, cutoff)
        ok = or_(t.c.deadline_at.is_(None), t.c.handled_at <= t.c.deadline_at)
        cols = [t.c[k] for k in keys]
        stmt = (select(*cols, _count(hw), _count(and_(hw, ok)), _count(dw),
                       _count(and_(or_(hw, dw), func.coalesce(extension, 0) > 0)))
                .select_from(source).where(where, or_(hw, dw)).group_by(*cols))
        _collect(conn, stmt, ("handled", "handled_on_time", "overdue_open", "extended"), len(keys), out)


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
                params: FactParams, out: Counts) -> None:
    """Add registered, public_registered and missed (public, of a class a patrol should find)."""
    e = events.c
    public = e.source.in_(PUBLIC_SOURCES)
    cols = [e[k] for k in keys]
    stmt = (select(*cols, func.count(), _count(public), _count(and_(public, e.class_code.in_(params.patrol_classes))))
            .where(_where(scope, area), _window(e.registered_at, since, until, cutoff), not_(e.is_void))
            .group_by(*cols))
    _collect(conn, stmt, ("registered", "public_registered", "missed"), len(keys), out)


def _hotline(conn: Connection, scope: Scope, area: Area, since, until, cutoff, keys: Sequence[str],
             out: Counts) -> None:
    """Add the 12345 follow-ups: valid ones of hotline tickets followed up in the window."""
    e, f = events.c, hotline_followups.c
    cols = [e[k] for k in keys]
    stmt = (select(*cols, func.count(), _count(f.contacted), _count(f.resolved), _count(f.satisfaction == "satisfied"),
                   _count(f.satisfaction == "basic"))
            .select_from(hotline_followups.join(events, events.c.id == f.event_id))
            .where(_where(scope, area), _window(f.followed_at, since, until, cutoff), f.valid,
                   e.source == "hotline", not_(e.is_void))
            .group_by(*cols))
    _collect(conn, stmt, HOTLINE_COUNTS, len(keys), out)


def _on_time(stamp, start, minutes: int, cutoff: datetime):
    """Return 'stamp within ``minutes`` clock minutes of ``start``, and by the cut-off'."""
    return and_(stamp.is_not(None), stamp <= start + timedelta(minutes=int(minutes)), stamp <= cutoff)


def _verify_check(conn: Connection, scope: Scope, area: Area, since, until, cutoff, params: FactParams,
                  out: Counts) -> None:
    """Add per grid: to_verify / verified_on_time (public reports accepted) and to_check / checked_on_time."""
    e = events.c
    stmt = (select(e.grid_code, func.count(), _count(_on_time(e.verified_at, e.accepted_at,
                                                               params.verify_limit_minutes, cutoff)))
            .where(_where(scope, area), e.source.in_(PUBLIC_SOURCES), _window(e.accepted_at, since, until, cutoff),
                   not_(e.is_void))
            .group_by(e.grid_code))
    _collect(conn, stmt, ("to_verify", "verified_on_time"), 1, out)
    # The handled cases of docs/sla.md: handled in the window by the cut-off, and closed by it or open then
    # (a parked open case is not counted open).
    stmt = (select(e.grid_code, func.count(), _count(_on_time(e.checked_at, e.handled_at,
                                                               params.check_limit_minutes, cutoff)))
            .where(_where(scope, area), _window(e.handled_at, since, until, cutoff), not_(e.is_void),
                   or_(e.closed_at <= cutoff, not_(e.is_parked)))
            .group_by(e.grid_code))
    _collect(conn, stmt, ("to_check", "checked_on_time"), 1, out)


def _reports(conn: Connection, since, until, cutoff) -> Counts:
    """Return {(worker id,): reports, valid_reports}: the workers' own reports, wherever they are."""
    e = events.c
    valid = and_(not_(e.is_void), func.coalesce(e.registered_at, e.closed_at) <= cutoff)
    stmt = (select(e.worker_id, func.count(), _count(valid))
            .where(e.source == "grid_worker", e.worker_id.is_not(None), _window(e.reported_at, since, until, cutoff))
            .group_by(e.worker_id))
    return _collect(conn, stmt, ("reports", "valid_reports"), 1)


def _fieldwork(conn: Connection, prefix: str, since, until, cutoff) -> Counts:
    """Return {(worker id,): patrol_days (uncapped), visits, buildings_visited} of the workers under ``prefix``."""
    p, v, w = patrols.c, visits.c, workers.c
    mine = w.grid_code.startswith(prefix, autoescape=True)
    day = cast(p.started_at, Date)
    stmt = (select(p.worker_id, func.count(distinct(day)))
            .select_from(patrols.join(workers, w.id == p.worker_id))
            .where(mine, _window(p.started_at, since, until, cutoff)).group_by(p.worker_id))
    out = _collect(conn, stmt, ("patrol_days",), 1)
    own = func.substr(v.building_code, 1, CODE_LENGTHS[GRID]) == w.grid_code
    stmt = (select(v.worker_id, func.count(), func.count(distinct(case((own, v.building_code), else_=null()))))
            .select_from(visits.join(workers, w.id == v.worker_id))
            .where(mine, _window(v.visited_at, since, until, cutoff)).group_by(v.worker_id))
    return _collect(conn, stmt, ("visits", "buildings_visited"), 1, out)


def _grid_buildings(conn: Connection, prefix: str) -> dict[str, int]:
    stmt = (select(buildings.c.grid_code, func.count()).where(buildings.c.grid_code.startswith(prefix, autoescape=True))
            .group_by(buildings.c.grid_code))
    return {g: int(n) for g, n in conn.execute(stmt).all()}


# -- rolling up -----------------------------------------------------------------------------------------------


def _zeros() -> dict[str, int]:
    return dict.fromkeys(RANK_COUNTS, 0)


def _add(into: dict[str, int], counts: Mapping[str, int], names: Iterable[str]) -> None:
    for name in names:
        n = counts.get(name, 0)
        if n:
            into[name] += n


_CASE_COUNTS = HANDLING_COUNTS + AREA_COUNTS + HOTLINE_COUNTS


def _roll(found: Counts, index: int, length: int | None, listed: Iterable[str]) -> dict[str, dict[str, int]]:
    """Return {unit code: counts} of ``listed`` units, summing ``found`` by key ``index`` (cut to ``length``)."""
    out = {code: _zeros() for code in listed}
    for key, counts in found.items():
        code = key[index]
        if code is None:
            continue
        slot = out.get(code[:length] if length else code)
        if slot is not None:
            _add(slot, counts, _CASE_COUNTS)
    return out


def _workers(found_grid: Counts, reports: Counts, field: Counts, grid_buildings: Mapping[str, int],
             listed: Sequence[Unit], work_days: int) -> dict[str, dict[str, int]]:
    """Return each worker's counts: their own reports and field work, their grid's cases."""
    grids: dict[str, dict[str, int]] = defaultdict(_zeros)
    for key, counts in found_grid.items():
        if key[0] is not None:
            _add(grids[key[0]], counts, ("registered", "missed", "to_verify", "verified_on_time", "to_check",
                                          "checked_on_time"))
    out = {}
    for u in listed:
        slot = _zeros()
        wid = int(u.code)
        _add(slot, reports.get((wid,), {}), ("reports", "valid_reports"))
        g = grids.get(u.parent_code, {})
        slot["grid_registered"] = g.get("registered", 0)
        slot["missed"] = g.get("missed", 0)
        if u.kind == "full_time":  # the grid's 监督员 verifies and checks; a part-time worker does not
            _add(slot, g, ("to_verify", "verified_on_time", "to_check", "checked_on_time"))
        fw = field.get((wid,), {})
        slot["patrol_days"] = min(fw.get("patrol_days", 0), max(int(work_days), 0))
        slot["work_days"] = max(int(work_days), 0)
        slot["visits"] = fw.get("visits", 0)
        slot["buildings_visited"] = fw.get("buildings_visited", 0)
        slot["grid_buildings"] = grid_buildings.get(u.parent_code, 0)
        out[u.code] = slot
    return out


def _check_window(since: datetime, until: datetime, cutoff: datetime) -> None:
    for name, value in (("since", since), ("until", until), ("cutoff", cutoff)):
        if not isinstance(value, datetime):
            raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")
    if not since < until:
        raise ValueError("since must come before until")


def facts(conn: Connection, *, scope: Scope, level: str, area: Area, since: datetime, until: datetime,
          cutoff: datetime, params: FactParams) -> dict[str, dict[str, int]]:
    """Return {unit code: {count: n}} for every unit of ``units(...)`` over [since, until) as of ``cutoff``.

    Every RANK_COUNTS key is present (zeros included); the counts a level does not use are 0.
    """
    _check_level(level)
    _check_window(since, until, cutoff)
    listed = units(conn, scope=scope, level=level, area=area)
    if not listed:
        return {}
    if cutoff < since:
        return {u.code: _zeros() for u in listed}
    if level == "worker":
        prefix = _area_prefix(scope, area)
        found: Counts = {}
        _registered(conn, scope, area, since, until, cutoff, ["grid_code"], params, found)
        _verify_check(conn, scope, area, since, until, cutoff, params, found)
        return _workers(found, _reports(conn, since, until, cutoff), _fieldwork(conn, prefix, since, until, cutoff),
                        _grid_buildings(conn, prefix), listed, params.work_days)
    key = "department_code" if level == "department" else AREA_COLUMN[level]
    found = {}
    _handling(conn, scope, area, since, until, cutoff, [key], found)
    _registered(conn, scope, area, since, until, cutoff, [key], params, found)
    _hotline(conn, scope, area, since, until, cutoff, [key], found)
    return _roll(found, 0, None, [u.code for u in listed])


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
    return value.date() if isinstance(value, datetime) else value


def frozen_facts(conn: Connection, *, scope: Scope, level: str, area: Area,
                 months: Iterable[date]) -> dict[date, dict[str, dict[str, int]]]:
    """Return {month: {unit code: counts}} of frozen ``months`` for the units of ``units(...)`` (one read).

    A month not frozen is absent; a unit listed now but not in a month's facts gets zeros.
    """
    _check_level(level)
    wanted = sorted({m.replace(day=1) for m in months})
    listed = units(conn, scope=scope, level=level, area=area)
    if not wanted or not listed:
        return {}
    f = rank_facts.c
    stmt = select(f.month, f.unit_code, *(f[n] for n in RANK_COUNTS)).where(f.level == level, f.month.in_(wanted))
    if level in AREA_LEVELS:
        stmt = stmt.where(f.unit_code.startswith(_area_prefix(scope, area), autoescape=True))
    codes = {u.code for u in listed}
    out: dict[date, dict[str, dict[str, int]]] = {}
    done = set(_as_date(m) for (m,) in conn.execute(select(rank_periods.c.month)
                                                     .where(rank_periods.c.month.in_(wanted))).all())
    for m in done:
        out[m] = {}
    names = RANK_COUNTS
    for row in conn.execute(stmt).all():
        code = row[1]
        if code in codes:
            month = out.get(_as_date(row[0]))
            if month is not None:
                month[code] = dict(zip(names, row[2:]))
    for month in out.values():
        for code in codes:
            if code not in month:
                month[code] = _zeros()
    return out


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
              params: FactParams) -> dict[str, dict[str, dict[str, int]]]:
    """Return {level: {unit code: counts}} for every level and unit of the whole city (what a freeze writes).

    The case counts are taken once per (grid, department) and rolled up; the workers' from the same scans.
    """
    _check_window(since, until, cutoff)
    city_code = conn.execute(select(areas.c.code).where(areas.c.level == CITY)).scalar()
    city = _city_area(conn, city_code)
    scope = Scope(city.code, CITY)
    listed = {level: units(conn, scope=scope, level=level, area=city) for level in LEVELS}
    if cutoff < since:
        return {level: {u.code: _zeros() for u in us} for level, us in listed.items()}
    found: Counts = {}
    keys = ["grid_code", "department_code"]
    _handling(conn, scope, city, since, until, cutoff, keys, found)
    _registered(conn, scope, city, since, until, cutoff, keys, params, found)
    _hotline(conn, scope, city, since, until, cutoff, keys, found)
    out = {level: _roll(found, 0, CODE_LENGTHS[AREA_LEVELS[level]], [u.code for u in listed[level]])
           for level in AREA_LEVELS}
    out["department"] = _roll(found, 1, None, [u.code for u in listed["department"]])
    by_grid: Counts = {}
    for (grid, _), counts in found.items():
        slot = by_grid.setdefault((grid,), {})
        for name in ("registered", "missed"):
            slot[name] = slot.get(name, 0) + counts.get(name, 0)
    _verify_check(conn, scope, city, since, until, cutoff, params, by_grid)
    prefix = city.code[:4]
    out["worker"] = _workers(by_grid, _reports(conn, since, until, cutoff), _fieldwork(conn, prefix, since, until, cutoff),
                             _grid_buildings(conn, prefix), listed["worker"], params.work_days)
    return out


def _city_area(conn: Connection, code: str | None) -> Area:
    from queries.areas import get_area

    if code is None:
        raise LookupError("the store has no city")
    return get_area(conn, scope=Scope(code, CITY), code=code)


def freeze(conn: Connection, *, month: date, now: datetime, config: str, params: FactParams) -> bool:
    """Freeze ``month``: write the counts of every level and unit (whole city) as of the month's end, and its
    configuration, once; return False (writing nothing) when it is frozen already.

    The caller holds the write lock and the transaction (both rows sets commit together, or neither).
    """
    import pandas as pd

    from queries.bulk import bulk_insert

    if not isinstance(month, date) or isinstance(month, datetime) or month.day != 1:
        raise ValueError("month must be the first day of a month (a date)")
    since, until = month_bounds(month)
    if now < until:
        raise ValueError(f"{month:%Y-%m} has not ended yet")
    json.loads(config)  # a frozen month's configuration must at least be JSON
    if conn.execute(select(rank_periods.c.month).where(rank_periods.c.month == month)).first() is not None:
        return False
    counts = all_facts(conn, since=since, until=until, cutoff=until, params=params)
    conn.execute(insert(rank_periods).values(month=month, frozen_at=now, as_of=until, config=config))
    rows = [dict(month=month, level=level, unit_code=code, **c) for level, by_unit in counts.items()
            for code, c in by_unit.items()]
    if rows:
        bulk_insert(conn, rank_facts, pd.DataFrame(rows, columns=["month", "level", "unit_code", *RANK_COUNTS]))
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
        where = [mine, _window(e.registered_at, since, until, cutoff), not_(e.is_void)]
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
    return case_page(conn, sets=sets, offset=offset, limit=limit)
