"""Callbacks of the wall: draw the view the browser asks for in each slot, and redraw it on live changes.

assets/gridcc-wall.js decides *which* stop of the playlist each slot holds (the rotation, the keys, the
pause) and sets the slot's request store; it also fires the wall's tick on a live change, at most every
5 s. Here a slot's request becomes one renderer call (spec §5: ``render(view, scope=, lang=)``); an answer
the slot already shows is ``no_update``. The playlist is looked up again by name on the server: the browser
only says which stop, never which URL. A wall never shows anything personal, whoever is signed in: the
callbacks run as a public wall (no "reveal", masked loaders).
"""
from __future__ import annotations

import dataclasses
import logging

import dash
import flask
from dash import Input, Output, State, html, no_update

from callbacks.overview import unless_same
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


def draw(stop: wall.WallView, index: int, lang: str):
    """Return slot content for one stop of a playlist: its caption and its view, drawn by its page's renderer."""
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
    return html.Div(className="wall-built", **{"data-index": str(index), "data-page": stop.view.path}, children=[
        html.Div(stop.label(lang), className="wall-caption"), tree])


def draw_slot(request, tick, _minute, config, shown):
    """Draw (or redraw, on a tick or the minute) the stop the browser asked for in one slot."""
    data.told(tick)
    if not isinstance(request, dict) or not isinstance(config, dict):
        return no_update, no_update
    index = request.get("i")
    if not isinstance(index, int) or isinstance(index, bool) or not -10_000 < index < 10_000:
        return no_update, no_update
    lang = normalise(config.get("lang") if isinstance(config.get("lang"), str) else None)
    try:
        playlist = wall.find(wall.playlists(ids._source()), config.get("playlist"))
    except LookupError:
        return no_update, no_update
    as_public_wall()
    index, stop = playlist.at(index)
    return unless_same(shown, draw(stop, index, lang))


def register(app: dash.Dash) -> None:
    """Bind the wall's callbacks to ``app``."""
    for k in range(ids.SLOTS):
        app.callback(
            Output(ids.slot(k), "children"),
            Output(ids.digest(k), "data"),
            Input(ids.want(k), "data"),
            Input(ids.TICK, "data"),
            Input(ids.MINUTE, "n_intervals"),
            State(ids.CONFIG, "data"),
            State(ids.digest(k), "data"),
            prevent_initial_call=True,
        )(draw_slot)
