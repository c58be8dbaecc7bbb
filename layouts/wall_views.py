"""The SLA page, the rankings and the backlog desk as the wall shows them (issue 8 §1, spec §5).

``RENDERERS[path](view, scope=, lang=)`` returns one tree that fills its slot of the wall: big numerals, few
words, bars drawn as boxes and a trend as an inline SVG — every size in ``var(--u)`` (assets/gridcc-wall-views.css),
so it reads the same at 1920×1080, 3840×2160 and on a 32:9 wall. The numbers come from the loaders the pages and
the API use (dashboard/data.py, dashboard/rank_service.py), live (the wall has no cut-off). Nothing personal: no
reporter, description or phone number reaches these loaders' answers here, and a grid worker is named by their
grid and a masked name (dashboard/privacy.py), never in full. Colour is never the only cue: every light and
change carries a symbol and a word.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

import numpy as np
from dash import html

from dashboard import backlog, data, rank_figures, rank_service
from dashboard.i18n import level_name, t
from dashboard.lights import lights as lights_of
from dashboard.privacy import mask_text
from dashboard.sla_figures import percent
from dashboard.views import View
from layouts.wall_overview import line_chart_svg
from queries.scope import Scope
from queries.sla import Rate

BARS = 10  # child areas in a bar list
TOP = 10  # rows of a ranking's head
BOTTOM = 3  # rows of its tail ("需关注")
LATE_CASES = 8  # the backlog's most overdue cases listed
SEARCH_SHOWN = 16  # characters of a backlog view's search shown in its head
WEEKLY_AFTER = timedelta(days=62)  # a longer SLA period's trend is drawn per week
SLA_PERIODS = ("7d", "30d", "month", "last_month", "custom")
# Symbols beside the lights' colours (red ■, yellow ▲, green ●, no clock ○): told apart without colour.
LIGHT_MARKS = {"red": "■", "yellow": "▲", "green": "●", "none": "○"}
# Cividis, dark to light (colour-blind safe; light = better): the bars of an on-time rate.
CIVIDIS = ("#5b6d9e", "#80879a", "#a9a58c", "#d3c470", "#f6de4f")
TREND_CLOSE = "#e69f00"  # Okabe–Ito orange and blue, as the SLA page's two rates
TREND_HANDLE = "#56b4e9"


# -- small parts ------------------------------------------------------------------------------------------------
def _panel(kind: str, title: str, *body, extra: Sequence = ()) -> html.Div:
    """Return one box of a view: a title line (with ``extra`` at its right) over its body."""
    return html.Div(className=f"wall-panel wv-panel wv-{kind}", children=[
        html.Div(className="wv-head", children=[html.Div(title, className="wv-title"), *extra]),
        *body,
    ])


def _empty(text: str) -> html.Div:
    return html.Div(text, className="wv-empty", role="status")


def _count(value: int) -> str:
    return f"{int(value):,}"


def _svg_img(svg: str, alt: str, kind: str) -> html.Img:
    """Return an SVG document as an image (Dash has no SVG elements; a data URL needs no request)."""
    return html.Img(src="data:image/svg+xml;utf8," + quote(svg), alt=alt, className=f"wv-svg wv-svg-{kind}")


def _per(name: str, lang: str) -> str:
    """Return a level's or a split's name as it reads after "by" ("by district", not "by District")."""
    return name.lower() if lang == "en" else name


def _area(view: View, scope: Scope):
    """Return the view's area when it is in the caller's scope, else the scope's own (as the pages do)."""
    code = view.get("area")
    found = data.area(scope, code) if isinstance(code, str) and code.isdigit() and len(code) <= 15 else None
    return found or data.area(scope, scope.area_code)


def _rate_colour(share: float | None) -> str:
    """Return the cividis colour of a position 0–1 on a bar's scale (light = better)."""
    if share is None:
        return CIVIDIS[0]
    return CIVIDIS[min(len(CIVIDIS) - 1, max(0, int(share * len(CIVIDIS))))]


def scale_floor(values: Sequence[float | None]) -> float:
    """Return where a rate scale starts so rates near 100 % stand apart: half the lowest's gap to 100 % below it,
    down to a multiple of 5 % (0 when nothing counts). The scale is written beside the bars: nothing hides it."""
    shown = [v for v in values if v is not None]
    if not shown:
        return 0.0
    low = min(shown)
    span = max(1.0 - low, 0.005)
    return max(0.0, math.floor((low - span * 0.5) * 20 + 1e-9) / 20)


def _on_scale(value: float, floor: float) -> float:
    return (value - floor) / (1.0 - floor) if floor < 1.0 else 1.0


def _bar(label: str, share: float, value: str, *, colour: str, title: str | None = None, mark: str = "",
         parts: Sequence[tuple[float, str]] = ()) -> html.Div:
    """Return one bar row: its name, a track filled to ``share`` (0–1, or coloured ``parts``), the value as text."""
    fills = [html.Div(className=f"wv-fill {cls}", style={"width": f"{100 * max(0.0, min(1.0, s)):.1f}%"})
             for s, cls in parts] or [html.Div(className="wv-fill", style={
                 "width": f"{100 * max(0.0, min(1.0, share)):.1f}%", "background": colour})]
    return html.Div(className="wv-bar", title=title, children=[
        html.Div([html.Span(mark, className="wv-bar-mark") if mark else None, label], className="wv-bar-name"),
        html.Div(fills, className="wv-track"),
        html.Div(value, className="wv-bar-value"),
    ])


# -- /sla -------------------------------------------------------------------------------------------------------
def total_rates(rows: Sequence) -> tuple[Rate, Rate]:
    """Return (按期处置率, 按期结案率) of the whole area: the sum of its split rows' parts (the codes nest)."""
    handle = Rate("all", "", sum(r.handle.numerator for r in rows), sum(r.handle.denominator for r in rows))
    close = Rate("all", "", sum(r.close.numerator for r in rows), sum(r.close.denominator for r in rows))
    return handle, close


def trend_svg(points: Sequence, floor: float = 0.0) -> str:
    """Return 按期结案率 (solid) and 按期处置率 (dashed) per bucket on a ``floor``–100 % scale as an SVG document.

    A bucket with nothing to count leaves a gap. The drawing stretches to its box (viewBox, no size).
    """
    def heights(values: Sequence[float | None]) -> list[float | None]:
        return [None if v is None else max(0.0, _on_scale(v, floor)) for v in values]

    return line_chart_svg(((TREND_HANDLE, 1.6, "4 2", heights([p.handle.value for p in points])),
                           (TREND_CLOSE, 2.4, "none", heights([p.close.value for p in points]))),
                          grid="#2a3d5c", extra='stroke-linecap="round" vector-effect="non-scaling-stroke" ')


def _sla_window(view: View) -> tuple[str, datetime, datetime, datetime]:
    """Return (period, as_of, since, until) of an SLA view, live: the page's own period rules."""
    from callbacks.sla import period_window

    period = view.get("period") if view.get("period") in SLA_PERIODS else "30d"
    as_of = data.window()[0]
    since, until = period_window(period, view.get("start"), view.get("end"), as_of)
    return period, as_of, since, until


def _light_tiles(counts, lang: str) -> html.Div:
    tiles = []
    for key in ("red", "yellow", "green", "none"):
        value = getattr(counts, key)
        tiles.append(html.Div(className=f"wv-light wv-light-{key}" + (" wv-alert" if key == "red" and value else ""),
                              **{"data-light": key}, children=[
            html.Div([html.Span(LIGHT_MARKS[key], className="wv-light-mark", **{"aria-hidden": "true"}),
                      t(f"sla.light.{key}", lang)], className="wv-light-label"),
            html.Div(_count(value), className="wv-light-value"),
        ]))
    soon = counts.turning_red_2h
    return html.Div(className="wv-lights-body", children=[
        html.Div(tiles, className="wv-lights"),
        html.Div(className="wv-soon" + (" wv-alert" if soon else ""), **{"data-light": "turning_red_2h"}, children=[
            html.Span("◆", className="wv-soon-mark", **{"aria-hidden": "true"}),
            html.Span(t("sla.light.turning_red_2h", lang)),
            html.Span(_count(soon), className="wv-soon-value"),
        ]),
        *([_empty(t("sla.empty_backlog", lang))] if not counts.total else []),
    ])


def sla_child_bars(rows: Sequence, lang: str, limit: int = BARS) -> tuple[list, float]:
    """Return (the children's 按期结案率 as bars, the scale's floor): the worst first (then the most cases);
    children with nothing to count are left out."""
    counted = sorted((r for r in rows if r.close.denominator and r.key),
                     key=lambda r: (r.close.value, -r.close.denominator, r.key))[:limit]
    floor = scale_floor([r.close.value for r in counted])
    return [_bar(r.name or r.key, _on_scale(r.close.value, floor), f"{percent(r.close.value)}  {r.close.numerator:,}/"
                 f"{r.close.denominator:,}", colour=_rate_colour(_on_scale(r.close.value, floor)), title=r.key)
            for r in counted], floor


def sla(view: View, *, scope: Scope, lang: str) -> html.Div:
    """Return the wall's SLA view: the on-time rate, the open cases' lights, the children's rates and the trend."""
    area = _area(view, scope)
    period, as_of, since, until = _sla_window(view)
    grain = "day" if until - since <= WEEKLY_AFTER else "week"
    rows = data.sla_split(scope, area.code, "area", since, until, as_of)
    handle, close = total_rates(rows)
    counts = data.sla_lights(scope, area.code, as_of)
    points = data.sla_trend(scope, area.code, grain, since, until, as_of)
    period_text = t(f"sla.period.{period}", lang) if period != "custom" else \
        f"{since:%m-%d} – {(until - timedelta(minutes=1)):%m-%d}"
    headline = html.Div(className="wall-panel wv-panel wv-rate", children=[
        html.Div(className="wv-head", children=[
            html.Div(t("sla.close_rate", lang), className="wv-title"),
            html.Div(period_text, className="wv-tag")]),
        html.Div(percent(close.value), className="wv-big", **{"data-value": percent(close.value)}),
        html.Div(t("wallv.close_parts", lang, n=_count(close.numerator), d=_count(close.denominator)),
                 className="wv-parts"),
        html.Div(className="wv-second", children=[
            html.Span(t("sla.handle_rate", lang), className="wv-second-label"),
            html.Span(percent(handle.value), className="wv-second-value"),
            html.Span(f"{handle.numerator:,}/{handle.denominator:,}", className="wv-second-parts"),
        ]),
        *([_empty(t("sla.empty", lang))] if not close.denominator and not handle.denominator else []),
    ])
    bars, bar_floor = sla_child_bars(rows, lang)
    trend_floor = scale_floor([v for p in points for v in (p.close.value, p.handle.value)])
    child_title = t("wallv.by_child", lang, level=_per(level_name(min(area.level + 1, 5), lang), lang))
    trend_body = [_empty(t("sla.empty", lang))] if not any(p.close.denominator or p.handle.denominator
                                                            for p in points) else [
        html.Div(_svg_img(trend_svg(points, trend_floor), t("sla.panel.trend", lang), "trend"),
                 className="wv-svg-box"),
        html.Div([html.Span(f"{points[0].bucket:%m-%d}"),
                  html.Span(t("wallv.scale", lang, low=f"{trend_floor * 100:.0f}"), className="wv-axis-note"),
                  html.Span(f"{points[-1].bucket:%m-%d}")], className="wv-axis")]
    return html.Div(className="wall-view wall-view-sla", **{"data-area": area.code}, children=[
        headline,
        _panel("lights-panel", t("sla.panel.lights", lang), _light_tiles(counts, lang)),
        _panel("children", child_title, html.Div(bars or [_empty(t("sla.empty", lang))], className="wv-bars"),
               extra=[html.Div(t("wallv.worst_first", lang) + " · " + t("wallv.scale", lang, low=f"{bar_floor * 100:.0f}"),
                               className="wv-tag")]),
        _panel("trend", t("sla.panel.trend", lang), *trend_body, extra=[html.Div(className="wv-keys", children=[
            html.Span([html.Span("━", className="wv-key-close"), t("sla.close_rate", lang)]),
            html.Span([html.Span("┅", className="wv-key-handle"), t("sla.handle_rate", lang)])])]),
    ])


# -- /rankings --------------------------------------------------------------------------------------------------
def unit_name(row, level: str, lang: str) -> str:
    """Return how a ranked unit is named on a public wall: a grid worker as their grid, 网格员 and a masked name."""
    if level != "worker":
        return row.name
    grid = row.parent_name or row.parent_code or ""
    return " ".join(p for p in (grid, t("rank.col.name.worker", lang), mask_text(row.name) or "") if p)


def _rank_row(row, level: str, lang: str, *, attention: bool = False) -> html.Div:
    change, key = rank_figures.change_text(row.change, lang)
    return html.Div(className="wv-rank-row" + (" wv-attention" if attention else ""), **{"data-code": row.code},
                    children=[
        html.Div("—" if row.rank is None else str(row.rank), className="wv-rank-no"),
        html.Div(unit_name(row, level, lang), className="wv-rank-name"),
        html.Div(rank_figures.score_text(row.score), className="wv-rank-score"),
        html.Div(row.grade or "—", className="wv-rank-grade"),
        html.Div(change, className=f"wv-rank-change wv-change-{key}",
                 title=rank_figures.change_title(row.change, row.prev_rank, lang)),
    ])


def _rank_head(lang: str, level: str) -> html.Div:
    return html.Div(className="wv-rank-row wv-rank-colhead", children=[
        html.Div(t("rank.col.rank", lang)), html.Div(t(f"rank.col.name.{level}", lang)),
        html.Div(t("rank.col.score", lang), className="wv-rank-score"), html.Div(t("rank.col.grade", lang)),
        html.Div(t("rank.col.change", lang))])


def rank_choice(view: View, scope: Scope) -> dict:
    """Return the ranking a view asks for (level, scheme, area, period), with the page's defaults."""
    from callbacks.rankings import levels_in_view

    area = _area(view, scope)
    levels = levels_in_view(scope, area.level)
    level = view.get("level") if view.get("level") in levels else (levels[0] if levels else None)
    today = data.window()[0].date()
    return {"level": level, "scheme": view.get("scheme"), "area": area.code,
            "period": view.get("period") or rank_figures.default_period("month", today)}


def rankings(view: View, *, scope: Scope, lang: str) -> html.Div:
    """Return the wall's ranking: the first ten with rank, name, score, grade and change; the last three apart."""
    choice = rank_choice(view, scope)

    def refused(words: str) -> html.Div:
        return html.Div(className="wall-view wall-view-rankings", children=[
            _panel("rank-top", t("rank.title", lang), _empty(words))])

    if choice["level"] is None:
        return refused(t("rank.empty", lang))
    try:
        ranking = rank_service.ranking(scope, level=choice["level"], scheme=choice["scheme"], area=choice["area"],
                                       period=choice["period"], history=False)
    except (ValueError, LookupError) as error:
        return refused(t("rank.refused", lang, why=str(error).strip("'\"")))
    from dashboard.rankings import period_label

    ranked, apart = rank_figures.split_rows(ranking.rows)
    ranked = [r for r in ranked if r.rank is not None]
    level = ranking.level
    tail = ranked[-BOTTOM:] if len(ranked) > BOTTOM else []
    tail_codes = {r.code for r in tail}
    facts = [period_label(ranking.period, lang), t(f"rank.scheme.{ranking.scheme}", lang),
             t("rank.provisional" if ranking.provisional else "rank.final", lang)]
    top_body = ([_rank_head(lang, level), *[_rank_row(r, level, lang, attention=r.code in tail_codes)
                                            for r in ranked[:TOP]]]
                if ranked else [_empty(t("wallv.no_ranking", lang))])
    note = [html.Div(t("wallv.apart", lang, n=len(apart), min=ranking.min_volume), className="wv-note")] \
        if apart else []
    title = t("wallv.rank_top", lang, level=t(f"rank.level.{level}", lang), area=ranking.area.name)
    return html.Div(className="wall-view wall-view-rankings", **{"data-level": level}, children=[
        _panel("rank-top", title, html.Div(top_body, className="wv-rank-table"), *note,
               extra=[html.Div(" · ".join(facts), className="wv-tag")]),
        _panel("rank-tail", t("wallv.attention", lang),
               html.Div([_rank_row(r, level, lang, attention=True) for r in tail]
                        or [_empty(t("wallv.no_ranking", lang) if not ranked else t("wallv.no_tail", lang))],
                        className="wv-rank-table"),
               html.Div(t("wallv.cutoff", lang, at=f"{ranking.cutoff:%Y-%m-%d %H:%M}"), className="wv-note")),
    ])


# -- /backlog ---------------------------------------------------------------------------------------------------
def backlog_filters(view: View) -> dict:
    """Return the desk's filters a backlog view carries, read as the desk reads its URL (dashboard/addresses.py):
    quick filters, search and the grid's column filters (the wall's list is always the most overdue first)."""
    from dashboard.addresses import desk_from_url

    desk = desk_from_url(dict(view.query)) or {}
    return {"quick": backlog.parse_quick(desk.get("quick")), "search": backlog.parse_search(desk.get("search")),
            "filters": backlog.parse_filters(desk.get("filter"))}


def backlog_state(view: View, scope: Scope, lang: str):
    """Return (the view's open cases in the desk's order, their lights, as_of) — the desk's frame, filtered."""
    prepared = data.backlog_table(scope, lang)
    as_of = data.window()[0]
    calendar = data.backlog_calendar()
    chosen = backlog_filters(view)
    shares = data.backlog_shares(prepared, as_of)
    positions, _ = backlog.select_rows(prepared, as_of=as_of, calendar=calendar, filters=chosen["filters"],
                                       search=chosen["search"], quick=chosen["quick"], lang=lang,
                                       shares_of=shares)
    rows = prepared.iloc[positions]
    lit = lights_of(shares()[positions]) if len(positions) else np.array([], dtype=object)
    return rows, lit, as_of


def _late_line(row, as_of: datetime, lang: str) -> html.Div:
    over = max(0, math.ceil((as_of - row.deadline_at.to_pydatetime()).total_seconds() / 60))
    return html.Div(className="wv-late", children=[
        html.Span(LIGHT_MARKS["red"], className="wv-late-mark", **{"aria-hidden": "true"}),
        html.Span(row.category_text, className="wv-late-cat"),
        html.Span(row.grid if isinstance(row.grid, str) and row.grid else row.grid_code, className="wv-late-grid"),
        html.Span(t("desk.over", lang, span=backlog.duration_text(over, lang)), className="wv-late-over"),
    ])


def backlog_children(rows, lit, scope: Scope, area, lang: str, limit: int = BARS) -> tuple[str, list]:
    """Return (what the bars are per, the bars): the open cases per child area — per category inside a grid —
    with the overdue part marked, the most overdue first."""
    kids = data.children(scope, area.code) if area.level < 4 else []
    if kids:
        width = len(kids[0].code)
        keys = rows["grid_code"].astype(str).str[:width].to_numpy() if len(rows) else np.array([], dtype=object)
        units, per = [(kid.code, kid.name) for kid in kids], level_name(min(area.level + 1, 5), lang)
    else:
        keys = rows["category_text"].astype(str).to_numpy() if len(rows) else np.array([], dtype=object)
        units, per = [(name, name) for name in sorted(set(keys))], t("sla.by.category", lang)
    red = lit == "red"
    counted = []
    for key, name in units:
        mine = keys == key
        total = int(mine.sum())
        if total:
            counted.append((int((mine & red).sum()), total, key, name))
    counted.sort(key=lambda c: (-c[0], -c[1], c[2]))
    most = max((c[1] for c in counted), default=1)
    return per, [_bar(name, total / most, t("wallv.red_of_open", lang, red=_count(late), n=_count(total)),
                      colour="", title=key, mark=LIGHT_MARKS["red"] if late else "",
                      parts=[(late / most, "wv-fill-red"), ((total - late) / most, "wv-fill-open")])
                 for late, total, key, name in counted[:limit]]


def backlog_view(view: View, *, scope: Scope, lang: str) -> html.Div:
    """Return the wall's backlog: overdue and nearly-overdue counts, the children's backlog, the most overdue cases."""
    area = data.area(scope, scope.area_code)
    rows, lit, as_of = backlog_state(view, scope, lang)
    red, yellow = int((lit == "red").sum()), int((lit == "yellow").sum())
    chosen = backlog_filters(view)
    search = chosen["search"] if len(chosen["search"]) <= SEARCH_SHOWN else chosen["search"][:SEARCH_SHOWN] + "…"
    filtered = [t(f"desk.quick.{q}", lang) for q in chosen["quick"]] + ([f"“{search}”"] if search else [])
    late = rows[lit == "red"].sort_values(["deadline_at", "id"], kind="mergesort").head(LATE_CASES)
    figures = html.Div(className="wall-panel wv-panel wv-counts", children=[
        html.Div(className="wv-head", children=[
            html.Div(t("wallv.open_now", lang, n=_count(len(rows))), className="wv-title"),
            *([html.Div(t("wallv.filtered", lang, what=" · ".join(filtered)), className="wv-tag")] if filtered
              else [])]),
        html.Div(className="wv-count-pair", children=[
            html.Div(className="wv-count wv-count-red" + (" wv-alert" if red else ""), **{"data-light": "red"},
                     children=[html.Div([html.Span(LIGHT_MARKS["red"], className="wv-light-mark"),
                                         t("wallv.overdue", lang)], className="wv-light-label"),
                               html.Div(_count(red), className="wv-big")]),
            html.Div(className="wv-count wv-count-yellow", **{"data-light": "yellow"},
                     children=[html.Div([html.Span(LIGHT_MARKS["yellow"], className="wv-light-mark"),
                                         t("wallv.nearly", lang)], className="wv-light-label"),
                               html.Div(_count(yellow), className="wv-big")]),
        ]),
    ])
    per, bars = backlog_children(rows, lit, scope, area, lang)
    child_title = t("wallv.by_child_open", lang, level=_per(per, lang))
    return html.Div(className="wall-view wall-view-backlog", **{"data-area": area.code}, children=[
        figures,
        _panel("children", child_title, html.Div(bars or [_empty(t("sla.empty_backlog", lang))], className="wv-bars"),
               extra=[html.Div(className="wv-keys", children=[
                   html.Span([html.Span("■", className="wv-key-red"), t("wallv.overdue", lang)]),
                   html.Span([html.Span("■", className="wv-key-open"), t("wallv.open", lang)])])]),
        _panel("late-panel", t("wallv.most_overdue", lang),
               html.Div([_late_line(r, as_of, lang) for r in late.itertuples(index=False)]
                        or [_empty(t("wallv.none_overdue", lang))], className="wv-late-list")),
    ])


RENDERERS = {"/sla": sla, "/rankings": rankings, "/backlog": backlog_view}
