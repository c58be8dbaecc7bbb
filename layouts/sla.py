"""The SLA page: on-time rates, backlog age and traffic lights, the loop as a funnel, handling times and exception
rates of the area in view over a period — every mark opens the list of the cases behind it."""
from __future__ import annotations

from collections.abc import Sequence

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.figures import GRAPH_CONFIG
from dashboard.i18n import normalise, status_name, t
from layouts.admin import GRID_THEME
from layouts.crumbs import child_choices, crumbs

PAGE = "sla-page"
STATE = "sla-state"  # the requested area: {"area": code} (from the URL, a crumb or the child list)
VIEW = "sla-view"  # the area in view, resolved inside the caller's scope
LANG = "sla-lang"
FROZEN = "sla-frozen"  # the URL's as_of (a frozen page); None: live
TICK = "sla-tick"  # set by assets/gridcc-sla.js when a change touches the area in view (≤ 1/s)
MINUTE = "sla-minute"  # time passes: lights and overdue counts move without any write
DIGEST = "sla-digest"  # pattern {"type": DIGEST, "panel": name}: what the panel shows now (no redraw if same)
BREADCRUMB = "sla-breadcrumb"
CRUMB = "sla-crumb"  # pattern {"type": CRUMB, "code": code}
CHILD = "sla-child"
NOTICE = "sla-notice"
PERIOD = "sla-period"
DATES = "sla-dates"
DATES_WRAP = "sla-dates-wrap"
AS_OF = "sla-as-of"
LIGHTS = "sla-lights"
LIGHT = "sla-light"  # pattern {"type": LIGHT, "key": key}: a traffic-light tile (opens its cases)
TREND = "sla-trend"
GRAIN = "sla-grain"
SPLIT = "sla-split"
SPLIT_BY = "sla-split-by"
AGE = "sla-age"
AGE_BY = "sla-age-by"
FUNNEL = "sla-funnel"
FUNNEL_TABLE = "sla-funnel-table"
HANDLING = "sla-handling"
HANDLING_BY = "sla-handling-by"
EXCEPTIONS = "sla-exceptions"
EXCEPTIONS_BY = "sla-exceptions-by"
CASES = "sla-cases"  # the modal
CASES_TITLE = "sla-cases-title"
CASES_COUNT = "sla-cases-count"
CASES_GRID = "sla-cases-grid"
CASES_PAGER = "sla-cases-pager"
SELECTOR = "sla-selector"  # the selector of the list shown (JSON) and its title
DETAIL = "sla-detail"  # a case's detail (layouts/event_detail.py), opened by a click on its id in the list
DETAIL_BODY = "sla-detail-body"

MINUTE_MS = 60_000
PERIODS = ("7d", "30d", "month", "last_month", "custom")
DEFAULT_PERIOD = "30d"
GRAINS = ("day", "week", "month")
SPLIT_BYS = ("class", "department", "area", "street")  # area: the children; street: every street in scope
AGE_BYS = ("class", "area")
HANDLING_BYS = ("class", "category", "department")
EXCEPTION_BYS = ("department", "area")
LIGHT_TILES = ("red", "yellow", "green", "none")
LIGHT_ICONS = {"green": "✓", "yellow": "!", "red": "✕", "none": "○", "turning_red_2h": "▲"}
CASE_PAGE = 50
# Panels with their own callback and digest; the graphs among them answer a click with their cases.
DIGEST_PANELS = ("lights", "trend", "split", "age", "funnel", "handling", "exceptions")
GRAPHS = (TREND, SPLIT, AGE, FUNNEL, HANDLING, EXCEPTIONS)


def url_state(query) -> dict:
    """Return the page's controls asked for by its URL (period, custom days, grain, splits), defaults for the rest."""
    from dashboard import addresses

    return addresses.sla_state(query, periods=PERIODS, grains=GRAINS, split_bys=SPLIT_BYS, age_bys=AGE_BYS,
                               handling_bys=HANDLING_BYS, exception_bys=EXCEPTION_BYS)


def layout(area: str | None = None, lang: str = "zh", as_of: str | None = None, **query) -> html.Div:
    """Return the SLA page for ``?area=…&period=…[&start=…&end=…]&grain=…&split_by=…&age_by=…&handling_by=…
    &exceptions_by=…&as_of=…&lang=…`` (dashboard/addresses.py checks each; the callbacks check area and as_of)."""
    from dashboard import addresses, data

    lang = normalise(lang)
    state = url_state(query)
    period = state["period"]
    frozen = addresses.frozen_attrs(as_of, data.window()[0])
    area = addresses.text(area, 32)
    return html.Div(id=PAGE, className="sla", lang="en" if lang == "en" else "zh-CN", **frozen, children=[
        dcc.Store(id=STATE, data={"area": area}),
        dcc.Store(id=VIEW),
        dcc.Store(id=LANG, data=lang),
        dcc.Store(id=FROZEN, data=as_of if isinstance(as_of, str) else None),
        dcc.Store(id=TICK),
        dcc.Store(id=SELECTOR),
        dcc.Interval(id=MINUTE, interval=MINUTE_MS),
        *[dcc.Store(id={"type": DIGEST, "panel": name}) for name in DIGEST_PANELS],
        _head(period, lang, state["start"], state["end"]),
        html.Div(id=NOTICE, className="ovw-notice sla-notice", role="status"),
        html.Section(className="gcc-card sla-lights-card", children=[
            html.H2(t("sla.panel.lights", lang), className="gcc-card-title sla-lights-title"),
            html.Div(id=LIGHTS, className="sla-lights"),
        ]),
        html.Div(className="sla-grid", children=[
            _card("sla.panel.trend", lang, _graph(TREND), "sla-card-trend",
                  _radios(GRAIN, GRAINS, state["grain"], "sla.grain", lang)),
            _card("sla.panel.split", lang, _graph(SPLIT, scroll=True), "sla-card-split",
                  _radios(SPLIT_BY, SPLIT_BYS, state["split_by"], "sla.by", lang)),
            _card("sla.panel.age", lang, _graph(AGE, scroll=True), "sla-card-age",
                  _radios(AGE_BY, AGE_BYS, state["age_by"], "sla.by", lang)),
            _card("sla.panel.funnel", lang, html.Div(className="sla-funnel", children=[
                _graph(FUNNEL), html.Div(id=FUNNEL_TABLE, className="sla-funnel-table")]), "sla-card-funnel"),
            _card("sla.panel.handling", lang, _graph(HANDLING, scroll=True), "sla-card-handling",
                  _radios(HANDLING_BY, HANDLING_BYS, state["handling_by"], "sla.by", lang)),
            _card("sla.panel.exceptions", lang, _graph(EXCEPTIONS, scroll=True), "sla-card-exceptions",
                  _radios(EXCEPTIONS_BY, EXCEPTION_BYS, state["exceptions_by"], "sla.by", lang)),
        ]),
        _cases_modal(lang),
        dbc.Modal(id=DETAIL, is_open=False, size="lg", scrollable=True, className="ovw-detail sla-detail", children=[
            dbc.ModalHeader(dbc.ModalTitle(t("detail.title", lang))),
            dbc.ModalBody(id=DETAIL_BODY),
        ]),
    ])


def _radios(control_id: str, values: Sequence[str], value: str, prefix: str, lang: str) -> dbc.RadioItems:
    return dbc.RadioItems(
        id=control_id, options=[{"label": t(f"{prefix}.{v}", lang), "value": v} for v in values], value=value,
        className="btn-group sla-switch", inputClassName="btn-check", labelClassName="btn btn-outline-info btn-sm",
        labelCheckedClassName="active")


def _head(period: str, lang: str, start: str | None = None, end: str | None = None) -> html.Div:
    return html.Div(className="gcc-card sla-head", children=[
        html.Nav(id=BREADCRUMB, className="ovw-breadcrumb", **{"aria-label": "breadcrumb"}),
        html.Label([html.Span(t("sla.child", lang), className="visually-hidden"),
                    dbc.Select(id=CHILD, options=[], value="", size="sm", className="sla-child",
                               placeholder=t("sla.child", lang))],
                   title=t("sla.child", lang), className="sla-child-label"),
        html.Div(className="sla-period", children=[
            html.Span(t("sla.period", lang), className="sla-period-label"),
            _radios(PERIOD, PERIODS, period, "sla.period", lang),
            html.Div(id=DATES_WRAP, hidden=period != "custom", className="sla-dates", children=dcc.DatePickerRange(
                id=DATES, display_format="YYYY-MM-DD", month_format="YYYY年M月" if lang == "zh" else "MMMM YYYY",
                minimum_nights=0, clearable=False, start_date=start, end_date=end,
                start_date_placeholder_text=t("sla.from", lang), end_date_placeholder_text=t("sla.to", lang),
                first_day_of_week=1)),
        ]),
        html.Div(id=AS_OF, className="sla-as-of", role="status"),
    ])


def _card(title_key: str, lang: str, body, extra_class: str, tools=None) -> html.Section:
    return html.Section(className=f"gcc-card sla-card {extra_class}", children=[
        html.Div(className="sla-card-head", children=[html.H2(t(title_key, lang), className="gcc-card-title"),
                                                       tools]),
        body,
    ])


def _graph(graph_id: str, scroll: bool = False):
    """Return a graph filling its card; a long one (many departments) scrolls inside the card."""
    # A list's figure sets its own height (rows × a row's height): not "responsive", which would drop it.
    graph = dcc.Graph(id=graph_id, config={**GRAPH_CONFIG, "responsive": False} if scroll else GRAPH_CONFIG,
                      className="sla-graph", style={} if scroll else {"height": "100%"})
    return html.Div(graph, className="sla-scroll" if scroll else "sla-fill")


def _cases_modal(lang: str) -> dbc.Modal:
    return dbc.Modal(id=CASES, is_open=False, size="xl", scrollable=True, className="sla-cases", children=[
        dbc.ModalHeader(dbc.ModalTitle(id=CASES_TITLE, children=t("sla.cases", lang))),
        dbc.ModalBody(children=[
            html.Div(id=CASES_COUNT, className="sla-cases-count", role="status"),
            html.Div(className="sla-cases-grid-wrap", children=dag.AgGrid(
                id=CASES_GRID, className="adm-grid sla-cases-grid", columnDefs=_case_columns(lang), rowData=[],
                defaultColDef={"sortable": False, "resizable": True, "suppressHeaderMenuButton": True},
                getRowId="params.data.id",
                dashGridOptions={"theme": {"function": GRID_THEME},
                                 "localeText": {"noRowsToShow": t("sla.no_cases", lang)},
                                 "suppressCellFocus": True, "enableCellTextSelection": True},
                style={"height": "100%", "width": "100%"})),
            dbc.Pagination(id=CASES_PAGER, max_value=1, active_page=1, fully_expanded=False, first_last=True,
                           previous_next=True, size="sm", className="sla-pager"),
        ]),
    ])


def _case_columns(lang: str) -> list[dict]:
    widths = {"id": 90, "category": 150, "place": 270, "department": 170, "status": 90, "reported": 150,
              "deadline": 150, "light": 90}
    return [{"field": key, "headerName": t(f"sla.col.{key}", lang), "width": width,
             **({"cellClass": "sla-case-id", "headerTooltip": t("sla.col.id_hint", lang)} if key == "id" else {}),
             **({"cellClass": "sla-light-cell", "cellClassRules": {f"sla-light-{k}": f"params.data.light_key === '{k}'"
                                                                    for k in ("green", "yellow", "red")}}
                if key == "light" else {})}
            for key, width in widths.items()]


def case_rows(rows: Sequence, lang: str) -> list[dict]:
    """Return the AG Grid rows of a page of cases: times as local "YYYY-MM-DD HH:MM", the light with its word."""
    return [{
        "id": r.id, "category": r.category, "place": r.place, "department": r.department or "—",
        "status": status_name(r.status, lang), "reported": _when(r.reported_at), "deadline": _when(r.deadline_at),
        "light": f"{LIGHT_ICONS[r.light]} {t(f'light.{r.light}', lang)}" if r.light in ("green", "yellow", "red")
        else "—", "light_key": r.light,
    } for r in rows]


def _when(value) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


def light_tiles(counts, lang: str) -> list:
    """Return the traffic-light tiles of the open cases now, and "turning red within 2 h" beside them.

    Each tile is a button (it opens its cases) with an icon and a word: colour is never the only cue.
    """
    def tile(key: str, value: int, label_key: str, alert: bool = False) -> html.Button:
        return html.Button(
            id={"type": LIGHT, "key": key}, n_clicks=0, title=t(label_key, lang),
            className=f"sla-tile sla-tile-{key}" + (" sla-tile-alert" if alert else ""), **{"data-light": key},
            children=[html.Span(LIGHT_ICONS[key], className="sla-tile-icon", **{"aria-hidden": "true"}),
                      html.Span(t(label_key, lang), className="sla-tile-label"),
                      html.Span(f"{value:,}", className="sla-tile-value")])

    soon = tile("turning_red_2h", counts.turning_red_2h, "sla.light.turning_red_2h", alert=counts.turning_red_2h > 0)
    tiles = [tile(k, getattr(counts, k), f"sla.light.{k}", alert=k == "red" and counts.red > 0) for k in LIGHT_TILES]
    total = counts.green + counts.yellow + counts.red + counts.none
    children = [html.Div(soon, className="sla-soon"), html.Div(tiles, className="sla-tiles")]
    if not total:
        children.append(html.Div(t("sla.empty_backlog", lang), className="ovw-empty"))
    return children


def funnel_table(rows: Sequence[dict], lang: str) -> list:
    """Return the funnel's timing table: per stage the cases, median, p90, limit and over-limit; late stages flagged."""
    if not rows:
        return []
    head = html.Thead(html.Tr([html.Th(t(f"sla.funnel.{k}", lang))
                               for k in ("stage", "median", "p90", "limit", "over")]))
    body = html.Tbody([html.Tr(className="sla-late" if r["late"] else "", **{"data-stage": r["stage"]},
                               title=t("sla.funnel.late", lang) if r["late"] else None, children=[
        html.Td([html.Span("▲ ", className="sla-late-tag") if r["late"] else None, r["name"]]),
        html.Td(r["median"]), html.Td(r["p90"]), html.Td(r["limit"]), html.Td(r["over"]),
    ]) for r in rows])
    return [html.Table([head, body], className="sla-table")]


def breadcrumb(chain: Sequence, lang: str) -> list:
    """Return the path from the scope's top to the area in view; every step above is a button."""
    return crumbs(chain, lang, CRUMB)


def child_options(children: Sequence, lang: str) -> list[dict]:
    """Return the child areas to go down to, after a first "go down to…" choice."""
    return child_choices(children, t("sla.child", lang), lang)


def notice(requested: str | None, view: dict, lang: str) -> list:
    """Return the notice shown when the URL asked for an area that is unknown or outside the caller's scope."""
    if requested and requested != view["code"]:
        return [html.Div(t("notice.unknown_area", lang, code=requested, name=view["name"]))]
    return []


def as_of_badge(as_of, since, until, frozen: bool, lang: str) -> list:
    """Return what the page is as of and over which period (local times); a frozen page says so."""
    return [
        html.Span(t("sla.frozen" if frozen else "sla.live", lang),
                  className="gcc-badge" + (" sla-frozen" if frozen else "")),
        html.Span(t("sla.window", lang, since=f"{since:%Y-%m-%d %H:%M}", until=f"{until:%Y-%m-%d %H:%M}",
                    as_of=f"{as_of:%Y-%m-%d %H:%M}"), className="sla-window"),
    ]
