"""The overview page: a drill-down map of the area in view, with its KPIs, top categories and trend."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import dash_bootstrap_components as dbc
import dash_leaflet as dl
from dash import dcc, html

from dashboard import context, maps
from dashboard.data import MAP_METRICS
from dashboard.figures import GRAPH_CONFIG
from dashboard.i18n import level_name, normalise, status_name, t
from queries.areas import Area
from queries.overview import Figures, Kpis, OpenEvent

STATE = "overview-state"
VIEW = "overview-view"
LANG = "overview-lang"
REFRESH = "overview-refresh"
MAP = "overview-map"
GEOJSON = "overview-geojson"
CONTEXT = "overview-context"
LEGEND = "overview-legend"
METRIC = "overview-metric"
BREADCRUMB = "overview-breadcrumb"
CRUMB = "overview-crumb"  # pattern-matching type: {"type": CRUMB, "code": <area code>}
NOTICE = "overview-notice"
AREA_TITLE = "overview-area-title"
KPIS = "overview-kpis"
KPI_MEDIAN = "overview-kpi-median"  # its own callback: the median reads every closed case of the window
BUILDING = "overview-building"
BUILDING_CARD = "overview-building-card"
REPORTER = "overview-reporter"  # pattern id {"type": REPORTER, "event": id}: one event's reporter
REVEAL = "overview-reveal"  # pattern id {"type": REVEAL, "event": id}: its "show" button
CATEGORIES = "overview-categories"
CATEGORIES_CARD = "overview-categories-card"
TREND = "overview-trend"

REFRESH_MS = 60_000
# Hover outline; the style itself comes from gridcc.map.style in assets/gridcc-map.js.
HOVER_STYLE = {"weight": 3, "color": "#e6f1ff"}


def layout(area: str | None = None, metric: str | None = None, lang: str = "zh", building: str | None = None,
           **_) -> html.Div:
    """Return the overview for ``?area=…&building=…&metric=…&lang=…``; callbacks check area and building."""
    lang = normalise(lang)
    metric = metric if metric in MAP_METRICS else MAP_METRICS[0]
    return html.Div(
        className="ovw",
        lang="en" if lang == "en" else "zh-CN",
        children=[
            dcc.Store(id=STATE, data={"area": area, "building": building}),
            dcc.Store(id=VIEW),
            dcc.Store(id=LANG, data=lang),
            dcc.Interval(id=REFRESH, interval=REFRESH_MS),
            _map_card(metric, lang),
            _side(lang),
        ],
    )


def _map_card(metric: str, lang: str) -> html.Section:
    tile_url = context.current().settings.tile_url
    tiles = [dl.TileLayer(url=tile_url, attribution=context.current().settings.tile_attribution)] if tile_url else []
    return html.Section(className="gcc-card ovw-map-card", children=[
        html.Div(className="ovw-map-head", children=[
            html.Nav(id=BREADCRUMB, className="ovw-breadcrumb", **{"aria-label": "breadcrumb"}),
            html.Div(className="ovw-metric", children=[
                html.Span(t("metric.label", lang), className="ovw-metric-label"),
                dbc.RadioItems(
                    id=METRIC,
                    options=[{"label": t(f"metric.{m}", lang), "value": m} for m in MAP_METRICS],
                    value=metric,
                    className="btn-group",
                    inputClassName="btn-check",
                    labelClassName="btn btn-outline-info btn-sm",
                    labelCheckedClassName="active",
                ),
            ]),
        ]),
        html.Div(id=NOTICE, className="ovw-notice", role="status"),
        html.Div(className="ovw-map-wrap", children=[
            dl.Map(
                id=MAP,
                center=[30.0, 115.0],
                zoom=5,
                zoomSnap=0.25,
                zoomDelta=0.5,
                attributionControl=bool(tile_url),
                trackViewport=False,
                className="ovw-map",
                children=[
                    *tiles,
                    dl.GeoJSON(id=CONTEXT, interactive=False, hideout={"focus": None},
                               style={"variable": "gridcc.map.contextStyle"}),
                    dl.GeoJSON(
                        id=GEOJSON,
                        hideout={"values": {}, "bounds": [], "colours": []},
                        style={"variable": "gridcc.map.style"},
                        pointToLayer={"variable": "gridcc.map.pointToLayer"},
                        onEachFeature={"variable": "gridcc.map.onEachFeature"},
                        hoverStyle=HOVER_STYLE,
                    ),
                ],
            ),
            html.Div(id=LEGEND, className="ovw-legend"),
            html.Div(t("map.hint", lang), className="ovw-hint"),
        ]),
    ])


def _card(title_key: str, lang: str, body, card_id: str | None = None, hidden: bool = False,
          extra_class: str = "") -> html.Section:
    attrs = {"id": card_id} if card_id else {}
    return html.Section(className=f"gcc-card ovw-panel {extra_class}".strip(), hidden=hidden, **attrs, children=[
        html.H2(t(title_key, lang), className="gcc-card-title"),
        body,
    ])


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=GRAPH_CONFIG, className="ovw-graph", style={"height": "100%"})


def _side(lang: str) -> html.Aside:
    return html.Aside(className="ovw-side", children=[
        html.Div(id=AREA_TITLE, className="ovw-area-title"),
        html.Div(className="ovw-kpis", children=[
            html.Div(id=KPIS, className="ovw-kpis-part"),
            html.Div(id=KPI_MEDIAN, className="ovw-kpis-part"),
        ]),
        _card("panel.building", lang, html.Div(id=BUILDING, className="ovw-building"), BUILDING_CARD, hidden=True,
              extra_class="ovw-grow"),
        _card("panel.categories", lang, _graph(CATEGORIES), CATEGORIES_CARD, extra_class="ovw-grow"),
        _card("panel.trend", lang, _graph(TREND), extra_class="ovw-grow"),
    ])


def breadcrumb(chain: Sequence[Area], building: Mapping | None, lang: str) -> list:
    """Return the path from the scope's top to the area (and building) in view; every step above is a button."""
    steps: list[tuple[str, str, int]] = [(a.code, a.name, a.level) for a in chain]
    if building:
        steps.append((building["code"], building["name"], 5))
    items = []
    for i, (code, name, level) in enumerate(steps):
        if i:
            items.append(html.Span("›", className="ovw-crumb-sep", **{"aria-hidden": "true"}))
        label = [html.Span(name, className="ovw-crumb-name"),
                 html.Span(level_name(level, lang), className="ovw-crumb-level")]
        if i < len(steps) - 1:
            items.append(html.Button(label, id={"type": CRUMB, "code": code}, className="ovw-crumb", n_clicks=0,
                                     title=code))
        else:
            items.append(html.Span(label, className="ovw-crumb ovw-crumb-current", title=code,
                                   **{"aria-current": "page"}))
    return items


def notice(requested: Mapping, view: Mapping, lang: str) -> list:
    """Return the notice shown when the URL asked for an area or building that is unknown or out of scope."""
    lines = []
    area, found = requested.get("area"), view["code"]
    if area and area != found:
        lines.append(html.Div(t("notice.unknown_area", lang, code=area, name=view["name"])))
    wanted = requested.get("building")
    if wanted and not (view.get("building") and view["building"]["code"] == wanted):
        lines.append(html.Div(t("notice.unknown_building", lang, code=wanted)))
    return lines


def area_title(view: Mapping, lang: str) -> list:
    """Return the heading of the side panels: the area in view, its level and code."""
    return [
        html.Span(t("panel.area", lang), className="ovw-area-label"),
        html.Span(view["name"], className="ovw-area-name"),
        html.Span(level_name(view["level"], lang), className="gcc-badge"),
        html.Span(view["code"], className="ovw-area-code"),
    ]


def legend(hideout: Mapping, lang: str) -> list:
    """Return the legend of the map colours: metric name, one row per class with its edges."""
    worse = "legend.lower_is_worse" if hideout["reverse"] else "legend.higher_is_worse"
    rows = [
        html.Li([html.Span(className="ovw-swatch", style={"background": colour}), html.Span(label)],
                className="ovw-legend-row")
        for colour, label in maps.legend_rows(hideout)
    ]
    return [
        html.Div(hideout["label"], className="ovw-legend-title"),
        html.Div(t(worse, lang), className="ovw-legend-note"),
        html.Ul(rows, className="ovw-legend-rows"),
    ]


def _number(value: int | float | None, digits: int = 0, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{unit}"


def _tile(key: str, value: str, lang: str, alert: bool = False) -> html.Div:
    with_unit = key == "median_hours" and value != "—"
    unit = [html.Span(t("unit.hours", lang), className="ovw-kpi-unit")] if with_unit else []
    return html.Div(className="ovw-kpi gcc-alert" if alert else "ovw-kpi", title=t(f"kpi.{key}", lang),
                    **{"data-kpi": key}, children=[
                        html.Div(t(f"kpi.{key}", lang), className="ovw-kpi-label"),
                        html.Div([html.Span(value, className="ovw-kpi-value"), *unit]),
                    ])


def kpi_tiles(kpis: Kpis | None, lang: str) -> list:
    """Return the five count tiles of the area in view, and a note when it has no events at all."""
    f = kpis.figures if kpis else Figures(code="")
    today = kpis.reported_today if kpis else 0
    rate = f.on_time_rate
    children = [
        _tile("reported_today", _number(today), lang),
        _tile("open", _number(f.open), lang),
        _tile("overdue", _number(f.overdue), lang, alert=f.overdue > 0),
        _tile("closed", _number(f.closed), lang),
        _tile("on_time_rate", _number(None if rate is None else rate * 100, 1, "%"), lang),
    ]
    if not (today or f.reported or f.open or f.closed):
        children.append(html.Div(t("empty.area", lang), className="ovw-empty"))
    return children


def median_tile(hours: float | None, lang: str) -> list:
    """Return the tile of the median handling time (hours, one decimal)."""
    return [_tile("median_hours", _number(hours, 1), lang)]


def building_detail(building: Mapping, events: Sequence[OpenEvent], limit: int, lang: str,
                    may_reveal: bool = False) -> list:
    """Return the building's facts and its open events, the oldest first, reporters masked.

    With ``may_reveal``, each reporter has a "show" button (the reveal is audited on the server).
    """
    overdue = sum(e.overdue for e in events)
    facts = [
        ("building.households", _number(building["households"])),
        ("building.floors", _number(building["floors"])),
        ("building.open", _number(len(events))),
        ("building.overdue_count", _number(overdue)),
    ]
    head = html.Div(className="ovw-building-head", children=[
        html.Div([html.Span(building["name"], className="ovw-building-name"),
                  html.Span(building["code"], className="ovw-area-code")]),
        html.Dl(className="ovw-facts", children=[
            item for key, value in facts
            for item in (html.Dt(t(key, lang)), html.Dd(value, **{"data-fact": key.split(".")[1]}))
        ]),
    ])
    if not events:
        return [head, html.Div(t("building.none_open", lang), className="ovw-empty")]
    rows = [
        html.Tr(className="gcc-alert" if e.overdue else "", children=[
            html.Td(_light(e.light, lang)),
            html.Td(e.category_name),
            html.Td(status_name(e.status, lang)),
            html.Td(_when(e.reported_at)),
            html.Td(_when(e.deadline_at) + (f" · {t('event.overdue', lang)}" if e.overdue else "")),
            html.Td(_reporter(e, lang, may_reveal)),
        ])
        for e in events
    ]
    table = html.Table(className="ovw-events", children=[
        html.Thead(html.Tr([html.Th(t(k, lang)) for k in
                            ("event.light", "event.category", "event.status", "event.reported_at", "event.deadline",
                             "event.reporter")])),
        html.Tbody(rows),
    ])
    more = [html.Div(t("building.more", lang, n=limit), className="ovw-hint-inline")] if len(events) >= limit else []
    return [head, html.Div(table, className="ovw-events-wrap"), *more]


def _reporter(event: OpenEvent, lang: str, may_reveal: bool):
    """Return an event's masked reporter, with a "show" button for a role that may reveal it."""
    shown = html.Span(event.reporter or "—", id={"type": REPORTER, "event": event.id}, className="ovw-reporter")
    if not may_reveal or event.reporter is None:
        return shown
    return html.Span(className="ovw-reporter-cell", children=[
        shown,
        html.Button(t("event.reveal", lang), id={"type": REVEAL, "event": event.id}, n_clicks=0,
                    className="ovw-reveal", title=t("event.reveal_hint", lang)),
    ])


def _light(light: str | None, lang: str):
    """Return the SLA traffic light as a coloured dot with its word (colour is never the only cue)."""
    if light is None:
        return html.Span("—", className="gcc-light gcc-light-none")
    return html.Span([html.Span(className="gcc-light-dot"), t(f"light.{light}", lang)],
                     className=f"gcc-light gcc-light-{light}", **{"data-light": light})


def _when(value: datetime | None) -> str:
    # With the year: a case still open from last December must not read like next month's.
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"
