"""Callbacks of the rankings page: resolve the area and the choices in the caller's scope, draw the ranked table
(and the comparison), and explain a rank down to the cases behind each count.

Every value from the browser is checked again here (inputs can be forged); the service (dashboard/rank_service.py)
checks level, scheme, period and area in scope once more and answers ValueError / LookupError, shown as a notice.
"""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, no_update

from callbacks import sla as sla_callbacks
from callbacks.sla import frozen_at
from dashboard import data, maps, rank_figures, rank_service
from dashboard.i18n import normalise, t
from layouts import rankings as ids

AREA_LEVELS = {"district": 1, "street": 2, "community": 3, "grid": 4}
SCHEME_KEYS = ("worker", "handling", "area", "hotline")


def _today(frozen) -> date:
    return data.window(as_of=frozen_at(frozen))[0].date()


def _choice(value, allowed) -> str | None:
    return value if isinstance(value, str) and value in allowed else None


def _asked(state, key: str):
    """Return what the URL asked for ``key`` (the store can be forged: anything but a dict asks nothing)."""
    return state.get(key) if isinstance(state, dict) else None


def levels_in_view(scope, view_level: int) -> list[str]:
    """Return the levels the caller may rank inside an area of ``view_level`` (0 city … 4 grid)."""
    from queries.rankings import levels_for

    allowed = levels_for(scope)
    return [lv for lv in ids.LEVELS if lv in allowed and (
        AREA_LEVELS.get(lv, 5) > view_level if lv != "department" else view_level <= 1)]


def update_view(state, _crumbs, child, lang):
    """Resolve the requested area (URL, a crumb, the child list) inside the caller's scope: view, crumbs, children."""
    lang = normalise(lang)
    scope = data.request_scope()
    trigger = dash.ctx.triggered_id
    asked = state.get("area") if isinstance(state, dict) else None
    if isinstance(trigger, dict) and trigger.get("type") == ids.CRUMB:
        if not dash.ctx.triggered[0].get("value"):
            return (no_update,) * 5
        asked = trigger.get("code")
    elif trigger == ids.CHILD:
        if not child:
            return (no_update,) * 5
        asked = child
    asked = asked if isinstance(asked, str) and asked and len(asked) <= 32 else None
    chain = (data.lineage(scope, asked) if asked else None) or data.lineage(scope, scope.area_code)
    view = maps.view_state(chain)
    notice = [t("notice.unknown_area", lang, code=asked, name=view["name"])] if asked and asked != view["code"] else []
    kids = data.children(scope, view["code"]) if view["level"] < 4 else []
    return view, ids.breadcrumb(chain, lang), notice, ids.child_options(kids, lang), ""


def update_levels(view, state, current, lang):
    """Offer the levels the caller may rank in the area in view; keep the one chosen, else the URL's, else the top."""
    lang = normalise(lang)
    if not isinstance(view, dict):
        return no_update, no_update
    level = view.get("level")
    levels = levels_in_view(data.request_scope(), level if isinstance(level, int) and not isinstance(level, bool)
                            else 0)
    wanted = _choice(current, levels) or _choice(_asked(state, "level"), levels)
    options = [{"label": t(f"rank.level.{lv}", lang), "value": lv} for lv in levels]
    return options, wanted or (levels[0] if levels else "")


def update_schemes(level, state, current, lang):
    """Offer the schemes that rank ``level``; the selector shows only when there is more than one.

    The URL's scheme holds while it is the one chosen (the page as linked); a change of level starts from that
    level's own scheme (streets: 处置考核), not the one the previous level had.
    """
    from dashboard.rankings import DEFAULT_SCHEME, SCHEME_LEVELS

    lang = normalise(lang)
    if level not in ids.LEVELS:
        return [], "", True
    fits = [s for s in SCHEME_KEYS if level in SCHEME_LEVELS[s]]
    linked = _asked(state, "scheme")
    wanted = (_choice(current, fits) if current and current == linked else None) or DEFAULT_SCHEME[level]
    return [{"label": t(f"rank.scheme.{s}", lang), "value": s} for s in fits], wanted, len(fits) < 2


def update_periods(kind, state, current, compare, frozen, lang, start=None, end=None):
    """Offer the periods of ``kind`` up to today (the frozen day), and the same list to compare with; a custom
    period starts as the month so far until dates are chosen."""
    lang = normalise(lang)
    kind = _choice(kind, ids.KINDS) or "month"
    today = _today(frozen)
    options = rank_figures.period_options("month" if kind == "custom" else kind, today, lang)
    keys = [o["value"] for o in options]
    asked = _asked(state, "period")
    period = _choice(current, keys) or _choice(asked, keys) or rank_figures.default_period(kind, today)
    none = [{"label": t("rank.compare.none", lang), "value": ""}]
    other = _choice(compare, keys) or _choice(_asked(state, "compare"), keys) or ""
    dates = (no_update, no_update)
    if kind == "custom" and not (isinstance(start, str) and isinstance(end, str) and start and end):
        first, _, last = rank_figures.default_period("custom", today).partition("..")
        dates = (first, last)
    return (options if kind != "custom" else [], period if kind != "custom" else "", none + options, other,
            kind == "custom", kind != "custom", *dates)


def chosen_period(kind, period, start, end) -> str | None:
    """Return the period key of the controls: the select's, or the custom dates' "a..b" (checked by the service)."""
    if kind == "custom":
        if isinstance(start, str) and isinstance(end, str) and len(start) <= 32 and len(end) <= 32:
            return f"{start[:10]}..{end[:10]}"
        return None
    return period if isinstance(period, str) and 0 < len(period) <= ids.MAX_PARAM else None


def page_query(view, level, scheme, period, norm, compare, frozen, lang) -> dict:
    """Return the page's query (what the URL mirrors and the export and print view are asked for)."""
    at = frozen_at(frozen)
    top = isinstance(view, dict) and view.get("code") == view.get("top")
    return {"area": None if top or not isinstance(view, dict) else view.get("code"), "level": level,
            "scheme": scheme or None, "period": period, "norm": None if norm == "none" else norm,
            "compare": compare or None, "as_of": None if at is None else f"{at:%Y-%m-%dT%H:%M}",
            "lang": None if lang == "zh" else lang}


def links(query: dict) -> tuple[str, str]:
    """Return the export and print URLs of a page query (as_of with the city's offset, as the API reads it)."""
    from dashboard.api import _iso

    args = {k: v for k, v in query.items() if v and k != "norm"}
    if args.get("as_of"):
        args["as_of"] = _iso(datetime.fromisoformat(args["as_of"]))
    text = urlencode(args)
    return f"{ids.EXPORT_PATH}?{text}", f"{ids.PRINT_PATH}?{text}"


def update_table(view, level, scheme, kind, period, start, end, norm, compare, frozen, lang):
    """Rank the units of the chosen level, draw the table, the block ranked apart and the comparison."""
    lang = normalise(lang)
    quiet = (no_update,) * 18
    if not isinstance(view, dict) or level not in ids.LEVELS:
        return quiet
    norm = _choice(norm, ids.NORMS) or "none"
    key = chosen_period(kind, period, start, end)
    compare = compare if isinstance(compare, str) and 0 < len(compare) <= ids.MAX_PARAM and compare != key else None
    if key is None:
        return quiet
    query = page_query(view, level, scheme if isinstance(scheme, str) and scheme in SCHEME_KEYS else None, key,
                       norm, compare, frozen, lang)
    export, printing = links(query)
    area = view.get("code") if isinstance(view.get("code"), str) else None
    args = dict(level=level, scheme=query["scheme"], area=area, period=key, as_of=frozen_at(frozen))
    try:
        if compare:
            a, b = rank_service.compare(data.request_scope(), **args, other=compare)
        else:
            a, b = rank_service.ranking(data.request_scope(), **args), None
    except (ValueError, LookupError) as refused:
        message = [t("rank.refused", lang, why=str(refused).strip("'\""))]
        return ([], [], [], True, [], [], "", message, False, True, [], [], {}, ids.grid_style(0), ids.grid_style(0),
                query, export, printing)
    return table_outputs(a, b, norm, frozen_at(frozen) is not None, lang) + (query, export, printing)


def table_outputs(a, b, norm: str, frozen: bool, lang: str) -> tuple:
    """Return the table's outputs of a ranking (and the one compared): header, grids, the block apart, notices."""
    from dashboard.rankings import period_label

    header = ids.header(rank_figures.header_facts(a, lang), a.provisional, frozen, lang)
    ranked, apart = rank_figures.split_rows(a.rows)
    largest = max((c.denominator for r in a.rows for c in r.cells), default=0)
    cols = rank_figures.table_columns(a.items, lang, norm, level=a.level,
                                      spans=rank_figures.history_span(getattr(a, "history", ()), lang),
                                      largest=largest)
    empty = [] if a.rows else [t("rank.empty_level", lang, level=t(f"rank.level.{a.level}", lang))]
    note = t("rank.apart.note", lang, n=len(apart), min=f"{a.min_volume:,}",
             volume=t(f"rank.volume.{a.scheme}", lang))
    if b is None:
        compare = ([], [], {})
    else:
        pairs = rank_figures.compare_rows(a.rows, b.rows, lang)
        la, lb = period_label(a.period, lang), period_label(b.period, lang)
        compare = (compare_columns(la, lb, lang), pairs, rank_figures.compare_figure(pairs, la, lb, lang))
    return (header, cols, rank_figures.table_rows(ranked, lang, norm), not apart, cols,
            rank_figures.table_rows(apart, lang, norm), note, empty, not empty, b is None, *compare,
            ids.grid_style(len(ranked)), ids.grid_style(len(apart)))


def compare_columns(label_a: str, label_b: str, lang: str) -> list[dict]:
    """Return the comparison table's columns: name, score and rank in each period, Δ score and the rank move."""
    return [
        {"field": "name", "headerName": t("rank.col.name", lang), "width": 180, "pinned": "left"},
        {"field": "score_a", "headerName": f"{label_a} · {t('rank.col.score', lang)}", "width": 150,
         "type": "rightAligned"},
        {"field": "rank_a", "headerName": f"{label_a} · {t('rank.col.rank', lang)}", "width": 130,
         "type": "rightAligned"},
        {"field": "score_b", "headerName": f"{label_b} · {t('rank.col.score', lang)}", "width": 150,
         "type": "rightAligned"},
        {"field": "rank_b", "headerName": f"{label_b} · {t('rank.col.rank', lang)}", "width": 130,
         "type": "rightAligned"},
        {"field": "delta", "headerName": t("rank.compare.delta", lang), "width": 110, "type": "rightAligned",
         "cellClassRules": {"rnk-delta-up": "params.data.delta_value > 0",
                            "rnk-delta-down": "params.data.delta_value < 0"}},
        {"field": "move", "headerName": t("rank.col.change", lang), "width": 100,
         "cellClassRules": {f"rnk-change-{k}": f"params.data.move_key === '{k}'" for k in ("up", "down", "same")}},
    ]


def _clicked_unit() -> str | None:
    value = dash.ctx.triggered[0].get("value") if dash.ctx.triggered else None
    code = value.get("rowId") if isinstance(value, dict) else None
    return code if isinstance(code, str) and 0 < len(code) <= 32 else None


def _service_args(query) -> dict | None:
    """Return rank_service's arguments of the page query in the store (checked again: the store can be forged)."""
    if not isinstance(query, dict):
        return None
    level, period = query.get("level"), query.get("period")
    if level not in ids.LEVELS or not isinstance(period, str) or not 0 < len(period) <= ids.MAX_PARAM:
        return None
    scheme, area = query.get("scheme"), query.get("area")
    return {"level": level, "scheme": scheme if scheme in SCHEME_KEYS else None,
            "area": area if isinstance(area, str) and len(area) <= 32 else None, "period": period,
            "as_of": frozen_at(query.get("as_of"))}


def open_why(_main, _apart, query, lang):
    """Open "why this rank" for the clicked unit: each indicator's points won and lost, and the counts behind them."""
    lang = normalise(lang)
    code, args = _clicked_unit(), _service_args(query)
    if code is None or args is None:
        return (no_update,) * 10
    try:
        found = rank_service.ranking(data.request_scope(), **args, history=False)
    except (ValueError, LookupError):
        return (no_update,) * 10
    row = next((r for r in found.rows if r.code == code), None)
    if row is None:
        return (no_update,) * 10
    summary = why_summary(row, found, lang)
    from queries.rankings import COUNT_SOURCES

    listable = {c for c, source in COUNT_SOURCES.items() if source != "none"}
    counts = rank_figures.case_counts(row, found.items, listable)
    return (True, t("rank.why.title_of", lang, name=row.name), summary,
            ids.why_table(rank_figures.breakdown_rows(row, lang), lang), rank_figures.breakdown_figure(row, lang),
            ids.count_buttons(counts, lang), {"code": row.code, "name": row.name}, None, "", [])


def why_summary(row, ranking, lang: str) -> list[str]:
    """Return the breakdown's first lines: rank (or apart, or unranked), score and grade, volume against the minimum."""
    if row.rank is None:
        place = t("rank.why.unranked", lang)
    elif row.apart:
        place = t("rank.why.rank_apart", lang, rank=row.rank)
    else:
        place = t("rank.why.rank", lang, rank=row.rank, n=sum(1 for r in ranking.rows if not r.apart and r.rank))
    return [place, " · ", t("rank.why.score", lang, score=rank_figures.score_text(row.score), grade=row.grade or "—"),
            " · ", t("rank.why.volume", lang, volume=f"{row.volume:,}", min=f"{ranking.min_volume:,}")]


def open_cases(_clicks, page, unit, query, listed, lang):
    """List the cases behind the clicked count of the unit in the breakdown (or another page of that list)."""
    lang = normalise(lang)
    trigger = dash.ctx.triggered_id
    paging = trigger == ids.CASES_PAGER
    if paging:
        count = listed.get("count") if isinstance(listed, dict) else None
    elif isinstance(trigger, dict) and trigger.get("type") == ids.COUNT and dash.ctx.triggered[0].get("value"):
        count = trigger.get("count")
    else:
        return (no_update,) * 7
    args, code = _service_args(query), unit.get("code") if isinstance(unit, dict) else None
    if args is None or not isinstance(code, str) or not isinstance(count, str) or len(count) > 32:
        return (no_update,) * 7
    page = page if paging and isinstance(page, int) and not isinstance(page, bool) and 0 < page < 10 ** 6 else 1
    try:
        total, rows = rank_service.case_page(data.request_scope(), **args, unit=code, count=count,
                                             offset=(page - 1) * ids.CASE_PAGE, limit=ids.CASE_PAGE)
    except (ValueError, LookupError) as refused:
        return (count_name(count, lang), t("rank.refused", lang, why=str(refused).strip("'\"")), [], [], 1, 1, None)
    from queries.rankings import COUNT_SOURCES

    field = COUNT_SOURCES.get(count) in ("patrols", "visits")
    pages = max(1, -(-total // ids.CASE_PAGE))
    title = t("rank.cases.title", lang, name=unit.get("name", code), count=count_name(count, lang))
    return (title, t("rank.cases.total", lang, n=f"{total:,}"), ids.case_columns(lang, field),
            case_rows(rows, lang, field), pages, no_update if paging else 1, {"count": count})


def count_name(count: str, lang: str) -> str:
    """Return a count's label ("超期待处置"), the key itself when the catalogue has none (an unknown count)."""
    from dashboard.i18n import CATALOGUE

    return t(f"rank.count.{count}", lang) if f"rank.count.{count}" in CATALOGUE else count[:32]


def case_rows(rows, lang: str, field: bool) -> list[dict]:
    """Return the case list's grid rows: events as on the SLA page, or patrols / visits with their place and time."""
    from dashboard.i18n import status_name

    def when(value) -> str:
        return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"

    if field:
        return [{"id": r.id, "worker": getattr(r, "worker", "—"), "grid": getattr(r, "grid", "—"),
                 "building": getattr(r, "building", None) or "—", "at": when(getattr(r, "at", None)),
                 "extra": getattr(r, "households", None) if getattr(r, "households", None) is not None
                 else getattr(r, "checkins", "—")} for r in rows]
    return [{"id": r.id, "category": r.category or "—",
             "place": " · ".join(p for p in (r.community, r.grid) if p) or "—", "department": r.department or "—",
             "status": status_name(r.status, lang), "reported": when(r.reported_at), "deadline": when(r.deadline_at),
             "handled": when(r.handled_at)}
            for r in rows]


# A case id clicked in the list opens its timeline exactly as on the SLA page (reporter masked).
open_detail = sla_callbacks.open_detail


def register(app: dash.Dash) -> None:
    """Bind the rankings page's callbacks to ``app``."""
    from dashboard import rank_export

    rank_export.init_app(app.server)
    app.clientside_callback(ClientsideFunction("gridcc_rankings", "mirrorUrl"), Input(ids.QUERY, "data"),
                            prevent_initial_call=True)
    app.callback(
        Output(ids.VIEW, "data"), Output(ids.BREADCRUMB, "children"), Output(ids.NOTICE, "children"),
        Output(ids.CHILD, "options"), Output(ids.CHILD, "value"),
        Input(ids.STATE, "data"), Input({"type": ids.CRUMB, "code": ALL}, "n_clicks"), Input(ids.CHILD, "value"),
        State(ids.LANG, "data"),
    )(update_view)
    app.callback(
        Output(ids.LEVEL, "options"), Output(ids.LEVEL, "value"),
        Input(ids.VIEW, "data"), State(ids.STATE, "data"), State(ids.LEVEL, "value"), State(ids.LANG, "data"),
    )(update_levels)
    app.callback(
        Output(ids.SCHEME, "options"), Output(ids.SCHEME, "value"), Output(ids.SCHEME_WRAP, "hidden"),
        Input(ids.LEVEL, "value"), State(ids.STATE, "data"), State(ids.SCHEME, "value"), State(ids.LANG, "data"),
    )(update_schemes)
    app.callback(
        Output(ids.PERIOD, "options"), Output(ids.PERIOD, "value"), Output(ids.COMPARE, "options"),
        Output(ids.COMPARE, "value"), Output(ids.PERIOD_WRAP, "hidden"), Output(ids.DATES_WRAP, "hidden"),
        Output(ids.DATES, "start_date"), Output(ids.DATES, "end_date"),
        Input(ids.KIND, "value"), State(ids.STATE, "data"), State(ids.PERIOD, "value"), State(ids.COMPARE, "value"),
        State(ids.FROZEN, "data"), State(ids.LANG, "data"), State(ids.DATES, "start_date"), State(ids.DATES, "end_date"),
    )(update_periods)
    app.callback(
        Output(ids.HEADER, "children"),
        Output(ids.GRID, "columnDefs"), Output(ids.GRID, "rowData"),
        Output(ids.APART, "hidden"), Output(ids.APART_GRID, "columnDefs"), Output(ids.APART_GRID, "rowData"),
        Output(ids.APART_NOTE, "children"), Output(ids.EMPTY, "children"), Output(ids.EMPTY, "hidden"),
        Output(ids.COMPARE_BLOCK, "hidden"), Output(ids.COMPARE_GRID, "columnDefs"),
        Output(ids.COMPARE_GRID, "rowData"), Output(ids.COMPARE_CHART, "figure"),
        Output(ids.GRID, "style"), Output(ids.APART_GRID, "style"), Output(ids.QUERY, "data"), Output(ids.EXPORT, "href"), Output(ids.PRINT, "href"),
        Input(ids.VIEW, "data"), Input(ids.LEVEL, "value"), Input(ids.SCHEME, "value"), Input(ids.KIND, "value"),
        Input(ids.PERIOD, "value"), Input(ids.DATES, "start_date"), Input(ids.DATES, "end_date"),
        Input(ids.NORM, "value"), Input(ids.COMPARE, "value"), State(ids.FROZEN, "data"), State(ids.LANG, "data"),
    )(update_table)
    app.callback(
        Output(ids.WHY, "is_open"), Output(ids.WHY_TITLE, "children"), Output(ids.WHY_SUMMARY, "children"),
        Output(ids.WHY_TABLE, "children"), Output(ids.WHY_CHART, "figure"), Output(ids.WHY_COUNTS, "children"),
        Output(ids.UNIT, "data"), Output(ids.LISTED, "data"), Output(ids.CASES_TITLE, "children"),
        Output(ids.CASES_GRID, "rowData", allow_duplicate=True),
        Input(ids.GRID, "cellClicked"), Input(ids.APART_GRID, "cellClicked"),
        State(ids.QUERY, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(open_why)
    app.callback(
        Output(ids.CASES_TITLE, "children", allow_duplicate=True), Output(ids.CASES_COUNT, "children"),
        Output(ids.CASES_GRID, "columnDefs"), Output(ids.CASES_GRID, "rowData"),
        Output(ids.CASES_PAGER, "max_value"), Output(ids.CASES_PAGER, "active_page"),
        Output(ids.LISTED, "data", allow_duplicate=True),
        Input({"type": ids.COUNT, "count": ALL}, "n_clicks"), Input(ids.CASES_PAGER, "active_page"),
        State(ids.UNIT, "data"), State(ids.QUERY, "data"), State(ids.LISTED, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(open_cases)
    app.callback(
        Output(ids.DETAIL, "is_open"), Output(ids.DETAIL_BODY, "children"),
        Input(ids.CASES_GRID, "cellClicked"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(open_detail)
