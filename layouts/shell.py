"""The command-center frame around every page: top bar (product, page title, clock, language) and the page."""
from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import context
from dashboard.i18n import LANGS, bundle

LOCATION = "shell-location"
LABELS = "shell-labels"
PRODUCT = "shell-product"
TITLE = "shell-title"
AS_OF = "shell-as-of"
CLOCK = "shell-clock"
CLOCK_TICK = "shell-clock-tick"
REFRESH = "shell-refresh"
LANG_ZH = "shell-lang-zh"
LANG_EN = "shell-lang-en"

REFRESH_MS = 60_000
# The title key of each page path; the shell shows it in the top bar.
PAGE_TITLES = {"/": "page.overview"}
SHELL_KEYS = ("product", "clock.as_of", "lang.switch", *sorted(set(PAGE_TITLES.values())))


def labels(timezone: str) -> dict:
    """Return what the shell's clientside callbacks need: labels per language, page titles, the city's time zone."""
    return {"langs": {lang: bundle(SHELL_KEYS, lang) for lang in LANGS}, "pages": PAGE_TITLES, "timezone": timezone}


def layout() -> html.Div:
    """Return the frame: a top bar over ``dash.page_container``; labels are set from the URL's ``lang``."""
    zh = bundle(SHELL_KEYS, "zh")
    return html.Div(
        className="gcc-shell",
        children=[
            dcc.Location(id=LOCATION, refresh="callback-nav"),
            dcc.Store(id=LABELS, data=labels(context.current().settings.timezone)),
            dcc.Interval(id=CLOCK_TICK, interval=1000),
            dcc.Interval(id=REFRESH, interval=REFRESH_MS),
            html.Header(
                className="gcc-topbar",
                children=[
                    html.Div(className="gcc-brand", children=[
                        html.Span(className="gcc-brand-mark", **{"aria-hidden": "true"}),
                        html.Span(zh["product"], id=PRODUCT, className="gcc-product"),
                    ]),
                    html.H1(zh["page.overview"], id=TITLE, className="gcc-title"),
                    html.Div(className="gcc-topbar-right", children=[
                        html.Span(id=AS_OF, className="gcc-as-of"),
                        html.Span(id=CLOCK, className="gcc-clock"),
                        html.Div(
                            className="gcc-lang", role="group", title=zh["lang.switch"],
                            children=[
                                html.Button("中文", id=LANG_ZH, className="gcc-lang-btn", n_clicks=0, lang="zh"),
                                html.Span("|", className="gcc-lang-sep"),
                                html.Button("EN", id=LANG_EN, className="gcc-lang-btn", n_clicks=0, lang="en"),
                            ],
                        ),
                    ]),
                ],
            ),
            html.Main(dash.page_container, className="gcc-main"),
        ],
    )
