"""The backlog desk (/backlog): the open cases in the caller's scope, a live countdown on each, and the actions.

AG Grid's infinite row model asks the server for each block of rows (callbacks/backlog.py); the sort,
filter, search, quick filters and the column choice are the user's own, restored from user_prefs.
"""
from __future__ import annotations

import dash_ag_grid as dag
from dash import dcc, html

from dashboard import access, addresses, data, desk
from dashboard.backlog import COLUMNS, QUICK
from dashboard.i18n import normalise, t
from layouts.admin import GRID_THEME

PATH = "/backlog"
LANG = "backlog-lang"
TICK = "backlog-tick"  # set by assets/gridcc-live.js when a change reaches the scope: the rows in view refresh
LABELS = "backlog-labels"
SAVED = "backlog-saved"  # the last view saved to user_prefs (nothing reads it: an output must go somewhere)
ADDRESS = "backlog-address"  # the view's URL keys {quick, q, sort, filter} (assets/gridcc-clientside.js mirrors them)
MIRRORED = "backlog-mirrored"  # what was last written into the address bar (a callback without output never starts)
HEAD_COUNT = "backlog-count"
SEARCH = "backlog-search"
QUICK_FILTERS = "backlog-quick"
COLUMN_CHOICE = "backlog-columns"
RESET = "backlog-reset"
EXPORT = "backlog-export"
GRID_WRAP = "backlog-grid-wrap"
GRID = "backlog-grid"
EMPTY = "backlog-empty"
ACTION_BAR = "backlog-actions"
SELECTED = "backlog-selected"
REQUESTED = "backlog-requested"
ACTION = "backlog-action"
REASON = "backlog-reason"
FOLLOW_UP = "backlog-follow-up"
UNTIL = "backlog-until"
DEPARTMENT = "backlog-department"
DEPARTMENTS = "backlog-departments"
SUBMIT = "backlog-submit"
RESULT = "backlog-result"
EXPORT_PATH = "/backlog/export.xlsx"

WIDTHS = {"id": 90, "category": 170, "place": 220, "department": 170, "stage": 96, "reported": 142,
          "deadline": 142, "countdown": 140, "light": 112, "age": 104, "flags": 240}
FILTERS = {"text": "agTextColumnFilter", "number": "agNumberColumnFilter", "date": "agDateColumnFilter"}
FILTER_OPTIONS = {"text": ["contains", "notContains", "equals", "startsWith"],
                  "number": ["equals", "lessThan", "greaterThan", "inRange"],
                  "date": ["equals", "lessThan", "greaterThan", "inRange"]}
# AG Grid's own words in Chinese (its menus are English otherwise).
GRID_LOCALE_ZH = {
    "contains": "包含", "notContains": "不包含", "equals": "等于", "notEqual": "不等于", "startsWith": "开头是",
    "endsWith": "结尾是", "lessThan": "小于", "greaterThan": "大于", "inRange": "介于", "blank": "为空",
    "notBlank": "不为空", "andCondition": "且", "orCondition": "或", "filterOoo": "筛选…", "resetFilter": "重置",
    "applyFilter": "应用", "clearFilter": "清除", "inRangeStart": "从", "inRangeEnd": "到", "loadingOoo": "加载中…",
    "noRowsToShow": "没有符合条件的案件", "dateFormatOoo": "yyyy-mm-dd", "page": "页", "to": "至", "of": "共",
}
# Which inputs each action shows (the others are hidden).
ACTION_INPUTS = {"supervise": FOLLOW_UP, "request_extension": UNTIL, "redispatch": DEPARTMENT,
                 "whistle": DEPARTMENTS}


def column_defs(lang: str) -> list[dict]:
    """Return the grid's columns, headers in ``lang``; the countdown and light are drawn by assets/gridcc-backlog.js."""
    defs = []
    for col, (kind, _) in COLUMNS.items():
        spec = {"field": col, "colId": col, "headerName": t(f"desk.col.{col}", lang), "width": WIDTHS[col],
                "filter": FILTERS[kind], "sortable": True, "resizable": True,
                "filterParams": {"filterOptions": FILTER_OPTIONS[kind], "maxNumConditions": 2,
                                 "buttons": ["reset"], "debounceMs": 400}}
        if col == "id":
            spec |= {"cellClass": "bkl-mono", "checkboxSelection": False}
        if col == "countdown":
            spec |= {"cellRenderer": "GridccCountdown", "cellClass": "bkl-countdown-cell",
                     "headerTooltip": t("desk.col.countdown", lang)}
        if col == "light":
            spec |= {"cellRenderer": "GridccLight"}
        if col in ("category", "place", "department", "flags"):
            spec["tooltipField"] = col
        if col in ("reported", "deadline"):
            spec["cellClass"] = "bkl-mono"
        defs.append(spec)
    return defs


def _quick(lang: str, value: list[str]) -> dcc.Checklist:
    return dcc.Checklist(
        id=QUICK_FILTERS, value=value, inline=True, className="bkl-quick",
        inputClassName="bkl-quick-input",
        options=[{"label": t(f"desk.quick.{q}", lang), "value": q} for q in QUICK])


def _columns_menu(lang: str, visible: list[str]) -> html.Details:
    return html.Details(className="bkl-columns", children=[
        html.Summary(t("desk.columns", lang), className="btn btn-sm bkl-btn"),
        dcc.Checklist(id=COLUMN_CHOICE, value=visible, className="bkl-columns-list",
                      options=[{"label": t(f"desk.col.{col}", lang), "value": col} for col in COLUMNS]),
    ])


def _field(label_key: str, control, lang: str, *, hidden: bool = True, field_id: str | None = None) -> html.Div:
    return html.Div(id=field_id or f"{control.id}-field", hidden=hidden, className="bkl-field", children=[
        html.Label(t(label_key, lang), htmlFor=control.id, className="bkl-field-label"), control])


def action_bar(actions: tuple[str, ...], departments, lang: str) -> html.Section:
    """Return the action bar for the actions the caller's role may take (desk.allowed)."""
    options = [{"label": d.name, "value": d.code} for d in departments]
    return html.Section(id=ACTION_BAR, className="gcc-card bkl-actions", children=[
        html.Div(className="bkl-actions-head", children=[
            html.Span(t("desk.selected_none", lang), id=SELECTED, className="bkl-selected", role="status"),
            html.Span(id=REQUESTED, className="bkl-requested"),
        ]),
        html.Div(className="bkl-actions-body", children=[
            dcc.RadioItems(id=ACTION, value=None, className="bkl-action-choice",
                           options=[{"label": t(f"desk.act.{a}", lang), "value": a} for a in actions]),
            html.Div(className="bkl-action-form", children=[
                dcc.Textarea(id=REASON, maxLength=desk.MAX_REASON, placeholder=t("desk.reason", lang),
                             className="form-control form-control-sm bkl-reason"),
                _field("desk.follow_up", dcc.Input(id=FOLLOW_UP, type="datetime-local",
                                                   className="form-control form-control-sm bkl-input"), lang),
                _field("desk.until", dcc.Input(id=UNTIL, type="datetime-local",
                                               className="form-control form-control-sm bkl-input"), lang),
                _field("desk.to_department", dcc.Dropdown(id=DEPARTMENT, options=options, clearable=True,
                                                          className="bkl-dropdown"), lang),
                _field("desk.to_departments", dcc.Dropdown(id=DEPARTMENTS, options=options, multi=True,
                                                           className="bkl-dropdown"), lang),
                html.Button(t("desk.submit", lang), id=SUBMIT, n_clicks=0, type="button",
                            className="btn btn-info btn-sm bkl-submit"),
            ]),
        ]),
        html.Div(id=RESULT, className="bkl-result", role="status", **{"aria-live": "polite"}),
    ])


def labels(lang: str) -> dict:
    """Return what the browser's renderers need: the countdown's words and the lights' in ``lang``."""
    keys = ("desk.left", "desk.over", "desk.dur.days", "desk.dur.long_days", "desk.dur.hours", "desk.dur.minutes", "desk.dur.seconds",
            "light.green", "light.yellow", "light.red")
    return {key: t(key, lang) for key in keys}


def view_of(prefs: dict, query) -> dict:
    """Return the desk's view: the URL's quick filters, search, sort and column filters when it names any
    (``?quick=red,soon&q=…&sort=deadline,-age&filter=…``, dashboard/addresses.py), else the user's saved view.
    The saved column widths and choice stay either way."""
    asked = addresses.desk_from_url(query)
    if asked is None:
        return prefs
    return {"columns": addresses.desk_columns(prefs["columns"], asked["sort"]), "filter": asked["filter"],
            "search": asked["search"], "quick": asked["quick"]}


def layout(lang: str = "zh", **query) -> html.Div:
    """Return the desk for the caller: the grid with the URL's view, else their saved one; the action bar if their
    role may act. The desk is always live: an ``as_of`` in its URL is ignored."""
    lang = normalise(lang)
    principal = access.current()
    if principal is None:  # the gate never lets this happen; keep the page empty
        return html.Div(className="bkl")
    prefs = view_of(data.backlog_prefs(principal.name), query)
    actions = desk.allowed(principal.role) if principal.may("act") else ()
    from dashboard.backlog import visible_columns

    grid = dag.AgGrid(
        id=GRID,
        className="bkl-grid",
        columnDefs=column_defs(lang),
        columnState=prefs["columns"] or None,
        filterModel=prefs["filter"],
        rowModelType="infinite",
        getRowId="params.data.id",
        defaultColDef={"suppressHeaderMenuButton": False, "minWidth": 60},
        dashGridOptions={
            "theme": {"function": GRID_THEME},
            "cacheBlockSize": 100, "maxBlocksInCache": 20, "maxConcurrentDatasourceRequests": 1,
            "infiniteInitialRowCount": 1, "rowBuffer": 10, "blockLoadDebounceMillis": 60,
            "localeText": GRID_LOCALE_ZH if lang == "zh" else {"noRowsToShow": t("desk.no_match", lang)},
            "suppressCellFocus": True, "enableCellTextSelection": True, "tooltipShowDelay": 400,
            "context": {"labels": labels(lang)},
        } | ({"rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": False,
                                "enableClickSelection": True}} if actions else {}),
        style={"height": "100%", "width": "100%"},
    )
    scope = data.scope_name(principal.scope)
    return html.Div(className="bkl", lang="en" if lang == "en" else "zh-CN", children=[
        dcc.Store(id=LANG, data=lang),
        dcc.Store(id=TICK),
        dcc.Store(id=SAVED),
        dcc.Store(id=MIRRORED),
        dcc.Store(id=ADDRESS, data=addresses.desk_to_url(prefs["columns"], prefs["filter"], prefs["search"],
                                                         prefs["quick"])),
        dcc.Store(id=LABELS, data=labels(lang)),
        html.Div(className="bkl-head", children=[
            html.Div(className="bkl-heading", children=[
                html.H2(t("desk.title", lang), className="bkl-title"),
                html.Span(t("desk.subtitle", lang, scope=scope), className="bkl-subtitle"),
            ]),
            html.Div(id=HEAD_COUNT, className="bkl-count", role="status"),
        ]),
        html.Div(className="bkl-toolbar", children=[
            dcc.Input(id=SEARCH, type="search", value=prefs["search"], debounce=0.4, maxLength=100,
                      placeholder=t("desk.search", lang), className="form-control form-control-sm bkl-search"),
            _quick(lang, prefs["quick"]),
            html.Div(className="bkl-toolbar-right", children=[
                _columns_menu(lang, visible_columns(prefs["columns"])),
                html.Button(t("desk.reset", lang), id=RESET, n_clicks=0, type="button", className="btn btn-sm bkl-btn"),
                html.A(t("desk.export", lang), id=EXPORT, href=f"{EXPORT_PATH}?lang={lang}",
                       className="btn btn-sm bkl-btn bkl-export", **{"data-base": EXPORT_PATH}),
            ]),
        ]),
        html.Div(className="bkl-body" + ("" if actions else " bkl-read-only"), children=[
            html.Div(id=GRID_WRAP, className="gcc-card bkl-grid-wrap", children=[
                grid,
                html.Div(t("desk.empty", lang), id=EMPTY, className="bkl-empty", hidden=True),
            ]),
            action_bar(actions, data.backlog_departments(principal.scope), lang) if actions
            else html.P(t("desk.read_only", lang), className="bkl-read-only-note"),
        ]),
    ])
