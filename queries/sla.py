"""The SLA page's figures (issue 6 §1): on-time rates, the backlog's age, the loop as a funnel, handling times,
exception rates, and the cases behind each figure. docs/sla.md defines every figure exactly.

Every figure carries its numerator and denominator. All times are naive local times; windows are half-open
[since, until); ``as_of`` is the instant the figures are as of: a step counts only if it happened by then.
Void and parked cases are left out as in queries/overview.py.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Boolean, Connection, Date, Integer, String, Table, and_, case, cast, column, extract, false, func, literal,
    literal_column, not_, null, or_, select, text, true, union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from queries.areas import Area
from queries.overview import _area_column, _where
from queries.schema import BUILDING, CITY, GRID, STREET, areas, buildings, categories, closures, departments, events
from queries.sqlfuncs import day_bucket, minutes_between
from queries.state import open_at, open_source, overdue_at

GRAINS = ("day", "week", "month")
SPLITS = ("class", "department", "area", "street")
AGE_SPLITS = ("class", "area")
HANDLING_SPLITS = ("class", "category", "department")
EXCEPTION_SPLITS = ("department", "area")
# Backlog age buckets: age = as_of − reported_at; lower edge inclusive, in days.
AGE_BUCKETS = ("lt1d", "1to3d", "3to7d", "7to30d", "gt30d")
AGE_EDGES_DAYS = (1, 3, 7, 30)
# Handling-time bins: dispatch → handled, in hours; lower edge inclusive.
HOUR_BINS = (1, 2, 4, 8, 24, 48, 72, 168)
HOUR_BIN_KEYS = ("lt1h", "1to2h", "2to4h", "4to8h", "8to24h", "1to2d", "2to3d", "3to7d", "gt7d")
FUNNEL_STAGES = ("report", "accept", "register", "dispatch", "handle", "check", "close")
LIGHT_KEYS = ("green", "yellow", "red", "none", "turning_red_2h")
CASE_PAGE_LIMIT = 200


@dataclass(frozen=True)
class Rate:
    """A ratio with its parts: ``numerator`` / ``denominator`` (None when nothing counts)."""

    key: str
    name: str
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """Return numerator / denominator, or None when the denominator is 0."""
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class TrendPoint:
    """按期处置率 and 按期结案率 of one day / week (Monday) / month (its 1st)."""

    bucket: date
    handle: Rate
    close: Rate


@dataclass(frozen=True)
class SplitRow:
    """The two on-time rates of one category class, department or area, and its open overdue cases at as_of."""

    key: str
    name: str
    handle: Rate
    close: Rate
    overdue_open: int


@dataclass(frozen=True)
class AgeRow:
    """Open cases at as_of of one class or area, counted per AGE_BUCKETS."""

    key: str
    name: str
    buckets: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.buckets)


@dataclass(frozen=True)
class LightCounts:
    """Open cases at as_of by traffic light; ``none``: no clock yet; turning_red_2h: due in (as_of, as_of + 2 h]."""

    green: int = 0
    yellow: int = 0
    red: int = 0
    none: int = 0
    turning_red_2h: int = 0

    @property
    def total(self) -> int:
        return self.green + self.yellow + self.red + self.none


@dataclass(frozen=True)
class FunnelStage:
    """One stage of the loop: cases that reached it by as_of, and the minutes spent in it (previous stamp → its stamp).

    ``timed`` cases have both stamps; ``over_limit`` of them took longer than the stage's limit.
    """

    stage: str
    reached: int
    median_min: float | None
    p90_min: float | None
    limit_min: float | None
    over_limit: int
    timed: int


@dataclass(frozen=True)
class Distribution:
    """Handling hours (dispatch → handled) of the cases closed in the window of one class, category or department."""

    key: str
    name: str
    n: int
    median_h: float | None
    p90_h: float | None
    bins: tuple[int, ...]  # per HOUR_BIN_KEYS


@dataclass(frozen=True)
class ExceptionRow:
    """延期率, 回退率, 返工率 and (per area) 作废率 of one department or area."""

    key: str
    name: str
    extension: Rate
    returned: Rate
    rework: Rate
    void: Rate | None


@dataclass(frozen=True)
class CaseRow:
    """One case behind a figure. No personal data."""

    id: int
    category: str
    place: str  # community · grid names
    department: str | None
    status: str
    reported_at: datetime
    deadline_at: datetime | None
    light: str | None = None


@dataclass(frozen=True)
class CasePage:
    """A page of the cases behind a figure, and how many there are in all."""

    total: int
    rows: tuple[CaseRow, ...]


# ---------------------------------------------------------------------------------------------- the queries

# Stage limits of the funnel other than handling, as (value, unit): dashboard/timeline.STAGE_LIMITS, passed in.
StageLimits = Mapping[str, tuple[float, str]]
# Rate parts a case list can ask for (docs/sla.md): what each rate's numerator and denominator are made of.
HANDLE_PARTS = ("on_time", "late", "handled", "overdue", "all")
CLOSE_PARTS = ("on_time", "late", "closed", "overdue", "all")


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def bucket_start(day: date, grain: str) -> date:
    """Return the first day of the bucket of ``grain`` holding ``day``."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def bucket_end(start: date, grain: str) -> date:
    """Return the first day after the bucket of ``grain`` starting at ``start``."""
    if grain == "week":
        return start + timedelta(days=7)
    if grain == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def buckets(since: datetime, until: datetime, grain: str) -> list[date]:
    """Return every bucket of ``grain`` that [since, until) touches, in order."""
    if until <= since:
        return []
    out, day = [], bucket_start(since.date(), grain)
    last = (until - timedelta(microseconds=1)).date()
    while day <= last:
        out.append(day)
        day = bucket_end(day, grain)
    return out


def child_level(area: Area) -> int:
    """Return the level of ``area``'s children (buildings under a grid)."""
    return BUILDING if area.level == GRID else area.level + 1


def _key_column(by: str, table: Table, area: Area):
    """Return the column of ``table`` to split by."""
    if by == "class":
        return table.c.class_code
    if by == "category":
        return table.c.category_code
    if by == "department":
        return table.c.department_code
    if by == "area":
        return _area_column(child_level(area), table)
    if by == "street":
        return table.c.street_code
    raise ValueError(f"unknown split {by!r}")


def _window(stamp, since: datetime, until: datetime, as_of: datetime) -> ColumnElement[bool]:
    return and_(stamp >= since, stamp < until, stamp <= as_of)


class _Sets:
    """The sets of cases the two on-time rates count (docs/sla.md), as (table, where, stamp, on-time clause)."""

    def __init__(self, conn: Connection, scope, area: Area, since: datetime, until: datetime, as_of: datetime):
        self.table, current = open_source(conn, as_of)
        t = self.table
        in_area = _where(scope, area, t)
        self.open_now = and_(in_area, open_at(t, current, as_of))  # parked left out by open_at
        self.c_area = _where(scope, area, closures)
        self.since, self.as_of = since, as_of
        self.closed_window = _window(closures.c.closed_at, since, until, as_of)
        # Handled and closed by as_of (closed after as_of: still open then, counted from the open side).
        self.handled_closed_window = and_(_window(closures.c.handled_at, since, until, as_of),
                                          closures.c.closed_at <= as_of)
        self.closed = (closures, and_(self.c_area, self.closed_window), closures.c.closed_at, closures.c.on_time)
        self.handled_closed = (closures, and_(self.c_area, self.handled_closed_window), closures.c.handled_at,
                               closures.c.on_time)
        self.handled_open_window = _window(t.c.handled_at, since, until, as_of)
        self.handled_ok = or_(t.c.deadline_at.is_(None), t.c.handled_at <= t.c.deadline_at)
        self.handled_open = (t, and_(self.open_now, self.handled_open_window), t.c.handled_at, self.handled_ok)
        # 超期未处置: open at as_of, not handled by then, past the deadline; bucketed by the deadline.
        self.overdue_window = and_(overdue_at(t, as_of), _window(t.c.deadline_at, since, until, as_of))
        self.overdue = (t, and_(self.open_now, self.overdue_window), t.c.deadline_at, false())
        self.overdue_all = (t, and_(self.open_now, overdue_at(t, as_of)), t.c.deadline_at, false())

    def of(self, figure: str, part: str) -> list[tuple]:
        """Return the sets (table, where, stamp) behind ``part`` of ``figure`` (handle / close / overdue_open)."""
        if figure == "overdue_open":
            return [self.overdue_all[:3]]
        done = [self.handled_closed, self.handled_open] if figure == "handle" else [self.closed]
        if part == "overdue":
            return [self.overdue[:3]]
        if part in ("handled", "closed"):
            return [s[:3] for s in done]
        if part == "on_time":
            return [(t, and_(w, ok), stamp) for t, w, stamp, ok in done]
        if part == "late":
            return [(t, and_(w, not_(ok)), stamp) for t, w, stamp, ok in done] + [self.overdue[:3]]
        return [s[:3] for s in done] + [self.overdue[:3]]


def _grouped(conn: Connection, key, table: Table, where, *aggregates) -> dict:
    """Return {key: (aggregate values…)} of one GROUP BY."""
    rows = conn.execute(select(key, *aggregates).select_from(table).where(where).group_by(key)).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _rate_parts(conn: Connection, sets: _Sets, key_of, overdue_all: bool = False) -> dict:
    """Return {key: [handled_on_time, handled, closed_on_time, closed, overdue, overdue_all]}; ``key_of(table, stamp)``.

    Two scans: closures (handled and closed in the window, grouped by both keys at once) and the open cases
    (handled in the window, and overdue with the deadline in it); the few (key, key) pairs are summed here.
    ``overdue_all`` (a split, whose key does not depend on the stamp): the open scan also counts every case
    overdue unhandled at as_of, whatever its deadline, per the deadline's key.
    """
    out: dict = {}

    def add(key, index: int, *counts):
        slot = out.setdefault(key, [0] * 6)
        for i, n in enumerate(counts):
            slot[index + i] += int(n or 0)

    c = closures.c
    closed_key, handled_key = key_of(closures, c.closed_at).label("k1"), key_of(closures, c.handled_at).label("k2")
    stmt = (select(closed_key, handled_key,
                   func.count().filter(and_(sets.handled_closed_window, c.on_time)),
                   func.count().filter(sets.handled_closed_window),
                   func.count().filter(and_(sets.closed_window, c.on_time)), func.count().filter(sets.closed_window))
            # handled ≤ closed, so every case handled in the window closed after it began: the scan is pruned.
            .where(sets.c_area, c.closed_at >= sets.since, c.closed_at <= sets.as_of,
                   or_(sets.closed_window, sets.handled_closed_window))
            .group_by(closed_key, handled_key))
    for k1, k2, handled_ok, handled, closed_ok, closed in conn.execute(stmt).all():
        add(k2, 0, handled_ok, handled)
        add(k1, 2, closed_ok, closed)
    t = sets.table
    handled_key, deadline_key = key_of(t, t.c.handled_at).label("k1"), key_of(t, t.c.deadline_at).label("k2")
    late = overdue_at(t, sets.as_of) if overdue_all else false()
    stmt = (select(handled_key, deadline_key,
                   func.count().filter(and_(sets.handled_open_window, sets.handled_ok)),
                   func.count().filter(sets.handled_open_window), func.count().filter(sets.overdue_window),
                   func.count().filter(late))
            .where(sets.open_now, or_(sets.handled_open_window, sets.overdue_window, late))
            .group_by(handled_key, deadline_key))
    for k1, k2, handled_ok, handled, overdue, overdue_any in conn.execute(stmt).all():
        if handled:
            add(k1, 0, handled_ok, handled)
        if overdue or overdue_any:
            add(k2, 4, overdue, overdue_any)
    return out


def _rates(key: str, name: str, parts: Sequence[int]) -> tuple[Rate, Rate]:
    handled_ok, handled, closed_ok, closed, overdue = parts[:5]
    return (Rate(key, name, handled_ok, handled + overdue), Rate(key, name, closed_ok, closed + overdue))


def trend(conn: Connection, *, scope, area: Area, grain: str, since: datetime, until: datetime,
          as_of: datetime) -> list[TrendPoint]:
    """Return 按期处置率 and 按期结案率 per bucket of ``grain`` over [since, until), every bucket present."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}; expected one of {', '.join(GRAINS)}")
    every = buckets(since, until, grain)
    if not scope.covers(area.code):
        return []
    sets = _Sets(conn, scope, area, since, until, as_of)
    # Grouped by day in SQL (a cast; date_trunc to weeks or months of two stamps per case cost more than the
    # rest of the scan) and the few (day, day) rows folded into weeks or months here.
    found: dict = {}
    for k, parts in _rate_parts(conn, sets, lambda t, stamp: day_bucket(stamp)).items():
        if k is None:
            continue
        slot = found.setdefault(bucket_start(_as_date(k), grain), [0] * 6)
        for i, n in enumerate(parts):
            slot[i] += n
    points = []
    for day in every:
        handle, close = _rates(day.isoformat(), day.isoformat(), found.get(day, [0] * 6))
        points.append(TrendPoint(day, handle, close))
    return points


def names(conn: Connection, *, by: str, keys: Iterable[str | None]) -> dict[str | None, str]:
    """Return {key: display name} of category classes, categories, departments, areas or buildings."""
    keys = sorted({k for k in keys if k is not None})
    if not keys:
        return {}
    if by == "class":
        stmt = select(categories.c.class_code, func.min(categories.c.class_name)).where(
            categories.c.class_code.in_(keys)).group_by(categories.c.class_code)
    elif by == "category":
        stmt = select(categories.c.code, categories.c.name).where(categories.c.code.in_(keys))
    elif by == "department":
        stmt = select(departments.c.code, departments.c.name).where(departments.c.code.in_(keys))
    elif any(len(k) == 18 for k in keys):
        stmt = select(buildings.c.code, buildings.c.name).where(buildings.c.code.in_(keys))
    else:
        stmt = select(areas.c.code, areas.c.name).where(areas.c.code.in_(keys))
    return dict(conn.execute(stmt).all())


def split_keys(conn: Connection, *, scope, area: Area, by: str) -> list[str]:
    """Return the keys a split lists even without cases: the area's children, or the streets in it."""
    if by not in ("area", "street") or area.level >= GRID and by == "street":
        return []
    if by == "area":
        if area.level == GRID:
            stmt = select(buildings.c.code).where(buildings.c.grid_code == area.code)
        else:
            stmt = select(areas.c.code).where(areas.c.parent_code == area.code)
    else:
        if area.level >= STREET:
            return [area.code] if area.level == STREET else []
        prefix = area.code[:4] if area.level == CITY else area.code
        stmt = select(areas.c.code).where(areas.c.level == STREET, areas.c.code.startswith(prefix, autoescape=True))
    return [code for (code,) in conn.execute(stmt.order_by(areas.c.code if by != "area" or area.level != GRID
                                                            else buildings.c.code).limit(5000)).all()
            if scope.covers(code)]


def _ordered(found: dict, listed: Sequence[str]) -> list:
    """Return the keys to show: every listed key (in order), then the others with cases (None last)."""
    rest = sorted((k for k in found if k not in set(listed)), key=lambda k: (k is None, k or ""))
    return list(listed) + rest


def split(conn: Connection, *, scope, area: Area, by: str, since: datetime, until: datetime,
          as_of: datetime) -> list[SplitRow]:
    """Return the two on-time rates per class, department, child area or street, with open overdue counts."""
    if by not in SPLITS:
        raise ValueError(f"unknown split {by!r}; expected one of {', '.join(SPLITS)}")
    # Below a street there is no street to split by (its one street is above the caller's view: never named).
    if not scope.covers(area.code) or by == "street" and area.level > STREET:
        return []
    sets = _Sets(conn, scope, area, since, until, as_of)
    found = _rate_parts(conn, sets, lambda t, stamp: _key_column(by, t, area), overdue_all=True)
    keys = _ordered(found, split_keys(conn, scope=scope, area=area, by=by))
    named = names(conn, by=by, keys=keys)
    rows = []
    for key in keys:
        parts = found.get(key, [0] * 6)
        handle, close = _rates(key or "", named.get(key, key or ""), parts)
        rows.append(SplitRow(key or "", named.get(key, key or ""), handle, close, parts[5]))
    return rows


def _age_bucket(table: Table, as_of: datetime):
    """Return the SQL index (0–4) into AGE_BUCKETS of each case's age at ``as_of``."""
    edges = [as_of - timedelta(days=d) for d in AGE_EDGES_DAYS]
    return case(*((table.c.reported_at > edge, i) for i, edge in enumerate(edges)), else_=len(edges))


def backlog_age(conn: Connection, *, scope, area: Area, by: str, as_of: datetime) -> list[AgeRow]:
    """Return the cases open at ``as_of`` (parked left out) per class or child area, in AGE_BUCKETS."""
    if by not in AGE_SPLITS:
        raise ValueError(f"unknown split {by!r}; expected one of {', '.join(AGE_SPLITS)}")
    if not scope.covers(area.code):
        return []
    table, current = open_source(conn, as_of)
    # Bucketed in a subquery: its edges are bound parameters, which PostgreSQL would not match in GROUP BY.
    cases = (select(_key_column(by, table, area).label("key"), _age_bucket(table, as_of).label("bucket"))
             .where(_where(scope, area, table), open_at(table, current, as_of)).subquery())
    stmt = select(cases.c.key, cases.c.bucket, func.count()).group_by(cases.c.key, cases.c.bucket)
    found: dict = {}
    for k, b, n in conn.execute(stmt).all():
        found.setdefault(k, [0] * len(AGE_BUCKETS))[int(b)] = int(n)
    keys = _ordered(found, split_keys(conn, scope=scope, area=area, by=by))
    named = names(conn, by=by, keys=keys)
    return [AgeRow(k or "", named.get(k, k or ""), tuple(found.get(k, [0] * len(AGE_BUCKETS)))) for k in keys]


def open_clocks(conn: Connection, *, scope, area: Area, as_of: datetime):
    """Return the clocks of the cases open at ``as_of`` (parked left out), as columns.

    A dict of lists: id, started (the clock's start, else the dispatch), deadline, handled (only when by
    as_of), unit (the category's limit unit), reported_at: what dashboard/lights.py lights a case from (the
    reference the SQL lights of ``lights`` are tested against, and the clocks a page may tick in the browser).
    """
    table, current = open_source(conn, as_of)
    handled = case((table.c.handled_at <= as_of, table.c.handled_at), else_=null())
    stmt = (select(table.c.id, func.coalesce(table.c.clock_started_at, table.c.dispatched_at), table.c.deadline_at,
                   handled, categories.c.limit_unit, table.c.reported_at)
            .join(categories, categories.c.code == table.c.category_code)
            .where(_where(scope, area, table), open_at(table, current, as_of)))
    rows = conn.execute(stmt).all() if scope.covers(area.code) else []
    cols = list(zip(*rows)) if rows else [()] * 6
    return dict(zip(("id", "started", "deadline", "handled", "unit", "reported_at"), (list(c) for c in cols)))


def turning_red_where(table: Table, as_of: datetime, hours: float = 2) -> ColumnElement[bool]:
    """Return 'not handled by as_of and due in (as_of, as_of + hours]' on an open case."""
    return and_(or_(table.c.handled_at.is_(None), table.c.handled_at > as_of), table.c.deadline_at > as_of,
                table.c.deadline_at <= as_of + timedelta(hours=hours))


def _minute(stamp):
    return func.date_trunc(literal_column("'minute'"), stamp)


def _clock_ends(table: Table, as_of: datetime):
    """Return (start, end) of an open case's clock: the limit's start (else the dispatch), the handling (if by
    as_of) else as_of."""
    started = func.coalesce(table.c.clock_started_at, table.c.dispatched_at)
    handled_by = and_(table.c.handled_at.is_not(None), table.c.handled_at <= as_of)
    return started, case((handled_by, table.c.handled_at), else_=literal(as_of))


def _red(table: Table, as_of: datetime) -> ColumnElement[bool]:
    """Return 'lit red at as_of' (as _light_parts lights it): a clock whose end's minute is past the deadline's."""
    started, until = _clock_ends(table, as_of)
    return and_(started.is_not(None), table.c.deadline_at.is_not(None),
                _minute(until) > _minute(table.c.deadline_at))


def _light_parts(conn: Connection, table: Table, where, as_of: datetime, calendar):
    """Return (FROM clause, light expression) lighting each open case of ``table`` in SQL, as dashboard/lights.py.

    The clock runs from the limit's start (else the dispatch) to the handling (if by as_of) or as_of, to the
    minute; working minutes come from a table of the days involved (work_days_table). Green while under 80 %
    of the time allowed is used (5 · remaining > allowed), yellow up to the deadline, red past it, NULL with
    no clock. tests/queries/test_sla.py checks it against dashboard/lights.py.
    """
    started, until = _clock_ends(table, as_of)
    # Only cases not yet late need working minutes (a late one is red on the clock alone): the days from
    # the earliest start to the latest deadline among them, a month or two, not every stuck case's year.
    late = _minute(until) > _minute(table.c.deadline_at)
    low, high = conn.execute(select(func.min(started), func.max(table.c.deadline_at)).select_from(table)
                             .where(where, started.is_not(None), table.c.deadline_at.is_not(None), not_(late))).one()
    source = table.join(categories, categories.c.code == table.c.category_code)
    s, d, u = _minute(started), _minute(table.c.deadline_at), _minute(until)
    clock_allowed, clock_remaining = minutes_between(s, d), minutes_between(u, d)
    work_allowed = work_remaining = literal(0)
    if low is not None and high is not None:
        days = work_days_table(calendar, min(low, as_of).date() - timedelta(days=1),
                               max(high, as_of).date() + timedelta(days=1))
        cum = {}
        for name, stamp in (("s", started), ("d", table.c.deadline_at), ("u", until)):
            day = days.subquery(f"light_day_{name}")
            source = source.outerjoin(day, day.c.d == day_number(stamp))
            cum[name] = day.c.base + _within_day(stamp, calendar.periods, day.c.work)
        work_allowed, work_remaining = cum["d"] - cum["s"], cum["d"] - cum["u"]
    work = categories.c.limit_unit != "hours"
    allowed = case((work, work_allowed), else_=clock_allowed)
    remaining = case((work, work_remaining), else_=clock_remaining)
    light = case(
        (or_(started.is_(None), table.c.deadline_at.is_(None)), null()),
        (u > d, literal("red")),
        (allowed <= 0, case((u >= d, literal("yellow")), else_=literal("green"))),
        (remaining * 5 > allowed, literal("green")),
        else_=literal("yellow"),
    )
    return source, light


def lights(conn: Connection, *, scope, area: Area, as_of: datetime, calendar) -> LightCounts:
    """Return the open cases at ``as_of`` (parked left out) by traffic light, and those turning red within 2 h."""
    if not scope.covers(area.code):
        return LightCounts()
    table, current = open_source(conn, as_of)
    where = and_(_where(scope, area, table), open_at(table, current, as_of))
    source, light = _light_parts(conn, table, where, as_of, calendar)
    # Lit in a subquery: the expression holds bound parameters, which PostgreSQL would not match in GROUP BY.
    lit = select(light.label("light"), turning_red_where(table, as_of).label("soon")).select_from(source).where(
        where).subquery()
    counts = {row[0]: (int(row[1]), int(row[2] or 0)) for row in conn.execute(
        select(lit.c.light, func.count(), func.count().filter(lit.c.soon)).group_by(lit.c.light)).all()}
    get = lambda key: counts.get(key, (0, 0))[0]  # noqa: E731
    return LightCounts(get("green"), get("yellow"), get("red"), get(None),
                       sum(soon for _, soon in counts.values()))


# ------------------------------------------------------------------------------------------------ the funnel

_EPOCH = date(1970, 1, 1)


def day_number(stamp):
    """Return the SQL day number (days since 1970-01-01) of a naive local timestamp: the key of work_days_table."""
    return cast(stamp, Date) - literal_column("DATE '1970-01-01'")


def work_days_table(calendar, first: date, last: date):
    """Return a SELECT (``.subquery(name)`` it) of rows (d, base, work): each day's number, working minutes
    before it, and whether it is worked.

    Its rows are written into the statement (integers and booleans we computed, never input): as bound
    parameters, a year of days three times over cost more to bind than the query takes to run.
    """
    rows, base, day = [], 0, first
    per_day = calendar.minutes_per_day
    while day <= last:
        work = bool(calendar.is_workday(day))
        rows.append(((day - _EPOCH).days, base, work))
        base += per_day if work else 0
        day += timedelta(days=1)
    # As SQL text, not a VALUES construct: SQLAlchemy builds a cache key over every row of one and compiles
    # it value by value, ~30 ms of Python per lights call for a few hundred days; text is a string.
    body = ", ".join(f"({d}, {b}, {'TRUE' if w else 'FALSE'})" for d, b, w in rows)
    return text(f"SELECT d, base, work FROM (VALUES {body}) AS workdays (d, base, work)").columns(
        column("d", Integer), column("base", Integer), column("work", Boolean))


def _within_day(stamp, periods, work) -> ColumnElement:
    """Return the working minutes of the stamp's own day up to it (0 on a day off)."""
    minute = cast(extract("hour", stamp) * 60 + extract("minute", stamp), Integer)
    total = None
    for start, end in periods:
        a, b = start.hour * 60 + start.minute, end.hour * 60 + end.minute
        part = func.greatest(literal(0), func.least(minute, literal(b)) - literal(a))
        total = part if total is None else total + part
    return case((work, total), else_=literal(0))


_STAMPS = {"report": "reported_at", "accept": "accepted_at", "register": "registered_at",
           "dispatch": "dispatched_at", "handle": "handled_at", "check": "checked_at", "close": "closed_at"}


def _funnel_where(scope, area: Area, since: datetime, until: datetime, as_of: datetime):
    return and_(_where(scope, area), events.c.reported_at >= since, events.c.reported_at < until,
                events.c.reported_at <= as_of, not_(events.c.is_void))


def _reached(stage: str, as_of: datetime):
    stamp = events.c[_STAMPS[stage]]
    return and_(stamp.is_not(None), stamp <= as_of)


def _stage_span(stage: str, as_of: datetime):
    """Return (previous stamp, this stamp, 'timed' clause) of a stage; verify folds into register."""
    order = FUNNEL_STAGES
    previous = events.c[_STAMPS[order[order.index(stage) - 1]]]
    stamp = events.c[_STAMPS[stage]]
    timed = and_(_reached(stage, as_of), previous.is_not(None), previous <= stamp)
    return previous, stamp, timed


def _over_clock(stage: str, limits: StageLimits, calendar, as_of: datetime):
    """Return 'took more clock minutes than the limit's working minutes' (a working-time limit: may be over it)."""
    previous, stamp, timed = _stage_span(stage, as_of)
    value, unit = limits[stage]
    minutes = round(value * (calendar.minutes_per_day if unit == "work_days" else 60))
    return and_(timed, stamp > previous + timedelta(minutes=minutes))


def _over_limit(stage: str, limits: StageLimits, calendar, as_of: datetime, day_of: dict):
    """Return the clause 'took longer than the stage's limit' (handle: handled after its deadline)."""
    previous, stamp, timed = _stage_span(stage, as_of)
    if stage == "handle":
        return and_(timed, events.c.deadline_at.is_not(None), stamp > events.c.deadline_at)
    value, unit = limits[stage]
    if unit == "hours":  # more whole minutes than the limit's (as the funnel's histogram counts them)
        return and_(timed, minutes_between(previous, stamp) > round(value * 60))
    allowed = round(value * (calendar.minutes_per_day if unit == "work_days" else 60))
    d1, d2 = day_of[stage]
    worked = ((d2.c.base + _within_day(stamp, calendar.periods, d2.c.work))
              - (d1.c.base + _within_day(previous, calendar.periods, d1.c.work)))
    return and_(timed, worked > allowed)


def _funnel_from(limits: StageLimits, calendar, since: datetime, as_of: datetime):
    """Return (FROM clause, {stage: (day row of previous, day row of stamp)}) joining the working-day table."""
    day_of, source = {}, events
    work_stages = [s for s in FUNNEL_STAGES[1:] if s != "handle" and limits.get(s, (0, "hours"))[1] != "hours"]
    if work_stages:
        days = work_days_table(calendar, since.date() - timedelta(days=1), as_of.date() + timedelta(days=1))
        for stage in work_stages:
            previous, stamp, _ = _stage_span(stage, as_of)
            d1, d2 = days.subquery(f"wd_{stage}_a"), days.subquery(f"wd_{stage}_b")
            source = source.outerjoin(d1, d1.c.d == day_number(previous)).outerjoin(d2, d2.c.d == day_number(stamp))
            day_of[stage] = (d1, d2)
    return source, day_of


def percentiles(histogram: Sequence[tuple[float, int]], qs: Sequence[float]) -> list[float | None]:
    """Return the continuous percentiles ``qs`` (as SQL's percentile_cont) of the values a sorted histogram holds.

    ``histogram`` is (value, how many) in ascending value order; exact, since the values are whole minutes.
    """
    total = sum(n for _, n in histogram)
    if total == 0:
        return [None] * len(qs)
    ends, running = [], 0
    for _, n in histogram:
        running += n
        ends.append(running)  # the 0-based rank after the last copy of each value is ends[i] - 1

    def at(rank: int) -> float:
        return float(histogram[bisect_right(ends, rank)][0])

    out = []
    for q in qs:
        position = q * (total - 1)
        low = int(position)
        high = min(low + 1, total - 1)
        out.append(at(low) + (at(high) - at(low)) * (position - low))
    return out


def funnel(conn: Connection, *, scope, area: Area, since: datetime, until: datetime, as_of: datetime,
           limits: StageLimits, calendar) -> list[FunnelStage]:
    """Return the loop as a funnel over the events reported in [since, until) (void left out), as of ``as_of``.

    ``limits`` are the stage limits (value, unit) of accept, register, dispatch, check and close; handling
    is against each case's own deadline. Minutes are whole clock minutes from the previous stage's stamp.
    """
    if not scope.covers(area.code):
        return [FunnelStage(s, 0, None, None, None, 0, 0) for s in FUNNEL_STAGES]
    where = _funnel_where(scope, area, since, until, as_of)
    timed_stages = FUNNEL_STAGES[1:]
    work_stages = [s for s in timed_stages if s != "handle" and limits[s][1] != "hours"]
    # One scan and one row: per case its minutes in each stage (NULL: not timed), the handling limit's
    # minutes, whether it reached each stage and whether its handling was late; then per column a count and
    # both percentiles from one ordered-set aggregate (one sort per column, the percentiles exact). A
    # histogram per column (GROUPING SETS, ~37,000 rows back to Python at 10 M) cost twice as much.
    columns = []
    for k, stage in enumerate(timed_stages):
        previous, stamp, is_timed = _stage_span(stage, as_of)
        columns.append(case((is_timed, minutes_between(previous, stamp)), else_=null()).label(f"m{k}"))
    columns.append(case((and_(_reached("handle", as_of), events.c.deadline_at.is_not(None)),
                         minutes_between(func.coalesce(events.c.clock_started_at, events.c.dispatched_at),
                                         events.c.deadline_at)), else_=null()).label("limit"))
    columns += [_reached(stage, as_of).label(f"r{k}") for k, stage in enumerate(FUNNEL_STAGES)]
    columns.append(_over_limit("handle", limits, calendar, as_of, {}).label("late"))
    spans = select(*columns).where(where).subquery()
    s = spans.c
    # Constants, never input: written into the statement (a bound array would not bind alike on both engines).
    both = literal_column("CAST(ARRAY[0.5, 0.9] AS DOUBLE PRECISION[])")
    aggregates = []
    for k, stage in enumerate(timed_stages):
        minutes = s[f"m{k}"]
        # Hour limits: more whole minutes than the limit's (working-time limits are counted below).
        allowed = round(limits[stage][0] * 60) if stage != "handle" and stage not in work_stages else None
        aggregates += [func.count(minutes), func.percentile_cont(both).within_group(minutes),
                       func.count().filter(minutes > allowed) if allowed is not None else literal(0)]
    aggregates.append(func.percentile_cont(literal_column("0.5")).within_group(s.limit))
    aggregates += [func.count().filter(s[f"r{k}"]) for k in range(len(FUNNEL_STAGES))]
    aggregates.append(func.count().filter(s.late))
    row = list(conn.execute(select(*aggregates)).one())
    timed, quantiles, over = {}, {}, {}
    for k, stage in enumerate(timed_stages):
        n, pair, over_n = row[3 * k: 3 * k + 3]
        timed[stage], over[stage] = int(n or 0), int(over_n or 0)
        quantiles[stage] = (None, None) if not n or pair is None else tuple(float(v) for v in pair)
    limit_median = row[3 * len(timed_stages)]
    reached = {stage: int(n or 0) for stage, n in zip(FUNNEL_STAGES, row[3 * len(timed_stages) + 1:])}
    over["handle"] = int(row[-1] or 0)
    if work_stages:
        # Working minutes never exceed clock minutes: only cases over the limit on the clock can be over it in
        # working time, so the join to the working days reads those few, not the whole window.
        source, day_of = _funnel_from(limits, calendar, since, as_of)
        candidates = or_(*(_over_clock(stage, limits, calendar, as_of) for stage in work_stages))
        found = conn.execute(select(*(func.count().filter(_over_limit(stage, limits, calendar, as_of, day_of))
                                      for stage in work_stages)).select_from(source).where(where, candidates)).one()
        over.update({stage: int(n or 0) for stage, n in zip(work_stages, found)})

    out = [FunnelStage("report", reached["report"], None, None, None, 0, 0)]
    for stage in timed_stages:
        median_, p90 = quantiles[stage]
        if stage == "handle":
            limit = None if limit_median is None else float(limit_median)
        else:
            value, unit = limits[stage]
            limit = float(round(value * (calendar.minutes_per_day if unit == "work_days" else 60)))
        out.append(FunnelStage(stage, reached[stage], median_, p90, limit, over[stage], timed[stage]))
    return out


def limit_units(limits: StageLimits) -> dict[str, str]:
    """Return each funnel stage's limit clock: hours, work_hours or work_days ('case' for handling)."""
    return {s: ("case" if s == "handle" else limits[s][1]) for s in FUNNEL_STAGES[1:]}


# ------------------------------------------------------------------------------------ handling and exceptions

def _hour_bin(minutes):
    edges = [h * 60 for h in HOUR_BINS]
    return case(*((minutes < edge, i) for i, edge in enumerate(edges)), else_=len(edges))


def _closed_window(scope, area: Area, since: datetime, until: datetime, as_of: datetime):
    return and_(_where(scope, area, closures), _window(closures.c.closed_at, since, until, as_of))


def handling(conn: Connection, *, scope, area: Area, by: str, since: datetime, until: datetime,
             as_of: datetime) -> list[Distribution]:
    """Return the handling hours (dispatch → handled) of the cases closed in [since, until) by ``as_of``, per key."""
    if by not in HANDLING_SPLITS:
        raise ValueError(f"unknown split {by!r}; expected one of {', '.join(HANDLING_SPLITS)}")
    if not scope.covers(area.code):
        return []
    key, minutes = _key_column(by, closures, area), closures.c.handling_minutes
    hour_bin = _hour_bin(minutes)
    where = and_(_closed_window(scope, area, since, until, as_of), minutes.is_not(None))
    # Both percentiles from one ordered-set aggregate: one sort per key, not two.
    both = literal_column("CAST(ARRAY[0.5, 0.9] AS DOUBLE PRECISION[])")
    stmt = select(key, func.count(), func.percentile_cont(both).within_group(minutes)).where(where).group_by(key)
    found = {row[0]: row[1:] for row in conn.execute(stmt).all()}
    # The bins: each case's bin computed once in a subquery (its edges are bound parameters, which PostgreSQL
    # would not match in GROUP BY), then counted per (key, bin); nine count FILTERs evaluated the CASE nine
    # times per case, twice the cost of the percentiles.
    binned = select(key.label("key"), hour_bin.label("bin")).where(where).subquery()
    bins: dict = {}
    for k, b, n in conn.execute(select(binned.c.key, binned.c.bin, func.count())
                                .group_by(binned.c.key, binned.c.bin)).all():
        bins.setdefault(k, [0] * len(HOUR_BIN_KEYS))[int(b)] = int(n)
    keys = _ordered(found, [])
    named = names(conn, by=by, keys=keys)
    out = []
    for k in keys:
        n, pair = found[k]
        median_, p90 = pair if pair is not None else (None, None)
        out.append(Distribution(k or "", named.get(k, k or ""), int(n), None if median_ is None else median_ / 60.0,
                                None if p90 is None else p90 / 60.0,
                                tuple(bins.get(k, [0] * len(HOUR_BIN_KEYS)))))
    return sorted(out, key=lambda d: (-d.n, d.key))


def exceptions(conn: Connection, *, scope, area: Area, by: str, since: datetime, until: datetime,
               as_of: datetime) -> list[ExceptionRow]:
    """Return 延期率, 回退率, 返工率 (over the cases closed in the window) and, per area, 作废率 (over reports)."""
    if by not in EXCEPTION_SPLITS:
        raise ValueError(f"unknown split {by!r}; expected one of {', '.join(EXCEPTION_SPLITS)}")
    if not scope.covers(area.code):
        return []
    key = _key_column(by, closures, area)
    stmt = (select(key, func.count(), func.count().filter(closures.c.extension_count > 0),
                   func.count().filter(closures.c.return_count > 0), func.count().filter(closures.c.handled_at.is_not(None)),
                   func.count().filter(and_(closures.c.handled_at.is_not(None), closures.c.rework_count > 0)))
            .where(_closed_window(scope, area, since, until, as_of)).group_by(key))
    found = {row[0]: [int(v or 0) for v in row[1:]] for row in conn.execute(stmt).all()}
    voids: dict = {}
    if by == "area":
        ekey = _key_column(by, events, area)
        for k, reported, void in conn.execute(
                select(ekey, func.count(), func.count().filter(events.c.is_void))
                .where(_where(scope, area), _window(events.c.reported_at, since, until, as_of)).group_by(ekey)).all():
            voids[k] = (int(reported), int(void or 0))
    keys = _ordered({**found, **voids}, split_keys(conn, scope=scope, area=area, by=by))
    named = names(conn, by=by, keys=keys)
    out = []
    for k in keys:
        closed, extended, returned, handled, reworked = found.get(k, [0] * 5)
        name, kk = named.get(k, k or ""), k or ""
        reported, void = voids.get(k, (0, 0))
        out.append(ExceptionRow(kk, name, Rate(kk, name, extended, closed), Rate(kk, name, returned, closed),
                                Rate(kk, name, reworked, handled),
                                Rate(kk, name, void, reported) if by == "area" else None))
    return out


# ------------------------------------------------------------------------------------------ the cases behind

@dataclass(frozen=True)
class Selector:
    """Which cases a figure counts (dashboard/sla.parse_selector builds one from a request; docs/sla.md)."""

    figure: str  # handle, close, overdue_open, age, light, funnel, handling, extension, return, rework, void
    part: str = "all"
    grain: str | None = None
    bucket: date | None = None
    by: str | None = None
    key: str | None = None
    stage: str | None = None
    bin: str | None = None  # an AGE_BUCKETS or HOUR_BIN_KEYS key


def _key_is(by: str, table: Table, area: Area, key: str) -> ColumnElement[bool]:
    col = _key_column(by, table, area)
    return col.is_(None) if key == "" else col == key


def _filtered(sets: list[tuple], selector: Selector, area: Area) -> list[tuple]:
    """Narrow each (table, where, stamp) set to the selector's bucket and key."""
    out = []
    for table, where, stamp in sets:
        clauses = [where]
        if selector.grain is not None and selector.bucket is not None:
            start = datetime.combine(selector.bucket, datetime.min.time())
            end = datetime.combine(bucket_end(selector.bucket, selector.grain), datetime.min.time())
            clauses += [stamp >= start, stamp < end]
        if selector.by is not None and selector.key is not None:
            clauses.append(_key_is(selector.by, table, area, selector.key))
        out.append((table, and_(*clauses)))
    return out


def case_sets(conn: Connection, *, scope, area: Area, selector: Selector, since: datetime, until: datetime,
              as_of: datetime, limits: StageLimits, calendar) -> list[tuple]:
    """Return the (FROM, WHERE) pairs whose rows are the cases behind ``selector`` (not for lights)."""
    f = selector.figure
    if f in ("handle", "close", "overdue_open"):
        sets = _Sets(conn, scope, area, since, until, as_of)
        return _filtered(sets.of(f, selector.part), selector, area)
    if f == "age":
        table, current = open_source(conn, as_of)
        where = [_where(scope, area, table), open_at(table, current, as_of)]
        if selector.bin is not None:
            i = AGE_BUCKETS.index(selector.bin)
            days = (0, *AGE_EDGES_DAYS)
            where.append(table.c.reported_at <= as_of - timedelta(days=days[i]))
            if i < len(AGE_EDGES_DAYS):
                where.append(table.c.reported_at > as_of - timedelta(days=AGE_EDGES_DAYS[i]))
        if selector.by is not None and selector.key is not None:
            where.append(_key_is(selector.by, table, area, selector.key))
        return [(table, and_(*where))]
    if f == "light":
        table, current = open_source(conn, as_of)
        where = and_(_where(scope, area, table), open_at(table, current, as_of))
        if selector.key == "turning_red_2h":
            return [(table, and_(where, turning_red_where(table, as_of)))]
        if selector.key == "red":
            # Red is the clock alone on every unit (_light_parts: a clock, and its end's minute past the
            # deadline's): no working days to join, no light to compute for every open case.
            return [(table, and_(where, _red(table, as_of)))]
        source, light = _light_parts(conn, table, where, as_of, calendar)
        return [((source, table), and_(where, light.is_(None) if selector.key == "none" else light == selector.key))]
    if f == "turning_red":
        table, current = open_source(conn, as_of)
        return [(table, and_(_where(scope, area, table), open_at(table, current, as_of), turning_red_where(table, as_of)))]
    if f == "funnel":
        source, day_of = _funnel_from(limits, calendar, since, as_of)
        where = [_funnel_where(scope, area, since, until, as_of)]
        if selector.stage != "report":
            where.append(_over_limit(selector.stage, limits, calendar, as_of, day_of)
                         if selector.part == "over_limit" else _reached(selector.stage, as_of))
        return [((source, events), and_(*where))]
    if f == "handling":
        where = [_closed_window(scope, area, since, until, as_of), closures.c.handling_minutes.is_not(None)]
        if selector.bin is not None:
            where.append(_hour_bin(closures.c.handling_minutes) == HOUR_BIN_KEYS.index(selector.bin))
        if selector.by is not None and selector.key is not None:
            where.append(_key_is(selector.by, closures, area, selector.key))
        return [(closures, and_(*where))]
    if f == "void":
        where = [_where(scope, area), _window(events.c.reported_at, since, until, as_of)]
        if selector.part == "numerator":
            where.append(events.c.is_void)
        if selector.by is not None and selector.key is not None:
            where.append(_key_is(selector.by, events, area, selector.key))
        return [(events, and_(*where))]
    if f in ("extension", "return", "rework"):
        where = [_closed_window(scope, area, since, until, as_of)]
        counted = {"extension": closures.c.extension_count, "return": closures.c.return_count,
                   "rework": closures.c.rework_count}[f]
        if f == "rework":
            where.append(closures.c.handled_at.is_not(None))
        if selector.part == "numerator":
            where.append(counted > 0)
        if selector.by is not None and selector.key is not None:
            where.append(_key_is(selector.by, closures, area, selector.key))
        return [(closures, and_(*where))]
    raise ValueError(f"unknown figure {f!r}")


def _projection(source, where):
    """Return the case-list columns of one set, the same for closures, open_events and events."""
    source, table = source if isinstance(source, tuple) else (source, source)
    if table is closures:
        cols = [closures.c.event_id.label("id"), closures.c.category_code, closures.c.community_code,
                closures.c.grid_code, closures.c.department_code, literal("closed", String).label("status"),
                closures.c.reported_at, closures.c.deadline_at, null().label("started"), closures.c.handled_at,
                true().label("closed")]
    else:
        closed = table.c.closed_at.is_not(None) if table is events else false()
        cols = [table.c.id, table.c.category_code, table.c.community_code, table.c.grid_code, table.c.department_code,
                table.c.status, table.c.reported_at, table.c.deadline_at,
                func.coalesce(table.c.clock_started_at, table.c.dispatched_at).label("started"), table.c.handled_at,
                closed.label("closed")]
    return select(*cols).select_from(source).where(where)


def case_page(conn: Connection, *, sets: list[tuple], offset: int, limit: int) -> tuple[int, list]:
    """Return (how many cases the sets hold, one page of their rows oldest report first, names joined)."""
    if not sets:
        return 0, []
    # Each case tagged with its set (a constant we write, never input), so the page's rows are read by id.
    parts = [_projection(source, where).add_columns(literal_column(str(i), Integer).label("part"))
             for i, (source, where) in enumerate(sets)]
    u = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("cases")
    # The count rides on the page (a window over every case, taken before the LIMIT): the sets are read once,
    # not twice (a light's set lights every open case each time). Past the last page: counted on its own.
    page = (select(u.c.id, u.c.part, func.count().over().label("total")).order_by(u.c.reported_at, u.c.id)
            .offset(offset).limit(min(limit, CASE_PAGE_LIMIT)))
    found = conn.execute(page).all()
    if found:
        total = int(found[0].total)
    else:
        total = 0 if offset == 0 else int(conn.execute(select(func.count()).select_from(u)).scalar() or 0)
    # The page's rows are read by id from the table of the set each came from (ids are unique in a table), not
    # through the sets' clauses again (a light's would light every open case once more).
    by_id = []
    for i, (source, _) in enumerate(sets):
        mine = [r.id for r in found if r.part == i]
        if mine:
            table = source[1] if isinstance(source, tuple) else source
            by_id.append((table, (closures.c.event_id if table is closures else table.c.id).in_(mine)))
    return total, case_rows(conn, sets=by_id, ids=[r.id for r in found])


def case_rows(conn: Connection, *, sets: list[tuple], ids: Sequence[int]):
    """Return the case rows of ``ids`` (in the given order) with category, place and department names.

    Each row: id, category, community, grid, department, status, reported_at, deadline_at, started, handled_at,
    unit, closed. Read from the sets' own tables, never for ids outside them.
    """
    if not ids:
        return []
    parts = [_projection(source, where) for source, where in sets]
    u = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("cases")
    community, grid = areas.alias("community"), areas.alias("grid")
    stmt = (select(u.c.id, categories.c.name.label("category"), community.c.name.label("community"),
                   grid.c.name.label("grid"), departments.c.name.label("department"), u.c.status, u.c.reported_at,
                   u.c.deadline_at, u.c.started, u.c.handled_at, categories.c.limit_unit.label("unit"), u.c.closed)
            .select_from(u.outerjoin(categories, categories.c.code == u.c.category_code)
                         .outerjoin(community, community.c.code == u.c.community_code)
                         .outerjoin(grid, grid.c.code == u.c.grid_code)
                         .outerjoin(departments, departments.c.code == u.c.department_code))
            .where(u.c.id.in_(list(ids))))
    found = {r.id: r for r in conn.execute(stmt).all()}
    return [found[i] for i in ids if i in found]
