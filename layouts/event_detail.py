"""An event's detail (opened from the ticker, the alert banner and the building card): pure builders.

Where, what, who reported it (masked; a "show" button for a role that may reveal it), and the
lifecycle timeline of ``dashboard.timeline``. Every text is a plain child, so Dash escapes it: a
description is shown as written, never run as markup.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dash import html

from dashboard.i18n import CATALOGUE, status_name, t
from dashboard.timeline import Stage
from queries.events import EventDetail

REPORTER = "event-detail-reporter"  # pattern id {"type": REPORTER, "event": id}: the (masked) reporter
REVEAL = "event-detail-reveal"  # pattern id {"type": REVEAL, "event": id}: its "show" button
TIMELINE = "event-detail-timeline"

# The colour of each verdict; its word is always beside it (colour is never the only cue).
VERDICT_LIGHT = {"within": "green", "over": "red", "running": None, "overdue": "red", "paused": "none"}


def detail_body(detail: EventDetail, stages: Sequence[Stage], lang: str, may_reveal: bool = False) -> list:
    """Return the detail of one event: header, where, what, who reported it, and its timeline.

    ``detail`` comes from the loader with the reporter already masked; ``may_reveal`` adds the audited
    "show" button beside it.
    """
    return [
        _header(detail, lang),
        html.Div(className="evd-facts", children=[_where(detail, lang), _what(detail, lang), _who(detail, lang,
                                                                                                    may_reveal)]),
        _timeline(stages, lang),
    ]


def empty_body(lang: str) -> list:
    """Return what the detail shows for an event that is unknown or outside the caller's scope."""
    return [html.Div(t("evd.not_found", lang), className="evd-empty")]


def _header(detail: EventDetail, lang: str) -> html.Div:
    badges = [html.Span(t("evd.urgent", lang), className="evd-badge evd-urgent", **{"data-urgent": "1"})] \
        if detail.urgent else []
    return html.Div(className="evd-head", children=[
        html.Div(className="evd-title", children=[
            html.Span(detail.category_name or detail.category_code, className="evd-category"),
            *badges,
            html.Span(status_name(detail.status, lang), className=f"evd-badge evd-status evd-status-{detail.status}",
                      **{"data-status": detail.status}),
        ]),
        html.Span(t("evd.id", lang, id=detail.id), className="evd-id"),
    ])


def _section(key: str, lang: str, children: list, name: str) -> html.Section:
    return html.Section(className=f"evd-section evd-{name}", children=[
        html.H4(t(key, lang), className="evd-section-title"), *children])


def _facts(rows: list[tuple[str, object]], lang: str) -> html.Dl:
    return html.Dl(className="evd-dl", children=[
        item for key, value in rows for item in (html.Dt(t(key, lang)), html.Dd(value))])


def _where(detail: EventDetail, lang: str) -> html.Section:
    names = [detail.district_name or detail.district_code, detail.street_name or detail.street_code,
             detail.community_name or detail.community_code, detail.grid_name or detail.grid_code]
    if detail.building_code:
        names.append(detail.building_name or detail.building_code)
    path = []
    for i, name in enumerate(names):
        if i:
            path.append(html.Span("›", className="evd-sep", **{"aria-hidden": "true"}))
        path.append(html.Span(name, className="evd-place"))
    coords = "—" if detail.lat is None or detail.lon is None else f"{detail.lat:.5f}, {detail.lon:.5f}"
    return _section("evd.where", lang, [
        html.Div(path, className="evd-path"),
        _facts([("evd.coords", coords)], lang),
    ], "where")


def _what(detail: EventDetail, lang: str) -> html.Section:
    category = f"{detail.class_name or detail.class_code} › {detail.category_name or ''} ({detail.category_code})"
    source_key = f"evd.source.{detail.source}"
    source = t(source_key, lang) if source_key in CATALOGUE else detail.source
    rows = [("event.category", category), ("evd.source", source),
            ("evd.department", detail.department_name or detail.department_code or "—")]
    if detail.worker_name:
        rows.append(("evd.worker", detail.worker_name))
    description = detail.description if detail.description else t("evd.no_description", lang)
    return _section("evd.what", lang, [
        _facts(rows, lang),
        # A plain string child: React escapes it, whatever it holds.
        html.P(description, className="evd-description"),
    ], "what")


def _who(detail: EventDetail, lang: str, may_reveal: bool) -> html.Section:
    shown = html.Span(detail.reporter or "—", id={"type": REPORTER, "event": detail.id}, className="evd-reporter")
    children = [shown]
    if may_reveal and detail.reporter is not None:
        children.append(html.Button(t("event.reveal", lang), id={"type": REVEAL, "event": detail.id}, n_clicks=0,
                                    className="evd-reveal", title=t("event.reveal_hint", lang)))
    return _section("evd.who", lang, [html.Div(children, className="evd-reporter-cell")], "who")


def _timeline(stages: Sequence[Stage], lang: str) -> html.Section:
    items = [_stage(stage, lang) for stage in stages]
    note = [html.P(t("evd.assumed_note", lang), className="evd-note")] if any(s.assumed for s in stages) else []
    return _section("evd.timeline", lang, [html.Ol(items, id=TIMELINE, className="evd-timeline"), *note], "lifecycle")



def _stage_name(key: str, lang: str) -> str:
    """Return a timeline step's name: a loop stage's, a desk mark's (催办, 督办 …), or the key itself."""
    for label in (f"evd.stage.{key}", f"act.step.{key}"):
        if label in CATALOGUE:
            return t(label, lang)
    return key

def _stage(stage: Stage, lang: str) -> html.Li:
    classes = ["evd-stage", f"evd-stage-{stage.key}"]
    if stage.exception:
        classes.append("evd-exception")
    if stage.at is None:
        classes.append("evd-pending")
    if stage.current:
        classes.append("evd-current")
    if stage.verdict:
        classes.append(f"evd-verdict-{stage.verdict}")
    lines = [html.Span(_when(stage.at) if stage.at else t("evd.not_yet", lang), className="evd-when")]
    if stage.took_minutes is not None:
        key = "evd.took" if stage.at is not None else "evd.running_for"
        lines.append(html.Span(t(key, lang, d=duration(stage.took_minutes, stage.unit, lang, stage.day_minutes)),
                               className="evd-took"))
    if stage.limit is not None and not stage.exception:
        mark = "*" if stage.assumed else ""
        lines.append(html.Span(t("evd.limit", lang, limit=limit_text(stage.limit, lang)) + mark, className="evd-limit"))
    if stage.deadline_at is not None:
        key = "evd.new_deadline" if stage.exception else "evd.deadline"
        lines.append(html.Span(t(key, lang, at=_when(stage.deadline_at)), className="evd-deadline"))
    if stage.actor:
        lines.append(html.Span(t("evd.actor", lang, actor=stage.actor), className="evd-actor"))
    head = [html.Span(_stage_name(stage.key, lang), className="evd-stage-name")]
    if stage.current:
        head.append(html.Span(t("evd.current", lang), className="evd-badge evd-current-badge"))
    verdict = verdict_badge(stage, lang)
    if verdict is not None:
        head.append(verdict)
    body = [html.Div(head, className="evd-stage-head"), html.Div(lines, className="evd-stage-lines")]
    if stage.note:
        body.append(html.Div(stage.note, className="evd-stage-note"))
    return html.Li(body, className=" ".join(classes), **{"data-stage": stage.key,
                                                          "data-verdict": stage.verdict or ""})


def verdict_badge(stage: Stage, lang: str) -> html.Span | None:
    """Return a stage's verdict as a coloured dot with its word, or None when it has no limit or is not reached."""
    if stage.verdict is None:
        return None
    over = duration(stage.over_minutes or 0, stage.unit, lang, stage.day_minutes)
    word = t(f"evd.verdict.{stage.verdict}", lang, d=over) if stage.verdict in ("over", "overdue") \
        else t(f"evd.verdict.{stage.verdict}", lang)
    # A running stage takes the traffic light's colour (green, or yellow from 80 % of its limit).
    light = VERDICT_LIGHT[stage.verdict] or stage.light or "green"
    return html.Span([html.Span(className="gcc-light-dot"), word],
                     className=f"gcc-light gcc-light-{light} evd-verdict", **{"data-light": light})


def duration(minutes: int, unit: str, lang: str, day_minutes: int = 450) -> str:
    """Return whole ``minutes`` as words: "2 h 15 min", "3 d 4 h"; working time says so ("1.5 work days")."""
    if unit == "work_days" and minutes >= day_minutes:
        return t("evd.dur.work_days", lang, n=_number(minutes / day_minutes))
    text = _clock_duration(minutes, lang, days=unit == "hours")
    return text if unit == "hours" else t("evd.dur.working", lang, d=text)


def _clock_duration(minutes: int, lang: str, days: bool) -> str:
    if minutes <= 0:
        return t("evd.dur.under_min", lang)
    if minutes < 60:
        return t("evd.dur.min", lang, m=minutes)
    if days and minutes >= 24 * 60:
        return t("evd.dur.d_h", lang, d=minutes // 1440, h=minutes % 1440 // 60)
    hours, rest = divmod(minutes, 60)
    return t("evd.dur.h_min", lang, h=hours, m=rest) if rest else t("evd.dur.h", lang, h=hours)


def limit_text(limit, lang: str) -> str:
    """Return a limit as "1 h", "4 working hours", "1 work day" in ``lang``."""
    return t(f"evd.limit.{limit.unit}", lang, n=_number(limit.value))


def _number(value: float) -> str:
    # One decimal at most, none when whole: 1.5, 2, 0.3.
    rounded = round(value, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


def _when(value: datetime | None) -> str:
    # With the year: a case still open from last December must not read like next month's.
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"
