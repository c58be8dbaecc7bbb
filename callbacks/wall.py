"""Callbacks of the wall: draw the view the browser asks for in a slot.

assets/gridcc-wall.js decides *which* stop of the playlist each slot holds (the rotation, the keys, the
pause, the refresh on live changes at most every 5 s and every minute) and sets the slot's request store
{"i": stop, "t": request stamp, "v": data version announced, "same": digest the browser shows, "spare": bool}.
Here a request becomes one renderer call (spec §5: ``render(view, scope=, lang=)``). An answer equal to what
the browser shows (``same``) is not sent: a hidden slot keeps what it has (``no_update``), the spare slot —
where a shown view is redrawn before it replaces the shown one, so a refresh never remounts a map on screen —
gets a small "unchanged" mark. The playlist is looked up again by name on the server: the browser only says
which stop, never which URL. A wall never shows anything personal, whoever is signed in: the callbacks run
as a public wall (no "reveal", masked loaders).
"""
from __future__ import annotations

import dataclasses
import logging

import dash
import flask
from dash import Input, Output, State, html, no_update

from callbacks.overview import _digest
from dashboard import access, data, wall
from dashboard.i18n import normalise, t
from layouts import wall as ids
from layouts import wall_overview

log = logging.getLogger(__name__)


def renderers() -> dict:
    """Return the wall renderer of each page: the overview's here, the others' from layouts/wall_views.py."""
    found = {"/": wall_overview.render}
    try:
        from layouts import wall_views

        found.update(getattr(wall_views, "RENDERERS", {}) or {})
    except Exception:  # not there yet, or broken: the wall shows what it can and says what it cannot
        log.exception("layouts.wall_views could not be loaded; the wall shows the overview only")
    return found


def _card(key: str, lang: str, page: str) -> html.Div:
    return html.Div(className="wall-view wall-view-missing", children=[
        html.Div(className="wall-panel wall-missing-card", children=[
            html.Div(t(key, lang), className="wall-missing-title"),
            html.Div(page, className="wall-missing-page"),
        ])])


def as_public_wall() -> None:
    """Make this request's caller a public wall: whatever their role, no loader shows anything personal."""
    principal = access.current()
    if principal is not None and not principal.public_wall:
        flask.g.gridcc_principal = dataclasses.replace(principal, public_wall=True)


def view_tree(stop: wall.WallView, lang: str):
    """Return one stop's view, drawn by its page's renderer (a card when there is none or it fails)."""
    renderer = renderers().get(stop.view.path)
    if renderer is None:
        tree = _card("bigwall.unsupported", lang, stop.view.path)
    else:
        try:
            tree = renderer(stop.view, scope=data.request_scope(), lang=lang)
        except PermissionError:
            raise
        except Exception:  # one broken view must not stop a wall that runs unattended
            log.exception("the wall could not draw %s", stop.view.url())
            tree = _card("bigwall.failed", lang, stop.view.path)
    return tree


def _stamp(value) -> str:
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e16 else ""


def update_slot(request, config):
    """Draw the stop the browser asked for in one slot (see the module's docstring)."""
    if not isinstance(request, dict) or not isinstance(config, dict):
        return no_update
    index = request.get("i")
    if not isinstance(index, int) or isinstance(index, bool) or not -10_000 < index < 10_000:
        return no_update
    lang = normalise(config.get("lang") if isinstance(config.get("lang"), str) else None)
    try:
        playlist = wall.find(wall.playlists(ids._source()), config.get("playlist"))
    except LookupError:
        return no_update
    data.told(request)  # {"v": …}: an answer as new as the change announced will do
    as_public_wall()
    index, stop = playlist.at(index)
    tree = view_tree(stop, lang)
    digest = _digest(tree)
    marks = {"data-index": str(index), "data-page": stop.view.path, "data-digest": digest,
             "data-req": _stamp(request.get("t"))}
    if request.get("same") == digest:
        if request.get("spare") is True:
            return html.Div(className="wall-built wall-same", **marks)
        return no_update
    return html.Div(className="wall-built", **marks, children=[html.Div(stop.label(lang), className="wall-caption"),
                                                                tree])


def register(app: dash.Dash) -> None:
    """Bind the wall's callbacks to ``app``."""
    for k in range(ids.SLOTS):
        app.callback(
            Output(ids.slot(k), "children"),
            Input(ids.want(k), "data"),
            State(ids.CONFIG, "data"),
            prevent_initial_call=True,
        )(update_slot)
