"""Cached loaders between callbacks/routes and queries: one query call each, keyed to the data version.

Every loader takes the caller's ``Scope`` explicitly and passes it to the query. Results are cached
in the app's flask-caching cache under (function, arguments) with the data version they were
computed at. A request takes an answer only if it is at least as new as the version it must not
be older than: the store's current version for a page load or a drill; the version its live tick
announced for a live refresh (``told``). So no screen is shown a figure older than the last change
it was told about — and when events arrive fifty a second, two hundred screens refreshing within
the same second share one computation instead of each missing the cache by a version.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import replace
from datetime import datetime, timedelta

import flask

from queries import alerts as alert_queries
from queries import areas as area_queries
from queries import overview as overview_queries
from queries.meta import live_marks
from queries.scope import Scope
from dashboard import context
from dashboard.loop import traffic_light
from dashboard.privacy import mask_numbers, mask_text

DEFAULT_WINDOW = timedelta(days=30)
LIVE_SKEW = timedelta(seconds=5)  # how far the data time may run ahead of this clock and still be followed
MAP_METRICS = ("open", "overdue", "per_1000_households", "on_time_rate")


def _marks(ctx) -> tuple[int, datetime | None]:
    """Return (data version, data time), read once per request (a callback calls several loaders)."""
    if flask.has_request_context():
        if "gridcc_marks" not in flask.g:
            with ctx.connect() as conn:
                flask.g.gridcc_marks = live_marks(conn)
        return flask.g.gridcc_marks
    with ctx.connect() as conn:
        return live_marks(conn)


def _version(ctx) -> int:
    """Return the store's data version (see _marks)."""
    return _marks(ctx)[0]


def told(tick) -> None:
    """Note the data version a live tick announced: for this request, an answer at least that new will do."""
    version = tick.get("v") if isinstance(tick, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version >= 0 and flask.has_request_context():
        flask.g.gridcc_told = version


def _needed(version: int) -> int:
    """Return the oldest data version this request may be answered from (see the module's docstring)."""
    if flask.has_request_context() and "gridcc_told" in flask.g:
        return min(version, flask.g.gridcc_told)
    return version


_computing: dict[str, threading.Lock] = {}  # key -> the lock of the one request computing it now
_computing_lock = threading.Lock()


def cached(fn):
    """Cache ``fn(*args)`` in the app's cache under its arguments, with the data version it was computed at.

    One computation per key at a time: when a hundred screens miss the same entry at once (a live
    tick reaches them all within the same quarter second), one computes and the others wait for it.
    """

    @functools.wraps(fn)
    def wrapper(*args):
        ctx = context.current()
        version = _version(ctx)
        needed = _needed(version)
        key = f"gridcc:{fn.__module__}.{fn.__qualname__}:{args!r}"
        hit = ctx.cache.get(key)
        if hit is not None and hit[0] >= needed:
            return hit[1]
        with _computing_lock:
            lock = _computing.setdefault(key, threading.Lock())
        try:
            with lock:
                hit = ctx.cache.get(key)  # computed by the request this one waited for?
                if hit is not None and hit[0] >= needed:
                    return hit[1]
                value = fn(*args)
                if hit is None or hit[0] <= version:  # never replace a newer answer with an older one
                    ctx.cache.set(key, (version, value))
                return value
        finally:
            with _computing_lock:
                if _computing.get(key) is lock and not lock.locked():
                    del _computing[key]

    wrapper.uncached = fn
    return wrapper


def window(as_of: datetime | None = None, days: int = 30) -> tuple[datetime, datetime, datetime]:
    """Return (as_of, since, until) for the last ``days`` days.

    An explicit ``as_of`` (playback, a frozen view) is truncated to the minute. Live, it is the minute
    — or, when an event came in since the minute began, one second past the store's data time, so a
    new event counts on every screen within a second, and every screen at one data version asks
    (and caches) the same window. A data time after "now" (a store written ahead of a frozen clock)
    is not followed.
    """
    if as_of is not None:
        now = as_of.replace(second=0, microsecond=0)
    else:
        clock = context.current().settings.now()
        now = clock.replace(second=0, microsecond=0)
        if flask.has_request_context():
            data_time = _marks(context.current())[1]
            if data_time is not None and now <= data_time <= clock + LIVE_SKEW:
                now = data_time.replace(microsecond=0) + timedelta(seconds=1)
    return now, now - timedelta(days=days), now


def request_scope() -> Scope:
    """Return what the caller of this request may see: their scope, found by the gate (dashboard.access).

    There is no default: a request without a caller never reaches a query.
    """
    from dashboard import access

    principal = access.current()
    if principal is None:
        raise PermissionError("no signed-in caller for this request")
    return principal.scope


@cached
def scope_name(scope: Scope) -> str:
    """Return how a scope reads in the top bar: its area's name, or its department's."""
    with context.current().connect() as conn:
        if scope.department is not None:
            return area_queries.department_name(conn, code=scope.department) or scope.department
        found = area_queries.get_area(conn, scope=scope, code=scope.area_code)
        return found.name if found is not None else scope.area_code


@cached
def area(scope: Scope, code: str):
    """Return one area in scope, or None."""
    with context.current().connect() as conn:
        return area_queries.get_area(conn, scope=scope, code=code)


@cached
def lineage(scope: Scope, code: str):
    """Return the areas from the scope's top down to ``code``."""
    with context.current().connect() as conn:
        return area_queries.lineage(conn, scope=scope, code=code)


@cached
def children(scope: Scope, code: str):
    """Return the child areas of ``code``."""
    with context.current().connect() as conn:
        return area_queries.child_areas(conn, scope=scope, code=code)


@cached
def child_geometries(scope: Scope, code: str):
    """Return (area, geometry text) for the children of ``code``."""
    with context.current().connect() as conn:
        return area_queries.child_geometries(conn, scope=scope, code=code)


@cached
def grid_buildings(scope: Scope, grid_code: str):
    """Return the buildings of a grid."""
    with context.current().connect() as conn:
        return area_queries.grid_buildings(conn, scope=scope, grid_code=grid_code)


@cached
def building(scope: Scope, code: str):
    """Return one building, or None."""
    with context.current().connect() as conn:
        return area_queries.get_building(conn, scope=scope, code=code)


def _metrics_for(metric: str) -> frozenset[str]:
    return {
        "open": frozenset({"open"}),
        "overdue": frozenset({"overdue"}),
        "per_1000_households": frozenset({"reported"}),
        "on_time_rate": frozenset({"closed", "closed_on_time", "overdue"}),
    }[metric]


@cached
def children_figures(scope: Scope, code: str, as_of: datetime, since: datetime, until: datetime,
                     metrics: frozenset[str] = overview_queries.ALL_METRICS):
    """Return the figures of each child of area ``code`` (buildings for a grid)."""
    with context.current().connect() as conn:
        parent = area_queries.get_area(conn, scope=scope, code=code)
        if parent is None:
            return []
        if parent.level == 4:
            child_codes = [b.code for b in area_queries.grid_buildings(conn, scope=scope, grid_code=code)]
        else:
            child_codes = [a.code for a in area_queries.child_areas(conn, scope=scope, code=code)]
        return overview_queries.children_figures(conn, scope=scope, parent=parent, child_codes=child_codes,
                                                 as_of=as_of, since=since, until=until, metrics=metrics)


def map_figures(scope: Scope, code: str, metric: str, as_of: datetime, since: datetime, until: datetime):
    """Return the children's figures with only the scans ``metric`` needs."""
    if metric not in MAP_METRICS:
        raise ValueError(f"unknown map metric {metric!r}; expected one of {', '.join(MAP_METRICS)}")
    return children_figures(scope, code, as_of, since, until, _metrics_for(metric))


def _on_area(query, scope: Scope, code: str, missing, **kw):
    """Run ``query(conn, scope=, area=, **kw)`` on area ``code``; ``missing`` when it is not in scope."""
    with context.current().connect() as conn:
        target = area_queries.get_area(conn, scope=scope, code=code)
        return missing if target is None else query(conn, scope=scope, area=target, **kw)


@cached
def kpis(scope: Scope, code: str, as_of: datetime, since: datetime, until: datetime):
    """Return the count tiles of area ``code`` (no median), or None outside scope."""
    return _on_area(overview_queries.kpis, scope, code, None, as_of=as_of, since=since, until=until)


@cached
def median_handling_hours(scope: Scope, code: str, since: datetime, until: datetime):
    """Return the median handling hours of area ``code``, or None."""
    return _on_area(overview_queries.median_handling_hours, scope, code, None, since=since, until=until)


@cached
def area_figures(scope: Scope, code: str, as_of: datetime, since: datetime, until: datetime):
    """Return every figure of area ``code`` (the API's answer), or None outside scope."""
    return _on_area(overview_queries.area_figures, scope, code, None, as_of=as_of, since=since, until=until)


@cached
def top_categories(scope: Scope, code: str, since: datetime, until: datetime, limit: int = 10):
    """Return the most reported categories of area ``code``."""
    return _on_area(overview_queries.top_categories, scope, code, [], since=since, until=until, limit=limit)


@cached
def daily_trend(scope: Scope, code: str, since: datetime, until: datetime):
    """Return reported and closed per day in area ``code``."""
    return _on_area(overview_queries.daily_trend, scope, code, [], since=since, until=until)


@cached
def building_open_events(scope: Scope, code: str, as_of: datetime, limit: int = 100):
    """Return the open events of one building, their reporters masked (the "show" action reveals one)."""
    ctx = context.current()
    with ctx.connect() as conn:
        rows = overview_queries.building_open_events(conn, scope=scope, building_code=code, as_of=as_of, limit=limit)
        reporters = overview_queries.event_reporters(conn, scope=scope, ids=[e.id for e in rows])
    clock = ctx.ingestor.clock
    return [replace(e, reporter=mask_text(reporters.get(e.id)), light=traffic_light(
        None if e.deadline_at is None or e.clock_started_at is None
        else clock.share(e.clock_started_at, e.deadline_at, e.handled_at or as_of, e.limit_unit))) for e in rows]


def reveal_reporter(scope: Scope, event_id: int) -> str | None:
    """Return one event's reporter in full, or None when it has none or is outside scope (never cached)."""
    with context.current().connect() as conn:
        return overview_queries.event_reporters(conn, scope=scope, ids=[event_id]).get(event_id)


@cached
def recent_events(scope: Scope, code: str, as_of: datetime, limit: int = 20):
    """Return the newest events of area ``code`` up to ``as_of``, newest first (the ticker)."""
    return _on_area(alert_queries.recent_events, scope, code, [], as_of=as_of, limit=limit)


@cached
def open_alerts(scope: Scope, as_of: datetime, limit: int = 20):
    """Return the urgent events of the scope of the last 24 h that nobody acknowledged yet, newest first."""
    with context.current().connect() as conn:
        return alert_queries.open_alerts(conn, scope=scope, as_of=as_of, limit=limit)


@cached
def open_firings(scope: Scope, limit: int = 20):
    """Return the alert-rule firings of the scope that still hold and nobody signed for, newest first."""
    from queries import alert_rules as rule_queries

    with context.current().connect() as conn:
        return rule_queries.open_firings(conn, scope=scope, limit=limit)


@cached
def category_classes():
    """Return (class code, class name) of every event category class, in code order."""
    with context.current().connect() as conn:
        return area_queries.category_classes(conn)


@cached
def heat_cells(scope: Scope, code: str, resolution: int, since: datetime, until: datetime,
               classes: tuple[str, ...] = (), sources: tuple[str, ...] = (), urgent_only: bool = False):
    """Return (H3 cell, events reported) in area ``code`` over [since, until) with the filters."""
    from queries import heat as heat_queries

    return _on_area(heat_queries.heat_cells, scope, code, [], resolution=resolution, since=since, until=until,
                    classes=classes, sources=sources, urgent_only=urgent_only)


def flush_marks() -> None:
    """Forget this request's data version (after the request itself wrote): the next loader reads it again."""
    if flask.has_request_context():
        flask.g.pop("gridcc_marks", None)


@cached
def event_detail(scope: Scope, event_id: int, as_of: datetime):
    """Return (the event's detail, its reporter masked; its timeline stages), or None when unknown or out of scope."""
    from dashboard.timeline import timeline
    from queries import events as event_queries

    ctx = context.current()
    with ctx.connect() as conn:
        found = event_queries.event_detail(conn, scope=scope, event_id=event_id)
    if found is None:
        return None
    stages = timeline(found, clock=ctx.ingestor.clock, as_of=as_of)
    # Numbers in free text (phone numbers written into a description or a note) are masked too.
    return replace(found, reporter=mask_text(found.reporter), description=mask_numbers(found.description),
                   log=tuple(replace(s, note=mask_numbers(s.note)) for s in found.log)), stages


def child_at(scope: Scope, code: str, lat: float, lon: float) -> str | None:
    """Return the child of area ``code`` under the point (a click on the heat layer drills there), or None."""
    import numpy as np

    from queries.schema import CODE_LENGTHS

    parent = area(scope, code)
    if parent is None or parent.level >= 4:
        return None
    ctx = context.current()
    with ctx.connect() as conn:
        grid = ctx.ingestor.reference(conn).locate(np.array([lon]), np.array([lat]))[0]
    if not isinstance(grid, str) or not scope.covers(grid):
        return None
    child = grid[:CODE_LENGTHS[parent.level + 1]]
    return child if scope.covers(child) and (parent.level == 0 or child.startswith(parent.code)) else None


# -- Backlog desk (issue 6) --
# The desk's frame of open cases is large (50,000 rows in a street center's day is possible): pickling it
# into the app's cache and out again on every page request would cost more than cutting the page, so the
# frames live in a small per-process LRU of their own, with the same version rule as ``cached``.
_BACKLOG_FRAMES_MAX = 8
_backlog_frames: dict[tuple, tuple[int, object]] = {}
_backlog_lock = threading.Lock()


_BACKLOG_DELTA_GRIDS = 500  # beyond this many changed grids a refresh reads the whole scope again


def _backlog_delta(ctx, scope: Scope, since: int, version: int):
    """Return the grids changed after version ``since`` (all of them up to ``version``), or None when unknown."""
    hub = flask.current_app.extensions.get("gridcc_live") if flask.has_app_context() else None
    if hub is None:
        return None
    now, _, grids = hub.since(since)
    if now < version or "*" in grids or len(grids) > _BACKLOG_DELTA_GRIDS:
        return None
    return grids


def backlog_table(scope: Scope, lang: str):
    """Return the open cases in ``scope`` with their texts in ``lang`` (dashboard.backlog.table), per data version.

    After a change, only the rows of the grids it touched are read again (the live hub names them) and
    put in place of the old ones: an action on one case costs a query of one grid, not of the scope.
    """
    ctx = context.current()
    version = _version(ctx)
    needed = _needed(version)
    key = (id(ctx), scope, lang)
    with _backlog_lock:
        hit = _backlog_frames.get(key)
        if hit is not None and hit[0] >= needed:
            _backlog_frames[key] = _backlog_frames.pop(key)  # most recently used last
            return hit[1]
    computing = f"backlog:{key!r}"
    with _computing_lock:  # one request builds a scope's frame; the others wait for it (as `cached`)
        lock = _computing.setdefault(computing, threading.Lock())
    try:
        with lock:
            return _backlog_build(ctx, scope, lang, key, version, needed)
    finally:
        with _computing_lock:
            if _computing.get(computing) is lock and not lock.locked():
                del _computing[computing]


def _backlog_build(ctx, scope: Scope, lang: str, key: tuple, version: int, needed: int):
    """Return the frame of ``key``, built or brought up to ``version`` (under the key's computing lock)."""
    from dashboard import backlog
    from queries import backlog as backlog_queries

    with _backlog_lock:
        hit = _backlog_frames.get(key)
    if hit is not None and hit[0] >= needed:
        return hit[1]
    grids = _backlog_delta(ctx, scope, hit[0], version) if hit is not None else None
    with ctx.connect() as conn:
        if grids is not None:
            fresh = backlog.table(backlog_queries.open_cases(conn, scope=scope, grids=sorted(grids)), lang)
            frame = backlog.replace_grids(hit[1], fresh, grids)
        else:
            frame = backlog.table(backlog_queries.open_cases(conn, scope=scope), lang)
    with _backlog_lock:
        old = _backlog_frames.pop(key, None)
        _backlog_frames[key] = (version, frame) if old is None or old[0] <= version else old
        while len(_backlog_frames) > _BACKLOG_FRAMES_MAX:
            _backlog_frames.pop(next(iter(_backlog_frames)))
    return frame


_backlog_shares: dict[tuple, object] = {}


def backlog_shares(prepared, as_of: datetime):
    """Return a function giving the share of every case of ``prepared`` at ``as_of``, computed once per frame and minute.

    Scrolling a view sorted or filtered by the light asks for the same shares block after block.
    """
    from dashboard import backlog

    key = (id(prepared), as_of)

    def shares():
        with _backlog_lock:
            hit = _backlog_shares.get(key)
        if hit is not None and hit[0] is prepared:
            return hit[1]
        value = backlog.shares(prepared, backlog_calendar(), as_of)
        with _backlog_lock:
            _backlog_shares[key] = (prepared, value)
            while len(_backlog_shares) > _BACKLOG_FRAMES_MAX:
                _backlog_shares.pop(next(iter(_backlog_shares)))
        return value

    return shares


def backlog_calendar():
    """Return the working calendar the traffic lights run on."""
    return context.current().ingestor.clock.calendar


@cached
def backlog_departments(scope: Scope):
    """Return the departments a desk in ``scope`` may re-dispatch or whistle to."""
    from queries import backlog as backlog_queries

    with context.current().connect() as conn:
        return backlog_queries.district_departments(conn, scope=scope)


def backlog_prefs(user: str) -> dict:
    """Return the user's saved desk view (dashboard.backlog.clean_prefs; defaults when none or unreadable)."""
    import json

    from dashboard import backlog
    from queries import prefs as prefs_queries

    with context.current().connect() as conn:
        text = prefs_queries.get_pref(conn, user=user, key=backlog.PREFS_KEY)
    try:
        return backlog.clean_prefs(json.loads(text) if text else {})
    except ValueError:
        return backlog.clean_prefs({})


def save_backlog_prefs(user: str, prefs: dict | None) -> None:
    """Keep the user's desk view (cleaned), or forget it when ``prefs`` is None. Not a data change: no new version."""
    import json

    from dashboard import backlog
    from queries import prefs as prefs_queries

    ctx = context.current()
    text = None if prefs is None else json.dumps(backlog.clean_prefs(prefs), ensure_ascii=False)
    if text is not None and len(text.encode()) > backlog.MAX_PREFS_BYTES:
        raise ValueError("desk preferences too large")
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        if text is None:
            prefs_queries.delete_pref(conn, user=user, key=backlog.PREFS_KEY)
        else:
            prefs_queries.set_pref(conn, user=user, key=backlog.PREFS_KEY, value=text, now=ctx.settings.now())


# -- SLA (issue 6) --
# The SLA page's figures (queries/sla.py; docs/sla.md), each None-free: an area out of scope gives empty answers
# (the API checks the area first and answers 404).


def _sla_on_area(name: str, scope: Scope, code: str, missing, **kw):
    from queries import sla as sla_queries

    return _on_area(getattr(sla_queries, name), scope, code, missing, **kw)


@cached
def sla_trend(scope: Scope, code: str, grain: str, since: datetime, until: datetime, as_of: datetime):
    """Return 按期处置率 and 按期结案率 per day / week / month of [since, until) in area ``code``, as of ``as_of``."""
    return _sla_on_area("trend", scope, code, [], grain=grain, since=since, until=until, as_of=as_of)


@cached
def sla_split(scope: Scope, code: str, by: str, since: datetime, until: datetime, as_of: datetime):
    """Return the two on-time rates per class, department, child area or street ('area', 'street')."""
    return _sla_on_area("split", scope, code, [], by=by, since=since, until=until, as_of=as_of)


@cached
def sla_backlog_age(scope: Scope, code: str, by: str, as_of: datetime):
    """Return the open cases at ``as_of`` per class or child area in age buckets (queries.sla.AGE_BUCKETS)."""
    return _sla_on_area("backlog_age", scope, code, [], by=by, as_of=as_of)


@cached
def sla_lights(scope: Scope, code: str, as_of: datetime):
    """Return the open cases' traffic-light counts at ``as_of`` and those turning red within 2 hours."""
    from queries import sla as sla_queries

    return _sla_on_area("lights", scope, code, sla_queries.LightCounts(), as_of=as_of,
                        calendar=context.current().ingestor.clock.calendar)


@cached
def sla_funnel(scope: Scope, code: str, since: datetime, until: datetime, as_of: datetime):
    """Return the loop as a funnel over the events reported in [since, until), as of ``as_of``."""
    from dashboard import sla as sla_rules

    return _sla_on_area("funnel", scope, code, [], since=since, until=until, as_of=as_of,
                        limits=sla_rules.stage_limits(), calendar=context.current().ingestor.clock.calendar)


@cached
def sla_handling(scope: Scope, code: str, by: str, since: datetime, until: datetime, as_of: datetime):
    """Return the handling-time distribution of the cases closed in [since, until) per class, category or department."""
    return _sla_on_area("handling", scope, code, [], by=by, since=since, until=until, as_of=as_of)


@cached
def sla_exceptions(scope: Scope, code: str, by: str, since: datetime, until: datetime, as_of: datetime):
    """Return extension, return, rework and (per area) void rates per department or child area."""
    return _sla_on_area("exceptions", scope, code, [], by=by, since=since, until=until, as_of=as_of)


def sla_cases(scope: Scope, code: str, selector: dict, since: datetime, until: datetime, as_of: datetime,
              offset: int = 0, limit: int = 50):
    """Return the CasePage of the cases behind one figure; a malformed selector or page raises ValueError."""
    from dashboard import sla as sla_rules

    parsed = sla_rules.parse_selector(selector)
    sla_rules.check_page(offset, limit)
    return _sla_case_page(scope, code, parsed, since, until, as_of, offset, limit)


@cached
def _sla_case_page(scope: Scope, code: str, selector, since: datetime, until: datetime, as_of: datetime,
                   offset: int, limit: int):
    from dashboard import sla as sla_rules
    from queries import sla as sla_queries

    ctx = context.current()
    calendar = ctx.ingestor.clock.calendar
    with ctx.connect() as conn:
        target = area_queries.get_area(conn, scope=scope, code=code)
        if target is None:
            return sla_queries.CasePage(0, ())
        sets = sla_queries.case_sets(conn, scope=scope, area=target, selector=selector, since=since, until=until,
                                     as_of=as_of, limits=sla_rules.stage_limits(), calendar=calendar)
        total, rows = sla_queries.case_page(conn, sets=sets, offset=offset, limit=limit)
    return sla_queries.CasePage(total, sla_rules.case_rows(calendar, rows, as_of))
