"""The rankings page: its pure builders on literal rows, and its callbacks called as plain functions on the rankings'
hand city (tests/rankcity.py, NOW 2026-11-20 15:00; the streets' numbers are worked in tests/api/test_rankings_api.py:
October 329903001 100.00, 329902001 83.39, 329902002 66.67; November 329902002 80.00 ▲2, 329902001 65.00 =,
329903001 unranked).
"""
from __future__ import annotations

import contextlib
import io
from datetime import date, datetime

import flask
import openpyxl
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict

from callbacks import rankings as cb
from dashboard import rank_export, rank_figures
from dashboard.rank_config import Item
from dashboard.rankings import Cell, Row
from layouts import rankings as ids
from tests.callbacks.test_overview import text
from tests.conftest import principal_for, signed_in
from tests.rankapp import rank_app, rank_app_packaged, rank_store_template  # noqa: F401  (fixtures)

ITEMS = (Item("handle_rate", 30.0), Item("rework_rate", 20.0), Item("extension_rate", 0.0))


def cell(indicator, num, den, weight, points=None, lost=None):
    value = None if not den else num / den
    return Cell(indicator, num, den, value, weight, points, lost)


def row(code, *, score=None, rank=None, apart=False, change=None, prev=None, volume=10, spark=(), cells=(),
        households=2000, grids=4, counts=None):
    return Row(code=code, name=f"单位{code}", parent_code="p", parent_name="上级", households=households, grids=grids,
               volume=volume, score=score, grade=None if score is None else "B", rank=rank, apart=apart,
               cells=tuple(cells), counts=counts or {}, prev_rank=prev, change=change, spark=tuple(spark))


# -- pure builders ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, shown", [
    (None, "—"), (0.0, "0.0%"), (1.0, "100.0%"), (0.999, "99.9%"), (0.9996, "99.9%"), (0.99949, "99.9%"),
    (0.0004, "0.1%"), (0.875, "87.5%"), (0.12345, "12.3%"),
])
def test_rnk001_rates_read_to_a_tenth_and_never_round_to_a_full_score(value, shown):
    assert rank_figures.pct(value) == shown


def test_rnk002_a_cell_shows_the_rate_with_numerator_and_denominator():
    assert rank_figures.cell_text(cell("handle_rate", 999, 1000, 30)) == "99.9% (999/1,000)"
    assert rank_figures.cell_text(cell("handle_rate", 0, 0, 30)) == "— (0/0)"
    assert rank_figures.cell_text(cell("satisfaction_rate", 2.9, 4, 40)) == "72.5% (2.9/4)"


@pytest.mark.parametrize("change, prev, shown, key, words", [
    (2, 5, "▲2", "up", "上升 2 名"), (-1, 2, "▼1", "down", "下降 1 名"), (0, 3, "=", "same", "相同"),
    (None, None, "—", "none", "无名次"),
])
def test_rnk003_the_change_arrow_has_words_not_colour_alone(change, prev, shown, key, words):
    assert rank_figures.change_text(change, "zh") == (shown, key)
    assert words in rank_figures.change_title(change, prev, "zh")


def test_rnk004_table_rows_and_columns_of_a_scheme():
    rows = [row("a", score=83.392857, rank=1, change=1, prev=2, spark=(None, 70.0, 83.39),
                cells=[cell("handle_rate", 7, 8, 30, 26.25, 3.75), cell("rework_rate", 1, 7, 20, 17.142857, 2.857143),
                       cell("extension_rate", 2, 8, 0)])]
    cols = rank_figures.table_columns(ITEMS, "zh", level="street")
    assert [c["field"] for c in cols] == ["rank_text", "change_text", "name", "parent", "score_text", "grade",
                                         "i_handle_rate", "i_rework_rate", "i_extension_rate", "volume_text", "spark"]
    assert cols[2]["headerName"] == "街道" and cols[6]["headerName"] == "处置率"
    assert cols[-1]["cellRenderer"] == "GridccSpark"
    assert "rnk-item-zero" in cols[8]["cellClass"]  # weight 0: shown, not counted
    (r,) = rank_figures.table_rows(rows, "zh")
    # The browser writes [7, 8] as "87.5% (7/8)" (gridccRankCell; tests/browser/test_rankings_browser.py holds it to
    # rank_figures.cell_text); the change's sentence from the grid's labels and these two numbers.
    assert (r["rank_text"], r["change_text"], r["score_text"], r["i_handle_rate"], r["i_rework_rate"]) == (
        "1", "▲1", "83.39", [7, 8], [1, 7])
    assert (r["change"], r["prev_rank"]) == (1, 2)
    assert cols[6]["valueFormatter"] == {"function": "gridccRankCell(params.value)"}
    assert r["spark"] == [None, 70.0, 83.39]


def test_rnk005_normalised_columns_per_thousand_households_grid_and_case():
    rows = [row("a", volume=8, households=4000, grids=2, cells=[cell("handle_rate", 7, 8, 30, 26.25, 3.75)])]
    (h,) = rank_figures.table_rows(rows, "zh", "households")
    (g,) = rank_figures.table_rows(rows, "zh", "grids")
    (c,) = rank_figures.table_rows(rows, "en", "cases")
    assert (h["n_handle_rate"], h["volume_norm"]) == ("1.75 /千户", "2.00 /千户")
    assert (g["n_handle_rate"], g["volume_norm"]) == ("3.50 /网格", "4.00 /网格")
    assert c["n_handle_rate"] == "0.88 /case"
    (none,) = rank_figures.table_rows([row("b", households=0, cells=[cell("handle_rate", 1, 1, 30, 30, 0)])], "zh",
                                      "households")
    assert none["n_handle_rate"] == "—"  # a department has no households: nothing to divide by
    cols = rank_figures.table_columns(ITEMS, "zh", "grids")
    assert "n_handle_rate" in [c["field"] for c in cols] and "volume_norm" in [c["field"] for c in cols]


def test_rnk006_ranked_then_apart():
    rows = [row("a", rank=1, score=90), row("b", rank=2, score=80), row("c", rank=1, score=99, apart=True),
            row("d")]
    ranked, apart = rank_figures.split_rows(rows)
    assert [r.code for r in ranked] == ["a", "b", "d"] and [r.code for r in apart] == ["c"]


def test_rnk007_breakdown_points_won_and_lost_sum_to_the_score():
    r = row("a", score=43.39, cells=[cell("handle_rate", 7, 8, 30, 26.25, 3.75),
                                     cell("rework_rate", 1, 7, 20, 17.142857, 2.857143),
                                     cell("extension_rate", 2, 8, 0)])
    lines = rank_figures.breakdown_rows(r, "zh")
    assert [(x["name"], x["value"], x["fraction"], x["weight"], x["points"], x["lost"], x["counted"])
            for x in lines] == [("处置率", "87.5%", "7/8", "30", "26.25", "3.75", True),
                                ("返工率", "14.3%", "1/7", "20", "17.14", "2.86", True),
                                ("延期率", "25.0%", "2/8", "0", "—", "—", False)]
    fig = rank_figures.breakdown_figure(r, "zh")
    won, lost = fig["data"]
    assert list(won["y"]) == ["处置率", "返工率"] and list(won["x"]) == [26.25, 17.14] and list(lost["x"]) == [3.75, 2.86]
    assert fig["layout"]["barmode"] == "stack"


def test_rnk008_the_counts_behind_a_breakdown():
    r = row("a", counts={"handled": 7, "overdue_open": 1, "closed": 6, "reworked": 1, "extended": 2})
    assert rank_figures.case_counts(r, ITEMS) == [
        ("handle_rate", "handled", 7), ("handle_rate", "overdue_open", 1), ("rework_rate", "reworked", 1),
        ("rework_rate", "closed", 6), ("extension_rate", "extended", 2)]
    worker = (Item("patrol_rate", 10.0),)
    assert rank_figures.case_counts(row("w", counts={"patrol_days": 3, "work_days": 20}), worker,
                                    {"patrol_days"}) == [("patrol_rate", "patrol_days", 3)]


def test_rnk009_compare_two_periods():
    a = [row("x", score=80.0, rank=1), row("y", score=65.0, rank=2), row("z")]
    b = [row("z", score=100.0, rank=1), row("y", score=83.392857, rank=2), row("x", score=66.666667, rank=3)]
    pairs = rank_figures.compare_rows(a, b, "zh")
    assert [(p["code"], p["score_a"], p["rank_a"], p["score_b"], p["rank_b"], p["delta"], p["move"]) for p in pairs] == [
        ("x", "80.00", "1", "66.67", "3", "+13.33", "▲2"), ("y", "65.00", "2", "83.39", "2", "-18.39", "="),
        ("z", "—", "—", "100.00", "1", "—", "—")]
    fig = rank_figures.compare_figure(pairs, "2026年11月", "2026年10月", "zh")
    assert list(fig["data"][0]["y"]) == ["单位x", "单位y"] and list(fig["data"][0]["x"]) == [13.33, -18.39]


def test_rnk010_period_choices():
    today = date(2026, 11, 20)
    assert rank_figures.period_keys("month", today)[:3] == ["2026-11", "2026-10", "2026-09"]
    assert rank_figures.period_keys("quarter", today)[:3] == ["2026-Q4", "2026-Q3", "2026-Q2"]
    assert rank_figures.period_keys("year", today) == ["2026", "2025", "2024", "2023", "2022"]
    assert rank_figures.period_keys("month", date(2026, 1, 5), 2) == ["2026-01", "2025-12"]
    assert [rank_figures.default_period(k, today) for k in ("month", "quarter", "year", "custom")] == [
        "2026-10", "2026-Q3", "2025", "2026-11-01..2026-11-20"]
    assert rank_figures.period_options("quarter", today, "zh")[0] == {"label": "2026年第4季度", "value": "2026-Q4"}


def test_rnk011_sparkline_path_leaves_gaps():
    assert rank_figures.spark_path([100.0, None, 0.0, 50.0], width=30, height=24) == "M0.0,2.0 M20.0,22.0 L30.0,12.0"
    assert rank_figures.spark_path([None, None]) == ""


def test_rnk012_url_state_keeps_only_sane_values():
    assert ids.url_state("329902", "street", "handling", "2026-10", "grids", "2026-09") == {
        "area": "329902", "level": "street", "scheme": "handling", "period": "2026-10", "norm": "grids",
        "compare": "2026-09"}
    assert ids.url_state(["x"], "<script>", None, "9" * 41, "bogus", 7) == {
        "area": None, "level": None, "scheme": None, "period": None, "norm": "none", "compare": None}
    assert [ids.kind_of(p) for p in ("2026-10", "2026-Q4", "2026", "2026-10-01..2026-10-15", None)] == [
        "month", "quarter", "year", "custom", "month"]


# -- callbacks on the rankings' hand city ----------------------------------------------------------------------
@contextlib.contextmanager
def triggered(prop_id: str, value=1):
    token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}] if prop_id else []))
    try:
        yield
    finally:
        context_value.reset(token)


@pytest.fixture
def as_leader(rank_app):  # noqa: F811
    with rank_app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(rank_app, "leader")
        yield rank_app


def as_user(app, name):
    flask.g.gridcc_principal = principal_for(app, name)


def resolved(area=None):
    with triggered(""):
        return cb.update_view({"area": area}, [], "", "zh")


def view_of(area=None):
    return resolved(area)[0]


def table(view, level="street", period="2026-10", compare="", norm="none", kind="month", frozen=None, lang="zh"):
    return cb.update_table(view, level, None, kind, period, None, None, norm, compare, frozen, lang)


def test_rnk020_the_levels_a_scope_may_rank(as_leader):
    view = view_of()
    options, value = cb.update_levels(view, {"level": None}, None, "zh")
    assert [o["value"] for o in options] == ["district", "street", "community", "grid", "worker", "department"]
    assert value == "district" and options[4]["label"] == "网格员"
    east = view_of("329902")
    options, value = cb.update_levels(east, {"level": "worker"}, None, "zh")
    assert [o["value"] for o in options] == ["street", "community", "grid", "worker", "department"]
    assert value == "worker"  # the URL's
    as_user(as_leader, "dept_dc")
    options, value = cb.update_levels(view_of(), {}, "street", "zh")
    assert ([o["value"] for o in options], value) == (["department"], "department")


def test_rnk021_schemes_show_only_when_there_is_a_choice(as_leader):
    options, value, hidden = cb.update_schemes("street", {"scheme": "area"}, "area", "zh")  # as linked
    assert ([o["value"] for o in options], value, hidden) == (["handling", "area", "hotline"], "area", False)
    assert cb.update_schemes("worker", {}, None, "zh")[1:] == ("worker", True)
    assert cb.update_schemes("street", {"scheme": "worker"}, "worker", "zh")[1] == "handling"  # not the street's
    # From districts (区域考核) to streets: the streets' own scheme, not the districts'.
    assert cb.update_schemes("street", {"scheme": None}, "area", "zh")[1] == "handling"


def test_rnk022_periods_default_to_last_month_and_the_url_wins(as_leader):
    options, value, compare_options, compare, period_hidden, dates_hidden, *_ = cb.update_periods(
        "month", {"period": None}, None, None, None, "zh")
    assert (value, options[0]["value"], compare, period_hidden, dates_hidden) == ("2026-10", "2026-11", "", False, True)
    assert compare_options[0] == {"label": "不对比", "value": ""}
    assert cb.update_periods("quarter", {"period": "2026-Q2", "compare": "2026-Q1"}, None, None, None, "zh")[1:6:2] == (
        "2026-Q2", "2026-Q1", True)
    assert cb.update_periods("custom", {}, None, None, None, "zh")[4:] == (True, False, "2026-11-01", "2026-11-20")
    kept = cb.update_periods("custom", {}, None, None, None, "zh", "2026-10-03", "2026-10-09")[6:]
    assert kept == (no_update, no_update)  # dates chosen already: kept
    assert cb.update_periods("month", {"period": "2031-01"}, None, None, None, "zh")[1] == "2026-10"  # not offered


def test_rnk023_the_ranked_table_of_the_streets(as_leader):
    out = table(view_of())
    header, cols, rows, apart_hidden, _, apart_rows, _, empty, empty_hidden, compare_hidden = out[:10]
    query, export, printing = out[15:]
    assert out[13] == {"width": "100%", "height": f"{70 + 34 * 3}px"} and out[14]["height"] == f"{70 + 68}px"
    assert [(r["code"], r["rank_text"], r["score_text"], r["grade"]) for r in rows] == [
        ("329903001", "1", "100.00", "A"), ("329902001", "2", "83.39", "B"), ("329902002", "3", "66.67", "C")]
    east = rows[1]
    assert (east["i_handle_rate"], east["i_rework_rate"], east["i_extension_rate"], east["volume_text"]) == (
        [7, 8], [1, 7], [2, 8], "8")
    assert (apart_hidden, apart_rows, empty_hidden, compare_hidden) == (True, [], True, True)
    assert cols[-1]["headerTooltip"] == "2025年11月 – 2026年10月"  # the sparkline's 12 months
    words = text(header)
    assert "2026年10月" in words and "2026-11-01 00:00" in words and "暂定" in words and "处置考核" in words
    assert query == {"area": None, "level": "street", "scheme": None, "period": "2026-10", "norm": None,
                     "compare": None, "as_of": None, "lang": None}
    assert export == "/rankings/export.xlsx?level=street&period=2026-10"
    assert printing == "/rankings/print?level=street&period=2026-10"


def test_rnk024_november_against_october_side_by_side(as_leader):
    out = table(view_of(), period="2026-11", compare="2026-10")
    rows, apart, compare_hidden, compare_rows, figure = out[2], out[5], out[9], out[11], out[12]
    assert [(r["code"], r["change_text"], r["change_key"]) for r in rows] == [
        ("329902002", "▲2", "up"), ("329902001", "=", "same")]
    # Nothing to count in November (volume 0, under the minimum of 1): after the others, unranked.
    assert [(r["code"], r["rank_text"], r["score_text"], r["change_text"]) for r in apart] == [
        ("329903001", "—", "—", "—")]
    assert compare_hidden is False
    assert [(p["code"], p["delta"], p["move"]) for p in compare_rows] == [
        ("329902002", "+13.33", "▲2"), ("329902001", "-18.39", "="), ("329903001", "—", "—")]
    assert list(figure["data"][0]["x"]) == [13.33, -18.39]
    assert "compare=2026-10" in out[16]


def test_rnk025_too_few_cases_in_their_own_block(rank_app_packaged):  # noqa: F811
    with rank_app_packaged.server.test_request_context():
        flask.g.gridcc_principal = principal_for(rank_app_packaged, "leader")
        out = table(view_of())
    rows, apart_hidden, apart_rows, note = out[2], out[3], out[5], out[6]
    assert rows == [] and apart_hidden is False
    assert [(r["code"], r["rank_text"]) for r in apart_rows] == [("329903001", "1"), ("329902001", "2"),
                                                                ("329902002", "3")]
    assert "3 个单位" in note and "20" in note and "应处置数" in note


def test_rnk026_refusals_are_worded(as_leader):
    out = table(view_of(), period="2026-01-01..2027-12-31", kind="custom")
    assert out == (no_update,) * 18 or "无法排名" in text(out[7])
    out = cb.update_table(view_of(), "street", None, "month", "2026-13", None, None, "none", "", None, "zh")
    assert "无法排名" in text(out[7]) and out[8] is False and out[2] == []
    as_user(as_leader, "dongcheng")
    out = table(view_of(), level="district")
    assert "无法排名" in text(out[7])
    # Forged widget values: nothing happens.
    assert table("329903", level="street") == (no_update,) * 18
    assert table(view_of(), level="<b>") == (no_update,) * 18


def test_rnk027_a_district_manager_sees_only_the_district(as_leader):
    as_user(as_leader, "dongcheng")
    rows = table(view_of())[2]
    assert [r["code"] for r in rows] == ["329902001", "329902002"]
    view, _, notice, _, _ = resolved("329903")  # 西城区: not theirs — the view stays at their own top
    assert view["code"] == "329902" and "329903" in text(notice)


def test_rnk028_why_this_rank_and_the_cases_behind_a_count(as_leader):
    query = table(view_of())[15]
    with triggered(f"{ids.GRID}.cellClicked", {"rowId": "329902001", "colId": "name", "value": "东街街道"}):
        out = cb.open_why({"rowId": "329902001"}, None, query, "zh")
    is_open, title, summary, table_children, figure, buttons, unit = out[:7]
    assert is_open is True and "东街街道" in title
    assert "第 2 名（共 3 个）" in text(summary) and "83.39" in text(summary) and "样本量 8" in text(summary)
    words = text(table_children)
    assert "处置率" in words and "7/8" in words and "26.25" in words and "3.75" in words
    assert [round(x, 2) for x in figure["data"][0]["x"]] == [26.25, 15.0, 17.14, 17.5, 7.5]
    counts = {b.id["count"]: text(b) for b in buttons}
    assert list(counts) == ["handled", "overdue_open", "handled_on_time", "reworked", "closed", "extended"]
    assert "超期待处置" in counts["overdue_open"] and "1" in counts["overdue_open"]
    key = f'{{"count":"overdue_open","type":"{ids.COUNT}"}}.n_clicks'
    with triggered(key, 1):
        title, total, cols, rows, pages, page, listed = cb.open_cases([1], 1, unit, query, None, "zh")
    assert ([r["id"] for r in rows], total, pages, listed) == ([104], "共 1 件", 1, {"count": "overdue_open"})
    assert cols[0]["field"] == "id" and "超期待处置" in title
    with triggered(f"{ids.CASES_PAGER}.active_page", 2):
        paged = cb.open_cases([1], 2, unit, query, {"count": "handled"}, "zh")
    assert paged[3] == [] and paged[1] == "共 7 件"  # 7 handled: one page of 50, the second is empty
    # A forged unit outside the table, a forged count: refused in words or nothing.
    with triggered(key, 1):
        refused = cb.open_cases([1], 1, {"code": "329903001x"}, query, None, "zh")
    assert "无法排名" in refused[1]
    with triggered(f"{ids.GRID}.cellClicked", {"rowId": "nope"}):
        assert cb.open_why({"rowId": "nope"}, None, query, "zh") == (no_update,) * 10


def test_rnk029_a_case_id_opens_its_timeline(as_leader):
    is_open, body = cb.open_detail({"colId": "id", "value": 104}, "zh")
    assert is_open is True and "104" in text(body)
    assert cb.open_detail({"colId": "id", "value": "104; drop"}, "zh") == (no_update, no_update)
    assert cb.open_detail({"colId": "category", "value": 104}, "zh") == (no_update, no_update)


def test_rnk030_export_workbook_every_indicator_with_numerator_and_denominator(rank_app):  # noqa: F811
    client = signed_in(rank_app, "leader")
    answer = client.get("/rankings/export.xlsx?level=street&period=2026-10")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "考核排名"
    facts = {r[0]: r[1] for r in values[1:12] if r and r[0]}
    assert facts["考核期"] == "2026年10月" and facts["数据截至"] == "2026-11-01 00:00" and facts["状态"] == "暂定"
    assert facts["权限范围"] == "云州市" and facts["配置版本"]
    head_at = next(i for i, r in enumerate(values) if r and r[0] == "名次")
    head = values[head_at]
    assert head[:9] == ["名次", "升降", "样本不足另排", "编码", "单位", "上级", "得分", "等级", "样本量"]
    assert head[9:13] == ["处置率（%）", "处置率 · 分子", "处置率 · 分母", "处置率 · 得分"]
    body = values[head_at + 1:]
    assert [(r[0], r[3], r[6]) for r in body] == [(1, "329903001", 100.0), (2, "329902001", 83.39),
                                                   (3, "329902002", 66.67)]
    assert body[1][9:13] == [87.5, 7, 8, 26.25]


def test_rnk031_export_and_print_guard_against_formula_and_markup_injection():
    from dataclasses import replace
    from types import SimpleNamespace

    hostile = replace(row("=1+1", score=50.0, rank=1, cells=[cell("handle_rate", 1, 2, 30, 15, 15)]),
                      name='=HYPERLINK("http://x")', parent_name="@SUM(A1)")
    ranking = SimpleNamespace(level="street", scheme="handling", items=(Item("handle_rate", 30.0),), rows=(hostile,),
                              provisional=False, min_volume=1)
    (line,) = rank_export.sheet_rows(ranking, "zh")
    assert line[3:6] == ["'=1+1", "'=HYPERLINK(\"http://x\")", "'@SUM(A1)"]
    page = rank_export.print_html(ranking, [("考核期", "<script>x</script>")], "zh")
    assert "<script>x" not in page and "&lt;script&gt;x" in page and "=HYPERLINK(&quot;http://x&quot;)" in page


def test_rnk032_print_view_and_the_audit(rank_app):  # noqa: F811
    client = signed_in(rank_app, "leader")
    answer = client.get("/rankings/print?level=street&period=2026-10")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "A4 landscape" in page and "@media print" in page
    assert "83.39" in page and "87.5% (7/8)" in page and "打印" in page and "http" not in page.replace(
        'xmlns="http', "")
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    bad = client.get("/rankings/print?level=street&period=2026-13")
    assert bad.status_code == 400 and "month 13" in bad.get_json()["message"]
    assert client.get("/rankings/export.xlsx?level=street&area=329903x").status_code == 400
    assert client.get("/rankings/export.xlsx?level=street&area=999999").status_code == 404
    from queries import users as user_queries

    with rank_app.server.extensions["gridcc"].engine.connect() as conn:
        rows = user_queries.audit_rows(conn, since=datetime(2026, 1, 1), until=datetime(2027, 1, 1))
    actions = [(r.action, r.outcome) for r in rows]
    assert ("rankings.print", "ok") in actions and ("rankings.print", "refused") in actions
    assert actions.count(("rankings.export", "refused")) == 2
    stranger = rank_app.server.test_client().get("/rankings/print?level=street")
    assert stranger.status_code == 303 and "/auth/sign-in" in stranger.headers["Location"]  # to the sign-in page


def test_rnk033_as_of_in_the_url_freezes_the_page(as_leader):
    out = table(view_of(), period="2026-11", frozen="2026-11-05T10:00")
    header, rows, query, export = out[0], out[2], out[15], out[16]
    words = text(header)
    assert "历史快照" in words and "2026-11-05 10:00" in words  # November as it stood on the 5th at 10:00
    assert query["as_of"] == "2026-11-05T10:00"
    assert "as_of=2026-11-05T10%3A00%3A00%2B08%3A00" in export  # the API's form: with the city's offset
    # By 11-05 10:00 东街 had handled 120 (at 10:00 sharp: a stamp at the cut-off counts); 121 (11-10) was not
    # reported yet, so nothing was overdue: 1 of 1 (as of NOW it is 1 of 2, test_rnk024's 65.00).
    east = next(r for r in rows + out[5] if r["code"] == "329902001")
    assert east["i_handle_rate"] == [1, 1] and east["i_overdue_rate"] == [0, 1]
    assert cb.update_periods("month", {}, None, None, "2026-11-05T10:00", "zh")[0][0]["value"] == "2026-11"
    # A frozen instant that is no instant, or in the future, is live.
    assert cb.page_query(view_of(), "street", None, "2026-10", "none", None, "2030-01-01T00:00", "zh")["as_of"] is None
    assert cb.page_query(view_of(), "street", None, "2026-10", "none", None, "yesterday", "zh")["as_of"] is None


def test_rnk034_figures_are_lean():
    import json

    r = row("a", score=43.39, cells=[cell("handle_rate", 7, 8, 30, 26.25, 3.75)])
    for fig in (rank_figures.breakdown_figure(r, "zh"),
                rank_figures.compare_figure(rank_figures.compare_rows([r], [r], "zh"), "A", "B", "zh")):
        assert len(json.dumps(fig, default=str)) < 3000  # plotly's default template alone is ~6.4 KB


def test_item_columns_widen_with_the_largest_denominator():
    # "99.9% (39/39)": 10 + 2 × 2 characters at 7.6 px + 36 px of padding = 142 → the 150 px floor.
    assert rank_figures.item_width(39) == 150
    # "99.7% (12,848/12,891)": 10 + 2 × 6 = 22 characters → 7.6 × 22 + 36 = 203 px.
    assert rank_figures.item_width(12_891) == 203
    assert rank_figures.item_width(1_234_567) == round(7.6 * (10 + 2 * 9) + 36)
