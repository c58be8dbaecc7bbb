"""The overview's figures for an area and its children, over a window and at an instant.

Definitions (docs/metrics.md has them in full):
- ``reported``: events reported in [since, until), void ones included (上报数).
- ``open`` at ``as_of``: reported by then, not void, not parked, not closed by then.
- ``overdue`` at ``as_of``: open, not yet handled, and past its deadline (超期未处置).
- ``closed`` / ``closed_on_time``: closed in [since, until); on time when handled by the deadline.
- ``on_time_rate``: closed_on_time / (closed + overdue): cases open and already late count against
  the unit, so a unit cannot look punctual by not closing its late cases (DOMAIN.md §5, the trap).
- ``median_handling_hours``: median clock time from dispatch to handled, over the closed ones, in
  hours, exact to the minute (closures keep whole minutes).
All times are naive local times; windows are half-open.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Table, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from queries.areas import Area
from queries.schema import BUILDING, CITY, GRID, categories, closures, events
from queries.scope import EVENT_COLUMN, Scope, code_prefix
from queries.sqlfuncs import day_bucket, median
from queries.state import open_at, open_source, overdue_at

TOP_LIMIT = 50


@dataclass(frozen=True)
class Figures:
    """The overview figures of one area (or building)."""

    code: str
    reported: int = 0
    open: int = 0
    overdue: int = 0
    closed: int = 0
    closed_on_time: int = 0
    median_handling_hours: float | None = None

    @property
    def on_time_rate(self) -> float | None:
        """Return closed on time / (closed + open and overdue), or None when nothing counts."""
        denominator = self.closed + self.overdue
        return self.closed_on_time / denominator if denominator else None


@dataclass(frozen=True)
class Kpis:
    """The tiles beside the map: the area's figures and what was reported today."""

    figures: Figures
    reported_today: int


@dataclass(frozen=True)
class CategoryCount:
    """Events of one category reported in a window."""

    code: str
    name: str
    class_name: str
    count: int


@dataclass(frozen=True)
class DayCount:
    """Events reported and closed on one day."""

    day: date
    reported: int
    closed: int


@dataclass(frozen=True)
class OpenEvent:
    """One open event, for a building's list."""

    id: int
    category_code: str
    category_name: str
    status: str
    reported_at: datetime
    deadline_at: datetime | None
    overdue: bool
    clock_started_at: datetime | None = None  # the SLA clock's start (dispatch, rework, moved by pauses)
    handled_at: datetime | None = None
    limit_unit: str = "hours"
    light: str | None = None  # green / yellow / red, filled in by the caller that holds the SLA clock
    reporter: str | None = None  # filled in, masked, by the caller (queries return it whole)


def _area_column(level: int, table: Table = events):
    """Return the column of ``table`` holding codes of ``level`` (buildings included)."""
    return table.c.building_code if level == BUILDING else table.c[EVENT_COLUMN[level]]


def _in_area(area: Area, table: Table = events) -> ColumnElement[bool]:
    """Return the clause that keeps rows of ``table`` inside ``area``."""
    if area.level == CITY:
        return table.c.district_code.startswith(code_prefix(area.code, CITY), autoescape=True)
    return _area_column(area.level, table) == area.code


def _where(scope: Scope, area: Area, table: Table = events) -> ColumnElement[bool]:
    """Return scope ∧ area; the area alone when it is the scope's own (it is then the same cut)."""
    if area.code == scope.area_code and area.level == scope.level:
        return scope.events_clause(table)
    return and_(scope.events_clause(table), _in_area(area, table))


def _figures_by(conn: Connection, *, scope: Scope, area: Area, key_level: int | None, as_of: datetime,
                since: datetime, until: datetime, metrics: frozenset[str]) -> dict[str | None, dict]:
    """Run the scans ``metrics`` need in ``area``, grouped by the codes of ``key_level`` (None: no grouping).

    Return {code: {metric: value}}.
    """
    out: dict[str | None, dict] = {}

    def merge(table, condition, names, *aggregates):
        if key_level is None:  # one row for the whole selection
            rows = [(None, *conn.execute(select(*aggregates).where(condition)).one())]
        else:
            key = _area_column(key_level, table)
            rows = conn.execute(select(key, *aggregates).where(condition).group_by(key).order_by(key)).all()
        for row in rows:
            slot = out.setdefault(row[0], {})
            for name, value in zip(names, row[1:]):
                slot[name] = value

    if metrics & {"reported", "reported_today"}:
        # One pass over the reports covers both the window and today (events are in report order).
        midnight = as_of.replace(hour=0, minute=0, second=0, microsecond=0)
        window = and_(events.c.reported_at >= since, events.c.reported_at < until)
        today = and_(events.c.reported_at >= midnight, events.c.reported_at <= as_of)
        merge(events, and_(_where(scope, area), events.c.reported_at >= min(since, midnight),
                           or_(events.c.reported_at < until, events.c.reported_at <= as_of)),
              ("reported", "reported_today"), func.count().filter(window), func.count().filter(today))
    if metrics & {"open", "overdue"}:
        table, current = open_source(conn, as_of)
        merge(table, and_(_where(scope, area, table), open_at(table, current, as_of)), ("open", "overdue"),
              func.count(), func.count().filter(overdue_at(table, as_of)))
    closed_in_window = and_(_where(scope, area, closures), closures.c.closed_at >= since, closures.c.closed_at < until)
    closed = [("closed", func.count()), ("closed_on_time", func.count().filter(closures.c.on_time)),
              ("median_handling_hours", median(closures.c.handling_minutes) / 60.0)]
    wanted = [(name, aggregate) for name, aggregate in closed if name in metrics or
              (name == "closed" and "closed_on_time" in metrics)]
    if wanted:  # one scan of the window for whichever closed figures are asked for
        merge(closures, closed_in_window, [name for name, _ in wanted], *(aggregate for _, aggregate in wanted))
    return out


ALL_METRICS = frozenset({"reported", "open", "overdue", "closed", "closed_on_time", "median_handling_hours"})


def _as_figures(code: str, values: dict) -> Figures:
    median_hours = values.get("median_handling_hours")
    return Figures(
        code=code,
        reported=int(values.get("reported") or 0),
        open=int(values.get("open") or 0),
        overdue=int(values.get("overdue") or 0),
        closed=int(values.get("closed") or 0),
        closed_on_time=int(values.get("closed_on_time") or 0),
        median_handling_hours=None if median_hours is None else float(median_hours),
    )


def children_figures(conn: Connection, *, scope: Scope, parent: Area, child_codes: list[str], as_of: datetime,
                     since: datetime, until: datetime, metrics=ALL_METRICS) -> list[Figures]:
    """Return the figures of each child of ``parent`` (areas, or buildings of a grid), in code order.

    ``child_codes`` lists every child so that children without events get zeros; ``metrics`` limits
    the scans to the figures the caller shows.
    """
    if not scope.covers(parent.code):
        return []
    values = _figures_by(conn, scope=scope, area=parent, key_level=BUILDING if parent.level == GRID else parent.level + 1,
                         as_of=as_of, since=since, until=until, metrics=frozenset(metrics))
    return [_as_figures(code, values.get(code, {})) for code in sorted(child_codes)]


def area_figures(conn: Connection, *, scope: Scope, area: Area, as_of: datetime, since: datetime,
                 until: datetime, metrics=ALL_METRICS) -> Figures:
    """Return the figures of ``area`` itself (zeros outside ``scope``)."""
    if not scope.covers(area.code):
        return Figures(code=area.code)
    values = _figures_by(conn, scope=scope, area=area, key_level=None, as_of=as_of, since=since, until=until,
                         metrics=frozenset(metrics))
    return _as_figures(area.code, values.get(None, {}))


def kpis(conn: Connection, *, scope: Scope, area: Area, as_of: datetime, since: datetime, until: datetime) -> Kpis:
    """Return the count tiles of ``area``: its figures but the median, and the events reported since midnight.

    The median is left to ``median_handling_hours``: it is the one figure that must read every closed
    case of the window, so the screen fetches it apart and the counts do not wait for it.
    """
    if not scope.covers(area.code):
        return Kpis(figures=Figures(code=area.code), reported_today=0)
    metrics = (ALL_METRICS - {"median_handling_hours"}) | {"reported_today"}
    values = _figures_by(conn, scope=scope, area=area, key_level=None, as_of=as_of, since=since, until=until,
                         metrics=metrics).get(None, {})
    return Kpis(figures=_as_figures(area.code, values), reported_today=int(values.get("reported_today") or 0))


def median_handling_hours(conn: Connection, *, scope: Scope, area: Area, since: datetime,
                          until: datetime) -> float | None:
    """Return the median hours from dispatch to handled of the cases closed in [since, until) in ``area``."""
    if not scope.covers(area.code):
        return None
    values = _figures_by(conn, scope=scope, area=area, key_level=None, as_of=until, since=since, until=until,
                         metrics=frozenset({"median_handling_hours"})).get(None, {})
    return _as_figures(area.code, values).median_handling_hours


def top_categories(conn: Connection, *, scope: Scope, area: Area, since: datetime, until: datetime,
                   limit: int = 10) -> list[CategoryCount]:
    """Return the categories most reported in [since, until) in ``area``, most first, then by code."""
    if not scope.covers(area.code):
        return []
    counts = (
        select(events.c.category_code.label("code"), func.count().label("n"))
        .where(_where(scope, area), events.c.reported_at >= since, events.c.reported_at < until)
        .group_by(events.c.category_code)
        .subquery()
    )
    stmt = (
        select(counts.c.code, categories.c.name, categories.c.class_name, counts.c.n)
        .join(categories, categories.c.code == counts.c.code)
        .order_by(counts.c.n.desc(), counts.c.code)
        .limit(min(limit, TOP_LIMIT))
    )
    return [CategoryCount(r.code, r.name, r.class_name, int(r.n)) for r in conn.execute(stmt).all()]


def daily_trend(conn: Connection, *, scope: Scope, area: Area, since: datetime, until: datetime) -> list[DayCount]:
    """Return events reported and closed per local day of [since, until), every day present."""
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    days = {first + timedelta(days=i): [0, 0] for i in range((last - first).days + 1)}
    if not scope.covers(area.code) or until <= since:
        return [DayCount(d, 0, 0) for d in days] if until > since else []
    for index, table, column in ((0, events, events.c.reported_at), (1, closures, closures.c.closed_at)):
        bucket = day_bucket(column)
        stmt = (
            select(bucket, func.count())
            .where(_where(scope, area, table), column >= since, column < until)
            .group_by(bucket)
            .order_by(bucket)
            .limit(len(days))
        )
        for day, n in conn.execute(stmt).all():
            key = day.date() if isinstance(day, datetime) else day
            if key in days:
                days[key][index] = int(n)
    return [DayCount(d, r, c) for d, (r, c) in days.items()]


def building_open_events(conn: Connection, *, scope: Scope, building_code: str, as_of: datetime,
                         limit: int = 100) -> list[OpenEvent]:
    """Return the events open at ``as_of`` in one building, the oldest first."""
    if not scope.covers(building_code):
        return []
    table, current = open_source(conn, as_of)
    stmt = (
        select(table.c.id, table.c.category_code, categories.c.name, table.c.status, table.c.reported_at,
               table.c.deadline_at, overdue_at(table, as_of).label("overdue"),
               func.coalesce(table.c.clock_started_at, table.c.dispatched_at).label("clock_started_at"),
               table.c.handled_at, categories.c.limit_unit)
        .join(categories, categories.c.code == table.c.category_code)
        .where(scope.events_clause(table), table.c.building_code == building_code, open_at(table, current, as_of))
        .order_by(table.c.reported_at, table.c.id)
        .limit(limit)
    )
    return [
        OpenEvent(r.id, r.category_code, r.name, r.status, r.reported_at, r.deadline_at, bool(r.overdue),
                  r.clock_started_at, r.handled_at if r.handled_at is None or r.handled_at <= as_of else None,
                  r.limit_unit)
        for r in conn.execute(stmt).all()
    ]



def event_reporters(conn: Connection, *, scope: Scope, ids: Sequence[int]) -> dict[int, str | None]:
    """Return {event id: reporter} of the events ``ids`` in scope (whole: the caller masks them)."""
    if not ids:
        return {}
    stmt = select(events.c.id, events.c.reporter).where(scope.events_clause(events), events.c.id.in_(list(ids)))
    return {r.id: r.reporter for r in conn.execute(stmt)}
