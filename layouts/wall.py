"""The wall (/wall?playlist=<name>&lang=): a full-screen rotation of views for a video wall (issue 8 §1).

The page is a header (product and playlist title, the view's title, its place in the playlist as dots, a
"paused" mark, the clock and the data-as-of badge) over a body of four slots. The browser
(assets/gridcc-wall.js) keeps the current view in one slot and has the next ones drawn in others before
they are shown, so a rotation is a cross-fade between two finished views, never a blank redraw; a shown view
is redrawn in the spare slot, which then takes its place. On a 32:9 wall the current and the next view stand
side by side. Each slot's content comes from callbacks/wall.py.
Every size is in ``var(--u)`` (assets/gridcc-wall.css); nothing here sets a pixel.
"""
from __future__ import annotations

import json

from dash import dcc, html

from dashboard import context, wall
from dashboard.i18n import normalise, t

PATH = "/wall"
ROOT = "wall"
CONFIG = "wall-config"
VIEW_TITLE = "wall-view-title"
DOTS = "wall-dots"
PAUSED = "wall-paused"
CLOCK = "wall-clock"
BADGE = "wall-badge"
STATE = "wall-state"
# The current view, the next, the one after (drawn ahead; on a 32:9 wall the first two show), and a spare where
# a shown view is redrawn on a live change before it takes the shown one's place.
SLOTS = 4
# Labels the browser code needs (the badge, the watchdog's states), in the page's language.
CLIENT_KEYS = ("clock.as_of", "live.delayed", "live.lost", "bigwall.paused", "bigwall.sign_in_again",
               "bigwall.reconnecting", "bigwall.reloading")


def slot(k: int) -> str:
    """Return the id of slot ``k`` (its children: one drawn view)."""
    return f"wall-slot-{k}"


def want(k: int) -> str:
    """Return the id of slot ``k``'s request store: {"i": the playlist index to draw there} (set by the browser)."""
    return f"wall-want-{k}"


def _source() -> str:
    return getattr(context.current().settings, "wall_playlists", "") or ""


def problem(message: str, lang: str) -> html.Div:
    """Return the wall's whole-screen notice for a playlist that cannot be shown (named, with the cause)."""
    return html.Div(id=ROOT, className="wall wall-problem", lang="en" if lang == "en" else "zh-CN",
                    **{"data-ready": "1"}, children=[
        html.Div(className="wall-panel wall-problem-card", children=[
            html.Div(t("bigwall.no_playlist", lang), className="wall-problem-title"),
            html.Div(message, className="wall-problem-text"),
            html.Div(t("bigwall.no_playlist_hint", lang), className="wall-problem-text"),
        ]),
    ])


def layout(playlist: str | None = None, lang: str = "zh", **_) -> html.Div:
    """Return the wall for ``?playlist=…&lang=…`` (the first playlist without one)."""
    lang = normalise(lang)
    try:
        chosen = wall.find(wall.playlists(_source()), playlist if isinstance(playlist, str) else None)
    except LookupError as error:
        return problem(str(error.args[0]), lang)
    settings = context.current().settings
    client = {**wall.client_config(chosen, lang), "timezone": settings.timezone,
              "labels": {key: t(key, lang) for key in CLIENT_KEYS}}
    first = chosen.views[0]
    return html.Div(
        id=ROOT, className="wall", lang="en" if lang == "en" else "zh-CN",
        **{"data-ready": "0", "data-config": json.dumps(client, ensure_ascii=False)},
        children=[
            dcc.Store(id=CONFIG, data={"playlist": chosen.name, "lang": lang}),
            *[dcc.Store(id=want(k)) for k in range(SLOTS)],
            html.Header(className="wall-head wall-panel", children=[
                html.Div(className="wall-brand", children=[
                    html.Span(className="wall-mark", **{"aria-hidden": "true"}),
                    html.Div(className="wall-names", children=[
                        html.Div(t("product", lang), className="wall-product"),
                        html.Div(chosen.title, className="wall-playlist"),
                    ]),
                ]),
                html.Div(className="wall-now", children=[
                    html.H1(first.label(lang), id=VIEW_TITLE, className="wall-view-title"),
                    html.Div(id=DOTS, className="wall-dots", role="img",
                             **{"aria-label": f"1/{len(chosen.views)}"},
                             children=[html.Span(className="wall-dot" + (" on" if i == 0 else ""))
                                       for i in range(len(chosen.views))]),
                    html.Span(id=PAUSED, className="wall-paused", hidden=True, role="status",
                              children=["❚❚ ", t("bigwall.paused", lang)]),
                ]),
                html.Div(className="wall-right", children=[
                    html.Span(id=BADGE, className="wall-badge wall-live-fresh", role="status",
                              **{"data-live": "fresh"}, children=f"{t('clock.as_of', lang)} --:--:--"),
                    html.Span("--:--", id=CLOCK, className="wall-clock"),
                ]),
            ]),
            html.Div(className="wall-body", children=[
                html.Div(id=slot(k), className="wall-slot") for k in range(SLOTS)]),
            html.Div(id=STATE, className="wall-state", hidden=True, role="alert"),
        ],
    )
