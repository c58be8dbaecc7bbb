"""The backlog desk's frame and pages on the hand city (tests/handcity.py), every expected row worked out by hand.

open_events holds the cases open at 16:00 (STATE_AS_OF): 3, 4 (东街街道), 6 (南苑街道), 8, 9, 10 (西城区) and
11 (东街, reported at 16:00, after NOW: a page at NOW hides it). Departments: 1–7 and 11 are 329902-01's,
8–10 329903-01's. At NOW (15:00, a Friday; work hours 13:30–17:30):
  3  0110 5 work days, deadline 11-17 09:30 → red, 3天5时30分 late → "已超期 3天5时"
  4  0505 2 work hours, dispatched 14:05, deadline 16:05 → 55 of 120 min used = 0.458, green; 65 min left
  6  0401 2 hours, dispatched 10:10, handled 11:10 (clock stopped) → 60/120 = 0.5, green; no countdown
  8  parked → no light, no countdown
  9  0601, deadline 09-04 09:30 → red, 77天5时30分 late → "已超期 77天"
  10 not dispatched → no light
At 15:50 case 4 has used 105 of 120 work minutes = 0.875: yellow, 15 minutes left.
"""
from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest
from sqlalchemy import insert, update

from dashboard import backlog
from dashboard.settings import Settings
from queries import backlog as q
from queries import prefs as prefs_queries
from queries.schema import categories, open_events, whistle_calls
from queries.scope import Scope
from tests import handcity

NOW = handcity.NOW
CITY = Scope(handcity.CITY, 0)
DONGJIE = Scope("329902001", 2)
NANYUAN = Scope("329902002001", 3)
XICHENG = Scope("329903", 1)
DEPT_DC = Scope("329902", 1, department="329902-01")
DEPT_XC = Scope("329903", 1, department="329903-01")
DEPT_CITY = Scope(handcity.CITY, 0, department="329900-12")


@pytest.fixture
def calendar():
    return Settings(frozen_now=NOW).calendar()


def _ids(frame) -> list[int]:
    return sorted(frame["id"].tolist())


@pytest.mark.parametrize("scope, expected", [
    (CITY, [3, 4, 6, 8, 9, 10, 11]),
    (DONGJIE, [3, 4, 11]),
    (NANYUAN, [6]),
    (XICHENG, [8, 9, 10]),
    (DEPT_DC, [3, 4, 6, 11]),
    (DEPT_XC, [8, 9, 10]),
    (DEPT_CITY, []),
])
def test_bkl001_open_cases_per_scope(hand_conn, scope, expected):
    assert _ids(q.open_cases(hand_conn, scope=scope)) == expected


def test_bkl002_a_department_sees_the_cases_whistled_to_it(hand_conn):
    hand_conn.execute(insert(whistle_calls).values(event_id=3, department_code="329900-12", called_at=NOW,
                                                   called_by="dongjie"))
    hand_conn.execute(update(open_events).where(open_events.c.id == 3).values(whistled_at=NOW))
    frame = q.open_cases(hand_conn, scope=DEPT_CITY)
    assert _ids(frame) == [3] and frame["whistled_to_me"].tolist() == [True]
    # Whistled to another department: 329903-01 does not see it (and 3 is not in its district anyway).
    assert _ids(q.open_cases(hand_conn, scope=DEPT_XC)) == [8, 9, 10]
    # Its own department still sees it, not as whistled to it.
    own = q.open_cases(hand_conn, scope=DEPT_DC).set_index("id")
    assert own.loc[3, "whistled_to_me"] is np.False_ or own.loc[3, "whistled_to_me"] == False  # noqa: E712


def test_bkl003_names_are_joined(hand_conn):
    row = q.open_cases(hand_conn, scope=DONGJIE).set_index("id").loc[3]
    assert (row["category"], row["community"], row["grid"], row["department"]) == (
        "道路破损", "东街社区", "东街第01网格", "东城区城管执法局")
    assert row["limit_unit"] == "work_days" and row["deadline_at"] == datetime(2026, 11, 17, 9, 30)


def test_bkl004_district_departments(hand_conn):
    assert [d.code for d in q.district_departments(hand_conn, scope=DONGJIE)] == ["329900-12", "329902-01"]
    assert [d.code for d in q.district_departments(hand_conn, scope=CITY)] == ["329900-12", "329902-01", "329903-01"]


def _page(hand_conn, calendar, scope=CITY, request=None, as_of=NOW, **kw):
    prepared = backlog.table(q.open_cases(hand_conn, scope=scope), "zh")
    return backlog.page(prepared, backlog.parse_request(request or {"startRow": 0, "endRow": 100}), as_of=as_of,
                        calendar=calendar, **kw)


def test_bkl005_lights_countdowns_and_ages_at_now(hand_conn, calendar):
    rows, total = _page(hand_conn, calendar)
    assert total == 6  # 11 is reported after NOW
    by_id = {r["id"]: r for r in rows}
    # The default order: the deadline, most overdue first; no deadline last, by id.
    assert [r["id"] for r in rows] == [9, 3, 6, 8, 4, 10]
    assert {i: r["light"] for i, r in by_id.items()} == {9: "red", 3: "red", 6: "green", 8: None, 4: "green",
                                                         10: None}
    assert by_id[3]["countdown"] == "已超期 3天5时" and by_id[3]["minutes_left"] == -(3 * 1440 + 5 * 60 + 30)
    assert by_id[9]["countdown"] == "已超期 77天"  # ten days and more: whole days (the column stays narrow)
    assert by_id[4]["countdown"] == "剩余 1时5分" and by_id[4]["minutes_left"] == 65 and by_id[4]["running"]
    assert by_id[6]["countdown"] == "" and not by_id[6]["running"]  # handled: its clock stopped
    assert by_id[8]["countdown"] == "" and by_id[8]["light_label"] == "—"  # parked
    assert by_id[4]["age"] == "1时0分" and by_id[3]["age"] == "10天"
    assert by_id[3]["place"] == "东街社区 / 东街第01网格" and by_id[3]["stage"] == "已派遣"
    assert by_id[3]["deadline_iso"] == "2026-11-17T09:30:00"


def test_bkl006_case_4_turns_yellow_at_15_50(hand_conn, calendar):
    rows, _ = _page(hand_conn, calendar, as_of=datetime(2026, 11, 20, 15, 50))
    four = next(r for r in rows if r["id"] == 4)
    assert four["light"] == "yellow" and four["light_label"] == "临期" and four["countdown"] == "剩余 0时15分" \
        or four["countdown"] == "剩余 15分"
    shares = backlog.shares(backlog.table(q.open_cases(hand_conn, scope=DONGJIE), "zh").set_index("id").loc[[4]]
                            .reset_index(), calendar, datetime(2026, 11, 20, 15, 50))
    assert shares[0] == pytest.approx(105 / 120)


@pytest.mark.parametrize("quick, expected", [
    (["red"], [3, 9]),
    (["soon"], [4]),  # 65 minutes left
    (["supervised"], []),
    (["extension"], []),
    (["whistled"], []),
    (["red", "soon"], []),
    (["bogus", 7, None], [3, 4, 6, 8, 9, 10]),  # unknown quick filters are ignored
])
def test_bkl007_quick_filters(hand_conn, calendar, quick, expected):
    rows, total = _page(hand_conn, calendar, quick=backlog.parse_quick(quick))
    assert sorted(r["id"] for r in rows) == expected and total == len(expected)


def test_bkl008_quick_filters_on_marks(hand_conn, calendar):
    hand_conn.execute(update(open_events).where(open_events.c.id == 4).values(
        supervised_until=datetime(2026, 11, 21, 9, 0), urge_count=2))
    hand_conn.execute(update(open_events).where(open_events.c.id == 9).values(
        extension_requested_at=NOW, extension_requested_until=datetime(2026, 11, 25, 17, 0), whistled_at=NOW))
    assert [r["id"] for r in _page(hand_conn, calendar, quick=("supervised",))[0]] == [4]
    assert [r["id"] for r in _page(hand_conn, calendar, quick=("extension",))[0]] == [9]
    assert [r["id"] for r in _page(hand_conn, calendar, quick=("whistled",))[0]] == [9]
    flags = {r["id"]: r["flags"] for r in _page(hand_conn, calendar)[0]}
    assert flags[4] == "催办×2 · 督办 11-21 09:00"
    assert flags[9] == "申请延期→11-25 17:00 · 吹哨"
    assert _page(hand_conn, calendar, quick=("extension",))[0][0]["extension_until"] == "2026-11-25 17:00"


@pytest.mark.parametrize("sort, expected", [
    ([{"colId": "id", "sort": "desc"}], [10, 9, 8, 6, 4, 3]),
    ([{"colId": "age", "sort": "asc"}], [10, 4, 8, 6, 3, 9]),  # youngest first
    ([{"colId": "reported", "sort": "asc"}], [9, 3, 6, 8, 4, 10]),
    # The light by share: 4 (0.458) < 6 (0.5) < the red ones by how late (3: 1.x, 9: far more); none last.
    ([{"colId": "light", "sort": "asc"}], [4, 6, 3, 9, 8, 10]),
    # Places in code-point order (东 < 南 < 西), grid 01 before 02; 9 and 10 share C2: id descending.
    ([{"colId": "place", "sort": "asc"}, {"colId": "id", "sort": "desc"}], [3, 4, 6, 8, 10, 9]),
    ([{"colId": "nonsense", "sort": "asc"}], [9, 3, 6, 8, 4, 10]),  # unknown column: the default order
    ([{"colId": "id; DROP TABLE events", "sort": "asc"}], [9, 3, 6, 8, 4, 10]),
    ("id", [9, 3, 6, 8, 4, 10]),
])
def test_bkl009_sort_models(hand_conn, calendar, sort, expected):
    rows, _ = _page(hand_conn, calendar, request={"startRow": 0, "endRow": 100, "sortModel": sort})
    assert [r["id"] for r in rows] == expected


@pytest.mark.parametrize("model, expected", [
    ({"category": {"filterType": "text", "type": "contains", "filter": "乱停"}}, [4, 8]),
    ({"place": {"filterType": "text", "type": "startsWith", "filter": "西湖"}}, [8, 9, 10]),
    ({"stage": {"filterType": "text", "type": "equals", "filter": "已派遣"}}, [3, 4, 9]),
    ({"id": {"filterType": "number", "type": "inRange", "filter": 4, "filterTo": 8}}, [4, 6, 8]),
    ({"id": {"filterType": "number", "type": "greaterThan", "filter": 8}}, [9, 10]),
    ({"countdown": {"filterType": "number", "type": "lessThan", "filter": 0}}, [3, 9]),
    ({"age": {"filterType": "number", "type": "greaterThan", "filter": 48}}, [3, 6, 9]),
    ({"reported": {"filterType": "date", "type": "equals", "dateFrom": "2026-11-20 00:00:00"}}, [4, 8, 10]),
    ({"deadline": {"filterType": "date", "type": "lessThan", "dateFrom": "2026-11-18 00:00:00"}}, [3, 9]),
    ({"light": {"filterType": "text", "type": "equals", "filter": "超时"}}, [3, 9]),
    ({"id": {"filterType": "number", "operator": "OR", "conditions": [
        {"filterType": "number", "type": "equals", "filter": 3},
        {"filterType": "number", "type": "equals", "filter": 10}]}}, [3, 10]),
    # Hostile: unknown column, unknown operator, SQL-ish text, wrong types — ignored or matched as plain text.
    ({"reporter": {"filterType": "text", "type": "contains", "filter": "李"}}, [3, 4, 6, 8, 9, 10]),
    ({"category": {"filterType": "text", "type": "regex", "filter": ".*"}}, [3, 4, 6, 8, 9, 10]),
    ({"category": {"filterType": "text", "type": "contains", "filter": "' OR 1=1 --"}}, []),
    ({"id": {"filterType": "number", "type": "equals", "filter": "3"}}, [3, 4, 6, 8, 9, 10]),
    ({"id": {"filterType": "number", "type": "equals", "filter": float("nan")}}, [3, 4, 6, 8, 9, 10]),
    ({"reported": {"filterType": "date", "type": "equals", "dateFrom": "not a date"}}, [3, 4, 6, 8, 9, 10]),
    ([1, 2], [3, 4, 6, 8, 9, 10]),
])
def test_bkl010_filter_models(hand_conn, calendar, model, expected):
    rows, total = _page(hand_conn, calendar, request={"startRow": 0, "endRow": 100, "filterModel": model})
    assert sorted(r["id"] for r in rows) == expected and total == len(expected)


@pytest.mark.parametrize("search, expected", [
    ("道路", [3]),
    ("东街", [3, 4]),
    ("9", [9]),  # the id (and no other text holds a 9)
    ("西城区城管", [8, 9, 10]),
    ("'; DROP TABLE events; --", []),
    ("a" * 10_000_000, []),  # cut to MAX_SEARCH characters, matches nothing
    (None, [3, 4, 6, 8, 9, 10]),
    ("   ", [3, 4, 6, 8, 9, 10]),
])
def test_bkl011_search(hand_conn, calendar, search, expected):
    rows, total = _page(hand_conn, calendar, search=backlog.parse_search(search))
    assert sorted(r["id"] for r in rows) == expected and total == len(expected)


@pytest.mark.parametrize("request_, expected_ids, start", [
    ({"startRow": 2, "endRow": 4}, [6, 8], 2),
    ({"startRow": -50, "endRow": 2}, [9, 3], 0),
    ({"startRow": 0, "endRow": 10**12}, [9, 3, 6, 8, 4, 10], 0),
    ({"startRow": 100, "endRow": 200}, [], 100),
    ({"startRow": "0", "endRow": None}, [9, 3, 6, 8, 4, 10], 0),
    ({"startRow": 5, "endRow": 1}, [10], 5),
    (None, [9, 3, 6, 8, 4, 10], 0),
])
def test_bkl012_paging_is_clamped(hand_conn, calendar, request_, expected_ids, start):
    parsed = backlog.parse_request(request_)
    assert parsed.start == start and 0 < parsed.end - parsed.start <= backlog.PAGE_MAX
    rows, total = _page(hand_conn, calendar, request=request_)
    assert [r["id"] for r in rows] == expected_ids and total == 6


def test_bkl013_prefs_round_trip_and_bad_json(hand_conn):
    assert prefs_queries.get_pref(hand_conn, user="dongjie", key="backlog.view") is None
    prefs_queries.set_pref(hand_conn, user="dongjie", key="backlog.view", value='{"search": "道路"}', now=NOW)
    prefs_queries.set_pref(hand_conn, user="dongjie", key="backlog.view", value='{"search": "东街"}', now=NOW)
    assert json.loads(prefs_queries.get_pref(hand_conn, user="dongjie", key="backlog.view")) == {"search": "东街"}
    assert prefs_queries.get_pref(hand_conn, user="nanyuan", key="backlog.view") is None
    with pytest.raises(ValueError):
        prefs_queries.set_pref(hand_conn, user="dongjie", key="backlog.view", value="x" * 70_000, now=NOW)
    prefs_queries.delete_pref(hand_conn, user="dongjie", key="backlog.view")
    assert prefs_queries.get_pref(hand_conn, user="dongjie", key="backlog.view") is None


@pytest.mark.parametrize("stored, expected", [
    ({"columns": [{"colId": "place", "width": 99999, "hide": True, "sort": "asc", "sortIndex": 0},
                  {"colId": "<script>", "width": 10}, {"colId": "id", "hide": "yes", "sort": "sideways"}],
      "filter": {"category": {"filterType": "text", "type": "contains", "filter": "道路"}, "evil": {}},
      "search": "东街", "quick": ["red", "drop"]},
     {"columns": [{"colId": "place", "hide": True, "width": 1200, "sort": "asc", "sortIndex": 0, "pinned": None},
                  {"colId": "id", "hide": False, "sort": None, "sortIndex": None, "pinned": None}],
      "filter": {"category": {"filterType": "text", "type": "contains", "filter": "道路"}},
      "search": "东街", "quick": ["red"]}),
    ("not a dict", {"columns": [], "filter": {}, "search": "", "quick": []}),
    ({"columns": "x", "filter": [1], "search": 5, "quick": "red"}, {"columns": [], "filter": {}, "search": "", "quick": []}),
])
def test_bkl014_prefs_are_cleaned(stored, expected):
    assert backlog.clean_prefs(stored) == expected


def test_bkl015_visible_columns_follow_the_column_state():
    state = backlog.clean_columns([{"colId": "flags"}, {"colId": "id"}, {"colId": "place", "hide": True}])
    assert backlog.visible_columns(state)[:2] == ["flags", "id"] and "place" not in backlog.visible_columns(state)
    assert backlog.visible_columns([]) == list(backlog.COLUMNS)


def test_bkl016_a_category_name_is_text_never_markup(hand_conn, calendar):
    hand_conn.execute(update(categories).where(categories.c.code == "0110").values(name="<img src=x onerror=1>"))
    rows, _ = _page(hand_conn, calendar, scope=DONGJIE)
    assert rows[0]["category"] == "<img src=x onerror=1>"  # AG Grid shows a string as text
