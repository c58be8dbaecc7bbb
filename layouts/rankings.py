"""The rankings page (/rankings, issue 7 §2): districts, streets, communities, grids, grid workers and departments
ranked on a scheme's weighted indicators over a month, quarter, year or custom period — every rank explained down
to the cases behind it.

Everything the user chooses is in the URL (``level``, ``scheme``, ``period``, ``area``, ``norm``, ``compare``,
``as_of``, ``lang``), so a pasted link shows the same view; ``as_of`` freezes it.
"""
from __future__ import annotations

from collections.abc import Sequence

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.figures import GRAPH_CONFIG
from dashboard.i18n import bundle, normalise, t
from layouts.admin import GRID_THEME
from layouts.crumbs import child_choices, crumbs

PATH = "/rankings"
EXPORT_PATH = "/rankings/export.xlsx"
PRINT_PATH = "/rankings/print"
PAGE = "rank-page"
STATE = "rank-state"  # what the URL asked for: {"area", "level", "scheme", "period", "norm", "compare"}
VIEW = "rank-view"  # the area in view, resolved inside the caller's scope
LANG = "rank-lang"
FROZEN = "rank-frozen"  # the URL's as_of (naive local); None: live
QUERY = "rank-query"  # the query of the table shown (what the URL, the export and the print view carry)
BREADCRUMB = "rank-breadcrumb"
CRUMB = "rank-crumb"  # pattern {"type": CRUMB, "code": code}
CHILD = "rank-child"
NOTICE = "rank-notice"
LEVEL = "rank-level"
SCHEME = "rank-scheme"
SCHEME_WRAP = "rank-scheme-wrap"
KIND = "rank-kind"
PERIOD = "rank-period"
PERIOD_WRAP = "rank-period-wrap"
DATES = "rank-dates"
DATES_WRAP = "rank-dates-wrap"
NORM = "rank-norm"
COMPARE = "rank-compare"
EXPORT = "rank-export"
PRINT = "rank-print"
HEADER = "rank-header"
GRID = "rank-grid"
EMPTY = "rank-empty"
APART = "rank-apart"  # the block of units below the minimum volume
APART_GRID = "rank-apart-grid"
APART_NOTE = "rank-apart-note"
COMPARE_BLOCK = "rank-compare-block"
COMPARE_GRID = "rank-compare-grid"
COMPARE_CHART = "rank-compare-chart"
WHY = "rank-why"  # the "why this rank" panel (an offcanvas)
WHY_TITLE = "rank-why-title"
WHY_SUMMARY = "rank-why-summary"
WHY_TABLE = "rank-why-table"
WHY_CHART = "rank-why-chart"
WHY_COUNTS = "rank-why-counts"
COUNT = "rank-count"  # pattern {"type": COUNT, "count": name}: list the cases behind one count
UNIT = "rank-unit"  # the unit whose breakdown is open: {"code", "name"}
LISTED = "rank-listed"  # the count listed: {"unit", "count", "title"}
CASES_TITLE = "rank-cases-title"
CASES_COUNT = "rank-cases-count"
CASES_GRID = "rank-cases-grid"
CASES_PAGER = "rank-cases-pager"
DETAIL = "rank-detail"
DETAIL_BODY = "rank-detail-body"

LEVELS = ("district", "street", "community", "grid", "worker", "department")
KINDS = ("month", "quarter", "year", "custom")
NORMS = ("none", "households", "grids", "cases")
CASE_PAGE = 50
CHANGE_KEYS = ("rank.change.up", "rank.change.down", "rank.change.same", "rank.change.none")  # the arrows' words
MAX_PARAM = 40  # characters of any URL parameter the page reads


def _text(value, allowed: Sequence[str] | None = None) -> str | None:
    if not isinstance(value, str) or not value or len(value) > MAX_PARAM:
        return None
    return value if allowed is None or value in allowed else None


def _frozen_marks(as_of) -> dict:
    """Return the root's data-frozen and data-frozen-at when the server takes the URL's as_of (issue 8 §2: the top
    bar says "frozen at", no live stream), else {} — a bad or future as_of leaves the page live."""
    from dashboard import addresses, data

    return addresses.frozen_attrs(as_of, data.window()[0])


def url_state(area=None, level=None, scheme=None, period=None, norm=None, compare=None) -> dict:
    """Return what the URL asks for, each value a short string or None (the callbacks check them in scope)."""
    return {"area": _text(area), "level": _text(level, LEVELS), "scheme": _text(scheme), "period": _text(period),
            "norm": _text(norm, NORMS) or "none", "compare": _text(compare)}


def layout(area=None, lang="zh", as_of=None, level=None, scheme=None, period=None, norm=None, compare=None,
           **_) -> html.Div:
    """Return the rankings page for its URL's query; the callbacks resolve the area, level and period in scope."""
    lang = normalise(lang)
    state = url_state(area, level, scheme, period, norm, compare)
    frozen = _text(as_of)
    return html.Div(id=PAGE, className="rnk", lang="en" if lang == "en" else "zh-CN",
                    **_frozen_marks(as_of), children=[
        dcc.Store(id=STATE, data=state),
        dcc.Store(id=VIEW),
        dcc.Store(id=LANG, data=lang),
        dcc.Store(id=FROZEN, data=frozen),
        dcc.Store(id=QUERY),
        dcc.Store(id=UNIT),
        dcc.Store(id=LISTED),
        _controls(state, lang),
        html.Div(id=NOTICE, className="ovw-notice rnk-notice", role="status"),
        html.Section(className="gcc-card rnk-card", children=[
            html.Div(id=HEADER, className="rnk-header"),
            html.Div(id=EMPTY, className="ovw-empty rnk-empty", hidden=True),
            html.Div(className="rnk-grid-wrap", children=_grid(GRID, lang, "rank.empty")),
            html.Div(id=APART, className="rnk-apart", hidden=True, children=[
                html.H3(t("rank.apart.title", lang), className="rnk-apart-title"),
                html.P(id=APART_NOTE, className="rnk-apart-note"),
                html.Div(className="rnk-apart-wrap", children=_grid(APART_GRID, lang, "rank.empty")),
            ]),
        ]),
        html.Section(id=COMPARE_BLOCK, className="gcc-card rnk-compare", hidden=True, children=[
            html.H2(t("rank.compare.title", lang), className="gcc-card-title"),
            html.Div(className="rnk-compare-body", children=[
                html.Div(className="rnk-compare-grid-wrap", children=dag.AgGrid(
                    id=COMPARE_GRID, className="adm-grid rnk-compare-grid", columnDefs=[], rowData=[],
                    defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True,
                                   "cellDataType": False, "wrapHeaderText": True, "autoHeaderHeight": True},
                    getRowId="params.data.code",
                    dashGridOptions={"theme": {"function": GRID_THEME}, "suppressCellFocus": True,
                                     "domLayout": "autoHeight",
                                     "localeText": {"noRowsToShow": t("rank.compare.nothing", lang)}},
                    style={"width": "100%"})),
                html.Div(className="rnk-compare-chart", children=dcc.Graph(
                    id=COMPARE_CHART, config={**GRAPH_CONFIG, "responsive": False})),
            ]),
        ]),
        _why(lang),
        dbc.Modal(id=DETAIL, is_open=False, size="lg", scrollable=True, className="ovw-detail rnk-detail", children=[
            dbc.ModalHeader(dbc.ModalTitle(t("detail.title", lang))),
            dbc.ModalBody(id=DETAIL_BODY),
        ]),
    ])


def _label(key: str, lang: str, control) -> html.Label:
    return html.Label(className="rnk-control", children=[html.Span(t(key, lang), className="rnk-control-label"),
                                                         control])


def _radios(control_id: str, values: Sequence[str], value: str, prefix: str, lang: str) -> dbc.RadioItems:
    return dbc.RadioItems(
        id=control_id, options=[{"label": t(f"{prefix}.{v}", lang), "value": v} for v in values], value=value,
        className="btn-group rnk-switch", inputClassName="btn-check", labelClassName="btn btn-outline-info btn-sm",
        labelCheckedClassName="active")


def _controls(state: dict, lang: str) -> html.Div:
    kind = kind_of(state["period"])
    return html.Div(className="gcc-card rnk-head", children=[
        html.Div(className="rnk-head-row", children=[
            html.Nav(id=BREADCRUMB, className="ovw-breadcrumb", **{"aria-label": "breadcrumb"}),
            html.Label([html.Span(t("rank.child", lang), className="visually-hidden"),
                        dbc.Select(id=CHILD, options=[], value="", size="sm", className="rnk-child",
                                   placeholder=t("rank.child", lang))],
                       title=t("rank.child", lang), className="rnk-child-label"),
            html.Div(className="rnk-actions", children=[
                html.A(t("rank.export", lang), id=EXPORT, href=EXPORT_PATH, className="btn btn-outline-info btn-sm",
                       title=t("rank.export_hint", lang), **{"data-keep-lang": "0"}),
                html.A(t("rank.print", lang), id=PRINT, href=PRINT_PATH, target="_blank", rel="noopener",
                       className="btn btn-outline-info btn-sm", title=t("rank.print_hint", lang)),
            ]),
        ]),
        html.Div(className="rnk-head-row rnk-controls", children=[
            _label("rank.level", lang, dbc.Select(id=LEVEL, options=[], value=state["level"] or "", size="sm")),
            html.Div(id=SCHEME_WRAP, hidden=True, children=_label(
                "rank.scheme", lang, dbc.Select(id=SCHEME, options=[], value=state["scheme"] or "", size="sm"))),
            _label("rank.kind", lang, _radios(KIND, KINDS, kind, "rank.kind", lang)),
            html.Div(id=PERIOD_WRAP, hidden=kind == "custom", children=_label(
                "rank.period", lang, dbc.Select(id=PERIOD, options=[], value=state["period"] or "", size="sm"))),
            html.Div(id=DATES_WRAP, hidden=kind != "custom", className="rnk-dates", children=_label(
                "rank.dates", lang, dcc.DatePickerRange(
                    id=DATES, display_format="YYYY-MM-DD", minimum_nights=0, clearable=False, first_day_of_week=1,
                    month_format="YYYY年M月" if lang == "zh" else "MMMM YYYY", **custom_dates(state["period"]),
                    start_date_placeholder_text=t("rank.from", lang), end_date_placeholder_text=t("rank.to", lang)))),
            _label("rank.norm", lang, _radios(NORM, NORMS, state["norm"], "rank.norm", lang)),
            _label("rank.compare", lang, dbc.Select(id=COMPARE, options=[], value=state["compare"] or "",
                                                    size="sm", placeholder=t("rank.compare.none", lang))),
        ]),
    ])


def kind_of(period: str | None) -> str:
    """Return the kind of a period key: "2026-10" month, "2026-Q4" quarter, "2026" year, "a..b" custom."""
    if not period:
        return "month"
    if ".." in period:
        return "custom"
    if "-Q" in period:
        return "quarter"
    return "year" if len(period) == 4 else "month"


def custom_dates(period: str | None) -> dict:
    """Return the date picker's start and end of a custom period key, nothing for another kind."""
    if kind_of(period) != "custom":
        return {}
    first, _, last = period.partition("..")
    return {"start_date": first[:10], "end_date": last[:10]}


def _grid(grid_id: str, lang: str, empty_key: str) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id, className="adm-grid rnk-grid", columnDefs=[], rowData=[],
        defaultColDef={"sortable": False, "resizable": True, "suppressHeaderMenuButton": True, "cellDataType": False,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        getRowId="params.data.code", columnSize=None,
        dashGridOptions={"theme": {"function": GRID_THEME}, "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                                                              "enableClickSelection": True},
                         "context": {"labels": bundle(CHANGE_KEYS, lang)},
                         "localeText": {"noRowsToShow": t(empty_key, lang)}, "suppressCellFocus": True,
                         "enableCellTextSelection": True, "tooltipShowDelay": 300},
        style=grid_style(0))


def grid_style(rows: int) -> dict:
    """Return a ranked grid's size: every row in view up to 18, then a scrolling grid (5,000 grid workers stay
    virtual: AG Grid draws only the rows on screen)."""
    return {"width": "100%", "height": f"{70 + 34 * max(2, min(rows, 18))}px"}


def _why(lang: str) -> dbc.Offcanvas:
    return dbc.Offcanvas(id=WHY, is_open=False, placement="end", scrollable=True, className="rnk-why",
                         title=html.Span(id=WHY_TITLE, children=t("rank.why.title", lang)), children=[
        html.Div(id=WHY_SUMMARY, className="rnk-why-summary", role="status"),
        html.Div(id=WHY_TABLE, className="rnk-why-table"),
        dcc.Graph(id=WHY_CHART, config={**GRAPH_CONFIG, "responsive": False}, className="rnk-why-chart"),
        html.H3(t("rank.why.cases", lang), className="rnk-why-h"),
        html.Div(id=WHY_COUNTS, className="rnk-why-counts"),
        html.Div(className="rnk-cases", children=[
            html.Div(id=CASES_TITLE, className="rnk-cases-title"),
            html.Div(id=CASES_COUNT, className="rnk-cases-count", role="status"),
            html.Div(className="rnk-cases-grid-wrap", children=dag.AgGrid(
                id=CASES_GRID, className="adm-grid rnk-cases-grid", columnDefs=[], rowData=[],
                defaultColDef={"sortable": False, "resizable": True, "suppressHeaderMenuButton": True},
                getRowId="params.data.id",
                dashGridOptions={"theme": {"function": GRID_THEME}, "suppressCellFocus": True,
                                 "enableCellTextSelection": True,
                                 "localeText": {"noRowsToShow": t("rank.cases.none", lang)}},
                style={"height": "100%", "width": "100%"})),
            dbc.Pagination(id=CASES_PAGER, max_value=1, active_page=1, fully_expanded=False, first_last=True,
                           previous_next=True, size="sm", className="rnk-pager"),
        ]),
    ])


def breadcrumb(chain: Sequence, lang: str) -> list:
    """Return the path from the scope's top to the area in view; every step above is a button."""
    return crumbs(chain, lang, CRUMB)


def child_options(children: Sequence, lang: str) -> list[dict]:
    """Return the child areas to go down to, after a first "go down to…" choice."""
    return child_choices(children, t("rank.child", lang), lang)


def header(facts: Sequence[tuple[str, str]], provisional: bool, frozen: bool, lang: str) -> list:
    """Return the header block: period, cut-off (数据截至), the 暂定 badge, the configuration version, …"""
    badges = [html.Span(t("rank.provisional" if provisional else "rank.final", lang),
                        className="gcc-badge rnk-badge " + ("rnk-provisional" if provisional else "rnk-final"),
                        title=t("rank.provisional_hint" if provisional else "rank.final_hint", lang))]
    if frozen:
        badges.append(html.Span(t("rank.frozen", lang), className="gcc-badge rnk-badge rnk-frozen"))
    return [html.Div(badges, className="rnk-badges"),
            html.Dl(className="rnk-facts", children=[
                part for label, value in facts
                for part in (html.Dt(label), html.Dd(value, className="rnk-fact"))])]


def why_table(lines: Sequence[dict], lang: str) -> list:
    """Return the breakdown table: per indicator its value, numerator/denominator, weight, points won and lost."""
    head = html.Thead(html.Tr([html.Th(t(f"rank.why.col.{k}", lang))
                               for k in ("indicator", "value", "fraction", "weight", "points", "lost")]))
    body = html.Tbody([html.Tr(className="" if line["counted"] else "rnk-why-out", **{"data-indicator": line["indicator"]},
                               title=None if line["counted"] else t("rank.why.not_counted", lang), children=[
        html.Td(line["name"]), html.Td(line["value"]), html.Td(line["fraction"]), html.Td(line["weight"]),
        html.Td(line["points"]), html.Td(line["lost"])]) for line in lines])
    return [html.Table([head, body], className="rnk-table")]


def count_buttons(counts: Sequence[tuple[str, str, int]], lang: str) -> list:
    """Return one button per count behind the breakdown (its cases are listed below on a click)."""
    return [html.Button(id={"type": COUNT, "count": count}, n_clicks=0, className="btn btn-outline-info btn-sm rnk-count",
                        title=t(f"rank.ind.{indicator}", lang), children=[
        html.Span(t(f"rank.count.{count}", lang)), html.Span(f" {n:,}", className="rnk-count-n")])
        for indicator, count, n in counts]


def case_columns(lang: str, field: bool = False) -> list[dict]:
    """Return the case list's columns: the events' (id opens the timeline), or the field rows' (patrols, visits)."""
    keys = ({"id": 90, "worker": 110, "grid": 130, "building": 200, "at": 150, "extra": 110} if field else
            {"id": 90, "category": 150, "place": 210, "department": 160, "status": 90, "reported": 140,
             "deadline": 140, "handled": 140})
    return [{"field": key, "headerName": t(f"rank.cases.col.{key}", lang), "width": width,
             **({"cellClass": "rnk-case-id", "headerTooltip": t("rank.cases.id_hint", lang)}
                if key == "id" and not field else {})}
            for key, width in keys.items()]
