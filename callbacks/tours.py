"""Callbacks of the tours page (/tours) and of the top bar's "加入讲稿 Add to tour" dialog (callbacks/tour_tools.py).

One action callback on /tours: whichever button was pressed, ``act`` does that one thing through
dashboard/tours.py (which checks every value and that the tour or slide is the caller's), then the page is
drawn again from the store. The ids come from the browser and may be forged: a forged one is "not found".
"""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State

from dashboard import tours
from dashboard.i18n import normalise, t
from layouts import tours as ids

ACTIONS = (ids.CREATE, ids.TOUR_SAVE, ids.TOUR_DELETE, ids.SLIDE_SAVE, ids.SLIDE_UP, ids.SLIDE_DOWN, ids.SLIDE_DELETE)
FIELDS = (ids.NEW_TITLE, ids.NEW_AS_OF, ids.TOUR_TITLE, ids.TOUR_AS_OF, ids.SLIDE_TITLE, ids.SLIDE_NOTE)


def act(kind: str, index, values: dict, opened, lang: str) -> tuple[str, int | None, bool]:
    """Do the action ``kind`` on the tour or slide ``index`` with the form's ``values`` ({(type, index): value});
    return (the message in words, the tour to show open, whether it went well)."""
    lang = normalise(lang)
    try:
        if kind == ids.CREATE:
            title = values.get((ids.NEW_TITLE, 0))
            tour_id = tours.create_tour(title, values.get((ids.NEW_AS_OF, 0)))
            return t("tour.created", lang, tour=tours.clean_title(title)), tour_id, True
        if kind == ids.TOUR_SAVE:
            tours.update_tour(index, title=values.get((ids.TOUR_TITLE, index)) or "",
                              as_of=values.get((ids.TOUR_AS_OF, index)) or "")
            return t("tour.saved", lang), tours.clean_id(index), True
        if kind == ids.TOUR_DELETE:
            found = tours.my_tour(index)
            tours.delete_tour(index)
            return t("tour.deleted", lang, tour=found[0].title if found else ""), None, True
        if kind == ids.SLIDE_SAVE:
            tours.update_slide(index, title=values.get((ids.SLIDE_TITLE, index)) or "",
                               note=values.get((ids.SLIDE_NOTE, index)) or "")
            position = next((n for n, s in enumerate(tours.my_slides(opened), 1) if s.id == index), None)
            return t("tour.slide_saved", lang, n=position or "?"), opened, True
        if kind in (ids.SLIDE_UP, ids.SLIDE_DOWN):
            tours.move_slide(index, -1 if kind == ids.SLIDE_UP else 1)
            return t("tour.moved", lang), opened, True
        if kind == ids.SLIDE_DELETE:
            tours.delete_slide(index)
            return t("tour.slide_deleted", lang), opened, True
    except tours.TourProblem as problem:
        return problem.message(lang), opened, False
    raise dash.exceptions.PreventUpdate


def redraw(opened, lang: str):
    """Return (the page's body, the open tour's id or None) as the store has them now."""
    lang = normalise(lang)
    found = tours.my_tour(opened) if opened is not None else None
    return ids.body(tours.my_tours(), found, lang=lang, now=ids._now()), (found[0].id if found else None)


def register(app: dash.Dash) -> None:
    """Bind the tours page's callbacks to ``app``."""

    @app.callback(
        Output(ids.BODY, "children"),
        Output(ids.STATUS, "children"),
        Output(ids.STATUS, "className"),
        Output(ids.TOUR, "data"),
        Output(ids.URL, "data"),
        *[Input({"type": kind, "index": ALL}, "submit_n_clicks" if kind in (ids.TOUR_DELETE, ids.SLIDE_DELETE)
                else "n_clicks") for kind in ACTIONS],
        *[State({"type": kind, "index": ALL}, "value") for kind in FIELDS],
        State(ids.TOUR, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def on_action(*args):
        trigger = dash.ctx.triggered_id
        if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
            raise dash.exceptions.PreventUpdate  # a redraw put new buttons in: nothing was pressed
        opened, lang = args[-2], normalise(args[-1])
        values = {(item["id"]["type"], item["id"]["index"]): item.get("value")
                  for group in dash.ctx.states_list[:len(FIELDS)] for item in group}
        message, opened, ok = act(trigger.get("type"), trigger.get("index"), values, opened, lang)
        page, opened = redraw(opened, lang)
        return (page, message, "trs-status " + ("trs-ok" if ok else "trs-problem"), opened,
                ids.tours_url(opened, lang))

    app.clientside_callback(
        "function (url) { if (url) { window.history.replaceState(null, '', url); } }",
        Input(ids.URL, "data"),
        prevent_initial_call=True,
    )
