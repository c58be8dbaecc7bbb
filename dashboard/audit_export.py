"""The administrator's reading of the audit log: the filters its page and export share, and the export route.

``GET /admin/audit/export.csv`` and ``/admin/audit/export.xlsx`` take the page's filters as query
parameters (``since``, ``until`` as YYYY-MM-DD, both days included; ``actor``; ``action``, a prefix when
it ends in "."; ``outcome``; ``q``, text in target or detail; ``lang``). Only an administrator may
export; every export is audited before its body is sent, and so is every refused one.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

import flask
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from dashboard import access, context
from dashboard.i18n import normalise, t
from queries import audit as audit_queries
from queries.audit import AuditRow

DEFAULT_DAYS = 7
PAGE_SIZE = 100
EXPORT_MAX = 100_000
MAX_PAGE = audit_queries.MAX_OFFSET // PAGE_SIZE
FIRST_YEAR, LAST_YEAR = 2000, 2099
# Longest value each filter takes: the column's width (a longer one can match nothing), 200 for free text.
MAX_LENGTH = {"actor": 64, "action": 32, "outcome": 16, "q": 200}
FIELD_LABELS = {"actor": "audit.actor", "action": "audit.action", "outcome": "audit.outcome", "q": "audit.search"}
COLUMNS = ("occurred_at", "actor", "action", "target", "outcome", "source", "detail")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_PATH = "/admin/audit/export"


class FilterError(ValueError):
    """A filter value that cannot be used: ``key`` and ``values`` name its message in dashboard.i18n."""

    def __init__(self, key: str, **values):
        super().__init__(t(key, "en", **values))
        self.key = key
        self.values = values

    def message(self, lang: str) -> str:
        """Return the message in ``lang``, naming the filter by its label on the page."""
        values = dict(self.values)
        if values.get("field") in FIELD_LABELS:
            values["field"] = t(FIELD_LABELS[values["field"]], lang)
        return t(self.key, lang, **values)


@dataclass(frozen=True)
class Filters:
    """What the administrator asked for: whole local days [first_day, last_day] and optional exact filters."""

    first_day: date
    last_day: date
    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    q: str | None = None

    def query(self) -> dict:
        """Return the keyword arguments of queries.audit for these filters (local time, until exclusive)."""
        return {"since": datetime.combine(self.first_day, time()),
                "until": datetime.combine(self.last_day + timedelta(days=1), time()),
                "actor": self.actor, "action": self.action, "outcome": self.outcome, "text": self.q}

    def params(self) -> dict[str, str]:
        """Return these filters as URL query parameters (empty ones left out)."""
        values = {"since": self.first_day.isoformat(), "until": self.last_day.isoformat(), "actor": self.actor,
                  "action": self.action, "outcome": self.outcome, "q": self.q}
        return {key: value for key, value in values.items() if value}


def _day(value: object, default: date) -> date:
    """Return the day of a date picker's value ("YYYY-MM-DD", or with a time after it), ``default`` when empty."""
    if value is None or value == "":
        return default
    bad = FilterError("audit.bad_date", first=FIRST_YEAR, last=LAST_YEAR)
    if not isinstance(value, str) or len(value) > 32:
        raise bad
    try:
        day = datetime.fromisoformat(value).date() if len(value) > 10 else date.fromisoformat(value)
    except ValueError:
        raise bad from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise bad
    return day


def _text(values: Mapping, field: str) -> str | None:
    """Return a text filter stripped, None when empty; refuse what is not a short string."""
    value = values.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise FilterError("audit.bad_value", field=field)
    value = value.strip()
    if len(value) > MAX_LENGTH[field]:
        raise FilterError("audit.too_long", field=field, n=MAX_LENGTH[field])
    return value or None


def parse_filters(values: Mapping, *, today: date) -> Filters:
    """Return the filters of ``values`` (query parameters or widget values); raise FilterError on a bad one.

    Missing days default to the last DEFAULT_DAYS days up to ``today`` (local).
    """
    last = _day(values.get("until"), today)
    first = _day(values.get("since"), last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise FilterError("audit.bad_range")
    return Filters(first, last, *(_text(values, field) for field in ("actor", "action", "outcome", "q")))


def parse_page(value: object) -> int:
    """Return a page number (1-based) of the pager; raise FilterError unless it is an int in 1…MAX_PAGE."""
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise FilterError("audit.bad_page")
    return value


def today() -> date:
    """Return today's date in the city's time zone."""
    return context.current().settings.now().date()


# -- loaders (the page's callbacks call these; no caching: the log grows with every request) ----------------
@dataclass(frozen=True)
class Page:
    """One page of audit rows: the rows, how many match in all, this page's number and how many pages there are."""

    rows: list[AuditRow]
    total: int
    number: int
    pages: int


def read_page(filters: Filters, number: int) -> Page:
    """Return page ``number`` (1-based, PAGE_SIZE rows) of the matching rows; a page past the end shows the last."""
    size = PAGE_SIZE
    with context.current().connect() as conn:
        total = audit_queries.audit_count(conn, **filters.query())
        pages = max(1, -(-total // size))
        number = min(number, pages)
        rows = audit_queries.audit_entries(conn, **filters.query(), limit=size, offset=(number - 1) * size)
    return Page(rows, total, number, pages)


def read_choices() -> tuple[list[str], list[str]]:
    """Return the distinct actions and outcomes in the audit log (for the page's dropdowns)."""
    with context.current().connect() as conn:
        return audit_queries.audit_actions(conn), audit_queries.audit_outcomes(conn)


# -- the export's pure builders ---------------------------------------------------------------------------
def safe_cell(value: object) -> object:
    """Return ``value`` as a spreadsheet shows it: text that would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cells(row: AuditRow) -> list:
    return [safe_cell(getattr(row, column)) for column in COLUMNS]


def _header(lang: str) -> list[str]:
    return [t(f"audit.col.{column}", lang) for column in COLUMNS]


def csv_bytes(rows: Sequence[AuditRow], lang: str) -> bytes:
    """Return the rows as UTF-8 CSV with a byte-order mark (so Excel reads the Chinese), times to the second."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_header(lang))
    for row in rows:
        cells = _cells(row)
        cells[0] = f"{row.occurred_at:%Y-%m-%d %H:%M:%S}"
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Sequence[AuditRow], lang: str) -> bytes:
    """Return the rows as one Excel sheet: times as date-times, text cells never formulas."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(t("audit.title", lang))
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (20, 16, 18, 30, 10, 16, 60)):
        sheet.column_dimensions[letter].width = width
    sheet.append(_header(lang))
    for row in rows:
        # openpyxl refuses control characters in a cell; a hostile detail must not break the export.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", cell) if isinstance(cell, str) else cell
                      for cell in _cells(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FORMATS = {
    "csv": (csv_bytes, "text/csv; charset=utf-8"),
    "xlsx": (xlsx_bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def export_url(filters: Filters, fmt: str, lang: str) -> str:
    """Return the export link of ``filters`` in format ``fmt`` ("csv" or "xlsx")."""
    params = filters.params() | ({"lang": "en"} if lang == "en" else {})
    return f"{EXPORT_PATH}.{fmt}?{urlencode(params)}"


# -- the route ---------------------------------------------------------------------------------------------
bp = flask.Blueprint("audit_export", __name__)


def _json(status: int, error: str, message: str) -> flask.Response:
    response = flask.jsonify({"error": error, "message": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"{EXPORT_PATH}.<fmt>")
def export(fmt: str) -> flask.Response:
    """Send the audit rows of the query's filters as CSV or Excel, to an administrator only; audit it first."""
    if fmt not in FORMATS:
        return _json(404, "not_found", "the audit log exports as .csv or .xlsx")
    principal = access.current()
    if principal is None or not principal.may("admin"):
        access.audit("audit.export", "refused", target=EXPORT_PATH, detail=fmt)
        return _json(403, "forbidden", "only an administrator may export the audit log")
    lang = normalise(flask.request.args.get("lang"))
    try:
        filters = parse_filters(flask.request.args, today=today())
    except FilterError as error:
        return _json(400, "bad_filter", str(error))
    with context.current().connect() as conn:
        total = audit_queries.audit_count(conn, **filters.query())
        if total > EXPORT_MAX:
            return _json(400, "too_many_rows",
                         f"{total:,} rows match; an export holds at most {EXPORT_MAX:,}: narrow the filters")
        rows = audit_queries.audit_entries(conn, **filters.query(), limit=EXPORT_MAX)
    build, mimetype = FORMATS[fmt]
    body = build(rows, lang)
    described = urlencode(filters.params())
    detail = f"{len(rows)} rows, {fmt}" + (f"; filters {described}" if len(described) > 128 else "")
    access.audit("audit.export", "ok", target=described, detail=detail)  # before a byte of it leaves
    response = flask.Response(body, mimetype=mimetype)
    name = f"gridcc-audit-{filters.first_day:%Y%m%d}-{filters.last_day:%Y%m%d}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(server: flask.Flask) -> None:
    """Register the audit log's export routes on ``server``."""
    server.register_blueprint(bp)
