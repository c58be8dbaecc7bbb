"""Callbacks of the ranking configuration page: every one checks again that the caller is an administrator.

A callback is an HTTP endpoint any signed-in user can POST to with forged values: for anyone else it answers
nothing (and the attempt is audited); for an administrator a bad value is a message in words, never a 500.
"""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard import access, rank_config
from dashboard.i18n import normalise
from layouts import rank_admin as ids


def _admin_only(what: str) -> None:
    """Raise PreventUpdate (after auditing the attempt) unless the caller is an administrator."""
    principal = access.current()
    if principal is None or not principal.may("admin"):
        access.audit("rankcfg.save" if what == "save" else "rankcfg.view", "refused", target=what)
        raise PreventUpdate


def update_save(n_clicks, month, note, lang, grade_names, grades, *values):
    """Save the form as a new version from ``month``; return the answer and, when saved, a new list version."""
    _admin_only("save")
    if not n_clicks:
        raise PreventUpdate
    lang = normalise(lang)
    try:
        effective_from = ids.parse_month(month)
        if note is not None and not isinstance(note, str):
            raise ids.FormProblem("rankcfg.note", "rankcfg.bad.note")
        document = ids.config_document(values, grades if isinstance(grades, list) else [],
                                       grade_names if isinstance(grade_names, list) else [])
        config = rank_config.parse(document)
        version_id = rank_config.save_version(config, effective_from=effective_from, note=note or "")
    except ids.FormProblem as problem:
        access.audit("rankcfg.save", "refused", detail=f"{problem.field_key}: {problem.problem_key}")
        return ids.problem_message(problem.message(lang)), dash.no_update
    except rank_config.ConfigError as error:  # the form's checks should catch everything first
        access.audit("rankcfg.save", "refused", detail=str(error)[:500])
        return ids.problem_message(str(error)), dash.no_update
    except rank_config.SaveRefused as refused:
        access.audit("rankcfg.save", "refused", detail=str(refused)[:500])
        return ids.problem_message(ids.refusal_text(refused, lang)), dash.no_update
    return ids.saved_message(version_id, effective_from, lang), version_id


def update_versions(version, lang):
    """Return the list of versions and what is in force now, read again after a save."""
    _admin_only("versions")
    if not version:
        raise PreventUpdate
    lang = normalise(lang)
    state = rank_config.read_admin_state()
    return ids.versions_table(state.versions, state.today, lang), ids.status_children(state, lang)


def register(app: dash.Dash) -> None:
    """Bind the ranking configuration page's callbacks to ``app``."""
    app.callback(
        Output(ids.RESULT, "children"),
        Output(ids.VERSION, "data"),
        Input(ids.SAVE, "n_clicks"),
        State(ids.MONTH, "value"),
        State(ids.NOTE, "value"),
        State(ids.LANG, "data"),
        State(ids.GRADE_NAMES, "data"),
        State({"type": ids.GRADE, "index": ALL}, "value"),
        *(State(field_id, prop) for _kind, _scheme, _extra, field_id, prop in ids.FIELDS),
        prevent_initial_call=True,
    )(update_save)
    app.callback(
        Output(ids.VERSIONS, "children"),
        Output(ids.STATUS, "children"),
        Input(ids.VERSION, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(update_versions)
