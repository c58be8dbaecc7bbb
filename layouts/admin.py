"""The administrator's audit log page: server-side filters over a paged grid, with CSV and Excel export."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import access, audit_export
from dashboard.i18n import CATALOGUE, normalise, t
from queries.audit import AuditRow

LANG = "admin-audit-lang"
DATES = "admin-audit-dates"
ACTOR = "admin-audit-actor"
ACTION = "admin-audit-action"
OUTCOME = "admin-audit-outcome"
SEARCH = "admin-audit-search"
COUNT = "admin-audit-count"
EXPORT = "admin-audit-export"
MESSAGE = "admin-audit-message"
GRID = "admin-audit-grid"
PAGER = "admin-audit-pager"

# Outcomes that are someone being kept out: their rows stand out.
ALERT_OUTCOMES = frozenset({"refused", "locked", "throttled"})
ALERT_CLASS = "adm-row-alert"
# The grid's colours follow assets/gridcc.css (--gcc-panel, --gcc-ink, --gcc-accent, …); AG Grid's theming
# API builds the CSS in the browser, so nothing is fetched from outside the machine.
GRID_THEME = (
    "themeAlpine.withPart(agGrid.colorSchemeDark).withParams({"
    "backgroundColor: '#0e1a2d', foregroundColor: '#d6e2f0', headerBackgroundColor: '#10213b',"
    "headerTextColor: '#8aa0b8', borderColor: '#1f3352', accentColor: '#4cc9f0',"
    "oddRowBackgroundColor: '#0b1626', rowHoverColor: 'rgba(76, 201, 240, 0.08)',"
    "fontFamily: 'inherit', fontSize: 14, headerFontSize: 14, rowHeight: 34, headerHeight: 36,"
    "wrapperBorderRadius: 6})"
)
# column: (width, flex); flexible columns share what is left of the width.
_WIDTHS = {"occurred_at": (170, 0), "actor": (130, 0), "action": (160, 0), "target": (200, 1),
           "outcome": (96, 0), "source": (140, 0), "detail": (260, 2)}


def layout(lang: str = "zh", **_) -> html.Div:
    """Return the audit log page for an administrator; anyone else gets only a refusal, and no data."""
    lang = normalise(lang)
    principal = access.current()
    if principal is None or not principal.may("admin"):
        return refused(t("audit.admin_only", lang), t("audit.admin_only_hint", lang), lang)
    last = audit_export.today()
    return html.Div(className="adm", lang=html_lang(lang), children=[
        dcc.Store(id=LANG, data=lang),
        html.Div(className="adm-head", children=[
            html.Div(className="adm-heading", children=[
                html.H2(t("audit.title", lang), className="adm-title"),
                html.Span(t("audit.subtitle", lang), className="adm-subtitle"),
            ]),
            html.Div(id=COUNT, className="adm-count", role="status"),
            html.Div(id=EXPORT, className="adm-export"),
        ]),
        _filters(last, lang),
        html.Div(id=MESSAGE, className="ovw-notice adm-message", role="status"),
        html.Section(className="gcc-card adm-grid-card", children=[
            dag.AgGrid(
                id=GRID,
                className="adm-grid",
                columnDefs=_columns(lang),
                rowData=[],
                defaultColDef={"sortable": False, "resizable": True, "suppressHeaderMenuButton": True},
                rowClassRules={ALERT_CLASS: "params.data.alert"},
                getRowId="params.data.id",
                dashGridOptions={"theme": {"function": GRID_THEME},
                                 "localeText": {"noRowsToShow": t("audit.empty", lang)},
                                 "suppressCellFocus": True, "enableCellTextSelection": True, "tooltipShowDelay": 400},
                style={"height": "100%", "width": "100%"},
            ),
        ]),
        html.Div(className="adm-foot", children=[
            html.Span(t("audit.page_size", lang, n=audit_export.PAGE_SIZE), className="adm-foot-note"),
            dbc.Pagination(id=PAGER, max_value=1, active_page=1, fully_expanded=False, first_last=True,
                           previous_next=True, size="sm", className="adm-pager"),
        ]),
    ])


def refused(title: str, hint: str, lang: str, page_class: str = "") -> html.Div:
    """Return an administrators' page as someone else sees it: the refusal in words, and no data."""
    return html.Div(className=f"adm adm-refused {page_class}".strip(), lang=html_lang(lang), children=[
        html.Div(className="gcc-card adm-refused-card", role="alert", children=[
            html.H2(title, className="adm-refused-title"),
            html.P(hint),
        ]),
    ])


def html_lang(lang: str) -> str:
    """Return the page's HTML lang attribute for ``lang``."""
    return "en" if lang == "en" else "zh-CN"


def _field(label_key: str, control, lang: str, extra_class: str = "") -> html.Div:
    return html.Div(className=f"adm-field {extra_class}".strip(), children=[
        html.Label(t(label_key, lang), htmlFor=control.id, className="adm-field-label"), control])


def _dropdown_labels(lang: str) -> dict:
    return {"search": t("audit.search", lang), "clear_search": t("audit.clear", lang),
            "clear_selection": t("audit.clear", lang)}


def _filters(last: date, lang: str) -> html.Div:
    first = last - timedelta(days=audit_export.DEFAULT_DAYS - 1)
    return html.Div(className="gcc-card adm-filters", children=[
        _field("audit.dates", dcc.DatePickerRange(
            id=DATES, start_date=first.isoformat(), end_date=last.isoformat(), display_format="YYYY-MM-DD",
            min_date_allowed=f"{audit_export.FIRST_YEAR}-01-01", max_date_allowed=last.isoformat(),
            first_day_of_week=1, clearable=False, className="adm-dates"), lang, "adm-field-dates"),
        _field("audit.actor", dcc.Input(
            id=ACTOR, type="text", debounce=True, maxLength=audit_export.MAX_LENGTH["actor"],
            placeholder=t("audit.actor_hint", lang), className="form-control form-control-sm adm-input",
            autoComplete="off", spellCheck=False), lang, "adm-field-actor"),
        _field("audit.action", dcc.Dropdown(
            id=ACTION, options=[], placeholder=t("audit.action_any", lang), clearable=True, searchable=True,
            labels=_dropdown_labels(lang), className="adm-dropdown"), lang, "adm-field-action"),
        _field("audit.outcome", dcc.Dropdown(
            id=OUTCOME, options=[], placeholder=t("audit.outcome_any", lang), clearable=True, searchable=False,
            labels=_dropdown_labels(lang), className="adm-dropdown"), lang),
        _field("audit.search", dcc.Input(
            id=SEARCH, type="search", debounce=True, maxLength=audit_export.MAX_LENGTH["q"],
            placeholder=t("audit.search_hint", lang), className="form-control form-control-sm adm-input",
            autoComplete="off", spellCheck=False), lang, "adm-field-search"),
    ])


def _columns(lang: str) -> list[dict]:
    columns = []
    for column in audit_export.COLUMNS:
        width, flex = _WIDTHS[column]
        spec = {"field": column, "headerName": t(f"audit.col.{column}", lang), "minWidth": width}
        spec |= {"flex": flex} if flex else {"width": width}
        if column in ("target", "detail"):
            spec["tooltipField"] = column
        if column in ("occurred_at", "source", "action"):
            spec["cellClass"] = "adm-mono"
        columns.append(spec)
    return columns


def outcome_label(outcome: str, lang: str) -> str:
    """Return an outcome's label ("refused" → 拒绝), the outcome itself when the catalogue lacks it."""
    key = f"audit.outcome.{outcome}"
    return t(key, lang) if key in CATALOGUE else outcome


def grid_rows(rows: Sequence[AuditRow], lang: str) -> list[dict]:
    """Return the grid's rows: times to the second (local), outcomes labelled, refusals flagged ``alert``."""
    return [{"id": row.id, "occurred_at": f"{row.occurred_at:%Y-%m-%d %H:%M:%S}", "actor": row.actor,
             "action": row.action, "target": row.target or "", "outcome": outcome_label(row.outcome, lang),
             "source": row.source or "", "detail": row.detail or "", "alert": row.outcome in ALERT_OUTCOMES}
            for row in rows]


def action_options(actions: Sequence[str], lang: str) -> list[dict]:
    """Return the action dropdown: each family of two or more dotted actions ("event.*") first, then every action."""
    families = Counter(action.split(".", 1)[0] + "." for action in actions if "." in action)
    prefixes = sorted(prefix for prefix, members in families.items() if members > 1)
    return ([{"label": t("audit.action_prefix", lang, prefix=prefix), "value": prefix} for prefix in prefixes]
            + [{"label": action, "value": action} for action in actions])


def outcome_options(outcomes: Sequence[str], lang: str) -> list[dict]:
    """Return the outcome dropdown, each outcome with its label."""
    return [{"label": f"{outcome_label(o, lang)} · {o}" if outcome_label(o, lang) != o else o, "value": o}
            for o in outcomes]


def count_text(total: int | None, lang: str) -> str:
    """Return "共 N 条" for the rows that match, an empty string when there is no answer."""
    return "" if total is None else t("audit.count", lang, n=f"{total:,}")


def export_links(filters: audit_export.Filters | None, total: int, lang: str) -> list:
    """Return the CSV and Excel links of ``filters``; nothing when no row matches, a note when too many do."""
    if filters is None or total == 0:
        return []
    if total > audit_export.EXPORT_MAX:
        note = t("audit.export_too_many", lang, n=f"{audit_export.EXPORT_MAX:,}")
        return [html.Span(note, className="adm-export-note")]
    return [html.A(t(f"audit.export_{fmt}", lang), href=audit_export.export_url(filters, fmt, lang),
                   className="btn btn-outline-info btn-sm adm-export-link", title=t("audit.export_hint", lang),
                   **{"data-format": fmt}) for fmt in ("csv", "xlsx")]
