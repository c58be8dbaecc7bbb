"""Callbacks of the user management page: every one checks again who is asking, and what they may manage.

A callback is an HTTP endpoint any signed-in user can POST to with forged values: for anyone who may manage
no one they answer nothing (and the attempt is audited); for a manager a bad or forbidden value is a
message (and an audited refusal), never a 500.
"""
from __future__ import annotations

import secrets

import dash
from dash import ClientsideFunction, Input, Output, State
from dash.exceptions import MissingCallbackContextException, PreventUpdate

from dashboard import access, context, user_admin
from dashboard.i18n import normalise
from layouts import users as ids

# The button (or its confirm dialog) that fired an action → the action's audit name.
_ACTIONS = {ids.DISABLE: "user.disable", ids.ENABLE_BUTTON: "user.enable", ids.RESET: "user.password_reset",
            ids.ADD_BUTTON: "user.add"}


def _manager_only(action: str, target: str | None = None) -> user_admin.Manager:
    """Return the caller as a manager of users; raise PreventUpdate (after auditing the attempt) otherwise."""
    who = user_admin.manager()
    if who is None:
        access.audit(action, "refused", target=target, detail="may manage no users")
        raise PreventUpdate
    return who


def _trigger() -> str | None:
    try:
        return dash.ctx.triggered_id
    except MissingCallbackContextException:  # called as a plain function: nothing fired it
        return None


def _changed() -> str:
    """Return a new value for a version store: the grid reloads."""
    return secrets.token_hex(4)


def update_grid(_version, lang):
    """Read the users the caller may manage; return the grid's rows, the count, and no selection."""
    who = _manager_only("user.view", "rows")
    lang = normalise(lang)
    rows = ids.grid_rows(user_admin.read_users(who), now=context.current().settings.now(), me=who.name, lang=lang)
    return rows, ids.count_text(len(rows), lang), []


def update_scope_options(role, lang):
    """Return the areas and departments the caller may give a new user of ``role``, and clear the choice."""
    who = _manager_only("user.view", "scopes")
    return ids.scope_options(user_admin.read_scope_choices(who, role), normalise(lang)), None


def update_result(_disable, _enable, _reset, _add, selected, name, display_name, role, scope_code, lang):
    """Run the action whose button fired: disable, enable or reset the selected user, or add one.

    Return its answer (a one-time password shows here, once: the next action replaces it), a new grid
    version, and an emptied form after an add.
    """
    fired = _trigger()
    who = _manager_only(_ACTIONS.get(fired, "user.action"))
    if fired not in _ACTIONS:
        raise PreventUpdate
    lang = normalise(lang)
    try:
        if fired == ids.ADD_BUTTON:
            done = user_admin.add_user(who, name=name, display_name=display_name, role=role, scope_code=scope_code)
        else:
            done = user_admin.ACTIONS[_ACTIONS[fired]](who, rows=selected)
    except user_admin.Refusal as refusal:
        return ids.refusal_message(refusal, lang), dash.no_update, dash.no_update, dash.no_update
    emptied = ("", "") if fired == ids.ADD_BUTTON else (dash.no_update, dash.no_update)
    return (ids.done_message(done, lang), _changed(), *emptied)


def register(app: dash.Dash) -> None:
    """Bind the user management page's callbacks to ``app``."""
    app.callback(
        Output(ids.GRID, "rowData"),
        Output(ids.COUNT, "children"),
        Output(ids.GRID, "selectedRows"),
        Input(ids.VERSION, "data"),
        State(ids.LANG, "data"),
    )(update_grid)
    app.callback(
        Output(ids.SCOPE, "options"),
        Output(ids.SCOPE, "value"),
        Input(ids.ROLE, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(update_scope_options)
    app.callback(
        Output(ids.RESULT, "children"),
        Output(ids.VERSION, "data"),
        Output(ids.NAME, "value"),
        Output(ids.DISPLAY_NAME, "value"),
        Input(ids.DISABLE, "submit_n_clicks"),
        Input(ids.ENABLE_BUTTON, "n_clicks"),
        Input(ids.RESET, "submit_n_clicks"),
        Input(ids.ADD_BUTTON, "n_clicks"),
        State(ids.GRID, "selectedRows"),
        State(ids.NAME, "value"),
        State(ids.DISPLAY_NAME, "value"),
        State(ids.ROLE, "value"),
        State(ids.SCOPE, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(update_result)
    app.clientside_callback(
        ClientsideFunction("gridcc_users", "selection"),
        Output(ids.SELECTED, "children"),
        Output(ids.DISABLE_BUTTON, "disabled"),
        Output(ids.ENABLE_BUTTON, "disabled"),
        Output(ids.RESET_BUTTON, "disabled"),
        Input(ids.GRID, "selectedRows"),
        State(ids.LABELS, "data"),
    )
