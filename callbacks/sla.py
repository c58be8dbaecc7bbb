"""Callbacks of the SLA page: resolve the drill area and the period, draw each panel — live — and list the cases
behind any clicked mark.

Each panel is its own callback (widget values in → one loader → one builder → out) and keeps a digest of what
it shows: on a live tick (assets/gridcc-sla.js) or the minute, an unchanged answer is ``no_update``. A URL
``as_of`` freezes the page at that instant; otherwise the page is live (data.window()).
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, no_update

from callbacks.overview import unless_same
from dashboard import data, maps
from dashboard import sla_figures as figures
from dashboard.i18n import normalise, t
from layouts import event_detail as detail_ids
from layouts import sla as ids
from queries import sla as sla_queries

EARLIEST = datetime(2000, 1, 1)
LONGEST_PERIOD = timedelta(days=366)
SELECTOR_MAX = 400  # characters of a selector from the browser (a click's customdata can be forged)


def frozen_at(frozen) -> datetime | None:
    """Return the URL's ``as_of`` as a naive local minute when it is sane (2000 … now), else None (live)."""
    if not isinstance(frozen, str) or len(frozen) > 32:
        return None
    try:
        moment = datetime.fromisoformat(frozen)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        return None
    return moment if EARLIEST <= moment <= data.window()[0] else None


def _day(value) -> date | None:
    if not isinstance(value, str) or len(value) > 32:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def period_window(period, start, end, as_of: datetime) -> tuple[datetime, datetime]:
    """Return [since, until) of a period choice at ``as_of`` (local times); a bad custom range falls back to 30 days.

    A custom range runs from its first day's midnight to the end of its last day, never past ``as_of`` and at
    most a year long.
    """
    midnight = datetime.combine(as_of.date(), datetime.min.time())
    month_start = midnight.replace(day=1)
    if period == "7d":
        return as_of - timedelta(days=7), as_of
    if period == "month":
        return month_start, as_of
    if period == "last_month":
        previous = (month_start - timedelta(days=1)).replace(day=1)
        return previous, month_start
    if period == "custom":
        first, last = _day(start), _day(end)
        if first is not None and last is not None and first <= last:
            since = datetime.combine(first, datetime.min.time())
            until = min(datetime.combine(last + timedelta(days=1), datetime.min.time()), as_of)
            if EARLIEST <= since < until and until - since <= LONGEST_PERIOD:
                return since, until
    return as_of - timedelta(days=30), as_of


def _window(period, start, end, frozen) -> tuple[datetime, datetime, datetime]:
    """Return (as_of, since, until) of the page: frozen by the URL or live."""
    as_of = data.window(as_of=frozen_at(frozen))[0]
    since, until = period_window(period, start, end, as_of)
    return as_of, since, until


def _choice(value, allowed: tuple[str, ...]) -> str:
    """Return ``value`` when it is one of ``allowed`` (inputs can be forged), else the first."""
    return value if isinstance(value, str) and value in allowed else allowed[0]


def _code(view) -> str | None:
    code = view.get("code") if isinstance(view, dict) else None
    return code if isinstance(code, str) else None


def update_view(state, _crumbs, child, lang):
    """Resolve the requested area (URL, a crumb, the child list) inside the caller's scope: view, crumbs, children."""
    lang = normalise(lang)
    scope = data.request_scope()
    trigger = dash.ctx.triggered_id
    asked = state.get("area") if isinstance(state, dict) else None
    if isinstance(trigger, dict) and trigger.get("type") == ids.CRUMB:
        if not dash.ctx.triggered[0].get("value"):  # crumbs drawn anew, not clicked
            return (no_update,) * 5
        asked = trigger.get("code")
    elif trigger == ids.CHILD:
        if not child:  # the list's own "go down to…" line
            return (no_update,) * 5
        asked = child
    asked = asked if isinstance(asked, str) and asked else None
    chain = (data.lineage(scope, asked) if asked and len(asked) <= 32 else None) or data.lineage(scope, scope.area_code)
    view = maps.view_state(chain)
    shown = asked if asked is None or len(asked) <= 32 else asked[:32] + "…"
    return (view, ids.breadcrumb(chain, lang), ids.notice(shown, view, lang),
            ids.child_options(data.children(scope, view["code"]) if view["level"] < 4 else [], lang), "")


def update_as_of(view, period, start, end, tick, _minute, frozen, lang):
    """Say what the page is as of and over which period; show the date range for a custom period."""
    data.told(tick)
    as_of, since, until = _window(period, start, end, frozen)
    return ids.as_of_badge(as_of, since, until, frozen_at(frozen) is not None, lang), period != "custom"


def update_lights(view, tick, _minute, frozen, lang, shown):
    """Count the open cases of the area in view by traffic light now, and those turning red within 2 h."""
    data.told(tick)
    code = _code(view)
    if code is None:
        return no_update, no_update
    as_of = data.window(as_of=frozen_at(frozen))[0]
    return unless_same(shown, ids.light_tiles(data.sla_lights(data.request_scope(), code, as_of), lang))


def update_trend(view, period, start, end, grain, tick, _minute, frozen, lang, shown):
    """Draw 按期处置率 and 按期结案率 per day, week or month of the period."""
    data.told(tick)
    code = _code(view)
    if code is None:
        return no_update, no_update
    grain = _choice(grain, ids.GRAINS)
    as_of, since, until = _window(period, start, end, frozen)
    points = data.sla_trend(data.request_scope(), code, grain, since, until, as_of)
    return unless_same(shown, figures.trend_figure(points, grain, lang))


def update_split(view, period, start, end, by, tick, _minute, frozen, lang, shown):
    """Draw the two on-time rates per class, department or child area, the worst first."""
    data.told(tick)
    code = _code(view)
    if code is None:
        return no_update, no_update
    by = _choice(by, ids.SPLIT_BYS)
    as_of, since, until = _window(period, start, end, frozen)
    rows = data.sla_split(data.request_scope(), code, by, since, until, as_of)
    return unless_same(shown, figures.split_figure(rows, by, lang))


def update_age(view, by, tick, _minute, frozen, lang, shown):
    """Draw the open cases' age per class or child area (as of now or the frozen instant)."""
    data.told(tick)
    code = _code(view)
    if code is None:
        return no_update, no_update
    by = _choice(by, ids.AGE_BYS)
    as_of = data.window(as_of=frozen_at(frozen))[0]
    rows = data.sla_backlog_age(data.request_scope(), code, by, as_of)
    return unless_same(shown, figures.age_figure(rows, by, sla_queries.AGE_BUCKETS, lang))


def update_funnel(view, period, start, end, tick, _minute, frozen, lang, shown):
    """Draw the loop as a funnel with each stage's median and p90 time against its limit."""
    data.told(tick)
    code = _code(view)
    if code is None:
        return no_update, no_update, no_update
    as_of, since, until = _window(period, start, end, frozen)
    stages = data.sla_funnel(data.request_scope(), code, since, until, as_of)
    return unless_same(shown, figures.funnel_figure(stages, lang), ids.funnel_table(figures.funnel_rows(stages, lang),
                                                                                     lang))


def update_handling(view, period, start, end, by, tick, _minute, frozen, lang, shown):
    """Draw the handling time distribution per class or department: its bins, median and p90."""
    data.told(tick)
    code = _code(view)
    if code is None:
        return no_update, no_update
    by = _choice(by, ids.HANDLING_BYS)
    as_of, since, until = _window(period, start, end, frozen)
    rows = data.sla_handling(data.request_scope(), code, by, since, until, as_of)
    return unless_same(shown, figures.handling_figure(rows, by, sla_queries.HOUR_BINS, sla_queries.HOUR_BIN_KEYS, lang))


def update_exceptions(view, period, start, end, by, tick, _minute, frozen, lang, shown):
    """Draw extension, return, rework and void rates per department or child area."""
    data.told(tick)
    code = _code(view)
    if code is None:
        return no_update, no_update
    by = _choice(by, ids.EXCEPTION_BYS)
    as_of, since, until = _window(period, start, end, frozen)
    rows = data.sla_exceptions(data.request_scope(), code, by, since, until, as_of)
    return unless_same(shown, figures.exceptions_figure(rows, by, lang))


def parse_selector(text) -> dict | None:
    """Return a clicked mark's selector as a dict of short strings, or None when malformed (data.sla_cases checks
    its fields)."""
    if not isinstance(text, str) or len(text) > SELECTOR_MAX:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict) or not 0 < len(found) <= 8 or not all(
            isinstance(k, str) and len(k) <= 16 and isinstance(v, str) and len(v) <= 64 for k, v in found.items()):
        return None
    return found


def _clicked(lang: str) -> tuple[str | None, str]:
    """Return (selector, what it reads as) of what was just clicked: a mark of a graph, or a traffic-light tile."""
    trigger = dash.ctx.triggered_id
    value = dash.ctx.triggered[0].get("value") if dash.ctx.triggered else None
    if isinstance(trigger, dict) and trigger.get("type") == ids.LIGHT:
        key = trigger.get("key")
        if not value or key not in (*ids.LIGHT_TILES, "turning_red_2h"):
            return None, ""
        return figures.selector(figure="light", key=key), t(f"sla.light.{key}", lang)
    if trigger not in ids.GRAPHS:
        return None, ""
    return figures.clicked_selector(value), figures.clicked_label(value)


def open_cases(*args):
    """List the cases behind the clicked mark (or another page of the list shown), 50 to a page."""
    *_, page, view, period, start, end, frozen, shown, lang = args
    lang = normalise(lang)
    reset = (None,) * len(ids.GRAPHS)  # a second click on the same mark must fire again
    paging = dash.ctx.triggered_id == ids.CASES_PAGER
    if paging:
        text, label = (shown.get("selector"), shown.get("title")) if isinstance(shown, dict) else (None, None)
    else:
        text, label = _clicked(lang)
    selector, code = parse_selector(text), _code(view)
    if selector is None or code is None or not isinstance(label, str):
        return (no_update,) * 7 + reset
    page = page if paging and isinstance(page, int) and not isinstance(page, bool) and 0 < page < 10 ** 6 else 1
    as_of, since, until = _window(period, start, end, frozen)
    try:
        found = data.sla_cases(data.request_scope(), code, selector, since, until, as_of,
                               (page - 1) * ids.CASE_PAGE, ids.CASE_PAGE)
    except ValueError:
        return (True, t("sla.cases", lang), t("sla.bad_selector", lang), [], 1, 1, None) + reset
    pages = max(1, -(-found.total // ids.CASE_PAGE))
    title = figures.cases_title(selector, label, lang)
    return (True, title, t("sla.cases_count", lang, n=f"{found.total:,}"), ids.case_rows(found.rows, lang), pages,
            no_update if paging else 1, {"selector": text, "title": label}) + reset


def open_detail(cell, lang):
    """Open the detail of the case whose id was clicked in the list: where, what, its timeline (reporter masked)."""
    lang = normalise(lang)
    event_id = cell.get("value") if isinstance(cell, dict) and cell.get("colId") == "id" else None
    if not isinstance(event_id, int) or isinstance(event_id, bool) or not 0 < event_id < 2 ** 62:
        return no_update, no_update
    found = data.event_detail(data.request_scope(), event_id, data.window()[0])
    if found is None:
        return True, detail_ids.empty_body(lang)
    # No "show" button here: revealing a reporter is the overview's audited action.
    return True, detail_ids.detail_body(*found, lang, may_reveal=False)


def register(app: dash.Dash) -> None:
    """Bind the SLA page's callbacks to ``app``."""
    app.clientside_callback(
        ClientsideFunction("gridcc_overview", "mirrorUrl"),
        Input(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    # Every other control in the address too (issue 8 §2): period and its days, grain, the splits.
    app.clientside_callback(
        ClientsideFunction("gridcc_overview", "mirrorSla"),
        Input(ids.PERIOD, "value"), Input(ids.DATES, "start_date"), Input(ids.DATES, "end_date"),
        Input(ids.GRAIN, "value"), Input(ids.SPLIT_BY, "value"), Input(ids.AGE_BY, "value"),
        Input(ids.HANDLING_BY, "value"), Input(ids.EXCEPTIONS_BY, "value"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.VIEW, "data"),
        Output(ids.BREADCRUMB, "children"),
        Output(ids.NOTICE, "children"),
        Output(ids.CHILD, "options"),
        Output(ids.CHILD, "value"),
        Input(ids.STATE, "data"),
        Input({"type": ids.CRUMB, "code": ALL}, "n_clicks"),
        Input(ids.CHILD, "value"),
        State(ids.LANG, "data"),
    )(update_view)
    period = (Input(ids.PERIOD, "value"), Input(ids.DATES, "start_date"), Input(ids.DATES, "end_date"))
    live = (Input(ids.TICK, "data"), Input(ids.MINUTE, "n_intervals"), State(ids.FROZEN, "data"),
            State(ids.LANG, "data"))
    app.callback(
        Output(ids.AS_OF, "children"),
        Output(ids.DATES_WRAP, "hidden"),
        Input(ids.VIEW, "data"), *period, *live,
    )(update_as_of)

    def digest(panel: str) -> tuple:
        key = {"type": ids.DIGEST, "panel": panel}
        return Output(key, "data"), State(key, "data")

    view = Input(ids.VIEW, "data")
    for panel, outputs, inputs, fn in (
        ("lights", (Output(ids.LIGHTS, "children"),), (view,), update_lights),
        ("trend", (Output(ids.TREND, "figure"),), (view, *period, Input(ids.GRAIN, "value")), update_trend),
        ("split", (Output(ids.SPLIT, "figure"),), (view, *period, Input(ids.SPLIT_BY, "value")), update_split),
        ("age", (Output(ids.AGE, "figure"),), (view, Input(ids.AGE_BY, "value")), update_age),
        ("funnel", (Output(ids.FUNNEL, "figure"), Output(ids.FUNNEL_TABLE, "children")), (view, *period),
         update_funnel),
        ("handling", (Output(ids.HANDLING, "figure"),), (view, *period, Input(ids.HANDLING_BY, "value")),
         update_handling),
        ("exceptions", (Output(ids.EXCEPTIONS, "figure"),), (view, *period, Input(ids.EXCEPTIONS_BY, "value")),
         update_exceptions),
    ):
        out, shown = digest(panel)
        app.callback(*outputs, out, *inputs, *live, shown)(fn)
    app.callback(
        Output(ids.CASES, "is_open"),
        Output(ids.CASES_TITLE, "children"),
        Output(ids.CASES_COUNT, "children"),
        Output(ids.CASES_GRID, "rowData"),
        Output(ids.CASES_PAGER, "max_value"),
        Output(ids.CASES_PAGER, "active_page"),
        Output(ids.SELECTOR, "data"),
        *[Output(graph, "clickData") for graph in ids.GRAPHS],
        *[Input(graph, "clickData") for graph in ids.GRAPHS],
        Input({"type": ids.LIGHT, "key": ALL}, "n_clicks"),
        Input(ids.CASES_PAGER, "active_page"),
        State(ids.VIEW, "data"),
        State(ids.PERIOD, "value"), State(ids.DATES, "start_date"), State(ids.DATES, "end_date"),
        State(ids.FROZEN, "data"),
        State(ids.SELECTOR, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(open_cases)
    app.callback(
        Output(ids.DETAIL, "is_open"),
        Output(ids.DETAIL_BODY, "children"),
        Input(ids.CASES_GRID, "cellClicked"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(open_detail)
