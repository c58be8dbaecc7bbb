"""The presenter's tours page (/tours; issue 8 §3, docs/presenter.md): my tours, and the open one's slides.

``/tours`` lists the caller's tours (title, cut-off, slide count, last change) with a form for a new one;
``/tours?tour=<id>`` opens one beside the list: its settings (title, cut-off), "开始演示 Present", the export
links (served by dashboard/tour_export.py) and its slides in order, each with its title, note, page and a
summary of the view in words, to move up or down, edit or delete. Another user's tour, or a forged id, opens
nothing (the same words as a tour that is not there).

Every button and field has a pattern id (``{"type": …, "index": …}``) and is drawn by ``body`` (pure, from
the rows it is given), so the one action callback (callbacks/tours.py) redraws the whole page after a change.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import access, context, data, tours, views
from dashboard.i18n import normalise, t
from layouts.admin import html_lang, refused

PATH = "/tours"
LANG = "tours-lang"
TOUR = "tours-open"  # the open tour's id (None: only the list)
URL = "tours-url"  # the address the page writes back (history.replaceState), so a reload opens the same tour
BODY = "tours-body"
STATUS = "tours-status"

# Pattern ids (type names); index is the tour's or the slide's id (0 for the one new-tour form).
NEW_TITLE = "tours-new-title"
NEW_AS_OF = "tours-new-as-of"
CREATE = "tours-create"
TOUR_TITLE = "tours-tour-title"
TOUR_AS_OF = "tours-tour-as-of"
TOUR_SAVE = "tours-tour-save"
TOUR_DELETE = "tours-tour-delete"  # a ConfirmDialogProvider: its submit_n_clicks
SLIDE_TITLE = "tours-slide-title"
SLIDE_NOTE = "tours-slide-note"
SLIDE_SAVE = "tours-slide-save"
SLIDE_UP = "tours-slide-up"
SLIDE_DOWN = "tours-slide-down"
SLIDE_DELETE = "tours-slide-delete"  # a ConfirmDialogProvider

# Settings shown in words in a slide's summary (the rest are listed as key = value).
SUMMARY_SKIP = frozenset({"area"})


def pid(kind: str, index: int) -> dict:
    """Return the pattern id of one control."""
    return {"type": kind, "index": index}


def fmt_minute(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else "—"


def input_minute(moment: datetime) -> str:
    """Return a minute as a datetime-local input's value: 2026-11-20T15:00."""
    return views.fmt_as_of(moment)


def tours_url(tour_id: int | None, lang: str) -> str:
    """Return the page's address for the open tour (none: the list)."""
    pairs = ([f"tour={tour_id}"] if tour_id else []) + ([f"lang={lang}"] if lang == "en" else [])
    return PATH + ("?" + "&".join(pairs) if pairs else "")


def present_url(tour_id: int, lang: str, slide: int | None = None) -> str:
    return f"/present?tour={tour_id}" + (f"&slide={slide}" if slide else "") + (f"&lang={lang}" if lang == "en" else "")


def export_url(tour_id: int, fmt: str, lang: str) -> str:
    return f"/tours/{tour_id}/export.{fmt}" + (f"?lang={lang}" if lang == "en" else "")


# -- the page -----------------------------------------------------------------------------------------------
def layout(lang: str = "zh", tour=None, **_) -> html.Div:
    """Return the page: the caller's tours and, with ``?tour=<id>`` of theirs, that tour's editor."""
    lang = normalise(lang)
    principal = access.current()
    if not tours.may_tour(principal):
        return refused(t("tour.not_allowed", lang), t("tour.not_allowed_hint", lang), lang, "trs")
    rows = tours.my_tours()
    opened = tours.my_tour(tour) if tour is not None else None
    status = "" if tour is None or opened is not None else t("tour.not_found", lang)
    now = _now()
    return html.Div(className="adm trs", lang=html_lang(lang), children=[
        dcc.Store(id=LANG, data=lang),
        dcc.Store(id=TOUR, data=opened[0].id if opened else None),
        dcc.Store(id=URL),
        html.Div(className="adm-head", children=[
            html.Div(className="adm-heading", children=[
                html.H2(t("tour.title", lang), className="adm-title"),
                html.Span(t("tour.subtitle", lang), className="adm-subtitle"),
            ]),
            html.Div(status, id=STATUS, className="trs-status", role="status", **{"aria-live": "polite"}),
        ]),
        html.Div(id=BODY, className="trs-body", children=body(rows, opened, lang=lang, now=now)),
    ])


def _now() -> datetime:
    return context.current().settings.now().replace(second=0, microsecond=0)


def body(rows: Sequence[tours.TourRow], opened, *, lang: str, now: datetime) -> list:
    """Return the page's body: the list with the new-tour form, and the open tour's editor (or a hint)."""
    selected = opened[0].id if opened else None
    return [
        html.Section(className="gcc-card trs-list", children=[
            html.H3(t("tour.mine", lang), className="gcc-card-title"),
            tour_table(rows, selected, lang),
            new_tour_form(lang, now),
        ]),
        html.Section(className="gcc-card trs-editor", children=(
            editor(opened[0], opened[1], lang=lang) if opened else
            [html.P(t("tour.choose" if rows else "tour.empty", lang), className="trs-empty")])),
    ]


def tour_table(rows: Sequence[tours.TourRow], selected: int | None, lang: str):
    if not rows:
        return html.P(t("tour.empty", lang), className="trs-empty")
    head = html.Tr([html.Th(t(f"tour.col.{key}", lang), className=f"trs-col-{key}")
                    for key in ("title", "as_of", "slides", "updated")])
    body_rows = [html.Tr(className="trs-row" + (" trs-row-open" if row.tour.id == selected else ""), children=[
        html.Td(dcc.Link(row.tour.title, href=tours_url(row.tour.id, lang), className="trs-link",
                         title=row.tour.title)),
        html.Td(fmt_minute(row.tour.as_of), className="adm-mono"),
        html.Td(str(row.slides), className="trs-num"),
        html.Td(fmt_minute(row.tour.updated_at), className="adm-mono"),
    ]) for row in rows]
    return html.Div(className="trs-table-wrap", children=html.Table(
        className="trs-table", children=[html.Thead(head), html.Tbody(body_rows)]))


def _field(label_key: str, control, lang: str, extra: str = "") -> html.Div:
    return html.Div(className=f"adm-field trs-field {extra}".strip(), children=[
        html.Label(t(label_key, lang), className="adm-field-label"), control])


def new_tour_form(lang: str, now: datetime) -> html.Div:
    return html.Div(className="trs-new", children=[
        html.H4(t("tour.create_title", lang), className="trs-subtitle"),
        html.Div(className="trs-form-row", children=[
            _field("tour.col.title", dcc.Input(
                id=pid(NEW_TITLE, 0), type="text", maxLength=tours.MAX_TITLE, autoComplete="off",
                value=t("tour.new_title_default", lang, date=f"{now:%Y-%m-%d}"),
                className="form-control form-control-sm adm-input"), lang, "trs-field-grow"),
            _field("tour.cutoff", dbc.Input(
                id=pid(NEW_AS_OF, 0), type="datetime-local", step=60, value=input_minute(now),
                max=input_minute(now), min="2000-01-01T00:00",
                className="form-control form-control-sm adm-input trs-as-of"), lang),
            html.Button(t("tour.create", lang), id=pid(CREATE, 0), n_clicks=0, type="button",
                        className="btn btn-info btn-sm trs-btn"),
        ]),
    ])


def editor(tour: tours.Tour, slides: Sequence[tours.Slide], *, lang: str) -> list:
    """Return the open tour's editor: its settings, present and export, and its slides."""
    return [
        html.Div(className="trs-editor-head", children=[
            html.H3(tour.title, className="trs-editor-title", title=tour.title),
            html.A(t("tour.present", lang), href=present_url(tour.id, lang),
                   className="btn btn-info btn-sm trs-btn trs-present" + (" disabled" if not slides else ""),
                   **({"aria-disabled": "true"} if not slides else {})),
            html.A(t("tour.export_pdf", lang), href=export_url(tour.id, "pdf", lang), className="trs-export",
                   **{"data-export": "pdf"}),
            html.A(t("tour.export_pptx", lang), href=export_url(tour.id, "pptx", lang), className="trs-export",
                   **{"data-export": "pptx"}),
            dcc.Link(t("tour.back", lang), href=tours_url(None, lang), className="trs-back"),
        ]),
        html.Div(className="trs-settings", children=[
            _field("tour.col.title", dcc.Input(
                id=pid(TOUR_TITLE, tour.id), type="text", value=tour.title, maxLength=tours.MAX_TITLE,
                autoComplete="off", className="form-control form-control-sm adm-input"), lang, "trs-field-grow"),
            _field("tour.cutoff", dbc.Input(
                id=pid(TOUR_AS_OF, tour.id), type="datetime-local", step=60, value=input_minute(tour.as_of),
                min="2000-01-01T00:00",
                className="form-control form-control-sm adm-input trs-as-of"), lang),
            html.Button(t("tour.save", lang), id=pid(TOUR_SAVE, tour.id), n_clicks=0, type="button",
                        className="btn btn-outline-info btn-sm trs-btn"),
            dcc.ConfirmDialogProvider(
                id=pid(TOUR_DELETE, tour.id), message=t("tour.confirm_delete", lang),
                children=html.Button(t("tour.delete", lang), type="button",
                                     className="btn btn-outline-danger btn-sm trs-btn")),
        ]),
        html.P(t("tour.cutoff_hint", lang), className="trs-hint"),
        html.H4(f"{t('tour.slides', lang)} · {len(slides)}", className="trs-subtitle"),
        html.Ol(className="trs-slides", children=[
            slide_item(tour, slide, n, len(slides), lang) for n, slide in enumerate(slides, 1)])
        if slides else html.P(t("tour.slides_empty", lang), className="trs-empty"),
    ]


def summary(slide: tours.Slide, lang: str) -> tuple[str, list[str], str | None]:
    """Return a slide's view in words: (page name, its settings, the address to open it) — None when the stored
    view no longer parses."""
    try:
        view = slide.view
    except ValueError:
        return t("tour.slide_bad", lang), [], None
    page = t(views.PAGES[view.path], lang)
    parts = []
    code = view.get("area")
    if code:
        found = data.area(data.request_scope(), code)
        parts.append(found.name if found is not None else code)
    parts += [f"{key} = {value}" for key, value in view.query if key not in SUMMARY_SKIP]
    return page, parts, view.url


def slide_item(tour: tours.Tour, slide: tours.Slide, n: int, total: int, lang: str) -> html.Li:
    page, parts, url = summary(slide, lang)
    href = url(as_of=tour.as_of, lang=lang if lang == "en" else None) if url else None
    return html.Li(className="trs-slide", **{"data-slide": str(slide.id)}, children=[
        html.Div(className="trs-slide-n", children=str(n)),
        html.Div(className="trs-slide-main", children=[
            html.Div(className="trs-slide-view", children=[
                html.Span(page, className="trs-slide-page" + ("" if url else " trs-slide-bad")),
                *[html.Span(part, className="trs-chip") for part in parts],
                html.A(t("tour.open_view", lang), href=href, target="_blank", className="trs-open") if href else None,
            ]),
            dcc.Input(id=pid(SLIDE_TITLE, slide.id), type="text", value=slide.title, maxLength=tours.MAX_TITLE,
                      autoComplete="off", placeholder=t("tour.slide_title", lang),
                      className="form-control form-control-sm adm-input trs-slide-title"),
            dcc.Textarea(id=pid(SLIDE_NOTE, slide.id), value=slide.note, maxLength=tours.MAX_NOTE,
                         placeholder=t("tour.note_hint", lang), title=t("tour.note", lang),
                         className="form-control form-control-sm adm-input trs-slide-note"),
        ]),
        html.Div(className="trs-slide-actions", children=[
            html.Button("↑", id=pid(SLIDE_UP, slide.id), n_clicks=0, type="button", disabled=n == 1,
                        title=t("tour.up", lang), **{"aria-label": t("tour.up", lang)},
                        className="btn btn-outline-secondary btn-sm trs-icon"),
            html.Button("↓", id=pid(SLIDE_DOWN, slide.id), n_clicks=0, type="button", disabled=n == total,
                        title=t("tour.down", lang), **{"aria-label": t("tour.down", lang)},
                        className="btn btn-outline-secondary btn-sm trs-icon"),
            html.Button(t("tour.save", lang), id=pid(SLIDE_SAVE, slide.id), n_clicks=0, type="button",
                        className="btn btn-outline-info btn-sm trs-btn"),
            dcc.ConfirmDialogProvider(
                id=pid(SLIDE_DELETE, slide.id), message=t("tour.confirm_delete_slide", lang),
                children=html.Button(t("tour.delete_slide", lang), type="button",
                                     className="btn btn-outline-danger btn-sm trs-btn")),
        ]),
    ])
