"""Callbacks of the overview: resolve the drill, colour the map, fill the side panels — live.

Every panel refreshes on the page's live tick (assets/gridcc-live.js fires it, at most once a second,
when a change touches the area in view), on the minute (time alone moves overdue counts), and on
playback (the panels then show ``as_of`` = the replayed moment). A panel whose answer is the same as
the one the screen already shows returns ``no_update``: each keeps a digest of what it shows.
"""
from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime

import dash
import plotly.utils
from dash import ALL, MATCH, ClientsideFunction, Input, Output, State, no_update

from dashboard import access, addresses, alerts, data, figures, heat, maps
from dashboard.i18n import t
from layouts import event_detail as detail_ids
from layouts import overview as ids
from queries.schema import GRID, SOURCES

BUILDING_EVENTS_LIMIT = 50
TICKER_LIMIT = 20
EARLIEST_PLAYBACK = datetime(2000, 1, 1)


def _digest(outputs) -> str:
    return hashlib.sha1(json.dumps(outputs, cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True,
                                   ensure_ascii=False).encode()).hexdigest()


def unless_same(previous, *outputs):
    """Return ``outputs`` and their digest, or no_update for all when the screen shows exactly this already."""
    digest = _digest(outputs)
    if isinstance(previous, str) and previous == digest:
        return (no_update,) * (len(outputs) + 1)
    return (*outputs, digest)


def replayed(playback) -> datetime | None:
    """Return the replayed moment of a (forgeable) playback store, or None when the screen is live."""
    if not isinstance(playback, dict) or playback.get("on") is not True:
        return None
    cursor = playback.get("cursor")
    if not isinstance(cursor, str) or len(cursor) > 32:
        return None
    try:
        moment = datetime.fromisoformat(cursor)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        return None
    now = data.window()[0]
    return moment if EARLIEST_PLAYBACK <= moment <= now else None


def frozen(value) -> datetime | None:
    """Return the minute the page's URL froze it at (the store can be forged: checked again), None when live."""
    return addresses.frozen_at(value, data.window()[0])


def _window(playback, frozen_value=None) -> tuple[datetime, datetime, datetime]:
    """Return (as_of, since, until) of the panels: the replayed moment, else the URL's as_of, else live."""
    return data.window(as_of=replayed(playback) or frozen(frozen_value))


def _live(tick) -> None:
    """Answers as new as the last change the tick announced will do (cached, shared by screens).

    Whatever triggered the callback (a refresh, a drill, a filter): the screen is never shown a figure
    older than the last change it was told about, which is all a cached answer has to be.
    """
    data.told(tick)


def _requested(state) -> dict:
    """Return the requested area and building as strings or None (callback inputs can be forged).

    A click on the heat layer asks for the area in view ``at`` a point: the child under it, when there is one.
    """
    state = state if isinstance(state, dict) else {}
    asked = {key: value if isinstance(value, str) else None
             for key, value in (("area", state.get("area")), ("building", state.get("building")))}
    at = state.get("at")
    if asked["area"] and isinstance(at, list) and len(at) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in at) \
            and -90 <= at[0] <= 90 and -180 <= at[1] <= 180:
        asked["area"] = data.child_at(data.request_scope(), asked["area"], at[0], at[1]) or asked["area"]
    return asked


def _view_code(view) -> str | None:
    """Return the area code of a view store, or None when the (forgeable) store is malformed."""
    code = view.get("code") if isinstance(view, dict) else None
    return code if isinstance(code, str) else None


def update_view(state: dict | None, previous: dict | None, lang: str):
    """Resolve the requested area (and building) inside the caller's scope; fit the map when the area changes."""
    scope = data.request_scope()
    state = _requested(state)
    previous = previous if isinstance(previous, dict) else None
    chain = data.lineage(scope, state.get("area") or scope.area_code) or data.lineage(scope, scope.area_code)
    found = data.building(scope, state["building"]) if state.get("building") else None
    view = maps.view_state(chain, found)
    moved = not previous or previous.get("code") != view["code"]
    fit = maps.viewport(chain[-1].bounds) if moved else no_update
    context_url, context_hideout = maps.context_layer(view)
    return (view, fit, ids.breadcrumb(chain, view["building"], lang), ids.notice(state, view, lang),
            ids.area_title(view, lang), context_url, context_hideout)


def _households(scope, area) -> dict[str, int]:
    """Return the households of each child of ``area`` (buildings for a grid)."""
    children = data.grid_buildings if area.level == GRID else data.children
    return {child.code: child.households for child in children(scope, area.code)}


def update_map(state: dict | None, metric: str, tick, _minute, playback, lang: str, shown, frozen_value=None):
    """Send the children's polygons URL (cached by the browser) and their values for ``metric``.

    Runs on the requested state, beside update_view rather than after it, so a drill costs one round trip.
    """
    _live(tick)
    scope = data.request_scope()
    state = _requested(state)
    metric = metric if metric in data.MAP_METRICS else data.MAP_METRICS[0]
    area = data.area(scope, state["area"] or scope.area_code) or data.area(scope, scope.area_code)
    as_of, since, until = _window(playback, frozen_value)
    rows = data.map_figures(scope, area.code, metric, as_of, since, until)
    households = _households(scope, area) if metric == "per_1000_households" else {}
    hideout = maps.map_hideout(rows, metric, households, lang, selected=state["building"])
    return unless_same(shown, maps.children_url(area.code), hideout, ids.legend(hideout, lang))


def update_kpis(view: dict | None, tick, _minute, playback, lang: str, shown, frozen_value=None):
    """Fill the KPI tiles of the area in view."""
    _live(tick)
    code = _view_code(view)
    if code is None:
        return no_update, no_update
    as_of, since, until = _window(playback, frozen_value)
    return unless_same(shown, ids.kpi_tiles(data.kpis(data.request_scope(), code, as_of, since, until), lang))


def update_median(view: dict | None, tick, _minute, playback, lang: str, shown, frozen_value=None):
    """Fill the median handling time tile of the area in view."""
    _live(tick)
    code = _view_code(view)
    if code is None:
        return no_update, no_update
    _, since, until = _window(playback, frozen_value)
    return unless_same(shown, ids.median_tile(data.median_handling_hours(data.request_scope(), code, since, until),
                                              lang))


def update_categories(view: dict | None, tick, _minute, playback, lang: str, shown, frozen_value=None):
    """Draw the most reported categories of the last 30 days in the area in view."""
    _live(tick)
    code = _view_code(view)
    if code is None:
        return no_update, no_update
    _, since, until = _window(playback, frozen_value)
    return unless_same(shown, figures.categories_figure(data.top_categories(data.request_scope(), code, since, until),
                                                        lang))


def update_trend(view: dict | None, tick, _minute, playback, lang: str, shown, frozen_value=None):
    """Draw reported and closed per day over the last 30 days in the area in view."""
    _live(tick)
    code = _view_code(view)
    if code is None:
        return no_update, no_update
    _, since, until = _window(playback, frozen_value)
    return unless_same(shown, figures.trend_figure(data.daily_trend(data.request_scope(), code, since, until), lang))


def update_building(view: dict | None, tick, _minute, playback, lang: str, shown, frozen_value=None):
    """Show the selected building's facts and open events in place of the categories."""
    _live(tick)
    building = view.get("building") if isinstance(view, dict) else None
    scope = data.request_scope()
    # The view comes back from the browser: look the building up again rather than trust its fields.
    found = data.building(scope, building["code"]) if isinstance(building, dict) and \
        isinstance(building.get("code"), str) else None
    if found is None:
        return unless_same(shown, [], True, False)
    events = data.building_open_events(scope, found.code, _window(playback, frozen_value)[0], BUILDING_EVENTS_LIMIT)
    may_reveal = access.current().may("reveal")
    return unless_same(shown, ids.building_detail(maps.building_state(found), events, BUILDING_EVENTS_LIMIT, lang,
                                                  may_reveal), False, True)


def update_ticker(view: dict | None, tick, _minute, playback, lang: str, shown, frozen_value=None):
    """List the newest events of the area in view (up to the replayed moment in playback), newest first."""
    _live(tick)
    code = _view_code(view)
    if code is None:
        return no_update, no_update
    as_of = replayed(playback) or frozen(frozen_value) or datetime.max
    live_as_of = data.window()[0]
    events = data.recent_events(data.request_scope(), code, min(as_of, live_as_of), TICKER_LIMIT)
    return unless_same(shown, ids.ticker(events, lang))


def _choice(value, allowed) -> tuple[str, ...]:
    """Return a filter's value as a tuple when it is one of ``allowed`` (the store can be forged), else ()."""
    return (value,) if isinstance(value, str) and value in allowed else ()


def update_heat(view: dict | None, on, window: str, class_code, source, urgent, tick, _minute, playback,
                lang: str, shown, frozen_value=None):
    """Send the event density of the area in view in H3 cells; the browser draws the hexagons."""
    _live(tick)
    code = _view_code(view)
    if code is None:
        return no_update, no_update, no_update, no_update
    if on is not True:
        return unless_same(shown, None, [], True)
    scope = data.request_scope()
    area = data.area(scope, code)
    if area is None:
        return no_update, no_update, no_update, no_update
    span = heat.WINDOWS.get(window) if isinstance(window, str) else None
    span = span or heat.WINDOWS["24h"]
    until = _window(playback, frozen_value)[0]
    classes = _choice(class_code, {c for c, _ in data.category_classes()})
    resolution = heat.resolution_for(area.level)
    cells = data.heat_cells(scope, code, resolution, until - span, until, classes, _choice(source, SOURCES),
                            urgent is True)
    hideout = heat.heat_hideout(cells, lang, resolution)
    return unless_same(shown, hideout, ids.heat_legend(hideout, lang), False)


def _clicked_id(key: str) -> int | None:
    """Return the id under ``key`` of the (forgeable) button that triggered this callback, when it was clicked."""
    trigger = dash.ctx.triggered_id
    clicked = dash.ctx.triggered[0].get("value") if dash.ctx.triggered else None
    value = trigger.get(key) if isinstance(trigger, dict) else None
    if clicked and isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2 ** 62:
        return value
    return None


def update_alerts(scope_tick, _minute, _acks, _rule_acks, lang: str, shown, frozen_value=None):
    """Show the urgent events and the alert-rule firings of the caller's scope nobody signed for (banner,
    pulses); sign for one on click (only a role that may act). A page frozen by its URL shows none: they are
    what needs doing now, not what the frozen minute showed."""
    if frozen(frozen_value) is not None:
        return unless_same(shown, [], [], [])
    trigger = dash.ctx.triggered_id
    if trigger == ids.SCOPE_TICK:
        data.told(scope_tick)
    kind = trigger.get("type") if isinstance(trigger, dict) else None
    if kind == ids.ACK and (event_id := _clicked_id("event")) is not None:
        alerts.acknowledge(event_id)
        data.flush_marks()
    elif kind == ids.RULE_ACK and (firing_id := _clicked_id("firing")) is not None:
        alerts.acknowledge_firing(firing_id)
        data.flush_marks()
    scope = data.request_scope()
    found = data.open_alerts(scope, data.window()[0])
    firings = data.open_firings(scope)
    banner = ids.alert_banner(found, lang, firings, access.current().may("act"))
    return unless_same(shown, banner, ids.pulses(found, lang), [e.id for e in found] + [f"r{f.id}" for f in firings])


def open_detail(_clicks, lang: str):
    """Open the detail of the event clicked (ticker, alert banner): where, what, who, and its timeline."""
    trigger = dash.ctx.triggered_id
    clicked = dash.ctx.triggered[0].get("value") if dash.ctx.triggered else None
    event_id = trigger.get("event") if isinstance(trigger, dict) else None
    if not clicked or not isinstance(event_id, int) or isinstance(event_id, bool) or not 0 < event_id < 2 ** 62:
        return no_update, no_update
    scope = data.request_scope()
    found = data.event_detail(scope, event_id, data.window()[0])
    if found is None:
        return True, detail_ids.empty_body(lang)
    detail, stages = found
    return True, detail_ids.detail_body(detail, stages, lang, access.current().may("reveal"))


def reveal_reporter(clicks, lang):
    """Show one event's reporter in full: the "show" action, for roles that may, audited before it answers."""
    trigger = dash.ctx.triggered_id
    event_id = trigger.get("event") if isinstance(trigger, dict) else None
    if not clicks or not isinstance(event_id, int) or isinstance(event_id, bool) or not 0 < event_id < 2 ** 62:
        return no_update
    principal = access.current()
    if not principal.may("reveal"):
        access.audit("reveal", "refused", target=str(event_id), detail="role may not reveal")
        return t("event.reveal_refused", lang)
    reporter = data.reveal_reporter(principal.scope, event_id)
    if reporter is None:
        access.audit("reveal", "refused", target=str(event_id), detail="not found in scope")
        return "—"
    access.audit("reveal", "ok", target=str(event_id), detail="reporter (overview)")
    return reporter


def register(app: dash.Dash) -> None:
    """Bind the overview's callbacks to ``app``."""
    app.clientside_callback(
        ClientsideFunction("gridcc_overview", "drill"),
        Output(ids.STATE, "data"),
        Input(ids.GEOJSON, "clickData"),
        Input({"type": ids.CRUMB, "code": ALL}, "n_clicks"),
        Input(ids.HEAT, "clickData"),
        State(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_live", "heatClass"),
        Output(ids.MAP_WRAP, "className"),
        Input(ids.HEAT_ON, "value"),
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_overview", "mirrorUrl"),
        Input(ids.VIEW, "data"),
        Input(ids.METRIC, "value"),
        Input(ids.HEAT_ON, "value"),
        Input(ids.HEAT_WINDOW, "value"),
        Input(ids.HEAT_CLASS, "value"),
        Input(ids.HEAT_SOURCE, "value"),
        Input(ids.HEAT_URGENT, "value"),
        prevent_initial_call=True,
    )
    # The live ticks (overview-tick: the area in view; overview-scope-tick: the alerts) are set by
    # assets/gridcc-live.js, not by a callback on shell-live (which would exist on every page).
    app.callback(
        Output(ids.VIEW, "data"),
        Output(ids.MAP, "viewport"),
        Output(ids.BREADCRUMB, "children"),
        Output(ids.NOTICE, "children"),
        Output(ids.AREA_TITLE, "children"),
        Output(ids.CONTEXT, "url"),
        Output(ids.CONTEXT, "hideout"),
        Input(ids.STATE, "data"),
        State(ids.VIEW, "data"),
        State(ids.LANG, "data"),
    )(update_view)

    def digest(panel: str) -> tuple:
        key = {"type": ids.DIGEST, "panel": panel}
        return Output(key, "data"), State(key, "data")

    frozen_at = State(ids.FROZEN, "data")  # after the digest: the callbacks take it last (frozen_value)
    live = (Input(ids.TICK, "data"), Input(ids.MINUTE, "n_intervals"), Input(ids.PLAYBACK, "data"),
            State(ids.LANG, "data"))
    out, shown = digest("map")
    app.callback(
        Output(ids.GEOJSON, "url"),
        Output(ids.GEOJSON, "hideout"),
        Output(ids.LEGEND, "children"),
        out,
        Input(ids.STATE, "data"),
        Input(ids.METRIC, "value"),
        *live, shown, frozen_at,
    )(update_map)
    panels = (Input(ids.VIEW, "data"), *live)
    for panel, outputs, fn in (
        ("kpis", (Output(ids.KPIS, "children"),), update_kpis),
        ("median", (Output(ids.KPI_MEDIAN, "children"),), update_median),
        ("categories", (Output(ids.CATEGORIES, "figure"),), update_categories),
        ("trend", (Output(ids.TREND, "figure"),), update_trend),
        ("building", (Output(ids.BUILDING, "children"), Output(ids.BUILDING_CARD, "hidden"),
                      Output(ids.CATEGORIES_CARD, "hidden")), update_building),
        ("ticker", (Output(ids.TICKER, "children"),), update_ticker),
    ):
        out, shown = digest(panel)
        app.callback(*outputs, out, *panels, shown, frozen_at)(fn)
    out, shown = digest("heat")
    app.callback(
        Output(ids.HEAT_DATA, "data"),
        Output(ids.HEAT_LEGEND, "children"),
        Output(ids.HEAT_LEGEND, "hidden"),
        out,
        Input(ids.VIEW, "data"),
        Input(ids.HEAT_ON, "value"),
        Input(ids.HEAT_WINDOW, "value"),
        Input(ids.HEAT_CLASS, "value"),
        Input(ids.HEAT_SOURCE, "value"),
        Input(ids.HEAT_URGENT, "value"),
        *live, shown, frozen_at,
    )(update_heat)
    app.clientside_callback(
        ClientsideFunction("gridcc_live", "heatLayer"),
        Output(ids.HEAT, "data"),
        Output(ids.HEAT, "hideout"),
        Input(ids.HEAT_DATA, "data"),
    )
    out, shown = digest("alerts")
    app.callback(
        Output(ids.ALERTS, "children"),
        Output(ids.PULSES, "children"),
        Output(ids.ALERT_IDS, "data"),
        out,
        Input(ids.SCOPE_TICK, "data"),
        Input(ids.MINUTE, "n_intervals"),
        Input({"type": ids.ACK, "event": ALL}, "n_clicks"),
        Input({"type": ids.RULE_ACK, "firing": ALL}, "n_clicks"),
        State(ids.LANG, "data"),
        shown, frozen_at,
    )(update_alerts)
    app.clientside_callback(
        ClientsideFunction("gridcc_live", "alertSound"),
        Input(ids.ALERT_IDS, "data"),
        State(ids.ALERT_SOUND, "value"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.DETAIL, "is_open"),
        Output(ids.DETAIL_BODY, "children"),
        Input({"type": ids.EVENT, "event": ALL}, "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(open_detail)
    app.clientside_callback(
        ClientsideFunction("gridcc_live", "playback"),
        Output(ids.PLAYBACK, "data"),
        Output(ids.PLAY_TIMER, "disabled"),
        Output(ids.PLAY_SLIDER, "value"),
        Output(ids.PLAY_SLIDER, "disabled"),
        Output(ids.PLAY_EXIT, "disabled"),
        Output(ids.PLAY_BUTTON, "children"),
        Output(ids.PLAY_CLOCK, "children"),
        Input(ids.PLAY_DAY, "value"),
        Input(ids.PLAY_BUTTON, "n_clicks"),
        Input(ids.PLAY_EXIT, "n_clicks"),
        Input(ids.PLAY_SLIDER, "value"),
        Input(ids.PLAY_TIMER, "n_intervals"),
        Input(ids.PLAY_SPEED, "value"),
        State(ids.PLAYBACK, "data"),
        State(ids.PLAY_BUTTON, "data-play"),
        State(ids.PLAY_BUTTON, "data-pause"),
        prevent_initial_call=True,
    )
    for reporter, reveal in ((ids.REPORTER, ids.REVEAL), (detail_ids.REPORTER, detail_ids.REVEAL)):
        app.callback(
            Output({"type": reporter, "event": MATCH}, "children"),
            Input({"type": reveal, "event": MATCH}, "n_clicks"),
            State(ids.LANG, "data"),
            prevent_initial_call=True,
        )(reveal_reporter)
