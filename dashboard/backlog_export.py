"""The backlog desk's Excel export: ``GET /backlog/export.xlsx?view=<json>&lang=``.

``view`` is the screen's current view as the page sends it — ``{"columns": column state, "filter": filter
model, "search": text, "quick": [quick filters]}`` — cleaned like a stored preference; without it the
user's saved view is used. Every row of the view is exported (not only the rows on screen), only the
visible columns in their order, headers in ``lang``. Anyone who may read the desk may export what
they see; each export (and each refusal) writes an audit row before a byte leaves.
"""
from __future__ import annotations

import io
import json

import flask
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from dashboard import access, backlog, data
from dashboard.audit_export import safe_cell
from dashboard.i18n import normalise, t

EXPORT_PATH = "/backlog/export.xlsx"
EXPORT_MAX = 50_000  # rows: beyond this a spreadsheet is not the tool; narrow the view
MAX_VIEW_CHARS = 32_000
WIDTHS = {"id": 10, "category": 22, "place": 30, "department": 22, "stage": 10, "reported": 18, "deadline": 18,
          "countdown": 16, "light": 8, "age": 12, "flags": 40}
# What each column's cell holds in the sheet (the grid's row dict key).
CELL = {"light": "light_label"}


def _json(status: int, error: str, message: str) -> flask.Response:
    response = flask.jsonify({"error": error, "message": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def parse_view(text: str | None, saved: dict) -> dict:
    """Return the view of the ``view`` parameter (cleaned), the saved one when absent; raise ValueError when bad."""
    if text is None:
        return saved
    if len(text) > MAX_VIEW_CHARS:
        raise ValueError(f"the view takes at most {MAX_VIEW_CHARS} characters")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("the view is a JSON object")
    return backlog.clean_prefs(value)


def xlsx_bytes(rows: list[dict], columns: list[str], lang: str) -> bytes:
    """Return the rows as one Excel sheet: Chinese (or English) headers, text never run as a formula."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(t("desk.sheet", lang))
    sheet.freeze_panes = "A2"
    for i, col in enumerate(columns):
        sheet.column_dimensions[chr(ord("A") + i)].width = WIDTHS[col]
    sheet.append([t(f"desk.col.{col}", lang) for col in columns])
    for row in rows:
        cells = []
        for col in columns:
            value = safe_cell(row.get(CELL.get(col, col)))
            cells.append(ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


bp = flask.Blueprint("backlog_export", __name__)


@bp.get(EXPORT_PATH)
def export() -> flask.Response:
    """Send every case of the caller's current desk view as Excel; audit it (and any refusal) first."""
    principal = access.current()
    if principal is None or not principal.may("read") or principal.kind != "user":
        access.audit("backlog.export", "refused", target=EXPORT_PATH, detail="no desk user")
        return _json(403, "forbidden", "sign in to export the backlog desk")
    lang = normalise(flask.request.args.get("lang"))
    try:
        view = parse_view(flask.request.args.get("view"), data.backlog_prefs(principal.name))
    except ValueError as error:
        access.audit("backlog.export", "refused", target=EXPORT_PATH, detail=f"bad view: {str(error)[:200]}")
        return _json(400, "bad_view", str(error)[:300])
    as_of = data.window()[0]
    prepared = data.backlog_table(principal.scope, lang)
    found = backlog.view(prepared, as_of=as_of, calendar=data.backlog_calendar(),
                         sort=backlog.parse_sort(view["columns"]), filters=backlog.parse_filters(view["filter"]),
                         search=backlog.parse_search(view["search"]), quick=tuple(view["quick"]), lang=lang)
    if len(found) > EXPORT_MAX:
        access.audit("backlog.export", "refused", target=EXPORT_PATH, detail=f"{len(found)} rows > {EXPORT_MAX}")
        return _json(400, "too_many_rows", t("desk.export_too_many", lang, n=f"{len(found):,}", max=f"{EXPORT_MAX:,}"))
    columns = backlog.visible_columns(view["columns"])
    body = xlsx_bytes(backlog.rows(found, as_of=as_of, calendar=data.backlog_calendar(), lang=lang), columns, lang)
    detail = json.dumps({"rows": len(found), "columns": columns, "search": view["search"], "quick": view["quick"],
                         "filter": sorted(view["filter"])}, ensure_ascii=False)[:1000]
    access.audit("backlog.export", "ok", target=f"{principal.scope.area_code}", detail=detail)
    response = flask.Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="gridcc-backlog-{as_of:%Y%m%d-%H%M}.xlsx"'
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(server: flask.Flask) -> None:
    """Register the desk's export route on ``server`` (once)."""
    if "backlog_export" not in server.blueprints:
        server.register_blueprint(bp)
