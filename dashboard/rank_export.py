"""The rankings' Excel export and print view (issue 7 §2): ``GET /rankings/export.xlsx?<query>`` and
``GET /rankings/print?<query>``, the query as ``GET /api/v1/rankings`` reads it (dashboard/rank_api.py) plus ``lang``.

The workbook holds a header block (title, period, cut-off, scope, configuration version, …) over one row per unit:
rank, change, apart, score, grade, volume, and per indicator its value with its numerator and denominator in their
own columns. Text is guarded against formula injection. The print view is plain server-rendered HTML for A4
landscape, no script and nothing fetched from elsewhere. Both write an audit row (also when refused) first.
"""
from __future__ import annotations

import dataclasses
import io
import json
from html import escape

import flask
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from dashboard import access, context, data, rank_figures
from dashboard.api import BadRequest
from dashboard.audit_export import safe_cell
from dashboard.i18n import normalise, t
from dashboard.rank_api import parse_query, fetch

EXPORT_PATH = "/rankings/export.xlsx"
PRINT_PATH = "/rankings/print"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

bp = flask.Blueprint("rank_export", __name__)


def _clean(value):
    value = safe_cell(value)
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def sheet_header(ranking, lang: str) -> list[str]:
    """Return the table's column headers: unit, then every indicator as value, numerator and denominator."""
    cols = [t(f"rank.x.{k}", lang) for k in ("rank", "change", "apart", "code", "name", "parent", "score", "grade",
                                              "volume")]
    for item in ranking.items:
        name = t(f"rank.ind.{item.indicator}", lang)
        cols += [f"{name}（%）" if lang == "zh" else f"{name} (%)", f"{name} · {t('rank.x.numerator', lang)}",
                 f"{name} · {t('rank.x.denominator', lang)}", f"{name} · {t('rank.x.points', lang)}"]
    return cols


def sheet_rows(ranking, lang: str) -> list[list]:
    """Return one row per unit, ranked first, then those ranked apart; rates as percentages to 4 decimals."""
    out = []
    for row in ranking.rows:
        text, _ = rank_figures.change_text(row.change, lang)
        line = [row.rank, text, t("rank.x.yes", lang) if row.apart else "", row.code, row.name, row.parent_name or "",
                None if row.score is None else round(row.score, 2), row.grade or "", row.volume]
        for cell in row.cells:
            line += [None if cell.value is None else round(cell.value * 100, 4), cell.numerator, cell.denominator,
                     None if cell.points is None else round(cell.points, 2)]
        out.append([_clean(v) for v in line])
    return out


def xlsx_bytes(ranking, facts: list[tuple[str, str]], lang: str) -> bytes:
    """Return the ranking as one Excel sheet: the header block, a blank line, the table (Chinese headers)."""
    book = Workbook()
    sheet = book.active
    sheet.title = t("rank.x.sheet", lang)
    sheet.append([_clean(t("rank.x.title", lang))])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in facts:
        sheet.append([_clean(label), _clean(value)])
    sheet.append([])
    sheet.append(sheet_header(ranking, lang))
    head_row = sheet.max_row
    for cell in sheet[head_row]:
        cell.font = Font(bold=True)
    for line in sheet_rows(ranking, lang):
        sheet.append(line)
    sheet.freeze_panes = sheet.cell(row=head_row + 1, column=6)
    for i, width in enumerate((8, 8, 8, 14, 22, 18, 9, 7, 9), start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = width
    for i in range(10, sheet.max_column + 1):
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = 13
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _refuse(status: int, error: str, message: str, what: str) -> flask.Response:
    access.audit(what, "refused", target=flask.request.path, detail=message[:300])
    response = flask.jsonify({"error": error, "message": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _ranking(what: str):
    """Return (ranking, facts, lang, query) of the request, or a refusal response (audited)."""
    principal = access.current()
    if principal is None or not principal.may("read"):
        return _refuse(403, "forbidden", "sign in to export rankings", what)
    lang = normalise(flask.request.args.get("lang"))
    scope = principal.scope
    try:
        query = parse_query(flask.request.args, scope)
        a, _ = fetch(scope, dataclasses.replace(query, compare=None))
    except LookupError as error:
        return _refuse(404, "not_found", str(error).strip("'\"") or "no such area here", what)
    except (ValueError, BadRequest) as error:
        return _refuse(400, "bad_request", str(error)[:300], what)
    facts = rank_figures.header_facts(a, lang, scope_name=data.scope_name(scope))
    facts.insert(0, (t("rank.x.made", lang), f"{context.current().settings.now():%Y-%m-%d %H:%M}"
                     f" · {principal.display_name if getattr(principal, 'display_name', None) else principal.name}"))
    access.audit(what, "ok", target=scope.area_code, detail=json.dumps(
        {"level": a.level, "scheme": a.scheme, "period": a.period.key, "area": a.area.code, "rows": len(a.rows),
         "as_of": None if query.as_of is None else f"{query.as_of:%Y-%m-%dT%H:%M}"}, ensure_ascii=False))
    return a, facts, lang, query


@bp.get(EXPORT_PATH)
def export() -> flask.Response:
    """Send the ranking of the query as an Excel workbook (audited)."""
    found = _ranking("rankings.export")
    if isinstance(found, flask.Response):
        return found
    ranking, facts, lang, _ = found
    response = flask.Response(xlsx_bytes(ranking, facts, lang), mimetype=XLSX)
    name = f"gridcc-rankings-{ranking.level}-{ranking.period.key.replace('..', '_')}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


PRINT_CSS = """
@page { size: A4 landscape; margin: 12mm 10mm 14mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 9pt; } }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
  color: #111; background: #fff; margin: 0; font-size: 10pt; }
h1 { font-size: 15pt; margin: 0 0 4mm; }
.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 1mm 5mm; margin-bottom: 4mm; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; }
.badge { border: 1px solid #a60; color: #a60; padding: 0 2mm; border-radius: 2mm; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
thead { display: table-header-group; } tr { page-break-inside: avoid; }
th, td { border: 0.5pt solid #888; padding: 1mm 1.5mm; text-align: right; white-space: nowrap; }
th { background: #eee; text-align: center; }
td.l { text-align: left; } tr.apart-head td { background: #f6f0e0; font-weight: 600; text-align: left; }
.up { color: #176b3a; } .down { color: #a3361a; }
.tools { margin: 4mm 0; } .tools button { font-size: 11pt; padding: 1mm 4mm; }
svg { vertical-align: middle; }
@media print { .tools { display: none; } }
@media screen { body { padding: 8mm; max-width: 297mm; } }
"""


def print_html(ranking, facts: list[tuple[str, str]], lang: str) -> str:
    """Return the print view: title, the header block, the ranked table then the units ranked apart."""
    e = escape
    heads = [t("rank.col.rank", lang), t("rank.col.change", lang), t("rank.col.name", lang),
             t("rank.col.parent", lang), t("rank.col.score", lang), t("rank.col.grade", lang)]
    heads += [t(f"rank.ind.{i.indicator}", lang) for i in ranking.items]
    heads += [t("rank.col.volume", lang), t("rank.col.spark", lang)]

    def line(row) -> str:
        text, key = rank_figures.change_text(row.change, lang)
        spark = rank_figures.spark_path(row.spark)
        cells = [e(str(row.rank) if row.rank is not None else "—"),
                 f'<span class="{key}" title="{e(rank_figures.change_title(row.change, row.prev_rank, lang))}">'
                 f"{e(text)}</span>", e(row.name), e(row.parent_name or "—"), e(rank_figures.score_text(row.score)),
                 e(row.grade or "—")]
        cells += [e(rank_figures.cell_text(c)) for c in row.cells]
        cells += [e(rank_figures.number(row.volume)),
                  f'<svg width="120" height="24" aria-hidden="true"><path d="{spark}" fill="none" stroke="#1f5f99" '
                  f'stroke-width="1.5"/></svg>' if spark else "—"]
        left = {2, 3}
        return "<tr>" + "".join(f'<td class="l">{c}</td>' if i in left else f"<td>{c}</td>"
                                for i, c in enumerate(cells)) + "</tr>"

    ranked, apart = rank_figures.split_rows(ranking.rows)
    body = [line(r) for r in ranked]
    if apart:
        body.append(f'<tr class="apart-head"><td colspan="{len(heads)}">{e(t("rank.apart.title", lang))} · '
                    f'{e(t("rank.apart.note", lang, n=len(apart), min=f"{ranking.min_volume:,}", volume=t(f"rank.volume.{ranking.scheme}", lang)))}'
                    "</td></tr>")
        body += [line(r) for r in apart]
    if not ranking.rows:
        body.append(f'<tr><td class="l" colspan="{len(heads)}">{e(t("rank.empty", lang))}</td></tr>')
    badge = t("rank.provisional" if ranking.provisional else "rank.final", lang)
    facts_html = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in facts)
    return (
        f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
        f"<title>{e(t('rank.x.title', lang))}</title><style>{PRINT_CSS}</style></head><body>"
        f'<div class="tools"><button type="button" onclick="window.print()">{e(t("rank.print", lang))}</button></div>'
        f"<h1>{e(t('rank.x.title', lang))} · {e(t(f'rank.level.{ranking.level}', lang))} "
        f'<span class="badge">{e(badge)}</span></h1>'
        f'<dl class="facts">{facts_html}</dl>'
        f"<table><thead><tr>{''.join(f'<th>{e(h)}</th>' for h in heads)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></body></html>")


@bp.get(PRINT_PATH)
def print_view() -> flask.Response:
    """Send the ranking of the query as a print-friendly page (A4 landscape; audited)."""
    found = _ranking("rankings.print")
    if isinstance(found, flask.Response):
        return found
    ranking, facts, lang, _ = found
    response = flask.Response(print_html(ranking, facts, lang), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    # Inline only: the one button calls window.print(); nothing is fetched.
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                                   "script-src 'unsafe-inline'; img-src data:")
    return response


def init_app(server: flask.Flask) -> None:
    """Register the export and print routes on ``server`` (once)."""
    if "rank_export" not in server.blueprints:
        server.register_blueprint(bp)
