"""Presenter mode (/present?tour=<id>&slide=<n>&lang=; issue 8 §3, docs/presenter.md).

The slide fills the screen: a frame showing the slide's view at the tour's cut-off without the top bar
(``slide.view.url(as_of=tour.as_of, lang=lang, embed=True)``), and a slim bar with the slide's title, "n / N",
the cut-off and the note (N shows or hides it). Stepping, full screen, preloading the next slide and keeping
the slide number in the address are assets/gridcc-present.js's; this module draws the first slide and hands
the script the tour as data attributes. Another user's tour, a bad id or none: "找不到该讲稿 Tour not found",
the same words whether the tour exists or not, and none of its data.
"""
from __future__ import annotations

import json

from dash import dcc, html

from dashboard import access, tours
from dashboard.i18n import normalise, t
from layouts.admin import html_lang
from layouts.tours import tours_url

PATH = "/present"
ROOT = "prs-root"
FRAME_A = "prs-frame-a"
FRAME_B = "prs-frame-b"
MAX_SLIDE_ARG = 10_000


def slide_number(value, total: int) -> int:
    """Return the 1-based slide to show from the address's ``slide`` (bad or out of range: the nearest end)."""
    try:
        n = int(str(value).strip()) if value is not None and len(str(value)) <= 6 else 1
    except ValueError:
        n = 1
    return min(max(n, 1), max(total, 1))


def deck(tour: tours.Tour, slides, lang: str) -> list[dict]:
    """Return what the script needs of each slide: the frame's address (None when the stored view no longer
    parses), the title and the note."""
    out = []
    for slide in slides:
        try:
            src = slide.view.url(as_of=tour.as_of, lang=lang, embed=True)
        except ValueError:
            src = None
        out.append({"src": src, "title": slide.title, "note": slide.note})
    return out


def not_found(lang: str, title_key: str = "tour.not_found", hint_key: str = "tour.not_found_hint") -> html.Div:
    return html.Div(className="prs-missing", lang=html_lang(lang), role="alert", children=[
        html.H2(t(title_key, lang), className="prs-missing-title"),
        html.P(t(hint_key, lang)),
        dcc.Link(t("tour.back", lang), href=tours_url(None, lang), className="btn btn-info btn-sm"),
    ])


def layout(lang: str = "zh", tour=None, slide=None, **_) -> html.Div:
    """Return the presenter's screen for the caller's tour ``tour`` at slide ``slide`` (1-based)."""
    lang = normalise(lang)
    if not tours.may_tour(access.current()):
        return not_found(lang, "tour.not_allowed", "tour.not_allowed_hint")
    found = tours.my_tour(tour)
    if found is None:
        return not_found(lang)
    tour_, slides = found
    if not slides:
        return not_found(lang, "tour.no_slides", "tour.slides_empty")
    cards = deck(tour_, slides, lang)
    n = slide_number(slide, len(cards))
    current = cards[n - 1]
    following = cards[n] if n < len(cards) else None
    as_of = t("tour.as_of_bar", lang, as_of=f"{tour_.as_of:%Y-%m-%d %H:%M}")
    labels = {"no_note": t("tour.no_note", lang), "slide_bad": t("tour.slide_bad", lang)}
    return html.Div(id=ROOT, className="prs", lang=html_lang(lang), tabIndex="-1", **{
        "data-slides": json.dumps(cards, ensure_ascii=False), "data-n": str(n), "data-tour": str(tour_.id),
        "data-lang": lang, "data-labels": json.dumps(labels, ensure_ascii=False)}, children=[
        html.Div(className="prs-stage", children=[
            html.Iframe(id=FRAME_A, className="prs-frame prs-shown", src=current["src"] or "about:blank",
                        title=current["title"], **{"data-src": current["src"] or ""}),
            html.Iframe(id=FRAME_B, className="prs-frame prs-waiting", tabIndex="-1", title="",
                        src=(following or {}).get("src") or "about:blank",
                        **{"aria-hidden": "true", "data-src": (following or {}).get("src") or ""}),
            html.Div(t("tour.slide_bad", lang), className="prs-bad", hidden=current["src"] is not None),
        ]),
        html.Div(className="prs-note", hidden=True, children=html.P(current["note"] or t("tour.no_note", lang),
                                                                     className="prs-note-text")),
        html.Div(className="prs-bar", children=[
            html.Span(current["title"], className="prs-title", title=current["title"]),
            html.Span(f"{n} / {len(cards)}", className="prs-count", **{"aria-live": "polite"}),
            html.Span(as_of, className="prs-as-of"),
            html.Span(t("tour.keys_hint", lang), className="prs-keys"),
            html.Div(className="prs-buttons", children=[
                html.Button("‹", className="prs-btn prs-prev", type="button", title=t("tour.prev", lang),
                            **{"aria-label": t("tour.prev", lang)}),
                html.Button("›", className="prs-btn prs-next", type="button", title=t("tour.next", lang),
                            **{"aria-label": t("tour.next", lang)}),
                html.Button(t("tour.toggle_note", lang), className="prs-btn prs-note-btn", type="button",
                            **{"aria-pressed": "false"}),
                html.Button(t("tour.fullscreen", lang), className="prs-btn prs-full-btn", type="button"),
                html.A(t("tour.leave", lang), href=tours_url(tour_.id, lang), className="prs-btn prs-leave"),
            ]),
        ]),
    ])
