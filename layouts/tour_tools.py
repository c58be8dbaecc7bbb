"""The top bar's "加入讲稿 Add to tour" control and its dialog (issue 8 §3; docs/presenter.md).

``tools()`` returns the components the shell puts in its top bar, on every page. The button is enabled on the
pages that honour a cut-off (views.FREEZABLE: the overview, SLA, rankings), disabled with the reason on the
backlog (always live) and hidden elsewhere (a clientside callback in callbacks/tour_tools.py decides from
the path). Pressing it takes the page's address as it is now
(window.location, which the pages keep up to date with their state) into ``URL``; the server parses it again
(views.parse) and fills the dialog: which tour (one of mine, or a new one with a title and a cut-off), the
slide's title and a note. Nobody who may not keep tours (a wall display, a public wall, a token) gets the button.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import access, tours, views
from dashboard.i18n import LANGS, t

ADD = "tour-add"
DIALOG = "tour-add-dialog"
URL = "tour-add-url"  # {"href": window.location.href when the button was pressed, "at": ms}
LABELS = "tour-add-labels"
PICK = "tour-add-pick"
NEW_BOX = "tour-add-new"
NEW_TITLE = "tour-add-new-title"
NEW_AS_OF = "tour-add-as-of"
TITLE = "tour-add-title"
NOTE = "tour-add-note"
SAVE = "tour-add-save"
CANCEL = "tour-add-cancel"
RESULT = "tour-add-result"
NEW = "new"  # the pick that makes a new tour

# What the button's clientside callback needs: the pages it works on, the one it explains, its labels.
BUTTON_KEYS = ("tour.add_hint", "tour.err.live_page")


def button_labels() -> dict:
    return {"freezable": sorted(views.FREEZABLE), "live": sorted(set(views.PAGES) - views.FREEZABLE),
            "langs": {lang: {key: t(key, lang) for key in BUTTON_KEYS} for lang in LANGS}}


def _both(key: str) -> list:
    """Return a label in both languages; the one not in <html lang> is hidden (the switch needs no reload)."""
    return [html.Span(t(key, "zh"), className="gcc-zh-only"), html.Span(t(key, "en"), className="gcc-en-only")]


def _field(key: str, control, extra: str = "") -> html.Div:
    return html.Div(className=f"tad-field {extra}".strip(), children=[
        html.Label(_both(key), htmlFor=control.id, className="tad-label"), control])


def tools() -> list:
    """Return the top bar's tour controls (none for someone who may not keep tours)."""
    if not tours.may_tour(access.current()):
        return []
    return [
        dcc.Store(id=LABELS, data=button_labels()),
        dcc.Store(id=URL),
        html.Button(_both("tour.add"), id=ADD, n_clicks=0, type="button", hidden=True,
                    className="gcc-user-btn tad-btn", title=t("tour.add_hint", "zh"),
                    **{"aria-label": t("tour.add", "zh") + " " + t("tour.add", "en")}),
        dbc.Modal(id=DIALOG, is_open=False, centered=True, className="tad-dialog", children=[
            dbc.ModalHeader(dbc.ModalTitle(_both("tour.add"))),
            dbc.ModalBody(className="tad-body", children=[
                _field("tour.which", dcc.Dropdown(id=PICK, options=[], value=NEW, clearable=False, searchable=False,
                                                  className="tad-pick")),
                html.Div(id=NEW_BOX, className="tad-new", children=[
                    _field("tour.new_title", dcc.Input(id=NEW_TITLE, type="text", maxLength=tours.MAX_TITLE,
                                                       autoComplete="off", className="form-control form-control-sm"),
                           "tad-grow"),
                    _field("tour.cutoff", dbc.Input(id=NEW_AS_OF, type="datetime-local", step=60,
                                                    min="2000-01-01T00:00", size="sm")),
                    html.P(_both("tour.cutoff_hint"), className="tad-hint"),
                ]),
                _field("tour.slide_title", dcc.Input(id=TITLE, type="text", maxLength=tours.MAX_TITLE,
                                                     autoComplete="off", className="form-control form-control-sm")),
                _field("tour.note", dcc.Textarea(id=NOTE, maxLength=tours.MAX_NOTE, value="",
                                                 className="form-control form-control-sm tad-note")),
                html.Div(id=RESULT, className="tad-result", role="status", **{"aria-live": "polite"}),
            ]),
            dbc.ModalFooter(children=[
                html.Button(_both("tour.cancel"), id=CANCEL, n_clicks=0, type="button", className="btn btn-secondary btn-sm"),
                html.Button(_both("tour.add_button"), id=SAVE, n_clicks=0, type="button",
                            className="btn btn-info btn-sm"),
            ]),
        ]),
    ]
