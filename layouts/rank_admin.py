"""The administrator's ranking configuration page (/admin/rankings): edit the schemes, save a new version.

Every field has its own fixed id (``weight_id``, ``counted_id``, …; ``FIELDS`` lists them in the order the save
callback receives them), so the callback is a plain function of values, and ``config_document`` (pure) turns those
values into the configuration's structure, or a ``FormProblem`` naming the field in words.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from dash import dcc, html

from dashboard import access, rank_config, rankings
from dashboard.i18n import normalise, t
from layouts.admin import html_lang, refused

PATH = "/admin/rankings"
LANG = "admin-rankings-lang"
VERSION = "admin-rankings-version"  # changed by every saved version: the list and the status reload
STATUS = "admin-rankings-status"
VERSIONS = "admin-rankings-versions"
MONTH = "admin-rankings-month"
NOTE = "admin-rankings-note"
SAVE = "admin-rankings-save"
RESULT = "admin-rankings-result"
SETTLE = "admin-rankings-settle"
VERIFY = "admin-rankings-verify"
CHECK = "admin-rankings-check"
CLASSES = "admin-rankings-classes"
MONTHS_OFFERED = 24
COUNTED = "on"


def weight_id(scheme: str, indicator: str) -> str:
    return f"admin-rankings-weight-{scheme}-{indicator}"


def counted_id(scheme: str, indicator: str) -> str:
    return f"admin-rankings-counted-{scheme}-{indicator}"


def min_volume_id(scheme: str) -> str:
    return f"admin-rankings-minvol-{scheme}"


GRADE = "admin-rankings-grade"  # the grade inputs' pattern type: {"type": GRADE, "index": i}
GRADE_NAMES = "admin-rankings-grade-names"  # the bands' names, in the inputs' order


def grade_id(index: int) -> dict:
    return {"type": GRADE, "index": index}


# The form's fields in the order the save callback receives them: (kind, scheme, indicator or grade index, id, prop).
FIELDS: tuple[tuple[str, str | None, object, str, str], ...] = (
    *((kind, scheme, ind, (counted_id if kind == "counted" else weight_id)(scheme, ind),
       "value") for scheme in rankings.SCHEMES for ind in rankings.SCHEME_INDICATORS[scheme]
      for kind in ("counted", "weight")),
    *(("min_volume", scheme, None, min_volume_id(scheme), "value") for scheme in rankings.SCHEMES),
    ("settle_days", None, None, SETTLE, "value"),
    ("verify_limit_minutes", None, None, VERIFY, "value"),
    ("check_limit_minutes", None, None, CHECK, "value"),
    ("patrol_classes", None, None, CLASSES, "value"),
)
MAX_GRADES = rank_config.MAX_GRADES


# -- the page --------------------------------------------------------------------------------------------------
def layout(lang: str = "zh", **_) -> html.Div:
    """Return the page for an administrator; anyone else gets only a refusal, and no data."""
    lang = normalise(lang)
    principal = access.current()
    if principal is None or not principal.may("admin"):
        return refused(t("rankcfg.admin_only", lang), t("rankcfg.admin_only_hint", lang), lang)
    state = rank_config.read_admin_state()
    return html.Div(className="adm rcf", lang=html_lang(lang), children=[
        dcc.Store(id=LANG, data=lang),
        dcc.Store(id=VERSION, data=0),
        dcc.Store(id=GRADE_NAMES, data=[name for name, _ in state.form.grades]),
        html.Div(className="adm-head", children=[
            html.Div(className="adm-heading", children=[
                html.H2(t("rankcfg.title", lang), className="adm-title"),
                html.Span(t("rankcfg.subtitle", lang), className="adm-subtitle"),
            ]),
            html.Div(status_children(state, lang), id=STATUS, className="rcf-status", role="status"),
        ]),
        html.Div(className="rcf-body", children=[
            html.Div(className="rcf-schemes", children=[
                html.P(t("rankcfg.editing", lang, month=month_label(state.first_allowed, lang)), className="rcf-editing"),
                html.Div(className="rcf-scheme-grid", children=[
                    scheme_card(key, state.form.schemes[key], lang) for key in rankings.SCHEMES]),
                html.P(t("rankcfg.weights_hint", lang), className="rcf-hint"),
            ]),
            html.Div(className="rcf-side", children=[
                general_card(state.form, lang),
                save_card(state.first_allowed, lang),
                html.Section(className="gcc-card rcf-card rcf-versions-card", children=[
                    html.H3(t("rankcfg.versions", lang), className="gcc-card-title"),
                    html.Div(versions_table(state.versions, state.today, lang), id=VERSIONS,
                             className="rcf-versions"),
                ]),
            ]),
        ]),
    ])


def month_label(month: date, lang: str) -> str:
    """Return "2026年12月" / "Dec 2026"."""
    until = rank_config._add_months(month, 1)
    period = rankings.Period("month", f"{month:%Y-%m}", datetime(month.year, month.month, 1),
                             datetime(until.year, until.month, 1), (month,))
    return rankings.period_label(period, lang)


def scheme_name(scheme: str, lang: str) -> str:
    return t(f"rank.scheme.{scheme}", lang)


def _number_input(input_id: str, value, *, low: float, high: float, step: float, label: str,
                  disabled: bool = False) -> dcc.Input:
    return dcc.Input(id=input_id, type="number", value=value, min=low, max=high, step=step, debounce=False,
                     disabled=disabled, name=label, className="form-control form-control-sm adm-input rcf-number")


def scheme_card(key: str, scheme: rank_config.Scheme, lang: str) -> html.Section:
    """Return one scheme's card: each of its possible indicators with 计入 and the weight, and the minimum volume."""
    weights = {item.indicator: item.weight for item in scheme.items}
    levels = "、".join(t(f"rank.level.{level}", lang) for level in rankings.SCHEME_LEVELS[key])
    rows = []
    for indicator in rankings.SCHEME_INDICATORS[key]:
        ind = rankings.INDICATORS[indicator]
        name = t(f"ind.{indicator}", lang)
        weight = weights.get(indicator)
        rows.append(html.Tr(className="rcf-row" if indicator in weights else "rcf-row rcf-row-off", children=[
            html.Td(name, className="rcf-ind"),
            html.Td(dcc.Checklist(id=counted_id(key, indicator),
                                  options=[{"label": html.Span(f"{t('rankcfg.col.counted', lang)} {name}",
                                                               className="visually-hidden"), "value": COUNTED}],
                                  value=[COUNTED] if indicator in weights else [], className="rcf-check",
                                  inputClassName="rcf-check-input")),
            html.Td(_number_input(weight_id(key, indicator), _shown(weight) if weight is not None else None,
                                  low=0, high=rank_config.MAX_WEIGHT, step=1,
                                  label=f"{t('rankcfg.col.weight', lang)} {name}")),
            html.Td(t("ind.better.lower" if ind.lower_is_better else "ind.better.higher", lang),
                    className="rcf-better rcf-better-lower" if ind.lower_is_better else "rcf-better"),
            html.Td(formula(indicator, lang), className="rcf-formula"),
        ]))
    volume = t(f"rank.volume.{key}", lang)
    return html.Section(className="gcc-card rcf-card rcf-scheme", children=[
        html.H3(className="gcc-card-title rcf-scheme-title", children=[
            html.Span(scheme_name(key, lang)), html.Span(t("rankcfg.levels", lang, levels=levels),
                                                         className="rcf-levels")]),
        html.Table(className="rcf-table", children=[
            html.Thead(html.Tr([html.Th(t(f"rankcfg.col.{c}", lang))
                                for c in ("indicator", "counted", "weight", "better", "formula")])),
            html.Tbody(rows),
        ]),
        html.Div(className="rcf-minvol", children=[
            html.Label(t("rankcfg.min_volume", lang, volume=volume), htmlFor=min_volume_id(key)),
            _number_input(min_volume_id(key), scheme.min_volume, low=0, high=rank_config.MAX_MIN_VOLUME, step=1,
                          label=t("rankcfg.min_volume", lang, volume=volume)),
        ]),
    ])


_COUNT_ZH = {"reports": "上报数", "valid_reports": "有效上报数", "grid_registered": "网格立案数", "missed": "漏报数",
             "to_verify": "应核实数", "verified_on_time": "按时核实数", "to_check": "应核查数",
             "checked_on_time": "按时核查数", "work_days": "工作日数", "patrol_days": "巡查天数",
             "grid_buildings": "网格楼栋数", "buildings_visited": "走访楼栋数", "to_handle": "应处置数",
             "handled": "处置数", "handled_on_time": "按期处置数", "overdue_open": "超期待处置数",
             "extended": "延期数", "to_close": "应结案数", "closed": "结案数", "closed_on_time": "按期结案数",
             "reworked": "返工数", "registered": "立案数", "public_registered": "公众举报立案数",
             "followups": "有效回访数", "contacted": "响应数", "resolved": "解决数", "satisfied": "满意数",
             "basically_satisfied": "基本满意数"}


def formula(indicator: str, lang: str) -> str:
    """Return an indicator's numerator / denominator in words (zh) or count names (en)."""
    ind = rankings.INDICATORS[indicator]
    name = (lambda c: _COUNT_ZH.get(c, c)) if lang != "en" else (lambda c: c.replace("_", " "))
    parts = [name(c) if w == 1 else f"{w:g} × {name(c)}" for c, w in ind.numerator]
    top = " + ".join(parts)
    return f"({top}) / {name(ind.denominator)}" if len(parts) > 1 else f"{top} / {name(ind.denominator)}"


def _shown(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def general_card(config: rank_config.Config, lang: str) -> html.Section:
    """Return the grade bands (floors; the last fixed at 0), settle days, the verify/check limits, patrol classes."""
    bands = []
    for i, (name, floor) in enumerate(config.grades):
        last = i == len(config.grades) - 1
        bands.append(html.Div(className="rcf-grade", children=[
            html.Span(name, className="rcf-grade-name"),
            _number_input(grade_id(i), _shown(floor), low=0, high=100, step=0.01, disabled=last,
                          label=t("rankcfg.field.grade", lang, grade=name)),
        ]))
    return html.Section(className="gcc-card rcf-card rcf-general", children=[
        html.H3(t("rankcfg.general", lang), className="gcc-card-title"),
        html.Div(className="rcf-field", children=[
            html.Span(t("rankcfg.grades", lang), className="adm-field-label"),
            html.Div(bands, className="rcf-grades"),
            html.Span(t("rankcfg.grade_last", lang), className="rcf-hint"),
        ]),
        html.Div(className="rcf-fields", children=[
            _field("rankcfg.settle_days", _number_input(SETTLE, config.settle_days, low=0,
                                                        high=rank_config.MAX_SETTLE_DAYS, step=1,
                                                        label=t("rankcfg.settle_days", lang)), lang),
            _field("rankcfg.verify_limit", _number_input(VERIFY, config.verify_limit_minutes, low=1,
                                                         high=rank_config.MAX_LIMIT_MINUTES, step=1,
                                                         label=t("rankcfg.verify_limit", lang)), lang),
            _field("rankcfg.check_limit", _number_input(CHECK, config.check_limit_minutes, low=1,
                                                        high=rank_config.MAX_LIMIT_MINUTES, step=1,
                                                        label=t("rankcfg.check_limit", lang)), lang),
            _field("rankcfg.patrol_classes", dcc.Input(
                id=CLASSES, type="text", value=",".join(config.patrol_classes), maxLength=300,
                placeholder=t("rankcfg.patrol_classes_hint", lang), spellCheck=False, autoComplete="off",
                className="form-control form-control-sm adm-input"), lang),
        ]),
    ])


def _field(label_key: str, control, lang: str) -> html.Div:
    return html.Div(className="adm-field rcf-field", children=[
        html.Label(t(label_key, lang), htmlFor=control.id, className="adm-field-label"), control])


def month_options(first: date, lang: str, n: int = MONTHS_OFFERED) -> list[dict]:
    """Return the months a version may start from: ``first`` and the ``n`` − 1 after it."""
    months = [rank_config._add_months(first, i) for i in range(n)]
    return [{"label": month_label(m, lang), "value": f"{m:%Y-%m}"} for m in months]


def save_card(first: date, lang: str) -> html.Section:
    """Return the month picker (from the first month allowed), the note, the save button and its answer."""
    return html.Section(className="gcc-card rcf-card rcf-save", children=[
        html.H3(t("rankcfg.save_title", lang), className="gcc-card-title"),
        html.Div(className="rcf-fields", children=[
            _field("rankcfg.effective_from", dcc.Dropdown(
                id=MONTH, options=month_options(first, lang), value=f"{first:%Y-%m}", clearable=False,
                searchable=False, className="adm-dropdown rcf-month"), lang),
            html.Span(t("rankcfg.effective_hint", lang, month=month_label(first, lang)), className="rcf-hint"),
        ]),
        _field("rankcfg.note", dcc.Textarea(id=NOTE, value="", maxLength=rank_config.MAX_NOTE,
                                            placeholder=t("rankcfg.note_hint", lang),
                                            className="form-control form-control-sm adm-input rcf-note"), lang),
        html.Button(t("rankcfg.save", lang), id=SAVE, n_clicks=0, type="button", className="btn btn-info btn-sm rcf-save-btn"),
        html.Div(id=RESULT, className="rcf-result", role="status", **{"aria-live": "polite"}),
    ])


# -- pure builders (the callbacks call these) ------------------------------------------------------------------
def status_children(state: "rank_config.AdminState", lang: str) -> list:
    """Return what is in force this month and how far months are closed."""
    current = month_label(state.month, lang)
    label = (t("rankcfg.label.file", lang) if state.label == rank_config.FILE_LABEL
             else t("rankcfg.label.version", lang, id=state.label.lstrip("#"),
                    month=month_label(state.in_force_from, lang)))
    frozen = (t("rankcfg.frozen_through", lang, month=month_label(state.last_frozen, lang))
              if state.last_frozen is not None else t("rankcfg.none_frozen", lang))
    return [html.Span(t("rankcfg.in_force", lang, month=current, label=label), className="rcf-in-force"),
            html.Span(frozen, className="rcf-frozen")]


def version_states(versions: Sequence[rank_config.Version], today: date) -> dict[int, str]:
    """Return each version's state at ``today``: current (in force this month), pending (later) or past."""
    month = date(today.year, today.month, 1)
    current = None
    for v in versions:  # oldest effective month first, then id: the last one not after this month is in force
        if v.effective_from <= month:
            current = v.id
    return {v.id: "pending" if v.effective_from > month else "current" if v.id == current else "past"
            for v in versions}


def versions_table(versions: Sequence[rank_config.Version], today: date, lang: str) -> html.Table | html.P:
    """Return the saved versions, the latest first, with who, when, from which month, the note and the state."""
    if not versions:
        return html.P(t("rankcfg.versions_empty", lang), className="rcf-empty")
    states = version_states(versions, today)
    rows = [html.Tr(className=f"rcf-v rcf-v-{states[v.id]}", children=[
        html.Td(f"#{v.id}", className="rcf-mono"),
        html.Td(f"{v.effective_from:%Y-%m}", className="rcf-mono"),
        html.Td(v.created_by),
        html.Td(f"{v.created_at:%Y-%m-%d %H:%M}", className="rcf-mono"),
        html.Td(v.note or "", className="rcf-v-note", title=v.note or ""),
        html.Td(t(f"rankcfg.state.{states[v.id]}", lang), className="rcf-v-state"),
    ]) for v in sorted(versions, key=lambda v: (v.effective_from, v.id), reverse=True)[:100]]
    return html.Table(className="rcf-table rcf-versions-table", children=[
        html.Thead(html.Tr([html.Th(t(f"rankcfg.col.{c}", lang)) for c in ("id", "from", "by", "at", "note", "state")])),
        html.Tbody(rows),
    ])


@dataclass(frozen=True)
class FormProblem(Exception):
    """A form value the page refuses: the field (an i18n key and its values) and the problem (ditto)."""

    field_key: str
    problem_key: str
    field_values: Mapping = field(default_factory=dict)
    problem_values: Mapping = field(default_factory=dict)

    def message(self, lang: str) -> str:
        names = {k: (t(f"ind.{v}", lang) if k == "indicator" else scheme_name(v, lang) if k == "scheme" else v)
                 for k, v in self.field_values.items()}
        return t("rankcfg.bad_field", lang, field=t(self.field_key, lang, **names),
                 problem=t(self.problem_key, lang, **self.problem_values))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(value, low: float, high: float, field_key: str, field_values: Mapping | None = None) -> float:
    if not _is_number(value) or not low <= value <= high:
        raise FormProblem(field_key, "rankcfg.bad.number", dict(field_values or {}), {"low": f"{low:g}", "high": f"{high:g}"})
    return float(value)


def _whole(value, low: int, high: int, field_key: str, field_values: Mapping | None = None) -> int:
    if not _is_number(value) or not float(value).is_integer() or not low <= value <= high:
        raise FormProblem(field_key, "rankcfg.bad.whole", dict(field_values or {}), {"low": low, "high": high})
    return int(value)


_CLASS_SPLIT = re.compile(r"[\s,，、;；]+")
_CLASS = re.compile(r"[0-9]{2}")


def config_document(values: Sequence, grades: Sequence, grade_names: Sequence[str]) -> dict:
    """Return the configuration structure (what rank_config.parse reads) of the form's ``values`` (in FIELDS order).

    ``grades`` are the grade inputs' values (the last is fixed at 0), ``grade_names`` the bands' names.
    Raise FormProblem naming the field in words for a missing, wrong or out-of-range value.
    """
    if len(values) != len(FIELDS) or len(grades) != len(grade_names) or not 1 <= len(grade_names) <= MAX_GRADES:
        raise FormProblem("rankcfg.title", "rankcfg.refused.invalid")
    by_kind: dict = {}
    for (kind, scheme, extra, _id, _prop), value in zip(FIELDS, values):
        by_kind[(kind, scheme, extra)] = value
    schemes = {}
    for scheme in rankings.SCHEMES:
        items = []
        for indicator in rankings.SCHEME_INDICATORS[scheme]:
            ticked = by_kind[("counted", scheme, indicator)]
            if not (isinstance(ticked, list) and COUNTED in ticked):
                continue
            weight = _number(by_kind[("weight", scheme, indicator)], 0, rank_config.MAX_WEIGHT,
                             "rankcfg.field.weight", {"scheme": scheme, "indicator": indicator})
            items.append({"indicator": indicator, "weight": _shown(weight)})
        if not any(item["weight"] > 0 for item in items):
            raise FormProblem("rankcfg.field.scheme", "rankcfg.bad.none_counted", {"scheme": scheme})
        schemes[scheme] = {"min_volume": _whole(by_kind[("min_volume", scheme, None)], 0, rank_config.MAX_MIN_VOLUME,
                                                "rankcfg.field.min_volume", {"scheme": scheme}),
                           "items": items}
    bands = {}
    for i, (name, value) in enumerate(zip(grade_names, grades)):
        if not isinstance(name, str) or name in bands:
            raise FormProblem("rankcfg.title", "rankcfg.refused.invalid")
        floor = 0.0 if i == len(grade_names) - 1 else _number(value, 0, 100, "rankcfg.field.grade", {"grade": name})
        if bands and floor >= list(bands.values())[-1]:
            above = list(bands.items())[-1]
            raise FormProblem("rankcfg.field.grade", "rankcfg.bad.descending", {"grade": name},
                              {"above": f"{above[0]} {above[1]:g}"})
        bands[name] = _shown(floor)
    classes_text = by_kind[("patrol_classes", None, None)]
    if not isinstance(classes_text, str) or len(classes_text) > 300:
        raise FormProblem("rankcfg.patrol_classes", "rankcfg.bad.classes")
    classes = [c for c in _CLASS_SPLIT.split(classes_text.strip()) if c]
    if not classes or not all(_CLASS.fullmatch(c) for c in classes):
        raise FormProblem("rankcfg.patrol_classes", "rankcfg.bad.classes")
    return {
        "settle_days": _whole(by_kind[("settle_days", None, None)], 0, rank_config.MAX_SETTLE_DAYS,
                              "rankcfg.settle_days"),
        "verify_limit_minutes": _whole(by_kind[("verify_limit_minutes", None, None)], 1,
                                       rank_config.MAX_LIMIT_MINUTES, "rankcfg.verify_limit"),
        "check_limit_minutes": _whole(by_kind[("check_limit_minutes", None, None)], 1,
                                      rank_config.MAX_LIMIT_MINUTES, "rankcfg.check_limit"),
        "patrol_classes": list(dict.fromkeys(classes)),
        "grades": bands,
        "schemes": schemes,
    }


def parse_month(value) -> date:
    """Return the first day of the month "YYYY-MM" the picker sent; FormProblem for anything else."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}", value) and 1 <= int(value[5:]) <= 12:
        return date(int(value[:4]), int(value[5:]), 1)
    raise FormProblem("rankcfg.effective_from", "rankcfg.bad.month")


def saved_message(version_id: int, month: date, lang: str) -> html.Div:
    return html.Div(t("rankcfg.saved", lang, id=version_id, month=month_label(month, lang)),
                    className="usr-message usr-message-ok")


def problem_message(text: str) -> html.Div:
    return html.Div(text, className="usr-message usr-message-refused", role="alert")


def refusal_text(refused: rank_config.SaveRefused, lang: str) -> str:
    """Return a save() refusal in words."""
    params = {k: (month_label(date.fromisoformat(v + "-01"), lang) if k in ("month", "current", "frozen") else v)
              for k, v in refused.params.items()}
    return t(f"rankcfg.refused.{refused.code}", lang, **params)

