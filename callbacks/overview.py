"""Callbacks of the overview: resolve the drill, colour the map, fill the side panels."""
from __future__ import annotations

import dash
from dash import ALL, MATCH, ClientsideFunction, Input, Output, State, no_update

from dashboard import access, data, figures, maps
from dashboard.i18n import t
from layouts import overview as ids
from queries.schema import GRID

BUILDING_EVENTS_LIMIT = 50


def _requested(state) -> dict:
    """Return the requested area and building as strings or None (callback inputs can be forged)."""
    state = state if isinstance(state, dict) else {}
    return {key: value if isinstance(value, str) else None
            for key, value in (("area", state.get("area")), ("building", state.get("building")))}


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


def update_map(state: dict | None, metric: str, _tick, lang: str):
    """Send the children's polygons URL (cached by the browser) and their values for ``metric``.

    Runs on the requested state, beside update_view rather than after it, so a drill costs one round trip.
    """
    scope = data.request_scope()
    state = _requested(state)
    metric = metric if metric in data.MAP_METRICS else data.MAP_METRICS[0]
    area = data.area(scope, state["area"] or scope.area_code) or data.area(scope, scope.area_code)
    as_of, since, until = data.window()
    rows = data.map_figures(scope, area.code, metric, as_of, since, until)
    households = _households(scope, area) if metric == "per_1000_households" else {}
    hideout = maps.map_hideout(rows, metric, households, lang, selected=state["building"])
    return maps.children_url(area.code), hideout, ids.legend(hideout, lang)


def update_kpis(view: dict | None, _tick, lang: str):
    """Fill the KPI tiles of the area in view."""
    code = _view_code(view)
    if code is None:
        return no_update
    as_of, since, until = data.window()
    return ids.kpi_tiles(data.kpis(data.request_scope(), code, as_of, since, until), lang)


def update_median(view: dict | None, _tick, lang: str):
    """Fill the median handling time tile of the area in view."""
    code = _view_code(view)
    if code is None:
        return no_update
    _, since, until = data.window()
    return ids.median_tile(data.median_handling_hours(data.request_scope(), code, since, until), lang)


def update_categories(view: dict | None, _tick, lang: str):
    """Draw the most reported categories of the last 30 days in the area in view."""
    code = _view_code(view)
    if code is None:
        return no_update
    _, since, until = data.window()
    return figures.categories_figure(data.top_categories(data.request_scope(), code, since, until), lang)


def update_trend(view: dict | None, _tick, lang: str):
    """Draw reported and closed per day over the last 30 days in the area in view."""
    code = _view_code(view)
    if code is None:
        return no_update
    _, since, until = data.window()
    return figures.trend_figure(data.daily_trend(data.request_scope(), code, since, until), lang)


def update_building(view: dict | None, _tick, lang: str):
    """Show the selected building's facts and open events in place of the categories."""
    building = view.get("building") if isinstance(view, dict) else None
    scope = data.request_scope()
    # The view comes back from the browser: look the building up again rather than trust its fields.
    found = data.building(scope, building["code"]) if isinstance(building, dict) and \
        isinstance(building.get("code"), str) else None
    if found is None:
        return [], True, False
    events = data.building_open_events(scope, found.code, data.window()[0], BUILDING_EVENTS_LIMIT)
    may_reveal = access.current().may("reveal")
    return (ids.building_detail(maps.building_state(found), events, BUILDING_EVENTS_LIMIT, lang, may_reveal),
            False, True)


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
        State(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_overview", "mirrorUrl"),
        Input(ids.VIEW, "data"),
        Input(ids.METRIC, "value"),
        prevent_initial_call=True,
    )
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
    app.callback(
        Output(ids.GEOJSON, "url"),
        Output(ids.GEOJSON, "hideout"),
        Output(ids.LEGEND, "children"),
        Input(ids.STATE, "data"),
        Input(ids.METRIC, "value"),
        Input(ids.REFRESH, "n_intervals"),
        State(ids.LANG, "data"),
    )(update_map)
    panels = (Input(ids.VIEW, "data"), Input(ids.REFRESH, "n_intervals"), State(ids.LANG, "data"))
    app.callback(Output(ids.KPIS, "children"), *panels)(update_kpis)
    app.callback(Output(ids.KPI_MEDIAN, "children"), *panels)(update_median)
    app.callback(Output(ids.CATEGORIES, "figure"), *panels)(update_categories)
    app.callback(Output(ids.TREND, "figure"), *panels)(update_trend)
    app.callback(
        Output(ids.BUILDING, "children"),
        Output(ids.BUILDING_CARD, "hidden"),
        Output(ids.CATEGORIES_CARD, "hidden"),
        *panels,
    )(update_building)
    app.callback(
        Output({"type": ids.REPORTER, "event": MATCH}, "children"),
        Input({"type": ids.REVEAL, "event": MATCH}, "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(reveal_reporter)
