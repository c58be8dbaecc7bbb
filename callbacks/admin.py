"""Callbacks of the audit log page: every one re-checks that the caller is an administrator.

A callback is an HTTP endpoint any signed-in user can POST to with forged values: for anyone else they
answer nothing (and the attempt is audited); for an administrator a bad value is a message, never a 500.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State
from dash.exceptions import MissingCallbackContextException, PreventUpdate

from dashboard import access, audit_export
from dashboard.i18n import normalise
from layouts import admin as ids


def _admin_only(what: str) -> None:
    """Raise PreventUpdate (after auditing the attempt) unless the caller is an administrator."""
    principal = access.current()
    if principal is None or not principal.may("admin"):
        access.audit("audit.view", "refused", target=what)
        raise PreventUpdate


def _pager_clicked() -> bool:
    """Return True when the pager fired this call (a filter change starts again at page 1)."""
    try:
        return dash.ctx.triggered_id == ids.PAGER
    except MissingCallbackContextException:  # called as a plain function (tests): the page is as given
        return True


def update_choices(lang):
    """Fill the action and outcome dropdowns from what the audit log holds."""
    _admin_only("choices")
    lang = normalise(lang)
    actions, outcomes = audit_export.read_choices()
    return ids.action_options(actions, lang), ids.outcome_options(outcomes, lang)


def update_table(since, until, actor, action, outcome, q, page, lang):
    """Read one page of the audit rows matching the filters; return rows, count, message, pager and exports."""
    _admin_only("rows")
    lang = normalise(lang)
    try:
        filters = audit_export.parse_filters({"since": since, "until": until, "actor": actor, "action": action,
                                              "outcome": outcome, "q": q}, today=audit_export.today())
        page = audit_export.parse_page(page) if _pager_clicked() else 1
    except audit_export.FilterError as error:
        return [], ids.count_text(None, lang), error.message(lang), 1, 1, ids.export_links(None, 0, lang)
    found = audit_export.read_page(filters, page)
    return (ids.grid_rows(found.rows, lang), ids.count_text(found.total, lang), "", found.pages, found.number,
            ids.export_links(filters, found.total, lang))


def register(app: dash.Dash) -> None:
    """Bind the audit page's callbacks to ``app``."""
    app.callback(
        Output(ids.ACTION, "options"),
        Output(ids.OUTCOME, "options"),
        Input(ids.LANG, "data"),
    )(update_choices)
    app.callback(
        Output(ids.GRID, "rowData"),
        Output(ids.COUNT, "children"),
        Output(ids.MESSAGE, "children"),
        Output(ids.PAGER, "max_value"),
        Output(ids.PAGER, "active_page"),
        Output(ids.EXPORT, "children"),
        Input(ids.DATES, "start_date"),
        Input(ids.DATES, "end_date"),
        Input(ids.ACTOR, "value"),
        Input(ids.ACTION, "value"),
        Input(ids.OUTCOME, "value"),
        Input(ids.SEARCH, "value"),
        Input(ids.PAGER, "active_page"),
        State(ids.LANG, "data"),
    )(update_table)
