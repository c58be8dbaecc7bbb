"""The administrator's audit log: its query, its page and callbacks, and its CSV/Excel export.

Nine hand-made rows, in March 2026 (far from the hand city's NOW, 2026-11-20 15:00, when the app's own
rows are written), with every expected answer worked out by hand:

 id  occurred_at     actor     action         target  outcome  source    detail
  1  03-01 08:00     alice     sign_in        -       ok       10.0.0.1  -
  2  03-01 09:00     bob       sign_in        -       refused  10.0.0.2  -
  3  03-01 09:00     bob       sign_in        -       locked   10.0.0.2  -            (same time as 2: by id)
  4  03-02 10:00     alice     event.accept   17      ok       10.0.0.1  now accepted
  5  03-02 11:00     alice     event.close    18      refused  10.0.0.1  not found in scope
  6  03-03 12:00     sys-1     events.report  100%    ok       10.0.0.9  =HYPERLINK("http://x")
  7  03-03 13:00     carol     reveal         a_b     ok       10.0.0.3  reporter 50%
  8  03-04 14:00     cli:root  user.add       axb     ok       cli       +role viewer
  9  03-05 00:00     alice     sign_out       -       ok       @evil     Detail WITH Case
 10  03-06 00:00     alice     sign_in        -       ok       10.0.0.1  -            (after the window)

Newest first over the window [03-01, 03-06): 9 8 7 6 5 4 3 2 1.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, datetime
from urllib.parse import quote

import flask
import pytest
from dash.exceptions import PreventUpdate
from openpyxl import load_workbook
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import func, select

from callbacks import admin as cb
from dashboard import audit_export
from dashboard.audit_export import FilterError, parse_filters, parse_page, safe_cell
from dashboard.i18n import t
from dashboard.settings import Settings
from dashboard.store import init_schema, make_engine
from layouts import admin as ids
from queries import audit as q
from queries import users as user_queries
from queries.audit import AuditRow
from queries.schema import audit_log
from tests import handcity
from tests.callbacks.test_forged import post
from tests.conftest import principal_for, signed_in

SINCE, UNTIL = datetime(2026, 3, 1), datetime(2026, 3, 6)
ROWS = [
    (datetime(2026, 3, 1, 8), "alice", "sign_in", None, "ok", "10.0.0.1", None),
    (datetime(2026, 3, 1, 9), "bob", "sign_in", None, "refused", "10.0.0.2", None),
    (datetime(2026, 3, 1, 9), "bob", "sign_in", None, "locked", "10.0.0.2", None),
    (datetime(2026, 3, 2, 10), "alice", "event.accept", "17", "ok", "10.0.0.1", "now accepted"),
    (datetime(2026, 3, 2, 11), "alice", "event.close", "18", "refused", "10.0.0.1", "not found in scope"),
    (datetime(2026, 3, 3, 12), "sys-1", "events.report", "100%", "ok", "10.0.0.9", '=HYPERLINK("http://x")'),
    (datetime(2026, 3, 3, 13), "carol", "reveal", "a_b", "ok", "10.0.0.3", "reporter 50%"),
    (datetime(2026, 3, 4, 14), "cli:root", "user.add", "axb", "ok", "cli", "+role viewer"),
    (datetime(2026, 3, 5, 0), "alice", "sign_out", None, "ok", "@evil", "Detail WITH Case"),
    (datetime(2026, 3, 6, 0), "alice", "sign_in", None, "ok", "10.0.0.1", None),
]
NON_ADMINS = [name for name, (role, _) in handcity.USERS.items() if role != "admin"]
# The page's filters in March, as the export takes them (both days included).
MARCH = "since=2026-03-01&until=2026-03-05"


def _insert(conn) -> None:
    for at, actor, action, target, outcome, source, detail in ROWS:
        user_queries.audit(conn, at=at, actor=actor, action=action, target=target, outcome=outcome, source=source,
                           detail=detail)


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    """A store holding only the schema and the ten rows above."""
    engine = make_engine(Settings(data_dir=tmp_path_factory.mktemp("audit-rows")))
    init_schema(engine)
    with engine.begin() as connection:
        _insert(connection)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture(scope="module")
def app(hand_store_template, tmp_path_factory):
    """One hand-city app for the module (a fresh one per test costs more than the tests), with the rows above."""
    from dashboard.app import create_app

    folder = tmp_path_factory.mktemp("audit-app")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    dash_app = create_app(Settings(data_dir=folder, frozen_now=handcity.NOW, cache_type="NullCache"))
    engine = dash_app.server.extensions["gridcc"].engine
    with engine.begin() as connection:
        _insert(connection)
    yield dash_app
    engine.dispose()


@pytest.fixture(scope="module")
def admin(app):
    return signed_in(app, "admin")


def ids_of(rows) -> list[int]:
    return [row.id for row in rows]


def audit_rows(app, action: str, actor: str) -> list:
    """Return the audit rows of ``action`` by ``actor`` in ``app``'s store, oldest first."""
    with app.server.extensions["gridcc"].engine.connect() as connection:
        return connection.execute(select(audit_log).where(audit_log.c.action == action, audit_log.c.actor == actor)
                                  .order_by(audit_log.c.id)).fetchall()


def exports_by(app, actor: str, outcome: str) -> list:
    """Return the audit.export rows of ``actor`` with ``outcome``, oldest first."""
    return [row for row in audit_rows(app, "audit.export", actor) if row.outcome == outcome]


# -- the query ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("filters, expected", [
    ({}, [9, 8, 7, 6, 5, 4, 3, 2, 1]),
    ({"since": datetime(2026, 3, 2), "until": datetime(2026, 3, 3)}, [5, 4]),
    ({"until": datetime(2026, 3, 5)}, [8, 7, 6, 5, 4, 3, 2, 1]),  # until is exclusive: 9 at 03-05 00:00 is out
    ({"actor": "alice"}, [9, 5, 4, 1]),
    ({"actor": "ali"}, []),  # exact, not a prefix
    ({"action": "sign_in"}, [3, 2, 1]),
    ({"action": "event."}, [5, 4]),  # a prefix: not events.report
    ({"action": "event"}, []),  # without the dot it is exact
    ({"action": "events."}, [6]),
    ({"outcome": "refused"}, [5, 2]),
    ({"actor": "alice", "outcome": "ok"}, [9, 4, 1]),
    ({"text": "%"}, [7, 6]),  # a literal percent sign: 100% and 50%, not every row
    ({"text": "_"}, [7]),  # a literal underscore: a_b, not axb
    ({"text": "a_b"}, [7]),
    ({"text": "with case"}, [9]),  # case does not matter
    ({"text": "17"}, [4]),
    ({"text": "' OR 1=1 --"}, []),
    ({"actor": "alice' OR '1'='1"}, []),
    ({"action": "%."}, []),
    ({"text": "x" * 100_000}, []),
])
def test_audit001_filters_newest_first_and_count(conn, filters, expected):
    window = {"since": SINCE, "until": UNTIL} | filters
    assert ids_of(q.audit_entries(conn, **window)) == expected
    assert q.audit_count(conn, **window) == len(expected)


@pytest.mark.parametrize("limit, offset, expected", [
    (4, 0, [9, 8, 7, 6]),
    (4, 4, [5, 4, 3, 2]),
    (4, 8, [1]),
    (4, 9, []),
    (10**9, 0, [9, 8, 7, 6, 5, 4, 3, 2, 1]),  # capped at MAX_ROWS, not an error
])
def test_audit002_paging(conn, limit, offset, expected):
    assert ids_of(q.audit_entries(conn, since=SINCE, until=UNTIL, limit=limit, offset=offset)) == expected


@pytest.mark.parametrize("limit, offset", [(0, 0), (-1, 0), (10, -1), (10, q.MAX_OFFSET + 1)])
def test_audit003_out_of_bounds_paging_is_refused(conn, limit, offset):
    with pytest.raises(ValueError):
        q.audit_entries(conn, since=SINCE, until=UNTIL, limit=limit, offset=offset)


def test_audit004_distinct_actions_and_outcomes(conn):
    assert q.audit_actions(conn) == ["event.accept", "event.close", "events.report", "reveal", "sign_in",
                                     "sign_out", "user.add"]
    assert q.audit_outcomes(conn) == ["locked", "ok", "refused"]


# -- the filters the page and the export share ----------------------------------------------------------------
TODAY = date(2026, 11, 20)


def test_audit010_filters_default_to_the_last_seven_days():
    filters = parse_filters({}, today=TODAY)
    assert (filters.first_day, filters.last_day) == (date(2026, 11, 14), TODAY)
    assert filters.query() == {"since": datetime(2026, 11, 14), "until": datetime(2026, 11, 21), "actor": None,
                               "action": None, "outcome": None, "text": None}


def test_audit011_filters_read_picker_values_and_strip_text():
    filters = parse_filters({"since": "2026-03-01T00:00:00", "until": "2026-03-05", "actor": " alice ",
                             "action": "event.", "outcome": "", "q": " 50% "}, today=TODAY)
    assert filters == audit_export.Filters(date(2026, 3, 1), date(2026, 3, 5), "alice", "event.", None, "50%")
    assert filters.params() == {"since": "2026-03-01", "until": "2026-03-05", "actor": "alice", "action": "event.",
                                "q": "50%"}


@pytest.mark.parametrize("values", [
    {"since": "yesterday"}, {"since": "2026-13-01"}, {"since": "2026-02-30"}, {"since": 20260301},
    {"since": ["2026-03-01"]}, {"since": "1999-12-31"}, {"until": "2100-01-01"}, {"since": "9" * 100_000},
    {"since": "2026-03-05", "until": "2026-03-01"},
    {"actor": "a" * 65}, {"actor": "a" * 100_000}, {"actor": 7}, {"actor": {"$ne": 1}}, {"action": ["sign_in"]},
    {"outcome": True}, {"q": "x" * 201}, {"q": "a\x00b"},
])
def test_audit012_bad_filters_are_refused_with_a_message(values):
    with pytest.raises(FilterError) as refused:
        parse_filters(values, today=TODAY)
    error = refused.value
    assert error.message("zh") != error.message("en")
    field = error.values.get("field")
    if field:  # the API names the query parameter, the page the filter's label
        assert f" {field} " in f"{error} " and t(audit_export.FIELD_LABELS[field], "zh") in error.message("zh")


@pytest.mark.parametrize("value, expected", [(None, 1), (1, 1), (3, 3), (audit_export.MAX_PAGE, audit_export.MAX_PAGE)])
def test_audit013_pages(value, expected):
    assert parse_page(value) == expected


@pytest.mark.parametrize("value", [0, -5, True, "2", 2.0, [2], audit_export.MAX_PAGE + 1, 10**30])
def test_audit014_bad_pages_are_refused(value):
    with pytest.raises(FilterError):
        parse_page(value)


# -- the export's builders ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("a=b", "a=b"), ("", ""), (None, None), (5, 5), ("10.0.0.1", "10.0.0.1"),
])
def test_audit020_formula_cells_get_an_apostrophe(value, expected):
    assert safe_cell(value) == expected


def _row(**values) -> AuditRow:
    base = {"id": 1, "occurred_at": datetime(2026, 3, 1, 8, 5, 9), "actor": "alice", "action": "sign_in",
            "target": None, "outcome": "ok", "source": "10.0.0.1", "detail": None}
    return AuditRow(**(base | values))


def test_audit021_csv_has_a_bom_chinese_headers_and_safe_cells():
    body = audit_export.csv_bytes([_row(detail='=cmd|"/c calc"!A1', target="云州市, 东城区")], "zh")
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "时间,操作人,操作,对象,结果,来源,详情"
    assert list(csv.reader(io.StringIO(lines[1]))) == [
        ["2026-03-01 08:05:09", "alice", "sign_in", "云州市, 东城区", "ok", "10.0.0.1", '\'=cmd|"/c calc"!A1']]
    assert audit_export.csv_bytes([], "en").decode("utf-8-sig") == "Time,Actor,Action,Target,Outcome,Source,Detail\r\n"


def test_audit022_xlsx_keeps_times_and_never_writes_a_formula():
    body = audit_export.xlsx_bytes([_row(detail="=1+1", target="bad\x07char")], "zh")
    sheet = load_workbook(io.BytesIO(body)).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert header == ("时间", "操作人", "操作", "对象", "结果", "来源", "详情")
    assert row == (datetime(2026, 3, 1, 8, 5, 9), "alice", "sign_in", "bad\ufffdchar", "ok", "10.0.0.1", "'=1+1")
    assert sheet["G2"].data_type == "s"


def test_audit023_grid_rows_flag_refusals_and_label_outcomes():
    rows = [_row(id=1, outcome="ok"), _row(id=2, outcome="refused"), _row(id=3, outcome="locked"),
            _row(id=4, outcome="throttled"), _row(id=5, outcome="ended"), _row(id=6, outcome="strange")]
    built = ids.grid_rows(rows, "zh")
    assert [(r["outcome"], r["alert"]) for r in built] == [
        ("成功", False), ("拒绝", True), ("锁定", True), ("限流", True), ("结束", False), ("strange", False)]
    assert built[0]["occurred_at"] == "2026-03-01 08:05:09" and built[0]["target"] == ""


def test_audit024_action_options_offer_families_of_two_or_more():
    options = ids.action_options(["event.accept", "event.close", "events.report", "sign_in"], "en")
    assert [o["value"] for o in options] == ["event.", "event.accept", "event.close", "events.report", "sign_in"]
    assert options[0]["label"] == "event.* (all)"


# -- the export route ------------------------------------------------------------------------------------------
def test_audit030_admin_exports_csv_and_the_export_is_audited(app, admin):
    before = len(exports_by(app, "admin", "ok"))
    response = admin.get(f"/admin/audit/export.csv?{MARCH}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="gridcc-audit-20260301-20260305.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0] == ["时间", "操作人", "操作", "对象", "结果", "来源", "详情"]
    assert [r[0] for r in table[1:]] == ["2026-03-05 00:00:00", "2026-03-04 14:00:00", "2026-03-03 13:00:00",
                                         "2026-03-03 12:00:00", "2026-03-02 11:00:00", "2026-03-02 10:00:00",
                                         "2026-03-01 09:00:00", "2026-03-01 09:00:00", "2026-03-01 08:00:00"]
    # Rows 9, 8 and 6 start with @, + and =: each has its apostrophe.
    assert table[1][5] == "'@evil" and table[2][6] == "'+role viewer" and table[4][6] == '\'=HYPERLINK("http://x")'
    written = exports_by(app, "admin", "ok")
    assert len(written) == before + 1
    assert (written[-1].target, written[-1].detail) == (MARCH, "9 rows, csv")
    assert written[-1].occurred_at == handcity.NOW


def test_audit031_admin_exports_excel_with_the_same_filters(app, admin):
    response = admin.get(f"/admin/audit/export.xlsx?{MARCH}&actor=alice&lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("Time", "Actor", "Action", "Target", "Outcome", "Source", "Detail")
    assert [r[0] for r in rows[1:]] == [datetime(2026, 3, 5), datetime(2026, 3, 2, 11), datetime(2026, 3, 2, 10),
                                        datetime(2026, 3, 1, 8)]
    assert exports_by(app, "admin", "ok")[-1].detail == "4 rows, xlsx"


def test_audit032_the_audit_row_is_written_before_a_byte_is_sent(app, admin, monkeypatch):
    def fail(*_, **__):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(audit_export.access, "audit", fail)
    response = admin.get(f"/admin/audit/export.csv?{MARCH}")
    assert response.status_code == 500
    assert "sign_in".encode() not in response.data and "时间".encode() not in response.data


@pytest.mark.parametrize("name", NON_ADMINS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_audit033_every_other_role_gets_403_and_the_attempt_is_audited(app, name, fmt):
    before = len(exports_by(app, name, "refused"))
    response = signed_in(app, name).get(f"/admin/audit/export.{fmt}?{MARCH}")
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert b"alice" not in response.data
    assert len(exports_by(app, name, "refused")) == before + 1


def test_audit034_nobody_signed_in_gets_nothing(app):
    response = app.server.test_client().get(f"/admin/audit/export.csv?{MARCH}", headers={"Accept": "text/csv"})
    assert response.status_code == 401 and b"alice" not in response.data


@pytest.mark.parametrize("query", [
    "since=bad", "since=2026-02-30", "since=1999-01-01", "until=2100-01-01", "since=2026-03-05&until=2026-03-01",
    f"since={'9' * 100_000}", f"actor={'a' * 100_000}", f"q={'x' * 100_000}", "q=a%00b", "action=" + "x" * 33,
    "since=2026-03-01%27%3B%20DROP%20TABLE%20audit_log%3B--",
])
def test_audit035_hostile_filters_get_a_clear_400(app, admin, query):
    response = admin.get(f"/admin/audit/export.csv?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_filter" and response.get_json()["message"]


@pytest.mark.parametrize("query", [
    f"{MARCH}&actor={quote(chr(39) + ' OR 1=1 --')}", f"{MARCH}&q={quote('%')}x", f"{MARCH}&outcome=ok%27--",
    f"{MARCH}&action={quote('event%.')}", f"{MARCH}&lang=<script>", f"{MARCH}&offset=-5&limit=-1",
])
def test_audit036_hostile_text_that_is_a_valid_filter_finds_nothing_more(app, admin, query):
    response = admin.get(f"/admin/audit/export.csv?{query}")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    expected = 10 if "offset" in query or "lang" in query else 1  # header + 9 rows, or the header alone
    assert len(table) == expected
    with app.server.extensions["gridcc"].engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(audit_log)).scalar() >= len(ROWS)


def test_audit037_more_rows_than_an_export_holds_is_a_400(app, admin, monkeypatch):
    monkeypatch.setattr(audit_export, "EXPORT_MAX", 8)
    response = admin.get(f"/admin/audit/export.csv?{MARCH}")
    assert response.status_code == 400 and response.get_json()["error"] == "too_many_rows"
    assert ids.export_links(parse_filters({}, today=TODAY), 9, "zh")[0].className == "adm-export-note"


def test_audit038_an_unknown_format_is_a_404(admin):
    assert admin.get(f"/admin/audit/export.pdf?{MARCH}").status_code == 404


# -- the page and its callbacks ------------------------------------------------------------------------------
def _as(app, name):
    """Return a request context of ``app`` in which ``name`` is the caller."""
    context = app.server.test_request_context()
    context.push()
    flask.g.gridcc_principal = principal_for(app, name)
    return context


def _json(component) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


@pytest.mark.parametrize("name", NON_ADMINS)
def test_audit040_the_page_shows_others_only_a_refusal(app, name):
    context = _as(app, name)
    try:
        zh, en = _json(ids.layout()), _json(ids.layout(lang="en"))
    finally:
        context.pop()
    assert "需要系统管理员权限" in zh and "Administrators only" in en
    for page in (zh, en):
        assert ids.GRID not in page and ids.EXPORT not in page and "export" not in page


def test_audit041_the_page_shows_an_administrator_the_grid_and_filters(app):
    context = _as(app, "admin")
    try:
        page = _json(ids.layout())
    finally:
        context.pop()
    for component_id in (ids.GRID, ids.DATES, ids.ACTOR, ids.ACTION, ids.OUTCOME, ids.SEARCH, ids.PAGER):
        assert f'"{component_id}"' in page
    assert "审计日志" in page and '"start_date": "2026-11-14"' in page and '"end_date": "2026-11-20"' in page


def test_audit042_an_administrator_reads_a_page_of_rows(app):
    context = _as(app, "admin")
    try:
        rows, count, message, pages, page, exports = cb.update_table(
            "2026-03-01", "2026-03-05", "alice", None, None, None, 1, "zh")
        actions, outcomes = cb.update_choices("zh")
    finally:
        context.pop()
    assert [r["id"] for r in rows] == [9, 5, 4, 1]
    assert [r["alert"] for r in rows] == [False, True, False, False]
    assert (count, message, pages, page) == ("共 4 条", "", 1, 1)
    assert [link.href for link in exports] == [f"/admin/audit/export.csv?{MARCH}&actor=alice",
                                               f"/admin/audit/export.xlsx?{MARCH}&actor=alice"]
    assert {"label": "event.*（全部）", "value": "event."} in actions
    assert {"label": "拒绝 · refused", "value": "refused"} in outcomes


def test_audit043_a_page_past_the_end_shows_the_last(app, monkeypatch):
    monkeypatch.setattr(audit_export, "PAGE_SIZE", 4)
    context = _as(app, "admin")
    try:
        rows, count, _, pages, page, _ = cb.update_table("2026-03-01", "2026-03-05", None, None, None, None, 99, "en")
    finally:
        context.pop()
    assert ([r["id"] for r in rows], count, pages, page) == ([1], "9 rows", 3, 3)


@pytest.mark.parametrize("inputs", [
    ("bad", None, None, None, None, None, 1),
    ("2026-03-05", "2026-03-01", None, None, None, None, 1),
    (None, None, "a" * 100_000, None, None, None, 1),
    (None, None, None, {"$ne": 1}, None, None, 1),
    (None, None, None, None, None, "x\x00", 1),
    (None, None, None, None, None, None, -5),
    (None, None, None, None, None, None, "2"),
])
def test_audit044_bad_input_gives_an_administrator_a_message_and_no_rows(app, inputs):
    context = _as(app, "admin")
    try:
        rows, count, message, pages, page, exports = cb.update_table(*inputs, "zh")
    finally:
        context.pop()
    assert (rows, count, pages, page, exports) == ([], "", 1, 1, [])
    assert message


@pytest.mark.parametrize("name", NON_ADMINS)
def test_audit045_callbacks_answer_nothing_to_anyone_else(app, name):
    context = _as(app, name)
    try:
        with pytest.raises(PreventUpdate):
            cb.update_table("2026-03-01", "2026-03-05", None, None, None, None, 1, "zh")
        with pytest.raises(PreventUpdate):
            cb.update_choices("zh")
    finally:
        context.pop()


FORGED = [None, "", "abc", "' OR 1=1 --", "9" * 100_000, 123, -1, 3.5, True, [], ["x"], {}, {"$ne": 1}]


@pytest.mark.parametrize("name", ["leader", "viewer", "dongcheng", "dept_city"])
def test_audit046_forged_callback_posts_by_others_get_no_rows(app, name):
    client = signed_in(app, name)
    values = {ids.DATES: "2026-03-01", ids.PAGER: 1, ids.LANG: "zh"}
    before = len(audit_rows(app, "audit.view", name))
    for output in (ids.GRID, ids.ACTION):
        response = post(client, app, output, values)
        assert response.status_code == 204 and response.data == b"", (output, response.data[:200])
    assert [row.outcome for row in audit_rows(app, "audit.view", name)[before:]] == ["refused", "refused"]


@pytest.mark.parametrize("value", FORGED)
def test_audit047_forged_values_never_break_the_callback(app, admin, value):
    values = {key: value for key in (ids.DATES, ids.ACTOR, ids.ACTION, ids.OUTCOME, ids.SEARCH, ids.PAGER, ids.LANG)}
    response = post(admin, app, ids.GRID, values)
    assert response.status_code == 200, response.data[:300]
    rows = response.get_json()["response"][ids.GRID]["rowData"]
    assert rows == [] or value in (None, "", [], {})  # only "no filter" values can list rows
