"""The user management page: the users a manager may manage in a grid, actions on one, and an "add user" form."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dash_ag_grid as dag
from dash import dcc, html

from dashboard import access, auth, data, user_admin
from dashboard.i18n import level_name, normalise, t
from layouts.admin import GRID_THEME, html_lang, refused
from queries.users import ManagedUser, ScopeChoice

PATH = "/admin/users"
LANG = "admin-users-lang"
LABELS = "admin-users-labels"  # what the selection's clientside callback writes
VERSION = "admin-users-version"  # changed by every action that changed a user: the grid reloads
COUNT = "admin-users-count"
GRID = "admin-users-grid"
SELECTED = "admin-users-selected"
DISABLE = "admin-users-disable"  # the confirm dialogs around the buttons
RESET = "admin-users-reset"
DISABLE_BUTTON = "admin-users-disable-button"
ENABLE_BUTTON = "admin-users-enable-button"
RESET_BUTTON = "admin-users-reset-button"
RESULT = "admin-users-result"  # the answer of the last action (one at a time: a one-time password shows once)
NAME = "admin-users-name"
DISPLAY_NAME = "admin-users-display-name"
ROLE = "admin-users-role"
SCOPE = "admin-users-scope"
ADD_BUTTON = "admin-users-add-button"

# Row classes: a disabled user is greyed, a locked one stands out.
ROW_CLASSES = {"usr-row-disabled": "params.data.state_code === 'disabled'",
               "usr-row-locked": "params.data.state_code === 'locked'"}
# column: (width, flex); flexible columns share what is left of the width.
_COLUMNS = {"name": (140, 0), "display_name": (140, 1), "role": (190, 0), "scope": (220, 2), "state": (90, 0),
            "must_change": (200, 0), "created_at": (150, 0), "last_sign_in": (150, 0)}


def layout(lang: str = "zh", **_) -> html.Div:
    """Return the page for an administrator or district manager; anyone else gets only a refusal, and no data."""
    lang = normalise(lang)
    principal = access.current()
    who = user_admin.manager()
    if who is None:
        wall = principal is not None and principal.public_wall and principal.role in user_admin.MANAGER_ROLES
        return refused(t("users.wall" if wall else "users.refused", lang),
                       t("users.wall_hint" if wall else "users.refused_hint", lang), lang, "usr")
    subtitle = (t("users.subtitle_all", lang) if who.district is None
                else t("users.subtitle_district", lang, district=data.scope_name(principal.scope)))
    return html.Div(className="adm usr", lang=html_lang(lang), children=[
        dcc.Store(id=LANG, data=lang),
        dcc.Store(id=LABELS, data={"none": t("users.selected_none", lang),
                                   "selected": t("users.selected", lang, name="{name}")}),
        dcc.Store(id=VERSION, data=0),
        html.Div(className="adm-head", children=[
            html.Div(className="adm-heading", children=[
                html.H2(t("users.title", lang), className="adm-title"),
                html.Span(subtitle, className="adm-subtitle"),
            ]),
            html.Div(id=COUNT, className="adm-count", role="status"),
        ]),
        html.Div(id=RESULT, className="usr-result", role="status", **{"aria-live": "polite"}),
        html.Div(className="usr-body", children=[_list(lang), _add_form(who, lang)]),
    ])


def _button(label_key: str, button_id: str, lang: str, extra: str) -> html.Button:
    return html.Button(t(label_key, lang), id=button_id, n_clicks=0, disabled=True, type="button",
                       className=f"btn btn-sm usr-btn {extra}")


def _list(lang: str) -> html.Section:
    return html.Section(className="gcc-card usr-list", children=[
        html.Div(className="usr-actions", children=[
            html.Span(t("users.selected_none", lang), id=SELECTED, className="usr-selected"),
            dcc.ConfirmDialogProvider(id=DISABLE, message=t("users.confirm_disable", lang),
                                      children=_button("users.disable", DISABLE_BUTTON, lang, "usr-btn-danger")),
            _button("users.enable", ENABLE_BUTTON, lang, "usr-btn-plain"),
            dcc.ConfirmDialogProvider(id=RESET, message=t("users.confirm_reset", lang),
                                      children=_button("users.reset", RESET_BUTTON, lang, "usr-btn-plain")),
        ]),
        html.Div(className="usr-grid-wrap", children=dag.AgGrid(
            id=GRID,
            className="adm-grid usr-grid",
            columnDefs=_columns(lang),
            rowData=[],
            defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
            rowClassRules=ROW_CLASSES,
            getRowId="params.data.name",
            dashGridOptions={"theme": {"function": GRID_THEME},
                             "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                             "localeText": {"noRowsToShow": t("users.empty", lang)},
                             "suppressCellFocus": True, "enableCellTextSelection": True, "tooltipShowDelay": 400},
            style={"height": "100%", "width": "100%"},
        )),
    ])


def _field(label_key: str, control, lang: str) -> html.Div:
    return html.Div(className="adm-field usr-field", children=[
        html.Label(t(label_key, lang), htmlFor=control.id, className="adm-field-label"), control])


def _add_form(who: user_admin.Manager, lang: str) -> html.Section:
    labels = {"search": t("users.search", lang), "clear_search": t("audit.clear", lang),
              "clear_selection": t("audit.clear", lang)}
    return html.Section(className="gcc-card usr-add", children=[
        html.H3(t("users.add_title", lang), className="gcc-card-title usr-add-title"),
        html.P(t("users.add_note", lang), className="usr-add-note"),
        _field("users.name", dcc.Input(
            id=NAME, type="text", maxLength=64, placeholder=t("users.name_hint", lang), autoComplete="off",
            spellCheck=False, className="form-control form-control-sm adm-input"), lang),
        _field("users.display_name", dcc.Input(
            id=DISPLAY_NAME, type="text", maxLength=user_admin.MAX_DISPLAY_NAME, autoComplete="off",
            placeholder=t("users.display_name_hint", lang), className="form-control form-control-sm adm-input"), lang),
        _field("users.role", dcc.Dropdown(
            id=ROLE, options=role_options(user_admin.grantable_roles(who), lang), clearable=False, searchable=False,
            placeholder=t("users.bad_role", lang), labels=labels, className="adm-dropdown"), lang),
        _field("users.scope", dcc.Dropdown(
            id=SCOPE, options=[], clearable=False, searchable=True, placeholder=t("users.scope_hint", lang),
            labels=labels, className="adm-dropdown"), lang),
        html.Button(t("users.add", lang), id=ADD_BUTTON, n_clicks=0, type="button",
                    className="btn btn-info btn-sm usr-add-btn"),
    ])


def _columns(lang: str) -> list[dict]:
    columns = []
    for column, (width, flex) in _COLUMNS.items():
        spec = {"field": column, "headerName": t(f"users.col.{column}", lang), "minWidth": width}
        spec |= {"flex": flex} if flex else {"width": width}
        if column in ("scope", "display_name"):
            spec["tooltipField"] = column
        if column in ("name", "created_at", "last_sign_in"):
            spec["cellClass"] = "adm-mono"
        columns.append(spec)
    return columns


# -- pure builders (the callbacks call these) ------------------------------------------------------------------
def role_label(role: str, lang: str) -> str:
    """Return a role's label in ``lang`` (区管理员 / District manager), the role itself when unknown."""
    zh, en, _ = auth.ROLES.get(role, (role, role, ()))
    return en if lang == "en" else zh


def role_options(roles: Sequence[str], lang: str) -> list[dict]:
    """Return the role dropdown's options for ``roles``."""
    return [{"label": role_label(role, lang), "value": role} for role in roles]


def scope_label(kind: str, code: str, name: str | None, level: int | None, lang: str) -> str:
    """Return how an area or department reads: "东街街道（街道）· 329902001"."""
    what = t("users.department", lang) if kind == "department" else level_name(level, lang) if level is not None else ""
    shown = name if name is not None else t("users.gone", lang)
    if not what:
        return f"{shown} · {code}"
    return f"{shown}（{what}）· {code}" if lang != "en" else f"{shown} ({what}) · {code}"


def scope_options(choices: Sequence[ScopeChoice], lang: str) -> list[dict]:
    """Return the scope dropdown's options: each area or department by name, level and code."""
    return [{"label": scope_label(c.kind, c.code, c.name, c.level, lang), "value": c.code} for c in choices]


def _time(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def grid_rows(users: Sequence[ManagedUser], *, now: datetime, me: str, lang: str) -> list[dict]:
    """Return the grid's rows: labels in ``lang``, the state at ``now``, and ``self`` on the manager's own row."""
    rows = []
    for user in users:
        state = user_admin.user_state(user, now)
        rows.append({
            "name": user.name, "display_name": user.display_name, "role": role_label(user.role, lang),
            "scope": f"{user.scope_code} {user.scope_name if user.scope_name is not None else t('users.gone', lang)}",
            "state": t(f"users.state.{state}", lang), "state_code": state,
            "must_change": t("users.yes", lang) if user.must_change_password else "",
            "created_at": _time(user.created_at), "last_sign_in": _time(user.last_sign_in), "self": user.name == me,
        })
    return rows


def count_text(n: int, lang: str) -> str:
    """Return "共 N 人"."""
    return t("users.count", lang, n=f"{n:,}")


def refusal_message(refusal: user_admin.Refusal, lang: str) -> html.Div:
    """Return a refusal as the page shows it (red)."""
    return html.Div(refusal.message(lang), className="usr-message usr-message-refused", role="alert")


def done_message(done: user_admin.Done, lang: str) -> html.Div:
    """Return what an action did; with its one-time password, shown this once, and how to pass it on."""
    text = t(done.key, lang, name=done.name, n=done.sessions_ended)
    if done.password is None:
        return html.Div(text, className="usr-message usr-message-ok")
    return html.Div(className="usr-message usr-message-ok usr-otp", children=[
        html.Div(text),
        html.Div(className="usr-otp-line", children=[
            html.Span(t("users.otp", lang), className="usr-otp-label"),
            html.Code(done.password, className="usr-otp-value"),
        ]),
        html.Div(t("users.otp_note", lang, name=done.name), className="usr-otp-note"),
    ])
