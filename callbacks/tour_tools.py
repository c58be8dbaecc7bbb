"""Callbacks of the top bar's "加入讲稿 Add to tour" button and dialog (layouts/tour_tools.py).

The button takes window.location (the page keeps its whole state in its address) into a store, clientside;
the server parses that address again (views.parse, through dashboard/tours.py) — it never trusts it — and
fills the dialog. Saving appends the view as the last slide of the chosen tour of the caller's, or of a new
tour; a forged tour id (someone else's) is "not found" and stores nothing.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, html

from dashboard import access, context, data, tours, views
from dashboard.i18n import normalise, t
from layouts import shell
from layouts import tour_tools as ids
from layouts import tours as tours_page


def lang_of(href) -> str:
    return normalise(views.lang_of(href) if isinstance(href, str) else None)


def _now():
    return context.current().settings.now()


def slide_title(view: views.View, lang: str) -> str:
    """Return a slide's suggested title: the page's title and the area it shows (the caller's own area when none)."""
    scope = data.request_scope()
    code = view.get("area")
    found = data.area(scope, code) if code else None
    where = found.name if found is not None else data.scope_name(scope)
    return f"{t(views.PAGES[view.path], lang)} · {where}"[:tours.MAX_TITLE]


def tour_options(lang: str) -> list[dict]:
    """Return the dialog's choice of tour: mine (latest changed first), then "new tour"."""
    options = [{"label": f"{row.tour.title} · {t('tour.as_of_bar', lang, as_of=f'{row.tour.as_of:%Y-%m-%d %H:%M}')}"
                         f" · {row.slides}/{tours.MAX_SLIDES}", "value": row.tour.id}
               for row in tours.my_tours()]
    return options + [{"label": t("tour.new", lang), "value": ids.NEW}]


def prefill(href, lang: str) -> dict:
    """Return what the dialog shows for the page at ``href``: the tours, the suggested titles and cut-off, or the
    problem (in words) when that page cannot be a slide."""
    now = _now()
    options = tour_options(lang)
    found = {"options": options, "pick": options[0]["value"],
             "new_title": t("tour.new_title_default", lang, date=f"{now:%Y-%m-%d}"),
             "as_of": views.fmt_as_of(tours.default_as_of(href, now)), "title": "", "problem": None}
    try:
        view = tours.clean_view(href)
    except tours.TourProblem as problem:
        found["problem"] = problem.message(lang)
        return found
    found["title"] = slide_title(view, lang)
    return found


def save(pick, new_title, new_as_of, title, note, href, lang: str) -> tuple[str, int | None]:
    """Add the view at ``href`` to the tour ``pick`` (one of the caller's, or NEW); return (message, the tour's id
    when done, else None)."""
    try:
        if pick == ids.NEW:
            tour_id, _ = tours.new_tour_with_slide(tour_title=new_title, as_of=new_as_of, url=href, title=title,
                                                   note=note)
        elif pick is None:
            raise tours.TourProblem("tour.err.choose")
        else:
            tour_id = tours.clean_id(pick)
            tours.add_slide(tour_id, url=href, title=title, note=note)
    except tours.TourProblem as problem:
        return problem.message(lang), None
    found = tours.my_tour(tour_id)
    return t("tour.added", lang, tour=found[0].title, n=len(found[1])), tour_id


def register(app: dash.Dash) -> None:
    """Bind the dialog's callbacks to ``app``."""
    app.clientside_callback(
        """function (path, search, labels) {
            const lang = new URLSearchParams(search || "").get("lang") === "en" ? "en" : "zh";
            const words = labels.langs[lang];
            if (labels.freezable.includes(path)) { return [false, false, words["tour.add_hint"]]; }
            if (labels.live.includes(path)) { return [false, true, words["tour.err.live_page"]]; }
            return [true, true, ""];
        }""",
        Output(ids.ADD, "hidden"),
        Output(ids.ADD, "disabled"),
        Output(ids.ADD, "title"),
        Input(shell.LOCATION, "pathname"),
        Input(shell.LOCATION, "search"),
        State(ids.LABELS, "data"),
    )
    app.clientside_callback(
        "function (n) { return n ? {href: window.location.href, at: Date.now()} : window.dash_clientside.no_update; }",
        Output(ids.URL, "data"),
        Input(ids.ADD, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        "function (pick) { return pick !== 'new'; }",
        Output(ids.NEW_BOX, "hidden"),
        Input(ids.PICK, "value"),
    )

    @app.callback(
        Output(ids.DIALOG, "is_open"),
        Output(ids.PICK, "options"),
        Output(ids.PICK, "value"),
        Output(ids.NEW_TITLE, "value"),
        Output(ids.NEW_AS_OF, "value"),
        Output(ids.NEW_AS_OF, "max"),
        Output(ids.TITLE, "value"),
        Output(ids.NOTE, "value"),
        Output(ids.RESULT, "children"),
        Output(ids.RESULT, "className"),
        Output(ids.SAVE, "disabled"),
        Input(ids.URL, "data"),
        Input(ids.CANCEL, "n_clicks"),
        Input(ids.SAVE, "n_clicks"),
        State(ids.PICK, "value"),
        State(ids.NEW_TITLE, "value"),
        State(ids.NEW_AS_OF, "value"),
        State(ids.TITLE, "value"),
        State(ids.NOTE, "value"),
        prevent_initial_call=True,
    )
    def on_dialog(url, _cancel, saved, pick, new_title, new_as_of, title, note):
        keep = dash.no_update
        trigger = dash.ctx.triggered_id
        if trigger == ids.CANCEL:
            return (False, *[keep] * 10)
        href = url.get("href") if isinstance(url, dict) else None
        lang = lang_of(href)
        if trigger == ids.URL:
            if not tours.may_tour(access.current()):
                raise dash.exceptions.PreventUpdate
            found = prefill(href, lang)
            problem = found["problem"]
            return (True, found["options"], found["pick"], found["new_title"], found["as_of"],
                    views.fmt_as_of(_now()), found["title"], "", problem or "",
                    "tad-result tad-problem" if problem else "tad-result", bool(problem))
        if trigger == ids.SAVE and saved:
            message, done = save(pick, new_title, new_as_of, title, note, href, lang)
            if done is None:
                return (keep, keep, keep, keep, keep, keep, keep, keep, message, "tad-result tad-problem", False)
            link = html.A(t("tour.open_tours", lang), href=tours_page.tours_url(done, lang), className="tad-open")
            return (keep, tour_options(lang), keep, keep, keep, keep, keep, keep, [message, " ", link],
                    "tad-result tad-ok", True)
        raise dash.exceptions.PreventUpdate
