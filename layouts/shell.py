"""The command-center frame around every page: top bar (product, page title, clock, language) and the page."""
from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import access, context, data
from dashboard.auth import ROLES
from dashboard.i18n import LANGS, bundle, t
from layouts import tour_tools

LOCATION = "shell-location"
LABELS = "shell-labels"
PRODUCT = "shell-product"
TITLE = "shell-title"
AS_OF = "shell-as-of"
CLOCK = "shell-clock"
CLOCK_TICK = "shell-clock-tick"
LIVE = "shell-live"  # the last live message that changed something (assets/gridcc-live.js sets it)
LANG_ZH = "shell-lang-zh"
LANG_EN = "shell-lang-en"
USER = "shell-user"
SIGN_OUT = "shell-sign-out"
WALL = "shell-wall"
ROOT = "shell-root"  # the frame; "gcc-shell-embed" with ?embed=1 (no top bar: the presenter's frame, the export)
BACK_LIVE = "shell-back-live"  # 返回实时: shown on a page frozen by its URL's as_of; drops as_of (gridcc-live.js)
COPY = "shell-copy-link"  # 复制链接: copies location.href (assets/gridcc-clientside.js)
COPY_BOX = "shell-copy-box"  # shown with the link selected when the browser refuses to copy
COPY_TEXT = "shell-copy-text"
COPY_CLOSE = "shell-copy-close"
TOAST = "shell-toast"  # 链接已复制

# The title key of each page path; the shell shows it in the top bar.
PAGE_TITLES = {"/": "page.overview", "/admin/audit": "audit.title", "/admin/users": "page.users", "/sla": "sla.title", "/rankings": "rank.title", "/admin/rankings": "rankcfg.title", "/backlog": "page.backlog"}
NAV = "shell-nav"
SHELL_KEYS = ("product", "product.short", "clock.as_of", "lang.switch", "signout", "wall.on", "wall.hint", "live.delayed", "live.lost",
              "live.data_time", "live.mode_push", "live.mode_poll", "live.replay_hint", "play.badge",
              "link.copy", "link.copy_hint", "link.frozen", "link.frozen_hint", "link.back_live",
              *sorted(set(PAGE_TITLES.values())))


def labels(timezone: str) -> dict:
    """Return what the shell's clientside callbacks need: labels per language, page titles, the city's time zone."""
    return {"langs": {lang: bundle(SHELL_KEYS, lang) for lang in LANGS}, "pages": PAGE_TITLES, "timezone": timezone}


def _link(path: str, key: str) -> html.A:
    return html.A(href=path, className="gcc-nav-link", **{"data-keep-lang": "1"}, children=[
        html.Span(t(key, "zh"), className="gcc-zh-only"), html.Span(t(key, "en"), className="gcc-en-only")])


def _nav() -> html.Nav:
    """Return links to the other pages this user may open (none for a user who may open only one).

    The administrators' pages sit in one "管理 Admin" menu (a <details>: no script), so an administrator's top bar
    fits a 1366 px screen in English too.
    """
    from dashboard import tours

    principal = access.current()
    pages = [("/", "page.overview"), ("/sla", "sla.title"), ("/rankings", "rank.nav"), ("/backlog", "page.backlog")]
    if tours.may_tour(principal):
        pages.append(("/tours", "tour.nav"))
    admin = []
    if principal is not None and principal.may("admin"):
        admin.append(("/admin/audit", "audit.title"))
        admin.append(("/admin/rankings", "rankcfg.title"))
    if principal is not None and principal.role in ("admin", "district_manager"):
        admin.append(("/admin/users", "page.users"))
    if len(pages) + len(admin) == 1:
        return html.Nav(id=NAV, hidden=True)
    links = [_link(path, key) for path, key in pages]
    if admin:
        links.append(html.Details(className="gcc-nav-more", children=[
            html.Summary(className="gcc-nav-link gcc-nav-more-label", children=[
                html.Span(t("nav.admin", "zh"), className="gcc-zh-only"),
                html.Span(t("nav.admin", "en"), className="gcc-en-only")]),
            html.Div(className="gcc-nav-menu", children=[_link(path, key) for path, key in admin]),
        ]))
    return html.Nav(id=NAV, className="gcc-nav", children=links)


def _user(zh: dict) -> html.Div:
    """Return who is signed in (hidden on a public wall), the public-wall switch and sign-out."""
    principal = access.current()
    if principal is None or principal.kind != "user":  # cannot happen behind the gate; keep the ids
        return html.Div(id=USER, hidden=True, children=[html.Button(id=WALL), html.Button(id=SIGN_OUT)])
    role_zh, role_en, _ = ROLES.get(principal.role, (principal.role, principal.role, ()))
    wall = principal.public_wall
    who = [] if wall else [
        html.A(principal.display_name, href="/auth/password", className="gcc-user-name",
               title=f"{principal.name} · {role_zh} {role_en} · 修改密码 Change password"),
        # Both languages are in the page; the one not in <html lang> is hidden (the switch needs no reload).
        html.Span(className="gcc-user-scope", children=[
            html.Span(role_zh, className="gcc-zh-only"), html.Span(role_en, className="gcc-en-only"),
            f" · {data.scope_name(principal.scope)}"]),
    ]
    return html.Div(id=USER, className="gcc-user", children=[
        *who,
        html.Button(zh["wall.on"], id=WALL, n_clicks=0, title=zh["wall.hint"],
                    className="gcc-user-btn gcc-wall-btn" + (" active" if wall else ""),
                    **{"aria-pressed": "true" if wall else "false", "data-on": "1" if wall else "0"}),
        html.Button(zh["signout"], id=SIGN_OUT, n_clicks=0, className="gcc-user-btn"),
    ])


def _both(key: str) -> list:
    """Return the label ``key`` in both languages; the one not in <html lang> is hidden (gridcc.css)."""
    return [html.Span(t(key, "zh"), className="gcc-zh-only"), html.Span(t(key, "en"), className="gcc-en-only")]


def _copy_link(zh: dict) -> list:
    """Return "复制链接 Copy link", its toast, and the box that shows the link when the browser may not copy."""
    return [
        html.Button(_both("link.copy"), id=COPY, n_clicks=0, type="button", title=zh["link.copy_hint"],
                    className="gcc-user-btn gcc-copy-link",
                    **{"aria-label": t("link.copy", "zh") + " " + t("link.copy", "en")}),
        html.Div(_both("link.copied"), id=TOAST, className="gcc-toast", role="status", hidden=True,
                 **{"aria-live": "polite"}),
        html.Div(id=COPY_BOX, className="gcc-copy-box", hidden=True, role="dialog",
                 **{"aria-label": t("link.copy", "zh") + " " + t("link.copy", "en")}, children=[
            html.Div(_both("link.manual"), className="gcc-copy-box-note"),
            html.Textarea(id=COPY_TEXT, readOnly=True, rows=3, className="gcc-copy-text", spellCheck="false"),
            html.Button(_both("link.close"), id=COPY_CLOSE, type="button", className="gcc-user-btn"),
        ]),
    ]


def layout() -> html.Div:
    """Return the frame: a top bar over ``dash.page_container``; labels are set from the URL's ``lang``."""
    zh = bundle(SHELL_KEYS, "zh")
    return html.Div(
        id=ROOT,
        className="gcc-shell",
        children=[
            dcc.Location(id=LOCATION, refresh="callback-nav"),
            dcc.Store(id=LABELS, data=labels(context.current().settings.timezone)),
            dcc.Interval(id=CLOCK_TICK, interval=1000),
            dcc.Store(id=LIVE),
            html.Header(
                className="gcc-topbar",
                children=[
                    html.Div(className="gcc-brand", children=[
                        html.Span(className="gcc-brand-mark", **{"aria-hidden": "true"}),
                        # "gridcc" stays; the name beside it follows the language and gives way on a narrow English bar.
                        html.Span(className="gcc-product", children=[
                            "gridcc ", html.Span(zh["product.short"], id=PRODUCT, className="gcc-product-name")]),
                    ]),
                    html.H1(zh["page.overview"], id=TITLE, className="gcc-title"),
                    _nav(),
                    html.Div(className="gcc-topbar-right", children=[
                        # Set from the live stream by assets/gridcc-live.js; amber, then red, when it goes quiet.
                        html.Span(f"{zh['clock.as_of']} {context.current().settings.now():%H:%M:%S}", id=AS_OF,
                                  className="gcc-as-of gcc-live-fresh", role="status", **{"data-live": "fresh"}),
                        html.A(_both("link.back_live"), id=BACK_LIVE, href="/", hidden=True, className="gcc-back-live",
                               **{"data-drop-as-of": "1"}),
                        html.Span(id=CLOCK, className="gcc-clock"),
                        *tour_tools.tools(),
                        *_copy_link(zh),
                        _user(zh),
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
