"""The SLA page's builders on hand-made figures: the numbers drawn, their labels, the selectors clicks send,
empty states, both languages."""
from __future__ import annotations

import json
from datetime import date

import pytest

from dashboard import sla_figures as f
from layouts import sla as layout
from queries.sla import (AGE_BUCKETS, HOUR_BIN_KEYS, HOUR_BINS, AgeRow, Distribution, ExceptionRow, FunnelStage,
                         LightCounts, Rate, SplitRow, TrendPoint)


def rate(n: int, d: int, key: str = "r") -> Rate:
    return Rate(key, key, n, d)


def selectors(trace) -> list[dict]:
    return [json.loads(c[-1]) for c in trace["customdata"]]


TREND = [
    TrendPoint(date(2026, 11, 18), rate(999, 1000), rate(998, 1000)),
    TrendPoint(date(2026, 11, 19), rate(9, 10), rate(8, 10)),
    TrendPoint(date(2026, 11, 20), rate(0, 0), rate(0, 0)),
]


def test_sla001_trend_draws_both_rates_in_tenths_with_their_parts():
    fig = f.trend_figure(TREND, "day", "zh")
    late, handle, close = fig["data"]
    assert handle["name"] == "按期处置率" and close["name"] == "按期结案率"
    assert handle["y"] == [pytest.approx(99.9), pytest.approx(90.0), None]
    assert close["y"] == [pytest.approx(99.8), pytest.approx(80.0), None]
    assert handle["text"] == ["99.9%", "90.0%", "—"]
    assert [c[:2] for c in handle["customdata"]] == [[999, 1000], [9, 10], [0, 0]]
    # Not on time = handle's denominator − numerator: handled late or open past the deadline.
    assert late["y"] == [1, 1, 0] and late["yaxis"] == "y2"
    assert selectors(late)[0] == {"figure": "handle", "grain": "day", "bucket": "2026-11-18", "part": "late"}
    assert selectors(close)[1] == {"figure": "close", "grain": "day", "bucket": "2026-11-19"}
    # The rate axis starts just under the lowest rate, so 99.8 % and 99.9 % stand apart.
    low, high = fig["layout"]["yaxis"]["range"]
    assert 70 < low < 80 and 100 < high < 102


def test_sla002_trend_near_100_spreads_the_axis():
    fig = f.trend_figure([TrendPoint(date(2026, 11, 1), rate(9988, 10000), rate(9999, 10000))], "month", "en")
    low, high = fig["layout"]["yaxis"]["range"]
    assert 99.5 < low < 99.88 and high < 100.2
    assert fig["data"][1]["name"] == "Handled on time" and fig["data"][1]["text"] == ["99.9%"]
    assert fig["layout"]["xaxis"]["tickformat"] == "%Y-%m"


@pytest.mark.parametrize("lang, text", [("zh", "该时段无数据"), ("en", "No data for this period")])
def test_sla003_empty_states_say_so(lang, text):
    for fig in (f.trend_figure([TREND[2]], "day", lang), f.split_figure([], "class", lang),
                f.funnel_figure([], lang), f.handling_figure([], "class", HOUR_BINS, HOUR_BIN_KEYS, lang),
                f.exceptions_figure([], "department", lang)):
        assert fig["data"] == [] and fig["layout"]["annotations"][0]["text"] == text
    assert f.age_figure([AgeRow("01", "市容", (0,) * 5)], "class", AGE_BUCKETS, lang)["layout"]["annotations"][0][
        "text"] == ("当前无在办案件" if lang == "zh" else "No open cases now")


def test_sla004_split_sorts_worst_first_with_overdue_column():
    rows = [SplitRow("01", "市容环境", rate(95, 100), rate(90, 100), 3),
            SplitRow("02", "宣传广告", rate(100, 100), rate(99, 100), 0),
            SplitRow("03", "施工管理", rate(0, 0), rate(0, 0), 0)]  # nothing counts: left out
    fig = f.split_figure(rows, "class", "zh")
    close, handle, overdue = fig["data"]
    # Plotly draws the first category at the bottom: the worst (95 %) is last, at the top.
    assert handle["y"] == ["宣传广告 ·02", "市容环境 ·01"]
    assert handle["x"] == [pytest.approx(100.0), pytest.approx(95.0)]
    assert handle["text"] == ["100.0%  100/100", "95.0%  95/100"]
    assert close["text"][1] == "90.0%  90/100"
    assert overdue["text"] == ["0", "<b>3</b>"]
    assert selectors(handle)[1] == {"figure": "handle", "by": "class", "key": "01"}
    assert selectors(overdue)[1] == {"figure": "overdue_open", "by": "class", "key": "01"}


def test_sla005_split_of_eighty_departments_scrolls():
    rows = [SplitRow(f"D{i:02d}", f"部门{i}", rate(i, 100), rate(i, 100), i % 3) for i in range(1, 81)]
    fig = f.split_figure(rows, "department", "en")
    assert len(fig["data"][0]["y"]) == 80 and fig["layout"]["height"] >= 80 * f.ROW_PX
    assert fig["data"][1]["y"][-1] == "部门1"  # the worst at the top


def test_sla006_age_stacks_buckets_most_first():
    rows = [AgeRow("01", "市容环境", (1, 2, 0, 0, 4)), AgeRow("02", "宣传广告", (10, 0, 0, 0, 0))]
    fig = f.age_figure(rows, "class", AGE_BUCKETS, "zh")
    bars, totals = fig["data"][:5], fig["data"][5]
    assert [b["name"] for b in bars] == ["<1天", "1–3天", "3–7天", "7–30天", ">30天"]
    assert bars[0]["y"] == ["市容环境", "宣传广告"] and bars[0]["x"] == [1, 10]
    assert bars[4]["x"] == [4, 0] and bars[4]["text"] == [4, ""]
    assert totals["text"] == ["7", "10"]
    assert selectors(bars[2])[0] == {"figure": "age", "by": "class", "key": "01", "bin": "3to7d"}


STAGES = [
    FunnelStage("report", 100, None, None, None, 0, 0),
    FunnelStage("accept", 90, 10.0, 30.0, 30.0, 5, 90),
    FunnelStage("register", 80, 45.0, 120.0, 60.0, 20, 80),
    FunnelStage("dispatch", 80, 200.0, 400.0, 120.0, 60, 80),  # median 200 min > 120 min limit
    FunnelStage("handle", 40, 3000.0, 9000.0, 2880.0, 22, 40),
    FunnelStage("check", 36, None, None, 1440.0, 0, 0),
    FunnelStage("close", 30, 60.0, 90.0, 1440.0, 0, 30),
]


def test_sla007_funnel_counts_conversion_and_late_stages():
    fig = f.funnel_figure(STAGES, "zh")
    trace = fig["data"][0]
    assert trace["y"] == ["上报", "受理", "立案", "派遣", "处置", "核查", "结案"]
    assert trace["x"] == [100, 90, 80, 80, 40, 36, 30]
    assert trace["text"][:3] == ["100 · 100.0%", "90 · 90.0%", "80 · 88.9%"]
    assert [c == f.LATE for c in trace["marker"]["color"]] == [False, False, False, True, True, False, False]
    assert selectors(trace)[4] == {"figure": "funnel", "stage": "handle"}
    rows = f.funnel_rows(STAGES, "zh")
    assert rows[3] == {"stage": "dispatch", "name": "派遣", "reached": "80", "median": "3.3小时", "p90": "6.7小时",
                       "limit": "2.0小时", "over": "60/80", "late": True}
    assert rows[1]["median"] == "10分钟" and rows[4]["p90"] == "6.2天" and rows[5]["over"] == "—"
    assert f.funnel_rows(STAGES, "en")[4]["median"] == "2.1 d"
    assert f.funnel_rows([FunnelStage("report", 0, None, None, None, 0, 0)], "zh") == []


def test_sla008_handling_strip_shares_and_medians():
    assert f.bin_labels(HOUR_BINS, "zh") == ["<1时", "1–2时", "2–4时", "4–8时", "8–24时", "1–2天", "2–3天", "3–7天",
                                             ">7天"]
    assert f.bin_labels(HOUR_BINS, "en")[-1] == ">7 d"
    rows = [Distribution("D1", "城管局", 4, 2.5, 30.25, (1, 0, 2, 0, 0, 1, 0, 0, 0)),
            Distribution("D2", "水务局", 0, None, None, (0,) * 9)]
    fig = f.handling_figure(rows, "department", HOUR_BINS, HOUR_BIN_KEYS, "zh")
    strip, stats = fig["data"]
    assert strip["y"] == ["城管局"] and strip["z"] == [[0.25, 0, 0.5, 0, 0, 0.25, 0, 0, 0]]
    assert strip["text"] == [["1", "", "2", "", "", "1", "", "", ""]]
    assert stats["text"] == ["2.5h / 30.2h  (4)"]
    assert json.loads(strip["customdata"][0][2][-1]) == {"figure": "handling", "by": "department", "key": "D1",
                                                         "bin": "2to4h"}


def test_sla009_exceptions_cells_carry_rate_and_parts():
    rows = [ExceptionRow("D1", "城管局", rate(1, 500), rate(2, 500), rate(0, 400), None),
            ExceptionRow("D2", "水务局", rate(0, 0), rate(0, 0), rate(0, 0), None)]
    fig = f.exceptions_figure(rows, "department", "zh")
    cells = fig["data"][0]
    assert cells["x"] == ["延期率", "回退率", "返工率"]  # no void rate per department
    assert cells["y"] == ["城管局"]
    assert cells["text"] == [["0.2% · 1/500", "0.4% · 2/500", "0.0% · 0/400"]]
    assert cells["z"] == [[1.0, 1.0, 0.0]]
    assert json.loads(cells["customdata"][0][1][-1]) == {"figure": "return", "by": "department", "key": "D1",
                                                         "part": "numerator"}
    by_area = f.exceptions_figure([ExceptionRow("329902", "东区", rate(1, 10), rate(0, 10), rate(0, 5),
                                                rate(3, 120))], "area", "en")["data"][0]
    assert by_area["x"] == ["Extended", "Returned", "Reworked", "Void"] and by_area["text"][0][3] == "2.5% · 3/120"


def test_sla010_light_tiles_have_words_icons_and_counts():
    tiles = layout.light_tiles(LightCounts(green=5, yellow=2, red=1, none=3, turning_red_2h=2), "zh")
    soon, grid = tiles[0].children, tiles[1].children
    read = {t.id["key"]: (t.children[1].children, t.children[2].children, t.children[0].children) for t in grid}
    assert read == {"red": ("超时", "1", "✕"), "yellow": ("临期", "2", "!"), "green": ("正常", "5", "✓"),
                    "none": ("未派遣", "3", "○")}
    assert soon.id == {"type": layout.LIGHT, "key": "turning_red_2h"} and soon.children[2].children == "2"
    assert "sla-tile-alert" in soon.className
    assert len(tiles) == 2
    empty = layout.light_tiles(LightCounts(), "en")
    assert empty[-1].children == "No open cases now"


@pytest.mark.parametrize("click, expected", [
    ({"points": [{"customdata": [1, 2, "99.9%", '{"figure":"handle"}']}]}, '{"figure":"handle"}'),
    ({"points": [{"customdata": "x"}]}, None),
    ({"points": []}, None),
    ({"points": [{"customdata": [1, 2, 3]}]}, None),
    ("junk", None),
    (None, None),
])
def test_sla011_clicked_selector_reads_only_strings(click, expected):
    assert f.clicked_selector(click) == expected


def test_sla012_case_titles_and_labels():
    click = {"points": [{"y": "市容…", "x": "3–7天", "customdata": ["市容环境管理", 3, "{}"]}]}
    assert f.clicked_label(click) == "市容环境管理 · 3–7天"
    assert f.clicked_label({"points": [{"y": "x" * 200}]}) == "x" * 80
    assert f.cases_title({"figure": "age", "bin": "3to7d"}, "市容", "zh") == "积压时长 · 市容 · 3–7天"
    assert f.cases_title({"figure": "handle", "part": "late"}, "2026-11-03", "en") == \
        "Handled on time · 2026-11-03 · Not on time (incl. open overdue)"
    assert f.cases_title({"figure": "<script>"}, "", "zh") == "案件列表"
