"""The overview ("/") as the wall shows it: the area's children coloured on a map, big numerals, top
categories and a 30-day trend (issue 8 §1, spec §5).

``render(view, scope=, lang=)`` reads the same cached loaders as the overview page and the API
(dashboard/data.py: aggregates only — nothing personal reaches a wall) and returns one tree that fills its
slot; every size is in ``var(--u)`` (assets/gridcc-wall.css). The map has no tiles and takes no input: it
fits the area once, and a refresh only changes its colours (the GeoJSON's hideout), so it keeps its view.
"""
from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import dash_leaflet as dl
from dash import html

from dashboard import data, maps
from dashboard.i18n import level_name, t
from dashboard.views import View
from queries.overview import CategoryCount, DayCount, Figures, Kpis
from queries.schema import GRID
from queries.scope import Scope

# Viridis, five classes from its middle-dark end (its darkest purple vanishes on the wall's dark ground):
# sequential, colour-blind safe, light = more.
PALETTE = ("#414487", "#2a788e", "#22a884", "#7ad151", "#fde725")
# The trend's two lines (Okabe–Ito blue and orange: told apart by anyone; the legend names them too).
REPORTED = "#56b4e9"
CLOSED = "#e69f00"
TOP = 5


def _number(value, digits: int = 0, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{unit}"


def kpi_values(kpis: Kpis | None, hours: float | None) -> list[tuple[str, str]]:
    """Return (key, shown value) of the wall's six numerals: the overview page's tiles, formatted as it does."""
    f = kpis.figures if kpis else Figures(code="")
    rate = f.on_time_rate
    return [
        ("reported_today", _number(kpis.reported_today if kpis else 0)),
        ("open", _number(f.open)),
        ("overdue", _number(f.overdue)),
        ("closed", _number(f.closed)),
        ("on_time_rate", _number(None if rate is None else rate * 100, 1, "%")),
        ("median_hours", _number(hours, 1)),
    ]


def _kpis(values: list[tuple[str, str]], overdue: int, lang: str) -> html.Div:
    tiles = []
    for key, value in values:
        unit = [html.Span(t("unit.hours", lang), className="wall-kpi-unit")] if key == "median_hours" and value != "—" \
            else []
        alert = key == "overdue" and overdue > 0
        tiles.append(html.Div(className="wall-kpi" + (" wall-kpi-alert" if alert else ""), **{"data-kpi": key}, children=[
            html.Div(t(f"kpi.{key}", lang), className="wall-kpi-label"),
            html.Div(className="wall-kpi-line", children=[
                # A symbol beside the colour: the overdue count is told by its mark, not by red alone.
                *([html.Span("▲", className="wall-kpi-mark", **{"aria-hidden": "true"})] if alert else []),
                # Seven characters and more (a big city's "123,456"): a smaller size, so it stays in its tile.
                html.Span(value, className="wall-kpi-value" + (" wall-kpi-long" if len(value) > 6 else "")), *unit]),
        ]))
    return html.Div(className="wall-panel wall-kpis", children=tiles)


def _categories(rows: Sequence[CategoryCount], lang: str) -> html.Div:
    rows = list(rows)[:TOP]
    most = max((r.count for r in rows), default=0)
    body = [html.Div(className="wall-bar-row", children=[
        html.Div(r.name, className="wall-bar-name", title=r.class_name),
        html.Div(className="wall-bar-track", children=[
            html.Div(className="wall-bar-fill", style={"width": f"{100 * r.count / most:.1f}%" if most else "0%"})]),
        html.Div(f"{r.count:,}", className="wall-bar-count"),
    ]) for r in rows] or [html.Div(t("bigwall.none", lang), className="wall-empty")]
    return html.Div(className="wall-panel wall-cats", children=[
        html.Div(t("bigwall.top_categories", lang), className="wall-panel-title"),
        html.Div(className="wall-bars", children=body),
    ])


SVG_WIDTH, SVG_HEIGHT, SVG_PAD = 300.0, 100.0, 4.0


def line_chart_svg(series, *, grid: str, extra: str = "") -> str:
    """Return an SVG document of polylines over three grid lines that stretches to its box (viewBox, no size).

    ``series``: (colour, stroke width, dash, heights) with each height in 0…1 of the drawing, or None for a gap
    (a run of one point is drawn as a dot); ``extra``: more attributes for every polyline.
    """
    width, height, pad = SVG_WIDTH, SVG_HEIGHT, SVG_PAD
    lines = []
    for colour, stroke, dash, heights in series:
        step = (width - 2 * pad) / max(1, len(heights) - 1)
        runs, run = [], []
        for i, y in enumerate(heights):
            if y is None:
                runs, run = (runs + [run] if run else runs), []
                continue
            run.append(f"{pad + i * step:.1f},{height - pad - (height - 2 * pad) * y:.1f}")
        runs += [run] if run else []
        lines += [f'<polyline fill="none" stroke="{colour}" stroke-width="{stroke}" stroke-linejoin="round" '
                  f'{extra}stroke-dasharray="{dash}" points="{" ".join(r) if len(r) > 1 else f"{r[0]} {r[0]}"}"/>'
                  for r in runs]
    rules = "".join(f'<line x1="0" x2="{width:g}" y1="{y:.1f}" y2="{y:.1f}" stroke="{grid}" stroke-width="0.6"/>'
                    for y in (pad, height / 2, height - pad))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
            f'preserveAspectRatio="none">{rules}{"".join(lines)}</svg>')


def trend_svg(days: Sequence[DayCount]) -> str:
    """Return the 30-day trend as an SVG document (reported and closed per day; it scales with its box)."""
    top = max([1, *(max(d.reported, d.closed) for d in days)])
    return line_chart_svg(((CLOSED, 1.6, "4 2", [d.closed / top for d in days]),
                           (REPORTED, 2.2, "none", [d.reported / top for d in days])), grid="#1f3352")


def _trend(days: Sequence[DayCount], lang: str) -> html.Div:
    days = list(days)
    top = max([0, *(max(d.reported, d.closed) for d in days)])
    axis = [html.Span(f"{days[0].day:%m-%d}"), html.Span(f"{days[-1].day:%m-%d}")] if days else []
    return html.Div(className="wall-panel wall-trend", children=[
        html.Div(className="wall-trend-head", children=[
            html.Div(t("bigwall.trend", lang), className="wall-panel-title"),
            html.Div(className="wall-trend-keys", children=[
                html.Span([html.Span("━", className="wall-key-reported"), t("bigwall.reported", lang)]),
                html.Span([html.Span("┅", className="wall-key-closed"), t("bigwall.closed", lang)]),
                html.Span(f"max {top:,}", className="wall-trend-max"),
            ]),
        ]),
        html.Img(src="data:image/svg+xml;utf8," + quote(trend_svg(days)), className="wall-trend-svg",
                 alt=t("bigwall.trend", lang)),
        html.Div(axis, className="wall-trend-axis"),
    ])


def _legend(hideout: dict, lang: str) -> html.Div:
    rows = [html.Div(className="wall-legend-row", children=[
        html.Span(className="wall-swatch", style={"background": colour}), html.Span(label)])
        for colour, label in maps.legend_rows(hideout)]
    worse = "legend.lower_is_worse" if hideout["reverse"] else "legend.higher_is_worse"
    return html.Div(className="wall-legend", children=[
        html.Div(hideout["label"], className="wall-legend-title"),
        html.Div(t(worse, lang), className="wall-legend-note"),
        *rows,
    ])


def _map(area, hideout: dict, lang: str) -> html.Div:
    (south, west), (north, east) = area.bounds
    return html.Div(className="wall-panel wall-map-panel", children=[
        html.Div(className="wall-map-head", children=[
            html.Span(area.name, className="wall-area-name"),
            html.Span(level_name(area.level, lang), className="wall-area-level"),
        ]),
        html.Div(className="wall-map-box", children=[
            dl.Map(
                className="wall-map", bounds=[[south, west], [north, east]], boundsOptions={"padding": [8, 8]},
                zoomSnap=0.1, zoomControl=False, attributionControl=False, dragging=False, scrollWheelZoom=False,
                doubleClickZoom=False, boxZoom=False, keyboard=False, touchZoom=False, trackResize=True, trackViewport=False,
                fadeAnimation=False, zoomAnimation=False,
                children=[dl.GeoJSON(url=maps.children_url(area.code), hideout=hideout, interactive=False,
                                     style={"variable": "gridcc.map.style"},
                                     pointToLayer={"variable": "gridcc.map.pointToLayer"})],
            ),
            _legend(hideout, lang),
        ]),
    ])


def render(view: View, *, scope: Scope, lang: str) -> html.Div:
    """Return the wall's overview of ``view`` (its area, else the scope's; its map metric, else open)."""
    area = (data.area(scope, view.get("area")) if view.get("area") else None) or data.area(scope, scope.area_code)
    metric = view.get("metric") if view.get("metric") in data.MAP_METRICS else data.MAP_METRICS[0]
    as_of, since, until = data.window()
    kpis = data.kpis(scope, area.code, as_of, since, until)
    hours = data.median_handling_hours(scope, area.code, since, until)
    rows = data.map_figures(scope, area.code, metric, as_of, since, until)
    households = {}
    if metric == "per_1000_households":
        kids = data.grid_buildings(scope, area.code) if area.level == GRID else data.children(scope, area.code)
        households = {kid.code: kid.households for kid in kids}
    hideout = maps.map_hideout(rows, metric, households, lang)
    hideout["colours"] = maps.class_colours(len(hideout["bounds"]), hideout["reverse"], PALETTE)
    return html.Div(className="wall-view wall-view-overview", **{"data-area": area.code}, children=[
        _map(area, hideout, lang),
        html.Div(className="wall-side", children=[
            _kpis(kpi_values(kpis, hours), kpis.figures.overdue if kpis else 0, lang),
            _categories(data.top_categories(scope, area.code, since, until, TOP), lang),
            _trend(data.daily_trend(scope, area.code, since, until), lang),
        ]),
    ])
