"""Pure plotly builders for the overview's charts, on one lean dark template.

Figures are plain plotly JSON dicts, not ``go.Figure`` objects: validating a Figure costs 6–12 ms
a chart, more than the cached data behind it, and dcc.Graph takes the dict as it is.
"""
from __future__ import annotations

from collections.abc import Sequence


from dashboard.i18n import t
from queries.overview import CategoryCount, DayCount

FONT_FAMILY = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
INK = "#d6e2f0"
MUTED = "#8aa0b8"
GRID_LINE = "rgba(138, 160, 184, 0.18)"
REPORTED = "#4cc9f0"
CLOSED = "#f8961e"
BAR = "#4cc9f0"

# Set once and named on every figure: plotly's default template would add ~6.4 KB to each one.
TEMPLATE = {"layout": {
    "font": {"family": FONT_FAMILY, "color": INK, "size": 14},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "margin": {"l": 8, "r": 16, "t": 8, "b": 8},
    "xaxis": {"gridcolor": GRID_LINE, "zeroline": False, "linecolor": GRID_LINE, "automargin": True},
    "yaxis": {"gridcolor": GRID_LINE, "zeroline": False, "linecolor": GRID_LINE, "automargin": True},
    "hoverlabel": {"font": {"family": FONT_FAMILY, "size": 14}},
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"color": MUTED}},
    "showlegend": False,
}}

# Nothing leaves the machine: no logo link, no mode bar, no MathJax or topojson fetch.
GRAPH_CONFIG = {"displaylogo": False, "displayModeBar": False, "responsive": True, "showTips": False}


def _empty(message: str) -> dict:
    """Return an axis-less figure that says ``message`` in the middle."""
    return {"data": [], "layout": {
        "template": TEMPLATE, "xaxis": {"visible": False}, "yaxis": {"visible": False},
        "annotations": [{"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                         "font": {"size": 16, "color": MUTED}}],
    }}


def categories_figure(rows: Sequence[CategoryCount], lang: str, limit: int = 8) -> dict:
    """Return a horizontal bar chart of the most reported categories, the most on top."""
    shown = [r for r in rows if r.count > 0][:limit]
    if not shown:
        return _empty(t("empty.categories", lang))
    shown = shown[::-1]
    bar = {
        "type": "bar",
        "x": [r.count for r in shown],
        "y": [r.name for r in shown],
        "customdata": [[r.code, r.class_name] for r in shown],
        "orientation": "h",
        "marker": {"color": BAR},
        "text": [r.count for r in shown],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{customdata[1]} · %{y}<br>%{customdata[0]}: %{x}<extra></extra>",
    }
    # Headroom right of the longest bar, so its count (drawn outside the bar) is never clipped.
    headroom = max(r.count for r in shown) * 1.2
    return {"data": [bar], "layout": {"template": TEMPLATE, "xaxis": {"visible": False, "range": [0, headroom]},
                                      "yaxis": {"tickfont": {"size": 14}}, "bargap": 0.3}}


def count_step(top: int, ticks: int = 5) -> int:
    """Return a whole tick step (1, 2, 5, 10, 20, …) that puts at most ``ticks`` steps under ``top``."""
    step = 1
    while top / step > ticks:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step


def trend_figure(rows: Sequence[DayCount], lang: str) -> dict:
    """Return reported and closed events per day as two lines (days on x, local dates)."""
    if not any(r.reported or r.closed for r in rows):
        return _empty(t("empty.trend", lang))
    days = [r.day.isoformat() for r in rows]
    traces = [
        {"type": "scatter", "x": days, "y": values, "name": name, "mode": "lines",
         "line": {"color": colour, "width": 2.5}, "hovertemplate": f"{name} %{{y}}<extra></extra>"}
        for name, values, colour in (
            (t("trend.reported", lang), [r.reported for r in rows], REPORTED),
            (t("trend.closed", lang), [r.closed for r in rows], CLOSED),
        )
    ]
    layout = {
        "template": TEMPLATE,
        "showlegend": True,
        "hovermode": "x unified",
        "xaxis": {"type": "date", "tickformat": "%m-%d", "dtick": 7 * 86_400_000, "showgrid": False},
        "yaxis": {"rangemode": "tozero", "tickformat": ",d",
                  "dtick": count_step(max(max(r.reported, r.closed) for r in rows)),
                  "title": {"text": t("chart.events", lang), "font": {"color": MUTED}}},
    }
    return {"data": traces, "layout": layout}
