"""The overview page: a drill-down map of the area in view, with its KPIs, top categories and trend."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import dash_bootstrap_components as dbc
import dash_leaflet as dl
from dash import dcc, html

from dashboard import addresses, context, data, maps
from dashboard.data import MAP_METRICS
from dashboard.figures import GRAPH_CONFIG
from dashboard.i18n import level_name, normalise, status_name, t
from queries.areas import Area
from queries.alert_rules import Firing
from queries.alerts import TickerEvent
from queries.overview import Figures, Kpis, OpenEvent
from queries.schema import SOURCES

STATE = "overview-state"
FROZEN = "overview-frozen"  # the URL's as_of the server took ("2026-11-20T15:00"), None: live (issue 8 §2)
VIEW = "overview-view"
LANG = "overview-lang"
TICK = "overview-tick"  # set by assets/gridcc-live.js when a change touches the area in view (≤ 1/s)
SCOPE_TICK = "overview-scope-tick"  # … when a change touches anything in the caller's scope (the alerts)
MINUTE = "overview-minute"  # time passes: overdue counts move without any write
DIGEST = "overview-digest"  # pattern {"type": DIGEST, "panel": name}: what the panel shows now (no redraw if same)
HEAT_ON = "overview-heat-on"
HEAT_WINDOW = "overview-heat-window"
HEAT_CLASS = "overview-heat-class"
HEAT_SOURCE = "overview-heat-source"
HEAT_URGENT = "overview-heat-urgent"
HEAT_DATA = "overview-heat-data"  # the server's cells and counts; the browser draws the hexagons (h3-js)
HEAT = "overview-heat"
HEAT_LEGEND = "overview-heat-legend"
MAP_WRAP = "overview-map-wrap"
PULSES = "overview-pulses"
ALERTS = "overview-alerts"
ALERT_SOUND = "overview-alert-sound"
ALERT_IDS = "overview-alert-ids"
ACK = "overview-ack"  # pattern {"type": ACK, "event": id}
RULE_ACK = "overview-rule-ack"  # pattern {"type": RULE_ACK, "firing": id}: signs for an alert rule's firing
EVENT = "overview-event"  # pattern {"type": EVENT, "event": id}: opens the event's detail
TICKER = "overview-ticker"
DETAIL = "overview-detail"
DETAIL_BODY = "overview-detail-body"
PLAYBACK = "overview-playback"  # {"on", "start", "end", "cursor", "speed", "playing"} (ISO local times)
PLAY_TIMER = "overview-play-timer"
PLAY_DAY = "overview-play-day"
PLAY_SPEED = "overview-play-speed"
PLAY_BUTTON = "overview-play-button"
PLAY_SLIDER = "overview-play-slider"
PLAY_EXIT = "overview-play-exit"
PLAY_CLOCK = "overview-play-clock"
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

MINUTE_MS = 60_000
ALL_VALUE = "all"  # the filters' "no filter" choice
PLAY_STEP_MIN = 10  # the slider's step: ten minutes
PLAY_SPEEDS = (60, 600, 3600)  # seconds of the past per second on screen: 1 min/s, 10 min/s, 1 h/s
DIGEST_PANELS = ("map", "kpis", "median", "categories", "trend", "building", "ticker", "heat", "alerts")
# Hover outline; the style itself comes from gridcc.map.style in assets/gridcc-map.js.
HOVER_STYLE = {"weight": 3, "color": "#e6f1ff"}


def url_state(query) -> dict:
    """Return the overview's controls asked for by its URL query (dashboard/addresses.py), defaults for the rest."""
    from dashboard import heat

    return addresses.overview_state(query, metrics=MAP_METRICS, windows=heat.WINDOWS,
                                    classes=[code for code, _ in data.category_classes()], sources=SOURCES)


def layout(lang: str = "zh", as_of=None, **query) -> html.Div:
    """Return the overview for its URL: ``area``, ``building``, ``metric``, the heat layer (``heat=1``,
    ``heat_window``, ``heat_class``, ``heat_source``, ``heat_urgent=1``), ``as_of`` (frozen) and ``lang``.

    Every value is checked (a bad one gives the default); the callbacks resolve area and building in scope. With
    a sane ``as_of`` every panel shows that minute and nothing ticks; playback is then not offered.
    """
    lang = normalise(lang)
    state = url_state(query)
    now = data.window()[0]
    frozen = addresses.frozen_at(as_of, now)
    return html.Div(
        className="ovw",
        lang="en" if lang == "en" else "zh-CN",
        **addresses.frozen_attrs(as_of, now),
        children=[
            dcc.Store(id=STATE, data={"area": state["area"], "building": state["building"]}),
            dcc.Store(id=FROZEN, data=None if frozen is None else f"{frozen:%Y-%m-%dT%H:%M}"),
            dcc.Store(id=VIEW),
            dcc.Store(id=LANG, data=lang),
            dcc.Store(id=TICK),
            dcc.Store(id=SCOPE_TICK),
            dcc.Interval(id=MINUTE, interval=MINUTE_MS, disabled=frozen is not None),
            dcc.Store(id=PLAYBACK, data={"on": False}),
            dcc.Interval(id=PLAY_TIMER, interval=1000, disabled=True),
            dcc.Store(id=HEAT_DATA),
            dcc.Store(id=ALERT_IDS, data=[]),
            *[dcc.Store(id={"type": DIGEST, "panel": name}) for name in DIGEST_PANELS],
            _map_card(state, lang, frozen is not None),
            _side(lang),
            _detail_modal(lang),
        ],
    )


def _map_card(state: Mapping, lang: str, frozen: bool = False) -> html.Section:
    metric = state["metric"]
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
        _heat_tools(lang, state),
        html.Div(id=NOTICE, className="ovw-notice", role="status"),
        html.Div(id=MAP_WRAP, className="ovw-map-wrap", children=[
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
                    # Under the areas (Leaflet's overlay pane is 400); with the heat on, the areas keep only
                    # their outlines and let the pointer through, so a hexagon's hover gives its count.
                    dl.Pane(name="gcc-heat", style={"zIndex": 390}, children=[dl.GeoJSON(
                        id=HEAT,
                        data={"type": "FeatureCollection", "features": []},
                        hideout={"cells": {}, "bounds": [], "colours": []},
                        style={"variable": "gridcc.heat.style"},
                        onEachFeature={"variable": "gridcc.heat.onEachFeature"},
                        pane="gcc-heat",
                    )]),
                    dl.GeoJSON(
                        id=GEOJSON,
                        hideout={"values": {}, "bounds": [], "colours": []},
                        style={"variable": "gridcc.map.style"},
                        pointToLayer={"variable": "gridcc.map.pointToLayer"},
                        onEachFeature={"variable": "gridcc.map.onEachFeature"},
                        hoverStyle=HOVER_STYLE,
                    ),
                    dl.LayerGroup(id=PULSES),
                ],
            ),
            html.Div(id=ALERTS, className="ovw-alerts", role="alert", **{"aria-live": "assertive"}),
            html.Div(className="ovw-legends", children=[
                html.Div(id=LEGEND, className="ovw-legend"),
                html.Div(id=HEAT_LEGEND, className="ovw-legend", hidden=True),
            ]),
            html.Div(t("map.hint", lang), className="ovw-hint"),
        ]),
        _playback_bar(lang, hidden=frozen),
    ])


def _heat_tools(lang: str, state: Mapping) -> html.Div:
    """Return the heat layer's switch, window and filters (category class, source, urgent only), as the URL set
    them."""
    from dashboard import heat

    classes = [{"label": t("heat.all_classes", lang), "value": ALL_VALUE}] + [
        {"label": f"{code} {name}", "value": code} for code, name in data.category_classes()]
    sources = [{"label": t("heat.all_sources", lang), "value": ALL_VALUE}] + [
        {"label": t(f"evd.source.{s}", lang), "value": s} for s in SOURCES]
    return html.Div(className="ovw-tools", children=[
        dbc.Switch(id=HEAT_ON, label=t("heat.label", lang), value=state["heat"], className="ovw-heat-switch"),
        dbc.RadioItems(
            id=HEAT_WINDOW,
            options=[{"label": t(f"heat.window.{w}", lang), "value": w} for w in heat.WINDOWS],
            value=state["heat_window"], className="btn-group", inputClassName="btn-check",
            labelClassName="btn btn-outline-info btn-sm", labelCheckedClassName="active",
        ),
        _labelled(dbc.Select(id=HEAT_CLASS, options=classes, value=state["heat_class"], size="sm",
                             className="ovw-tool-select"),
                  t("heat.filter.class", lang)),
        _labelled(dbc.Select(id=HEAT_SOURCE, options=sources, value=state["heat_source"], size="sm",
                             className="ovw-tool-select"),
                  t("heat.filter.source", lang)),
        dbc.Checkbox(id=HEAT_URGENT, label=t("heat.filter.urgent", lang), value=state["heat_urgent"],
                     className="ovw-tool-check"),
        # Off by default (browsers refuse sound before a click anyway); remembered on this screen.
        dbc.Checkbox(id=ALERT_SOUND, label=t("alert.sound", lang), value=False, persistence=True,
                     persistence_type="local", className="ovw-tool-check ovw-sound"),
    ])


def _labelled(control, text: str) -> html.Label:
    """Return ``control`` inside a label that names it for screen readers and on hover."""
    return html.Label([html.Span(text, className="visually-hidden"), control], title=text, className="ovw-tool-label")


def _playback_bar(lang: str, hidden: bool = False) -> html.Div:
    """Return playback: a day, a speed, play/pause, the time slider, and the way back to live (hidden on a page
    frozen by its URL: it shows one minute)."""
    return html.Div(className="ovw-playback", hidden=hidden, children=[
        html.Span(t("play.label", lang), className="ovw-play-label"),
        _labelled(dcc.Input(id=PLAY_DAY, type="date", className="ovw-play-day"), t("play.day", lang)),
        _labelled(dbc.Select(id=PLAY_SPEED, size="sm", value=str(PLAY_SPEEDS[1]), className="ovw-tool-select",
                             options=[{"label": t(f"play.speed.{s}", lang), "value": str(s)} for s in PLAY_SPEEDS]),
                  t("play.speed", lang)),
        html.Button(t("play.play", lang), id=PLAY_BUTTON, n_clicks=0, className="btn btn-info btn-sm ovw-play-btn",
                    **{"data-play": t("play.play", lang), "data-pause": t("play.pause", lang)}),
        html.Div(className="ovw-play-slider", children=[
            dcc.Slider(id=PLAY_SLIDER, min=0, max=24 * 60 // PLAY_STEP_MIN, step=1, value=0, disabled=True,
                       marks={i * 6 * 60 // PLAY_STEP_MIN: f"{i * 6:02d}:00" for i in range(5)},
                       updatemode="mouseup", allow_direct_input=False),
        ]),
        html.Span("—", id=PLAY_CLOCK, className="ovw-play-clock"),
        html.Button(t("play.exit", lang), id=PLAY_EXIT, n_clicks=0, className="btn btn-outline-light btn-sm",
                    disabled=True),
    ])


def _detail_modal(lang: str) -> dbc.Modal:
    return dbc.Modal(id=DETAIL, is_open=False, size="lg", scrollable=True, className="ovw-detail", children=[
        dbc.ModalHeader(dbc.ModalTitle(t("detail.title", lang))),
        dbc.ModalBody(id=DETAIL_BODY),
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
        _card("panel.ticker", lang, html.Div(id=TICKER, className="ovw-ticker"), extra_class="ovw-grow"),
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
            html.Td(html.Button(e.category_name, id={"type": EVENT, "event": e.id}, n_clicks=0,
                                className="ovw-event-link", title=f"#{e.id}")),
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


def _event_button(event: TickerEvent, children, class_name: str) -> html.Button:
    return html.Button(children, id={"type": EVENT, "event": event.id}, n_clicks=0, className=class_name,
                       title=f"#{event.id}")


def ticker(events: Sequence[TickerEvent], lang: str, playback: bool = False) -> list:
    """Return the newest events of the area in view, newest first: time, category, place, source."""
    if not events:
        return [html.Div(t("ticker.none", lang), className="ovw-empty")]
    return [html.Ol(className="ovw-ticker-list", children=[
        html.Li(className="ovw-tick gcc-urgent" if e.urgent else "ovw-tick", **{"data-event": str(e.id)}, children=[
            _event_button(e, [
                html.Span(f"{e.reported_at:%H:%M}", className="ovw-tick-time", title=f"{e.reported_at:%Y-%m-%d %H:%M:%S}"),
                html.Span([html.Span(t("alert.urgent", lang), className="gcc-badge gcc-badge-urgent") if e.urgent
                           else None, e.category_name], className="ovw-tick-what"),
                html.Span(f"{e.community_name} · {e.grid_name}", className="ovw-tick-where"),
                html.Span(t(f"evd.source.{e.source}", lang), className="ovw-tick-source"),
            ], "ovw-tick-btn"),
        ])
        for e in events
    ])]


def alert_banner(alerts: Sequence[TickerEvent], lang: str, firings: Sequence[Firing] = (),
                 may_act: bool = True) -> list:
    """Return the banner: the newest urgent event nobody acknowledged, and the newest alert-rule firing nobody
    signed for (each with how many more); nothing when there are none. Only a role that may act gets 签收."""
    banner = []
    if alerts:
        first, more = alerts[0], len(alerts) - 1
        banner.append(html.Div(className="ovw-alert", **{"data-event": str(first.id)}, children=[
            html.Span(t("alert.urgent", lang), className="ovw-alert-tag"),
            _event_button(first, [
                html.Span(f"{first.reported_at:%H:%M}", className="ovw-alert-time"),
                html.Span(first.category_name, className="ovw-alert-what"),
                html.Span(f"{first.community_name} · {first.grid_name}", className="ovw-alert-where"),
            ], "ovw-alert-btn"),
            html.Span(t("alert.more", lang, n=more), className="ovw-alert-more") if more else None,
            html.Button(t("alert.ack", lang), id={"type": ACK, "event": first.id}, n_clicks=0,
                        className="btn btn-light btn-sm ovw-ack", title=t("alert.ack_hint", lang)) if may_act else None,
        ]))
    if firings:
        first, more = firings[0], len(firings) - 1
        level = first.level if first.level in RULE_LEVELS else "warning"
        banner.append(html.Div(className=f"ovw-alert ovw-rule ovw-rule-{level}",
                               **{"data-firing": str(first.id), "data-rule": first.rule}, children=[
            html.Span(t(f"rule.level.{level}", lang), className="ovw-alert-tag"),
            html.Span(f"{first.raised_at:%H:%M}", className="ovw-alert-time",
                      title=f"{first.raised_at:%Y-%m-%d %H:%M}"),
            html.Span(rule_text(first, lang), className="ovw-alert-what", title=first.rule),
            html.Span(str(first.detail.get("place") or first.area_code), className="ovw-alert-where"),
            html.Span(t("rule.more", lang, n=more), className="ovw-alert-more") if more else None,
            html.Button(t("rule.ack", lang), id={"type": RULE_ACK, "firing": first.id}, n_clicks=0,
                        className="btn btn-light btn-sm ovw-ack", title=t("rule.ack_hint", lang)) if may_act else None,
        ]))
    return banner


RULE_LEVELS = ("critical", "warning", "info")


def rule_text(firing: Firing, lang: str) -> str:
    """Return what a firing says in ``lang``, from its detail (the stored title when the rule kind is unknown)."""
    d = firing.detail
    try:
        if d.get("kind") in ("red_within", "overdue_surge"):
            return t(f"rule.{d['kind']}", lang, count=int(d["count"]), hours=f"{float(d['hours']):g}", n=int(d["n"]))
        if d.get("kind") == "undispatched_urgent":
            return t("rule.undispatched_urgent", lang, minutes=int(d["minutes"]), category=str(d["category"]),
                     event=int(d["event_id"]))
    except (KeyError, TypeError, ValueError):
        pass
    return firing.title


def pulses(alerts: Sequence[TickerEvent], lang: str) -> list:
    """Return a pulsing marker at the place of each unacknowledged urgent event that has coordinates."""
    return [
        dl.DivMarker(position=[e.lat, e.lon], id={"type": "overview-pulse", "event": e.id},
                     iconOptions={"className": "gcc-pulse", "html": "<span></span>", "iconSize": [28, 28],
                                  "iconAnchor": [14, 14]},
                     title=f"{t('alert.urgent', lang)} · {e.category_name}")
        for e in alerts if e.lat is not None and e.lon is not None
    ]


def heat_legend(hideout: Mapping, lang: str) -> list:
    """Return the heat layer's legend: its label, the window's total and one row per class of counts."""
    from dashboard import heat

    rows = [html.Li([html.Span(className="ovw-swatch", style={"background": colour}), html.Span(label)],
                    className="ovw-legend-row") for colour, label in heat.legend_rows(hideout)]
    total = hideout.get("total", 0)
    return [
        html.Div(hideout.get("label", t("heat.label", lang)), className="ovw-legend-title"),
        html.Div(t("heat.total", lang, n=f"{total:,}") if total else t("heat.none", lang), className="ovw-legend-note"),
        html.Ul(rows, className="ovw-legend-rows"),
    ]
