"""SLA page callbacks called as plain functions on the hand city (NOW = 2026-11-20 15:00, frozen).

By hand, from tests/handcity.py over the default 30 days [10-21 15:00, 11-20 15:00) at NOW:
  handled in the window: 1 (on time), 2 (late), 6 (on time, not closed), 7 (late); open past a deadline that fell in
  the window: 3 (deadline 11-17 09:30) → 按期处置率 2/5 = 40.0 %
  closed in the window: 1 (on time), 2, 7 (late) + the overdue 3 → 按期结案率 1/4 = 25.0 %
  per class: 01 市容环境 (2, 3, 7) 0/3 handle, 0/3 close; 04 (6) 1/1 handle, 0/0 close; 05 (1) 1/1, 1/1;
  06 (9: overdue since 09-04, before the window) 0/0 with one open overdue case.
  lights: open 3, 4, 6, 9, 10 (8 is parked): red 3, 9; green 4 (55 of 120 min used), 6 (handled in time);
  none 10 (not dispatched); turning red within 2 h: 4 (due 16:05).
  at 12:00 (a frozen page): open 3, 6, 9 → red 2, green 1, nothing turning red.
"""
from __future__ import annotations

import contextlib
import json
from datetime import datetime

import flask
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict

from callbacks import sla as cb
from dashboard import data
from layouts import sla as ids
from tests import handcity
from tests.callbacks.test_overview import text
from tests.conftest import principal_for

EAST, WEST, STREET = "329902", "329903", "329902001"
LIVE = (None, None, None, "zh", None)  # tick, minute, frozen (none: live), lang, digest shown
PERIOD = ("30d", None, None)
NOW = handcity.NOW


@contextlib.contextmanager
def triggered(prop_id: str, value=1):
    """Run a callback as if ``prop_id`` changed to ``value`` (Dash's trigger context, forged)."""
    token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": value}] if prop_id else []))
    try:
        yield
    finally:
        context_value.reset(token)


def as_user(app, name: str) -> None:
    flask.g.gridcc_principal = principal_for(app, name)
    data.flush_marks()


def view_of(area=None, lang="zh"):
    with triggered(""):
        return cb.update_view({"area": area}, [], "", lang)


def tiles(children) -> dict[str, str]:
    buttons = [children[0].children, *children[1].children]
    return {b.id["key"]: b.children[2].children for b in buttons}


def click(graph: str, trace: dict, point: int, **extra) -> tuple:
    """Return open_cases' outputs after a click on ``point`` of ``trace`` of ``graph`` (its customdata)."""
    data_ = {"points": [{"customdata": trace["customdata"][point], "y": trace.get("y", [None] * 99)[point], **extra}]}
    values = [None] * len(ids.GRAPHS)
    values[ids.GRAPHS.index(graph)] = data_
    return open_cases(graph + ".clickData", data_, values)


def open_cases(prop_id, value, graph_values=None, page=1, view=None, shown=None, frozen=None, period=PERIOD):
    view = view or view_of()[0]
    with triggered(prop_id, value):
        return cb.open_cases(*(graph_values or [None] * len(ids.GRAPHS)), [], page, view, *period, frozen, shown,
                             "zh")


def ids_of(outputs) -> list[int]:
    return [row["id"] for row in outputs[3]]


# -- the area in view -----------------------------------------------------------------------------------------

def test_sla101_city_view_crumbs_and_children(in_app):
    view, crumbs, notice, children, value = view_of()
    assert (view["code"], view["level"], view["name"]) == (handcity.CITY, 0, "云州市")
    assert text(crumbs) == "云州市 市" and notice == []
    assert [o["value"] for o in children] == ["", EAST, WEST] and value == ""


def test_sla102_drill_by_child_list_and_back_by_crumb(in_app):
    with triggered(f"{ids.CHILD}.value", EAST):
        view, crumbs, *_ = cb.update_view({"area": None}, [], EAST, "zh")
    assert view["code"] == EAST and text(crumbs) == "云州市 市 › 东城区 区"
    crumb = json.dumps({"code": handcity.CITY, "type": ids.CRUMB}, separators=(",", ":")) + ".n_clicks"
    with triggered(crumb, 1):
        back = cb.update_view({"area": EAST}, [1], "", "zh")[0]
    assert back["code"] == handcity.CITY


def test_sla102b_crumbs_drawn_anew_or_the_list_header_do_not_move(in_app):
    crumb = json.dumps({"code": handcity.CITY, "type": ids.CRUMB}, separators=(",", ":")) + ".n_clicks"
    with triggered(crumb, 0):
        assert cb.update_view({"area": EAST}, [0], "", "zh") == (no_update,) * 5
    with triggered(f"{ids.CHILD}.value", ""):
        assert cb.update_view({"area": EAST}, [0], "", "zh") == (no_update,) * 5


@pytest.mark.parametrize("asked", [WEST, "329903001", "999999", "x" * 5000, "' OR 1=1 --"])
def test_sla103_street_operator_is_clamped_to_their_street(in_app, asked):
    as_user(in_app, "dongjie")
    view, crumbs, notice, children, _ = view_of(asked)
    assert view["code"] == STREET and text(crumbs) == "东街街道 街道"
    assert notice and "东街街道" in text(notice)
    assert [o["value"] for o in children] == ["", STREET + "001"]


def test_sla104_a_forged_view_reads_nothing_outside_scope(in_app):
    as_user(in_app, "dongjie")
    forged = {"code": WEST}
    assert tiles(cb.update_lights(forged, *LIVE)[0]) == {"red": "0", "yellow": "0", "green": "0", "none": "0",
                                                          "turning_red_2h": "0"}
    assert cb.update_split(forged, *PERIOD, "class", *LIVE)[0]["data"] == []
    red = json.dumps({"key": "red", "type": ids.LIGHT}, separators=(",", ":")) + ".n_clicks"
    out = open_cases(red, 1, view=forged)
    assert out[2] == "共 0 件" and out[3] == []


# -- the panels -----------------------------------------------------------------------------------------------

def test_sla110_lights_now_and_turning_red(in_app):
    assert tiles(cb.update_lights(view_of()[0], *LIVE)[0]) == {"red": "2", "yellow": "0", "green": "2", "none": "1",
                                                               "turning_red_2h": "1"}


def test_sla111_a_frozen_page_counts_at_its_instant(in_app):
    frozen = "2026-11-20T12:00"
    found = cb.update_lights(view_of()[0], None, None, frozen, "zh", None)[0]
    assert tiles(found) == {"red": "2", "yellow": "0", "green": "1", "none": "0", "turning_red_2h": "0"}
    assert cb.frozen_at(frozen) == datetime(2026, 11, 20, 12, 0)
    for bad in ("2027-01-01T00:00", "1999-01-01", "2026-11-20T12:00+08:00", "yesterday", 5, None, "9" * 40):
        assert cb.frozen_at(bad) is None


def test_sla112_trend_rates_with_their_parts(in_app):
    fig = cb.update_trend(view_of()[0], *PERIOD, "month", *LIVE)[0]
    late, handle, close = fig["data"]
    # The window [10-21 15:00, 11-20 15:00) touches two months: October (7 late) and November (1, 6 on time; 2 late,
    # 3 overdue).
    assert handle["x"] == ["2026-10-01", "2026-11-01"]
    assert [c[:2] for c in handle["customdata"]] == [[0, 1], [2, 4]]
    assert [c[:2] for c in close["customdata"]] == [[0, 1], [1, 3]]
    assert late["y"] == [1, 2]
    day = cb.update_trend(view_of()[0], *PERIOD, "day", *LIVE)[0]["data"][0]
    assert {x: y for x, y in zip(day["x"], day["y"]) if y} == {"2026-10-25": 1, "2026-11-17": 1, "2026-11-19": 1}


def test_sla113_split_by_class_worst_first(in_app):
    fig = cb.update_split(view_of()[0], *PERIOD, "class", *LIVE)[0]
    close, handle, overdue = fig["data"]
    rows = dict(zip(handle["y"], zip(handle["text"], close["text"], overdue["text"])))
    assert handle["y"][-1] == "市容环境 ·01"  # 0.0 %: at the top
    assert rows["市容环境 ·01"] == ("0.0%  0/3", "0.0%  0/3", "<b>1</b>")
    assert rows["街面秩序 ·05"] == ("100.0%  1/1", "100.0%  1/1", "0")
    assert rows["突发事件 ·04"] == ("100.0%  1/1", "—  0/0", "0")
    assert overdue["text"][handle["y"].index("社会治理(扩展事件) ·06")] == "<b>1</b>"
    by_area = cb.update_split(view_of()[0], *PERIOD, "area", *LIVE)[0]["data"][1]
    assert dict(zip(by_area["y"], by_area["text"])) == {"西城区": "—  0/0", "东城区": "40.0%  2/5"}
    # Every street of the city: 东街 handled 1, 2 and the overdue 3 (1 on time); 南苑 6 (on time) and 7 (late).
    by_street = cb.update_split(view_of()[0], *PERIOD, "street", *LIVE)[0]["data"][1]
    assert dict(zip(by_street["y"], by_street["text"])) == {"东街街道": "33.3%  1/3", "南苑街道": "50.0%  1/2",
                                                            "西湖街道": "—  0/0"}


def test_sla114_forged_choices_fall_back(in_app):
    view = view_of()[0]
    assert cb.update_split(view, *PERIOD, "<img>", *LIVE)[0] == cb.update_split(view, *PERIOD, "class", *LIVE)[0]
    assert cb.update_trend(view, *PERIOD, {"x": 1}, *LIVE)[0] == cb.update_trend(view, *PERIOD, "day", *LIVE)[0]
    assert cb.update_lights("junk", *LIVE) == (no_update, no_update)
    assert cb.update_funnel({"code": 7}, *PERIOD, *LIVE) == (no_update,) * 3


def test_sla115_age_funnel_handling_exceptions(in_app):
    view = view_of()[0]
    age = cb.update_age(view, "class", *LIVE)[0]["data"]
    assert dict(zip(age[-1]["y"], age[-1]["text"])) == {"社会治理(扩展事件)": "2", "市容环境": "1", "突发事件": "1",
                                                          "街面秩序": "1"}
    funnel, table = cb.update_funnel(view, *PERIOD, *LIVE)[:2]
    assert funnel["data"][0]["x"][0] == 7  # reported in the window and not void: 1, 2, 3, 4, 6, 8, 10
    assert text(table).startswith("环节 中位用时 P90用时 时限 超时限 上报 — — — —")
    handling = cb.update_handling(view, *PERIOD, "class", *LIVE)[0]["data"]
    assert dict(zip(handling[1]["y"], handling[1]["text"])) == {"市容环境": "291.0h / 518.6h  (2)",
                                                                 "街面秩序": "0.8h / 0.8h  (1)"}
    by_category = cb.update_handling(view, *PERIOD, "category", *LIVE)[0]["data"][1]
    assert dict(zip(by_category["y"], by_category["text"])) == {"暴露垃圾": "291.0h / 518.6h  (2)",  # 0102: 2, 7
                                                                 "机动车乱停放": "0.8h / 0.8h  (1)"}  # 0505: 1
    exceptions = cb.update_exceptions(view, *PERIOD, "department", *LIVE)[0]["data"][0]
    assert exceptions["y"] == ["东城区城管执法局"] and exceptions["text"] == [["0.0% · 0/3"] * 3]


def test_sla116_empty_period_says_so(in_app):
    view = view_of()[0]
    period = ("custom", "2025-01-01", "2025-01-31")
    for fn, by in ((cb.update_trend, "day"), (cb.update_handling, "class"), (cb.update_exceptions, "department")):
        fig = fn(view, *period, by, *LIVE)[0]
        assert fig["layout"]["annotations"][0]["text"] == "该时段无数据", fn.__name__
    assert cb.update_funnel(view, *period, *LIVE)[0]["layout"]["annotations"][0]["text"] == "该时段无数据"
    # The open overdue cases are counted at as_of whatever the period: the split still shows them, rates none.
    close, handle, overdue = cb.update_split(view, *period, "class", *LIVE)[0]["data"]
    assert set(handle["text"]) == {"—  0/0"} and sorted(overdue["text"]) == ["<b>1</b>", "<b>1</b>"]


def test_sla117_english(in_app):
    view = view_of(lang="en")[0]
    fig = cb.update_split(view, *PERIOD, "class", None, None, None, "en", None)[0]
    assert [t["name"] for t in fig["data"][:2]] == ["Closed on time", "Handled on time"]
    tiles_ = cb.update_lights(view, None, None, None, "en", None)[0]
    assert text(tiles_[0]) == "▲ Turning red within 2 h 1"


def test_sla118_unchanged_panel_is_not_redrawn(in_app):
    view = view_of()[0]
    first = cb.update_lights(view, *LIVE)
    again = cb.update_lights(view, None, None, None, "zh", first[-1])
    assert again == (no_update, no_update)
    tick = {"v": 10 ** 6}  # a tick from the future: answered from what is there, still unchanged
    assert cb.update_trend(view, *PERIOD, "day", tick, None, None, "zh",
                           cb.update_trend(view, *PERIOD, "day", *LIVE)[-1]) == (no_update, no_update)


# -- the period -----------------------------------------------------------------------------------------------

AT = datetime(2026, 11, 20, 15, 0)


@pytest.mark.parametrize("period, start, end, expected", [
    ("7d", None, None, (datetime(2026, 11, 13, 15), AT)),
    ("30d", None, None, (datetime(2026, 10, 21, 15), AT)),
    ("month", None, None, (datetime(2026, 11, 1), AT)),
    ("last_month", None, None, (datetime(2026, 10, 1), datetime(2026, 11, 1))),
    ("custom", "2026-11-01", "2026-11-10", (datetime(2026, 11, 1), datetime(2026, 11, 11))),
    ("custom", "2026-11-19", "2026-12-31", (datetime(2026, 11, 19), AT)),  # never past as_of
    ("custom", "2026-11-10", "2026-11-01", (datetime(2026, 10, 21, 15), AT)),  # reversed: 30 days
    ("custom", "2020-01-01", "2026-11-01", (datetime(2026, 10, 21, 15), AT)),  # over a year: 30 days
    ("custom", "1900-01-01", "1900-01-02", (datetime(2026, 10, 21, 15), AT)),
    ("custom", "2026-13-01", "x", (datetime(2026, 10, 21, 15), AT)),
    ("custom", "9" * 5000, None, (datetime(2026, 10, 21, 15), AT)),
    ("custom", ["2026-11-01"], {}, (datetime(2026, 10, 21, 15), AT)),
    ("<script>", None, None, (datetime(2026, 10, 21, 15), AT)),
    (None, None, None, (datetime(2026, 10, 21, 15), AT)),
])
def test_sla120_period_windows(period, start, end, expected):
    assert cb.period_window(period, start, end, AT) == expected


def test_sla121_last_month_in_january():
    assert cb.period_window("last_month", None, None, datetime(2027, 1, 5, 9)) == (datetime(2026, 12, 1),
                                                                                   datetime(2027, 1, 1))


def test_sla122_as_of_badge_and_date_range(in_app):
    badge, hidden = cb.update_as_of(view_of()[0], "custom", "2026-11-01", "2026-11-10", *LIVE[:-1])
    assert text(badge) == "实时 2026-11-01 00:00 至 2026-11-11 00:00 · 截至 2026-11-20 15:00" and hidden is False
    badge, hidden = cb.update_as_of(view_of()[0], "7d", None, None, None, None, "2026-11-20T12:00", "en")
    assert text(badge) == "Frozen 2026-11-13 12:00 to 2026-11-20 12:00 · as of 2026-11-20 12:00" and hidden is True


# -- a click: the cases behind it --------------------------------------------------------------------------------

def light_click(key: str) -> str:
    return json.dumps({"key": key, "type": ids.LIGHT}, separators=(",", ":")) + ".n_clicks"


def test_sla130_light_tiles_open_their_cases(in_app):
    out = open_cases(light_click("red"), 1)
    assert out[0] is True and out[1] == "在办案件 · 超时" and out[2] == "共 2 件"
    assert ids_of(out) == [9, 3]  # oldest report first
    assert out[3][1]["light"] == "✕ 超时" and out[3][1]["place"] == "东街社区 · 东街第01网格"
    assert "reporter" not in out[3][0] and out[4] == 1 and out[5] == 1
    assert ids_of(open_cases(light_click("none"), 1)) == [10]
    assert open_cases(light_click("red"), 0)[:6] == (no_update,) * 6  # a tile drawn anew, not clicked
    assert open_cases(light_click("<b>"), 1)[:6] == (no_update,) * 6


def test_sla130b_turning_red_tile_opens_its_cases(in_app):
    out = open_cases(light_click("turning_red_2h"), 1)
    assert out[1] == "在办案件 · 2小时内将超期" and ids_of(out) == [4]


def test_sla131_a_bar_opens_its_cases(in_app):
    view = view_of()[0]
    late = cb.update_trend(view, *PERIOD, "day", *LIVE)[0]["data"][0]
    out = click(ids.TREND, late, late["x"].index("2026-11-17"), x="2026-11-17")
    assert ids_of(out) == [3] and out[1] == "按期处置率 · 2026-11-17 · 未按期（含超期未处置）"
    split = cb.update_split(view, *PERIOD, "class", *LIVE)[0]["data"]
    handle = split[1]
    out = click(ids.SPLIT, handle, handle["y"].index("市容环境 ·01"))
    assert out[2] == "共 3 件" and sorted(ids_of(out)) == [2, 3, 7]
    overdue = split[2]
    assert ids_of(click(ids.SPLIT, overdue, overdue["y"].index("社会治理(扩展事件) ·06"))) == [9]
    # Every click also clears the graphs' clickData, so the same mark clicked again opens its list again.
    assert out[-len(ids.GRAPHS):] == (None,) * len(ids.GRAPHS)


def test_sla132_age_and_handling_cells_open_their_cases(in_app):
    view = view_of()[0]
    age = cb.update_age(view, "class", *LIVE)[0]["data"]
    oldest = age[4]  # > 30 days: 9 (reported 09-01)
    assert ids_of(click(ids.AGE, oldest, oldest["y"].index("社会治理(扩展事件)"))) == [9]
    strip = cb.update_handling(view, *PERIOD, "class", *LIVE)[0]["data"][0]
    row = strip["y"].index("市容环境")
    cell = {"points": [{"customdata": strip["customdata"][row][8], "y": "市容环境", "x": ">7天"}]}
    values = [None] * len(ids.GRAPHS)
    out = open_cases(ids.HANDLING + ".clickData", cell, values)
    assert ids_of(out) == [7] and out[1] == "处置用时 · 市容环境 · >7天"


def test_sla133_paging_keeps_the_selector(in_app):
    first = open_cases(light_click("red"), 1)
    shown = first[6]
    assert json.loads(shown["selector"]) == {"figure": "light", "key": "red"}
    page = open_cases(ids.CASES_PAGER + ".active_page", 1, page=1, shown=shown)
    assert ids_of(page) == [9, 3] and page[5] is no_update
    assert ids_of(open_cases(ids.CASES_PAGER + ".active_page", 2, page=2, shown=shown)) == []


@pytest.mark.parametrize("custom", [
    '{"figure":"drop table"}', '{"figure":"light","key":"purple"}', "not json", '{"a":' * 50, "[1,2]", "{}",
    json.dumps({"figure": "handle", "x": "y" * 100}), 12, None,
])
def test_sla134_forged_selectors_are_refused(in_app, custom):
    data_ = {"points": [{"customdata": [1, custom]}]}
    values = [None] * len(ids.GRAPHS)
    out = open_cases(ids.SPLIT + ".clickData", data_, values)
    if out[0] is True:  # well-formed JSON that data.sla_cases refuses: said, nothing listed
        assert out[2] == "无法识别所选图形，请重新点击" and out[3] == []
    else:
        assert out[:7] == (no_update,) * 7


def test_sla135_a_forged_page_is_refused(in_app):
    shown = {"selector": '{"figure":"light","key":"red"}', "title": "x"}
    for page in (0, -1, True, "2", 10 ** 9):
        assert ids_of(open_cases(ids.CASES_PAGER + ".active_page", page, page=page, shown=shown)) == [9, 3]
    assert open_cases(ids.CASES_PAGER + ".active_page", 2, page=2, shown="junk")[:7] == (no_update,) * 7


def test_sla136_a_case_id_opens_its_detail_without_its_reporter(in_app):
    is_open, body = cb.open_detail({"colId": "id", "value": 3, "rowIndex": 0}, "zh")
    assert is_open is True and "东街第01网格" in text(body)
    assert "event-detail-reveal" not in json.dumps(body, default=lambda c: c.to_plotly_json())
    as_user(in_app, "xicheng")
    assert cb.open_detail({"colId": "id", "value": 3}, "zh")[0] is True  # out of scope: the empty body, nothing
    assert "东街" not in text(cb.open_detail({"colId": "id", "value": 3}, "zh")[1])
    for cell in ({"colId": "place", "value": 3}, {"colId": "id", "value": "3"}, {"colId": "id", "value": True},
                 {"colId": "id", "value": 2 ** 70}, None, "junk"):
        assert cb.open_detail(cell, "zh") == (no_update, no_update)
