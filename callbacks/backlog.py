"""Callbacks of the backlog desk: a block of rows for AG Grid, the user's view kept, the actions on a selection.

The rows refresh on the page's live tick (assets/gridcc-live.js, when a change reaches the caller's
scope): the browser asks AG Grid to refresh the blocks in view, which asks here again, keeping the
scroll position and the selection (rows are keyed by id).
"""
from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, html, no_update

from dashboard import access, addresses, backlog, backlog_export, context, data, desk
from dashboard.i18n import CATALOGUE, normalise, t
from layouts import backlog as ids

TOO_MANY_REASONS = 3  # refusal reasons named in the result; the rest are counted


def update_rows(request, search, quick, tick, lang):
    """Answer one getRowsRequest: the rows of the block asked for and how many the view has."""
    data.told(tick)
    lang = normalise(lang)
    scope = data.request_scope()
    prepared = data.backlog_table(scope, lang)
    as_of = data.window()[0]
    asked = backlog.parse_request(request)
    found, total = backlog.page(prepared, asked, as_of=as_of, calendar=data.backlog_calendar(),
                                search=backlog.parse_search(search), quick=backlog.parse_quick(quick), lang=lang,
                                shares_of=data.backlog_shares(prepared, as_of))
    in_scope = int((prepared["reported_at"] <= as_of).sum()) if len(prepared) else 0
    count = (t("desk.count", lang, n=f"{total:,}") if total == in_scope
             else t("desk.count_of", lang, n=f"{total:,}", total=f"{in_scope:,}"))
    return {"rowData": found, "rowCount": total}, count, in_scope > 0


def save_view(columns, filters, search, quick):
    """Keep the caller's view (columns, filters, search, quick filters) in user_prefs, cleaned."""
    principal = access.require("read")
    data.save_backlog_prefs(principal.name, {"columns": columns, "filter": filters, "search": search, "quick": quick})
    return True


def address(columns, filters, search, quick, previous):
    """Return the view's URL keys (issue 8 §2); the sort stays as it was until the grid reports its columns."""
    query = addresses.desk_to_url(columns, filters, search, quick)
    if columns is None and isinstance(previous, dict):
        sort = addresses.text(previous.get("sort"))
        query["sort"] = ",".join(("-" if d == "desc" else "") + c
                                 for c, d in addresses.desk_sort_from_url(sort)) or None
    return no_update if query == previous else query


def reset_view(_clicks):
    """Forget the caller's view and put the grid back as it comes: every column, no filter, no search."""
    principal = access.require("read")
    data.save_backlog_prefs(principal.name, None)
    return True, {}, "", [], list(backlog.DEFAULT_VISIBLE)


def update_selection(selected, lang):
    """Say how many cases are selected and, for a pending extension, the deadline asked for."""
    lang = normalise(lang)
    rows = [r for r in selected if isinstance(r, dict)] if isinstance(selected, list) else []
    if not rows:
        return t("desk.selected_none", lang), ""
    asked = sorted({r["extension_until"] for r in rows if isinstance(r.get("extension_until"), str)
                    and r["extension_until"]})[:3]
    return (t("desk.selected", lang, n=len(rows)),
            t("desk.requested", lang, until="、".join(asked)) if asked else "")


def show_inputs(action):
    """Show only the inputs the chosen action takes (hidden is True for the others)."""
    return tuple(ids.ACTION_INPUTS.get(action) != field for field in
                 (ids.FOLLOW_UP, ids.UNTIL, ids.DEPARTMENT, ids.DEPARTMENTS))


def _message(text: str, ok: bool) -> html.Div:
    return html.Div(text, className="bkl-message " + ("bkl-message-ok" if ok else "bkl-message-refused"),
                    role="status" if ok else "alert")


def _selected_ids(selected) -> list:
    """Return the ids of a (forgeable) selection as sent; desk.act checks each one and the scope."""
    if not isinstance(selected, list):
        return []
    return [row.get("id") for row in selected[: desk.MAX_CASES + 1] if isinstance(row, dict)]


def result_text(result: desk.ActResult, action: str, lang: str) -> tuple[str, bool]:
    """Return "3 件已催办，1 件未执行：案件已结案" for an act() result, and whether anything went through."""
    done = len(result.done)
    refused = [o for o in result.outcomes if not o.ok]
    parts = [t("desk.done", lang, n=done, action=t(f"desk.act.{action}", lang))] if done else []
    if refused:
        reasons = []
        for outcome in refused:
            key = outcome.key if outcome.key in CATALOGUE else "act.why.other"
            words = t(key, lang)
            if words not in reasons:
                reasons.append(words)
        shown = "；".join(reasons[:TOO_MANY_REASONS]) + ("…" if len(reasons) > TOO_MANY_REASONS else "")
        parts.append(t("desk.refused_some", lang, n=len(refused), reasons=shown))
    return ("，" if lang != "en" else "; ").join(parts), done > 0


def act(_clicks, action, reason, follow_up, until, department, departments, selected, lang):
    """Take the chosen action on the selected cases with the reason (desk.act checks role, scope and every input)."""
    lang = normalise(lang)
    principal = access.current()
    if principal is None or not principal.may("act") or not desk.allowed(principal.role):
        return _message(t("desk.not_allowed", lang), False), no_update
    if action not in desk.allowed(principal.role):
        return _message(t("desk.pick_action" if not action else "desk.not_allowed", lang), False), no_update
    chosen = _selected_ids(selected)
    if not chosen:
        return _message(t("desk.pick", lang), False), no_update
    if not isinstance(reason, str) or not reason.strip():
        return _message(t("desk.need_reason", lang), False), no_update
    extra = {"supervise": {"follow_up_at": follow_up}, "request_extension": {"until": until},
             "redispatch": {"department_code": department},
             "whistle": {"departments": departments}}
    try:
        result = desk.act(context.current().ingestor, chosen, action, reason=reason, actor=principal.name,
                          role=principal.role, scope=principal.scope, audit_from=access.source(),
                          **extra.get(action, {}))
    except desk.ActRefused as refused:
        return _message(_refusal(refused, lang), False), no_update
    data.flush_marks()
    text, ok = result_text(result, action, lang)
    return _message(text, ok), "" if ok else no_update


def _refusal(refused: desk.ActRefused, lang: str) -> str:
    """Return a whole-request refusal in the screen's words where there are some, desk's own sentence otherwise."""
    if refused.field == "reason":
        return t("desk.reason_long" if "500" in refused.reason or "long" in refused.reason else "desk.need_reason",
                 lang)
    if refused.field == "ids" and str(desk.MAX_CASES) in refused.reason:
        return t("desk.too_many", lang, n=desk.MAX_CASES)
    if refused.field == "action":
        return t("desk.not_allowed", lang)
    return refused.reason


def register(app: dash.Dash) -> None:
    """Bind the desk's callbacks (and its export route) to ``app``."""
    backlog_export.init_app(app.server)
    app.callback(
        Output(ids.GRID, "getRowsResponse"),
        Output(ids.HEAD_COUNT, "children"),
        Output(ids.EMPTY, "hidden"),
        Input(ids.GRID, "getRowsRequest"),
        State(ids.SEARCH, "value"),
        State(ids.QUICK_FILTERS, "value"),
        State(ids.TICK, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(update_rows)
    app.callback(
        Output(ids.SAVED, "data"),
        Input(ids.GRID, "columnState"),
        Input(ids.GRID, "filterModel"),
        Input(ids.SEARCH, "value"),
        Input(ids.QUICK_FILTERS, "value"),
        prevent_initial_call=True,
    )(save_view)
    app.callback(
        Output(ids.ADDRESS, "data"),
        Input(ids.GRID, "columnState"),
        Input(ids.GRID, "filterModel"),
        Input(ids.SEARCH, "value"),
        Input(ids.QUICK_FILTERS, "value"),
        State(ids.ADDRESS, "data"),
        prevent_initial_call=True,
    )(address)
    app.clientside_callback(
        ClientsideFunction("gridcc_overview", "mirrorQuery"),
        Output(ids.MIRRORED, "data"),
        Input(ids.ADDRESS, "data"),
    )
    app.callback(
        Output(ids.GRID, "resetColumnState"),
        Output(ids.GRID, "filterModel"),
        Output(ids.SEARCH, "value"),
        Output(ids.QUICK_FILTERS, "value"),
        Output(ids.COLUMN_CHOICE, "value"),
        Input(ids.RESET, "n_clicks"),
        prevent_initial_call=True,
    )(reset_view)
    app.callback(
        Output(ids.SELECTED, "children"),
        Output(ids.REQUESTED, "children"),
        Input(ids.GRID, "selectedRows"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(update_selection)
    app.callback(
        Output(f"{ids.FOLLOW_UP}-field", "hidden"),
        Output(f"{ids.UNTIL}-field", "hidden"),
        Output(f"{ids.DEPARTMENT}-field", "hidden"),
        Output(f"{ids.DEPARTMENTS}-field", "hidden"),
        Input(ids.ACTION, "value"),
    )(show_inputs)
    app.callback(
        Output(ids.RESULT, "children"),
        Output(ids.REASON, "value"),
        Input(ids.SUBMIT, "n_clicks"),
        State(ids.ACTION, "value"),
        State(ids.REASON, "value"),
        State(ids.FOLLOW_UP, "value"),
        State(ids.UNTIL, "value"),
        State(ids.DEPARTMENT, "value"),
        State(ids.DEPARTMENTS, "value"),
        State(ids.GRID, "selectedRows"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(act)
    # In the browser: the live tick (set by assets/gridcc-live.js) refreshes the blocks in view; a new search or quick filter starts over;
    # the column choice shows and hides columns; the export link follows the view.
    app.clientside_callback(
        ClientsideFunction("gridcc_backlog", "refresh"),
        Input(ids.TICK, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_backlog", "restart"),
        Input(ids.SEARCH, "value"),
        Input(ids.QUICK_FILTERS, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_backlog", "columns"),
        Input(ids.COLUMN_CHOICE, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_backlog", "exportHref"),
        Output(ids.EXPORT, "href"),
        Input(ids.GRID, "columnState"),
        Input(ids.GRID, "filterModel"),
        Input(ids.SEARCH, "value"),
        Input(ids.QUICK_FILTERS, "value"),
        State(ids.LANG, "data"),
    )
