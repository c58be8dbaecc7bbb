"""Pure plotly builders for the SLA page: on-time rates, splits, backlog age, funnel, handling time, exceptions.

Each builder takes the loaders' dataclasses (queries/sla.py) and returns a plain plotly dict (see
dashboard/figures.py for why not ``go.Figure``). Every clickable mark carries, in ``customdata``, the
selector of the cases behind it as a JSON string (its last element), which the page sends to
``data.sla_cases``: the figure itself says which cases it counted.
Rates are shown in tenths of a percent (real rates cluster near 100 %: 99.8 % and 99.9 % must differ).
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence

from dashboard.figures import GRID_LINE, INK, MUTED, TEMPLATE, _empty
from dashboard.i18n import CATALOGUE, t

# Colour-blind-safe (Okabe–Ito): blue and orange for the two rates, vermilion for what is late.
HANDLE = "#56b4e9"
CLOSE = "#e69f00"
LATE = "#d55e00"
# Backlog age, young to old: a sequential ramp readable without hue (light to dark, then warm).
AGE_COLOURS = ("#a6dba0", "#5aae61", "#e69f00", "#d55e00", "#8c1d04")
# Handling time shares and exception rates: one hue, light (little) to strong (much).
STRIP_SCALE = [[0.0, "rgba(86,180,233,0.04)"], [0.25, "rgba(86,180,233,0.35)"], [1.0, "rgba(86,180,233,1)"]]
EXCEPTION_SCALE = [[0.0, "rgba(230,159,0,0.05)"], [0.3, "rgba(230,159,0,0.45)"], [1.0, "rgba(213,94,0,1)"]]
ROW_PX = 30  # one bar or strip row: long lists scroll in their card instead of squeezing
SPLIT_ROW_PX = 48  # a row of the split: two bars
EXCEPTION_KINDS = ("extension", "returned", "rework", "void")
# The selector figure of each exception rate (queries/sla.py Selector); a click lists the exceptional cases.
EXCEPTION_FIGURES = {"extension": "extension", "returned": "return", "rework": "rework", "void": "void"}
SPLIT_LIMIT = 80  # rows drawn at most (sorted worst first); the case list holds the rest
HANDLING_LIMIT = 80  # departments / categories drawn at most (by volume)


def selector(**fields) -> str:
    """Return the selector of a figure's cases as compact JSON (what a click sends to data.sla_cases)."""
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))


def percent(value: float | None) -> str:
    """Return a share as a percent with one decimal ("99.9%"), or "—" when there is no denominator."""
    return "—" if value is None else f"{value * 100:.1f}%"


def _rate(rate) -> float | None:
    """Return a rate's value in percent, or None."""
    value = rate.value
    return None if value is None else value * 100


def _percent_range(values: Sequence[float | None]) -> list[float]:
    """Return a y range that spreads rates near 100 % apart: from just under the lowest to just over 100."""
    shown = [v for v in values if v is not None]
    low = min(shown) if shown else 0.0
    span = max(100.0 - low, 0.5)
    bottom = max(0.0, math.floor((low - span * 0.25) * 10) / 10)
    return [bottom, 100.0 + span * 0.08]


def trend_figure(points: Sequence, grain: str, lang: str) -> dict:
    """Return 按期处置率 and 按期结案率 per bucket as lines, and the cases not on time as bars beneath.

    The bars (right axis) are handle's denominator minus its numerator: handled late or open past the
    deadline (the trap: an open overdue case counts against the unit). Hover gives numerator/denominator.
    """
    if not any(p.handle.denominator or p.close.denominator for p in points):
        return _empty(t("sla.empty", lang))
    buckets = [p.bucket.isoformat() for p in points]
    traces = []
    for figure, colour, name_key in (("handle", HANDLE, "sla.handle_rate"), ("close", CLOSE, "sla.close_rate")):
        rates = [getattr(p, figure) for p in points]
        name = t(name_key, lang)
        traces.append({
            "type": "scatter", "mode": "lines+markers+text", "name": name, "x": buckets,
            "y": [_rate(r) for r in rates], "line": {"color": colour, "width": 2.5},
            "marker": {"size": 7, "symbol": "circle" if figure == "handle" else "diamond"},
            "text": [percent(r.value) if len(points) <= 14 else "" for r in rates],
            "textposition": "top center", "textfont": {"size": 11, "color": colour},
            "customdata": [[r.numerator, r.denominator, percent(r.value),
                            selector(figure=figure, grain=grain, bucket=b)] for r, b in zip(rates, buckets)],
            "hovertemplate": f"%{{x}} · {name} %{{customdata[2]}}<br>%{{customdata[0]:,}} / %{{customdata[1]:,}}"
                             "<extra></extra>",
            "cliponaxis": False,
        })
    late = [p.handle.denominator - p.handle.numerator for p in points]
    late_name = t("sla.not_on_time", lang)
    traces.insert(0, {
        "type": "bar", "name": late_name, "x": buckets, "y": late, "yaxis": "y2",
        "marker": {"color": LATE, "opacity": 0.55, "pattern": {"shape": "/", "fgcolor": LATE, "size": 6}},
        "customdata": [[n, selector(figure="handle", grain=grain, bucket=b, part="late")]
                       for n, b in zip(late, buckets)],
        "hovertemplate": f"%{{x}} · {late_name} %{{y:,}}<extra></extra>",
    })
    xaxis = {"type": "category" if grain == "week" else "date", "showgrid": False}
    if grain == "month":
        xaxis["tickformat"] = "%Y-%m"
    elif grain == "day":
        xaxis["tickformat"] = "%m-%d"
    all_rates = [_rate(p.handle) for p in points] + [_rate(p.close) for p in points]
    return {"data": traces, "layout": {
        "template": TEMPLATE, "showlegend": True, "hovermode": "closest", "clickmode": "event",
        "xaxis": xaxis,
        "yaxis": {"range": _percent_range(all_rates), "ticksuffix": "%", "tickformat": ".1f", "side": "left",
                  "title": {"text": t("sla.rate_axis", lang), "font": {"color": MUTED}}},
        "yaxis2": {"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero", "tickformat": ",d",
                   "range": [0, max(max(late) * 3, 1)],
                   "title": {"text": t("sla.not_on_time_axis", lang), "font": {"color": MUTED}}},
        "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom", "font": {"color": MUTED}},
    }}


def _label(text: str, width: int = 14) -> str:
    """Return a row label no wider than ``width`` characters (the full name stays in the hover)."""
    return text if len(text) <= width else text[:width - 1] + "…"


def split_figure(rows: Sequence, by: str, lang: str, limit: int = SPLIT_LIMIT) -> dict:
    """Return 按期处置率 per class, department or area as sorted bars (worst at the top), 按期结案率 beside,
    and each row's open-and-overdue count in a column at the right."""
    rows = [r for r in rows if r.handle.denominator or r.close.denominator or r.overdue_open]
    if not rows:
        return _empty(t("sla.empty", lang))
    # Worst first, then more cases first: plotly draws the first category at the bottom, so reverse.
    rows = sorted(rows, key=lambda r: (r.handle.value if r.handle.value is not None else 2.0,
                                       -r.handle.denominator, r.key))[:limit][::-1]
    labels = [f"{_label(r.name)} ·{r.key}" if by == "class" else _label(r.name) for r in rows]
    traces = []
    for figure, colour, name_key in (("close", CLOSE, "sla.close_rate"), ("handle", HANDLE, "sla.handle_rate")):
        rates = [getattr(r, figure) for r in rows]
        name = t(name_key, lang)
        traces.append({
            "type": "bar", "orientation": "h", "name": name, "y": labels,
            "x": [_rate(rate) for rate in rates], "marker": {"color": colour},
            "text": [f"{percent(rate.value)}  {rate.numerator:,}/{rate.denominator:,}" for rate in rates],
            "textposition": "outside", "cliponaxis": False, "textfont": {"size": 11},
            "customdata": [[r.name, percent(rate.value), rate.numerator, rate.denominator,
                            selector(figure=figure, by=by, key=r.key)] for r, rate in zip(rows, rates)],
            "hovertemplate": f"%{{customdata[0]}} · {name} %{{customdata[1]}}<br>%{{customdata[2]:,}} / "
                             "%{customdata[3]:,}<extra></extra>",
        })
    overdue_name = t("sla.overdue_open", lang)
    traces.append({
        "type": "scatter", "mode": "text", "xaxis": "x2", "y": labels, "x": [0] * len(rows),
        "text": [f"<b>{r.overdue_open:,}</b>" if r.overdue_open else "0" for r in rows],
        "textfont": {"color": [LATE if r.overdue_open else MUTED for r in rows], "size": 13},
        "customdata": [[r.name, r.overdue_open, selector(figure="overdue_open", by=by, key=r.key)] for r in rows],
        "hovertemplate": f"%{{customdata[0]}} · {overdue_name} %{{customdata[1]:,}}<extra></extra>",
        "showlegend": False,
    })
    low = _percent_range([_rate(r.handle) for r in rows] + [_rate(r.close) for r in rows])[0]
    return {"data": traces, "layout": {
        "template": TEMPLATE, "showlegend": True, "barmode": "group", "bargap": 0.25, "bargroupgap": 0.05,
        # Two bars a row, each tall enough for its rate and parts at 11 px (else plotly shrinks the text away).
        "height": max(240, len(rows) * SPLIT_ROW_PX + 70), "clickmode": "event",
        # No axis: each bar says its rate and parts (an axis from e.g. 90 % would only crowd the legend).
        "xaxis": {"domain": [0, 0.84], "range": [low, 100 + (100 - low) * 0.55], "visible": False},
        "xaxis2": {"domain": [0.88, 1], "range": [-1, 1], "visible": False},
        "yaxis": {"tickfont": {"size": 12}, "automargin": True},
        "annotations": [{"text": overdue_name, "xref": "paper", "yref": "paper", "x": 0.94, "y": 1, "yanchor": "bottom",
                         "showarrow": False, "font": {"size": 11, "color": LATE}}],
        "legend": {"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom", "traceorder": "reversed",
                   "font": {"color": MUTED}},
        "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
    }}


def age_figure(rows: Sequence, by: str, buckets: Sequence[str], lang: str, limit: int = SPLIT_LIMIT) -> dict:
    """Return the open cases of each row in age buckets (< 1 d … > 30 d) as stacked bars, the most at the top."""
    rows = [r for r in rows if sum(r.buckets)]
    if not rows:
        return _empty(t("sla.empty_backlog", lang))
    rows = sorted(rows, key=lambda r: (-sum(r.buckets), r.key))[:limit][::-1]
    labels = [_label(r.name) for r in rows]
    traces = []
    for i, (bucket, colour) in enumerate(zip(buckets, AGE_COLOURS)):
        name = t(f"sla.age.{bucket}", lang)
        traces.append({
            "type": "bar", "orientation": "h", "name": name, "y": labels, "x": [r.buckets[i] for r in rows],
            "marker": {"color": colour, "line": {"color": "#0b1420", "width": 1}},
            "text": [r.buckets[i] or "" for r in rows], "textposition": "inside", "insidetextanchor": "middle",
            "textfont": {"color": "#0b1420" if i < 3 else "#ffffff", "size": 11},
            "customdata": [[r.name, sum(r.buckets), selector(figure="age", by=by, key=r.key, bin=bucket)]
                           for r in rows],
            "hovertemplate": f"%{{customdata[0]}} · {name}: %{{x:,}} / %{{customdata[1]:,}}<extra></extra>",
        })
    totals = [sum(r.buckets) for r in rows]
    traces.append({"type": "scatter", "mode": "text", "y": labels, "x": totals, "text": [f"{n:,}" for n in totals],
                   "textposition": "middle right", "textfont": {"color": INK, "size": 12}, "hoverinfo": "skip",
                   "showlegend": False, "cliponaxis": False})
    return {"data": traces, "layout": {
        "template": TEMPLATE, "showlegend": True, "barmode": "stack", "bargap": 0.3, "clickmode": "event",
        "height": max(220, len(rows) * ROW_PX + 80),
        "xaxis": {"range": [0, max(totals) * 1.15], "visible": False},
        "yaxis": {"tickfont": {"size": 12}},
        "uniformtext": {"mode": "hide", "minsize": 9},
        "legend": {"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom", "traceorder": "normal",
                   "font": {"color": MUTED}},
        "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
    }}


def _minutes(value: float | None, lang: str) -> str:
    """Return a duration in minutes as it reads best: minutes, hours or days, one decimal."""
    if value is None:
        return "—"
    if value < 60:
        return t("sla.minutes", lang, n=f"{value:.0f}")
    if value < 48 * 60:
        return t("sla.hours", lang, n=f"{value / 60:.1f}")
    return t("sla.days", lang, n=f"{value / 1440:.1f}")


def funnel_figure(stages: Sequence, lang: str) -> dict:
    """Return the loop as a funnel: the cases reaching each stage, with the share of the stage before."""
    if not stages or not stages[0].reached:
        return _empty(t("sla.empty", lang))
    names = [t(f"sla.stage.{s.stage}", lang) for s in stages]
    previous = [stages[0].reached] + [s.reached for s in stages[:-1]]
    colours = [LATE if s.median_min is not None and s.limit_min is not None and s.median_min > s.limit_min
               else HANDLE for s in stages]
    return {"data": [{
        "type": "funnel", "y": names, "x": [s.reached for s in stages],
        "text": [f"{s.reached:,} · {percent(s.reached / p if p else None)}" for s, p in zip(stages, previous)],
        "textinfo": "text", "textposition": "inside", "textfont": {"size": 13, "color": "#0b1420"},
        "marker": {"color": colours}, "connector": {"line": {"color": GRID_LINE}},
        "customdata": [[s.reached, percent(s.reached / p if p else None), selector(figure="funnel", stage=s.stage)]
                       for s, p in zip(stages, previous)],
        "hovertemplate": "%{y}: %{customdata[0]:,} (%{customdata[1]})<extra></extra>",
    }], "layout": {"template": TEMPLATE, "clickmode": "event", "yaxis": {"tickfont": {"size": 13}},
                   "margin": {"l": 8, "r": 8, "t": 4, "b": 4}}}


def funnel_rows(stages: Sequence, lang: str) -> list[dict]:
    """Return each stage's timing as table cells: median, p90 and limit read as durations; over = median > limit.

    Nothing when no case was reported (the funnel says so).
    """
    if not stages or not stages[0].reached:
        return []
    return [{
        "stage": s.stage, "name": t(f"sla.stage.{s.stage}", lang), "reached": f"{s.reached:,}",
        "median": _minutes(s.median_min, lang), "p90": _minutes(s.p90_min, lang), "limit": _minutes(s.limit_min, lang),
        "over": f"{s.over_limit:,}/{s.timed:,}" if s.timed else "—",
        "late": s.median_min is not None and s.limit_min is not None and s.median_min > s.limit_min,
    } for s in stages]


def bin_labels(edges: Sequence[float], lang: str) -> list[str]:
    """Return the labels of the handling-time bins from their edges in hours (< 1 h, 1–2 h, …, 1–2 d, > 7 d)."""
    def span(low: float | None, high: float | None) -> str:
        in_hours = (high if high is not None else low) <= 24
        scale = 1 if in_hours else 24
        low_text = "" if low is None else f"{low / scale:g}"
        high_text = "" if high is None else f"{high / scale:g}"
        text = f"{low_text}–{high_text}" if low_text and high_text else low_text or high_text
        return t("sla.h" if in_hours else "sla.d", lang, n=text)

    return [f"<{span(None, edges[0])}", *[span(a, b) for a, b in zip(edges, edges[1:])], f">{span(edges[-1], None)}"]


def handling_figure(rows: Sequence, by: str, edges: Sequence[float], keys: Sequence[str], lang: str,
                    limit: int = HANDLING_LIMIT) -> dict:
    """Return the handling time of each class or department as a heat strip of its bins (share of its cases),
    the most cases at the top, with n, median and p90 hours in a column at the right.

    ``edges`` are the bins' edges in hours, ``keys`` their names in a selector (queries/sla.py HOUR_BIN_KEYS).
    """
    rows = [r for r in rows if r.n]
    if not rows:
        return _empty(t("sla.empty", lang))
    rows = sorted(rows, key=lambda r: (-r.n, r.key))[:limit][::-1]
    labels = [_label(r.name) for r in rows]
    columns = bin_labels(edges, lang)
    z = [[count / r.n for count in r.bins] for r in rows]
    strip = {
        "type": "heatmap", "x": columns, "y": labels, "z": z, "zmin": 0, "zmax": 1, "colorscale": STRIP_SCALE,
        "showscale": False, "xgap": 2, "ygap": 2,
        "text": [[f"{count:,}" if count else "" for count in r.bins] for r in rows], "texttemplate": "%{text}",
        "textfont": {"size": 11, "color": INK},
        "customdata": [[[r.name, count, r.n, selector(figure="handling", by=by, key=r.key, bin=keys[i])]
                        for i, count in enumerate(r.bins)] for r in rows],
        "hovertemplate": "%{customdata[0]} · %{x}: %{customdata[1]:,} / %{customdata[2]:,}<extra></extra>",
    }
    stats_name = t("sla.median_p90", lang)
    stats = {
        "type": "scatter", "mode": "text", "xaxis": "x2", "y": labels, "x": [0] * len(rows),
        "text": [f"{_hours(r.median_h)} / {_hours(r.p90_h)}  ({r.n:,})" for r in rows],
        "textfont": {"size": 12, "color": INK},
        "customdata": [[r.name, selector(figure="handling", by=by, key=r.key)] for r in rows],
        "hovertemplate": f"%{{customdata[0]}} · {stats_name} %{{text}}<extra></extra>", "showlegend": False,
    }
    return {"data": [strip, stats], "layout": {
        "template": TEMPLATE, "clickmode": "event", "height": max(220, len(rows) * ROW_PX + 70),
        "xaxis": {"domain": [0, 0.73], "side": "top", "showgrid": False, "tickfont": {"size": 11}, "type": "category"},
        "xaxis2": {"domain": [0.75, 1], "range": [-1, 1], "visible": False},
        "yaxis": {"tickfont": {"size": 12}, "showgrid": False},
        "annotations": [{"text": stats_name, "xref": "paper", "yref": "paper", "x": 0.75, "xanchor": "left", "y": 1,
                         "yanchor": "bottom", "showarrow": False, "font": {"size": 11, "color": MUTED}}],
        "margin": {"l": 8, "r": 8, "t": 40, "b": 8},
    }}


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}h"


def exceptions_figure(rows: Sequence, by: str, lang: str, limit: int = SPLIT_LIMIT) -> dict:
    """Return 延期率, 回退率, 返工率 and 作废率 of each department or area as a table of coloured cells,
    each with its rate and numerator/denominator; the most cases at the top."""
    rows = [r for r in rows if any(rate is not None and rate.denominator for rate in _kinds(r))]
    if not rows:
        return _empty(t("sla.empty", lang))
    kinds = [k for k in EXCEPTION_KINDS if any(getattr(r, k) is not None for r in rows)]
    rows = sorted(rows, key=lambda r: (-max((x.denominator for x in _kinds(r) if x is not None), default=0),
                                       r.key))[:limit][::-1]
    labels = [_label(r.name) for r in rows]
    cells = [[getattr(r, k) for k in kinds] for r in rows]
    # Colour by each column's own spread: a 0.2 % extension rate and a 5 % void rate must both show.
    tops = [max((row[j].value or 0) for row in cells if row[j] is not None) or 1 for j in range(len(kinds))]
    return {"data": [{
        "type": "heatmap", "x": [t(f"sla.kind.{k}", lang) for k in kinds], "y": labels,
        "z": [[None if c is None or c.value is None else c.value / top for c, top in zip(row, tops)] for row in cells],
        "zmin": 0, "zmax": 1, "colorscale": EXCEPTION_SCALE, "showscale": False, "xgap": 2, "ygap": 2,
        "text": [["—" if c is None else f"{percent(c.value)} · {c.numerator:,}/{c.denominator:,}" for c in row]
                 for row in cells],
        "texttemplate": "%{text}", "textfont": {"size": 12, "color": INK},
        "customdata": [[[r.name, selector(figure=EXCEPTION_FIGURES[k], by=by, key=r.key, part="numerator")]
                        for k in kinds]
                       for r in rows],
        "hovertemplate": "%{customdata[0]} · %{x}: %{text}<extra></extra>",
    }], "layout": {
        "template": TEMPLATE, "clickmode": "event", "height": max(200, len(rows) * ROW_PX + 60),
        "xaxis": {"side": "top", "showgrid": False, "type": "category", "tickfont": {"size": 12}},
        "yaxis": {"tickfont": {"size": 12}, "showgrid": False},
        "margin": {"l": 8, "r": 8, "t": 32, "b": 8},
    }}


def _kinds(row) -> list:
    return [getattr(row, k) for k in EXCEPTION_KINDS]


def clicked_selector(click_data) -> str | None:
    """Return the selector JSON carried by a clicked mark (last element of its customdata), or None."""
    points = click_data.get("points") if isinstance(click_data, dict) else None
    point = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else None
    custom = point.get("customdata") if point else None
    found = custom[-1] if isinstance(custom, list) and custom else None
    return found if isinstance(found, str) else None


def clicked_label(click_data) -> str:
    """Return what a clicked mark reads as (its row and column labels), at most 80 characters."""
    points = click_data.get("points") if isinstance(click_data, dict) else None
    point = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
    parts = [point.get(axis) for axis in ("y", "x")]
    custom = point.get("customdata")
    if isinstance(custom, list) and custom and isinstance(custom[0], str):
        parts[0] = custom[0]  # the full name (row labels are shortened)
    text = " · ".join(str(p) for p in parts if isinstance(p, str) and p)
    return text[:80]


def cases_title(selector: dict, label: str, lang: str) -> str:
    """Return the title of a case list: the figure it comes from, then what was clicked."""
    key = f"sla.fig.{selector.get('figure')}"
    name = t(key, lang) if key in CATALOGUE else t("sla.cases", lang)
    bucket = f"sla.age.{selector.get('bin')}"
    extra = t("sla.not_on_time", lang) if selector.get("part") == "late" else (
        t(bucket, lang) if selector.get("figure") == "age" and bucket in CATALOGUE else "")
    return " · ".join(p for p in (name, label, extra) if p)
