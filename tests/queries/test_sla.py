"""The SLA page's figures on the hand city (tests/handcity.py); every expected number is worked out beside it.

The hand city at as_of = NOW (11-20 15:00), window [10-21 15:00, 11-20 15:00):
  handled in the window by as_of: 1 (11-20 10:00, on time), 2 (11-19 16:35, late), 6 (11-18 11:10, on time,
    checked, not closed), 7 (10-25 10:00, late).
  closed in the window: 1 (on time), 2 (late), 7 (late).
  open, not handled, past the deadline at as_of: 3 (deadline 11-17 09:30, in the window) and 9 (09-04, before
    it: not in the rates' denominators, but in overdue_open).
  so 按期处置率 = (1, 6) / (1, 2, 6, 7 + 3) = 2/5 and 按期结案率 = (1) / (1, 2, 7 + 3) = 1/4.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from dashboard import sla as sla_rules
from dashboard.worktime import WorkCalendar
from queries import areas as aq
from queries import sla
from queries.schema import closures, events
from queries.scope import Scope
from queries.state import closures_missing_sla, fill_closure_sla, rebuild_closures
from tests.handcity import NOW, SINCE

CITY = Scope("329900", 0)
EAST, WEST = "329902", "329903"
DONGJIE, NANYUAN = "329902001", "329902002"
CALENDAR = WorkCalendar()
LIMITS = sla_rules.stage_limits()


def area(conn, code):
    return aq.get_area(conn, scope=CITY, code=code)


def window(as_of=NOW, days=30):
    return dict(since=as_of - timedelta(days=days), until=as_of, as_of=as_of)


def pair(rate):
    return rate.numerator, rate.denominator


# ------------------------------------------------------------------------------------------------ on-time rates

def test_sla001_week_trend_city(hand_conn):
    points = sla.trend(hand_conn, scope=CITY, area=area(hand_conn, "329900"), grain="week", **window())
    # Weeks (Mondays) touched by [10-21, 11-20]: 10-19 … 11-16. 7 handled and closed late on Sun 10-25;
    # week of 11-16: handled 1, 2, 6 (2 late) + 3 overdue (due Tue 11-17); closed 1, 2 (2 late) + 3.
    assert [(p.bucket, pair(p.handle), pair(p.close)) for p in points] == [
        (date(2026, 10, 19), (0, 1), (0, 1)),
        (date(2026, 10, 26), (0, 0), (0, 0)),
        (date(2026, 11, 2), (0, 0), (0, 0)),
        (date(2026, 11, 9), (0, 0), (0, 0)),
        (date(2026, 11, 16), (2, 4), (1, 3)),
    ]
    assert points[-1].handle.value == 0.5 and points[1].handle.value is None


def test_sla002_day_trend_adds_up_to_the_period(hand_conn):
    points = sla.trend(hand_conn, scope=CITY, area=area(hand_conn, "329900"), grain="day", **window())
    assert len(points) == 31 and points[0].bucket == date(2026, 10, 21) and points[-1].bucket == date(2026, 11, 20)
    busy = {p.bucket.isoformat(): (pair(p.handle), pair(p.close)) for p in points if p.handle.denominator
            or p.close.denominator}
    assert busy == {"2026-10-25": ((0, 1), (0, 1)), "2026-11-17": ((0, 1), (0, 1)),  # 3 overdue since its deadline
                    "2026-11-18": ((1, 1), (0, 0)), "2026-11-19": ((0, 1), (0, 1)), "2026-11-20": ((1, 1), (1, 1))}
    assert sum(p.handle.numerator for p in points) == 2 and sum(p.handle.denominator for p in points) == 5
    assert sum(p.close.numerator for p in points) == 1 and sum(p.close.denominator for p in points) == 4
    month = sla.trend(hand_conn, scope=CITY, area=area(hand_conn, "329900"), grain="month", **window())
    assert [(p.bucket, pair(p.handle), pair(p.close)) for p in month] == [
        (date(2026, 10, 1), (0, 1), (0, 1)), (date(2026, 11, 1), (2, 4), (1, 3))]


def test_sla003_the_trap_open_overdue_counts_against_the_unit(hand_conn):
    east = area(hand_conn, EAST)
    (row,) = [r for r in sla.split(hand_conn, scope=CITY, area=area(hand_conn, "329900"), by="area", **window())
              if r.key == EAST]
    # 东城区 closed 1, 2, 7, one on time: 1/3 over closed cases only; 3 is open and late: 1/4.
    assert pair(row.close) == (1, 4) and row.close.value == 0.25
    # Handle 3 the day after its deadline (late): it leaves the overdue set and joins the handled, still late.
    hand_conn.execute(update(events).where(events.c.id == 3).values(handled_at=datetime(2026, 11, 18, 9, 0)))
    (after,) = sla.split(hand_conn, scope=CITY, area=east, by="department", **window())
    assert pair(after.handle) == (2, 5) and pair(after.close) == (1, 3) and after.overdue_open == 0


SPLITS_AT_NOW = [
    # drill area, by, [(key, handle, close, overdue_open)]
    ("329900", "area", [(EAST, (2, 5), (1, 4), 1), (WEST, (0, 0), (0, 0), 1)]),
    ("329900", "street", [(DONGJIE, (1, 3), (1, 3), 1), (NANYUAN, (1, 2), (0, 1), 0), ("329903001", (0, 0), (0, 0), 1)]),
    ("329900", "department", [("329902-01", (2, 5), (1, 4), 1), ("329903-01", (0, 0), (0, 0), 1)]),
    # classes: 01 市容环境 (2, 3 open late, 7), 04 (6), 05 (1, 4, 8), 06 (9, 10)
    ("329900", "class", [("01", (0, 3), (0, 3), 1), ("04", (1, 1), (0, 0), 0), ("05", (1, 1), (1, 1), 0),
                         ("06", (0, 0), (0, 0), 1)]),
    (EAST, "area", [(DONGJIE, (1, 3), (1, 3), 1), (NANYUAN, (1, 2), (0, 1), 0)]),
    (DONGJIE, "area", [("329902001001", (1, 3), (1, 3), 1)]),
]


@pytest.mark.parametrize("code, by, expected", SPLITS_AT_NOW)
def test_sla004_splits_by_hand(hand_conn, code, by, expected):
    rows = sla.split(hand_conn, scope=CITY, area=area(hand_conn, code), by=by, **window())
    assert [(r.key, pair(r.handle), pair(r.close), r.overdue_open) for r in rows] == expected


def test_sla005_parent_is_the_sum_of_its_children(hand_conn):
    for code in ("329900", EAST, DONGJIE):
        whole = sla.trend(hand_conn, scope=CITY, area=area(hand_conn, code), grain="month", **window())
        kids = sla.split(hand_conn, scope=CITY, area=area(hand_conn, code), by="area", **window())
        for name in ("handle", "close"):
            for part in ("numerator", "denominator"):
                assert sum(getattr(getattr(p, name), part) for p in whole) == sum(
                    getattr(getattr(k, name), part) for k in kids), (code, name, part)


@pytest.mark.parametrize("as_of, handle, close", [
    # 10:15: 1 handled (10:00) but not closed yet (10:30): handled, not closed; 2 and 7 closed late; 3 overdue.
    (datetime(2026, 11, 20, 10, 15), (2, 5), (0, 3)),
    # 16:30, from open_events: 4 (due 16:05) is now overdue too.
    (datetime(2026, 11, 20, 16, 30), (2, 6), (1, 5)),
])
def test_sla006_an_earlier_and_a_later_as_of(hand_conn, as_of, handle, close):
    points = sla.trend(hand_conn, scope=CITY, area=area(hand_conn, "329900"), grain="month", **window(as_of))
    assert (sum(p.handle.numerator for p in points), sum(p.handle.denominator for p in points)) == handle
    assert (sum(p.close.numerator for p in points), sum(p.close.denominator for p in points)) == close


# ------------------------------------------------------------------------------------------- backlog and lights

def test_sla010_backlog_age_by_class_and_area(hand_conn):
    city = area(hand_conn, "329900")
    # Open at NOW (8 parked, left out): 3 (10.25 d), 4 (1 h), 6 (2.2 d), 9 (80 d), 10 (1 s).
    by_class = sla.backlog_age(hand_conn, scope=CITY, area=city, by="class", as_of=NOW)
    assert [(r.key, r.buckets) for r in by_class] == [
        ("01", (0, 0, 0, 1, 0)), ("04", (0, 1, 0, 0, 0)), ("05", (1, 0, 0, 0, 0)), ("06", (1, 0, 0, 0, 1))]
    assert [r.name for r in by_class] == ["市容环境", "突发事件", "街面秩序", "社会治理(扩展事件)"]
    by_area = sla.backlog_age(hand_conn, scope=CITY, area=city, by="area", as_of=NOW)
    assert [(r.key, r.buckets, r.total) for r in by_area] == [(EAST, (1, 1, 0, 1, 0), 3), (WEST, (1, 0, 0, 0, 1), 2)]
    # At 11-20 12:00: 4 and 10 not reported yet; 3 is 10.1 days old, 6 2.08, 9 80.1.
    earlier = sla.backlog_age(hand_conn, scope=CITY, area=area(hand_conn, EAST), by="area",
                              as_of=datetime(2026, 11, 20, 12, 0))
    assert [(r.key, r.buckets) for r in earlier] == [(DONGJIE, (0, 0, 0, 1, 0)), (NANYUAN, (0, 1, 0, 0, 0))]


@pytest.mark.parametrize("as_of, expected", [
    # 3 and 9 red; 4 green (55 of 120 working minutes); 6 green (handled at half its time); 10 no clock yet.
    # Turning red within 2 h: 4 (due 16:05).
    (NOW, (2, 0, 2, 1, 1)),
    # 15:45: 4 has used 100/120 → yellow.
    (datetime(2026, 11, 20, 15, 45), (1, 1, 2, 1, 1)),
    # 16:30 (open_events): 4 red too, 11 reported (no clock).
    (datetime(2026, 11, 20, 16, 30), (1, 0, 3, 2, 0)),
])
def test_sla011_lights_now_and_turning_red(hand_conn, as_of, expected):
    got = sla.lights(hand_conn, scope=CITY, area=area(hand_conn, "329900"), as_of=as_of, calendar=CALENDAR)
    assert (got.green, got.yellow, got.red, got.none, got.turning_red_2h) == expected
    assert got.total == sum(r.total for r in sla.backlog_age(hand_conn, scope=CITY, area=area(hand_conn, "329900"),
                                                             by="class", as_of=as_of))


def reference_lights(conn, as_of):
    """Return {id: light} of the open cases by dashboard/lights.py (the one-case clock's rules, vectorised)."""
    clocks = sla.open_clocks(conn, scope=CITY, area=area(conn, "329900"), as_of=as_of)
    return dict(zip(clocks["id"], sla_rules.clock_lights(CALENDAR, clocks, as_of)))


def sql_lights(conn, as_of):
    out = {}
    for key in ("green", "yellow", "red", "none"):
        for i in cases(conn, sla.Selector("light", key=key), as_of=as_of)[1]:
            out[i] = None if key == "none" else key
    return out


@pytest.mark.parametrize("as_of", [
    # Across case 4 (work hours, 14:05 → 16:05): green, the 80 % edge (16:05 − 24 working min = 15:41), yellow,
    # the deadline minute, red; across lunch and the night for 3 and 6; after 11 is reported.
    datetime(2026, 11, 20, 14, 30), datetime(2026, 11, 20, 15, 40), datetime(2026, 11, 20, 15, 41),
    datetime(2026, 11, 20, 15, 42), datetime(2026, 11, 20, 16, 5), datetime(2026, 11, 20, 16, 6),
    datetime(2026, 11, 18, 11, 0), datetime(2026, 11, 18, 11, 47), datetime(2026, 11, 18, 12, 30),
    datetime(2026, 11, 16, 17, 29), datetime(2026, 11, 17, 9, 0), datetime(2026, 11, 20, 16, 30),
])
def test_sla012_lights_in_sql_match_dashboard_lights(hand_conn, as_of):
    expected = reference_lights(hand_conn, as_of)
    assert sql_lights(hand_conn, as_of) == expected
    got = sla.lights(hand_conn, scope=CITY, area=area(hand_conn, "329900"), as_of=as_of, calendar=CALENDAR)
    assert (got.green, got.yellow, got.red, got.none) == tuple(
        sum(1 for v in expected.values() if v == key) for key in ("green", "yellow", "red", None))


def test_sla013_the_yellow_edge_of_case_4(hand_conn):
    # 4: 120 working minutes from 14:05; yellow once 96 are used (at 15:41), red after 16:05.
    assert [reference_lights(hand_conn, datetime(2026, 11, 20, 15, m))[4] for m in (40, 41)] == ["green", "yellow"]
    assert [sql_lights(hand_conn, datetime(2026, 11, 20, h, m))[4] for h, m in ((15, 40), (15, 41), (16, 5), (16, 6))] == [
        "green", "yellow", "yellow", "red"]


# ------------------------------------------------------------------------------------------------- the funnel

def test_sla020_funnel_city(hand_conn):
    stages = sla.funnel(hand_conn, scope=CITY, area=area(hand_conn, "329900"), limits=LIMITS, calendar=CALENDAR,
                        **window())
    got = {s.stage: (s.reached, s.median_min, s.p90_min, s.limit_min, s.over_limit, s.timed) for s in stages}
    # Reported in the window, not void: 1, 2, 3, 4, 6, 8, 10. 10 is not accepted; 1–8 registered at dispatch.
    # register (accepted = reported → registered): 10, 5, 30, 5, 10, 10 → median 10, p90 10 + 0.5·20 = 20.
    # handle (1, 2, 6): 50, 390, 60 min → median 60, p90 60 + 0.8·330 = 324; 2 past its deadline;
    #   limits (deadline − clock start) 120, 330, 120 → median 120.
    # check (1, 2, 6): 20, 15, 50 → median 20, p90 20 + 0.8·30 = 44; close (1, 2): 10, 10.
    assert got == {
        "report": (7, None, None, None, 0, 0),
        "accept": (6, 0.0, 0.0, 60.0, 0, 6),
        "register": (6, 10.0, 20.0, 120.0, 0, 6),
        "dispatch": (6, 0.0, 0.0, 120.0, 0, 6),
        "handle": (3, 60.0, 324.0, 120.0, 1, 3),
        "check": (3, 20.0, 44.0, 450.0, 0, 3),
        "close": (2, 10.0, 10.0, 450.0, 0, 2),
    }


@pytest.mark.parametrize("checked_at, over", [
    # 6 handled Wed 11-18 11:10. Working minutes to the check: that day 50 + 240 = 290;
    (datetime(2026, 11, 19, 11, 0), 0),  # + Thu 08:30–11:00 150 = 440 ≤ 450 (one work day)
    (datetime(2026, 11, 19, 11, 15), 1),  # + 165 = 455 > 450
    (datetime(2026, 11, 19, 12, 30), 1),  # lunch: + 210 = 500
])
def test_sla021_check_limit_is_one_work_day(hand_conn, checked_at, over):
    hand_conn.execute(update(events).where(events.c.id == 6).values(checked_at=checked_at))
    stages = {s.stage: s for s in sla.funnel(hand_conn, scope=CITY, area=area(hand_conn, NANYUAN), limits=LIMITS,
                                             calendar=CALENDAR, **window())}
    assert (stages["check"].reached, stages["check"].over_limit) == (1, over)
    sets = sla.case_sets(hand_conn, scope=CITY, area=area(hand_conn, NANYUAN), limits=LIMITS, calendar=CALENDAR,
                         selector=sla.Selector("funnel", "over_limit", stage="check"), **window())
    assert sla.case_page(hand_conn, sets=sets, offset=0, limit=10)[0] == over


def test_sla022_funnel_of_a_street_at_an_earlier_as_of(hand_conn):
    as_of = datetime(2026, 11, 20, 10, 15)
    stages = {s.stage: s for s in sla.funnel(hand_conn, scope=CITY, area=area(hand_conn, DONGJIE), limits=LIMITS,
                                             calendar=CALENDAR, **window(as_of))}
    # 东街: 1, 2, 3 reported by 10:15 (4 at 14:00 not yet; 5 void). 1 handled 10:00, checked 10:20 (not yet).
    assert [stages[s].reached for s in sla.FUNNEL_STAGES] == [3, 3, 3, 3, 2, 1, 1]


# ---------------------------------------------------------------------------------- handling and exceptions

def test_sla030_handling_distribution(hand_conn):
    city = area(hand_conn, "329900")
    rows = sla.handling(hand_conn, scope=CITY, area=city, by="class", **window())
    # Closed in the window: 2 (01, 6.5 h), 7 (01, 575.5 h), 1 (05, 50 min).
    assert [(d.key, d.n, d.bins) for d in rows] == [("01", 2, (0, 0, 0, 1, 0, 0, 0, 0, 1)),
                                                    ("05", 1, (1, 0, 0, 0, 0, 0, 0, 0, 0))]
    assert rows[0].median_h == pytest.approx(291.0) and rows[0].p90_h == pytest.approx(6.5 + 0.9 * 569)
    (dept,) = sla.handling(hand_conn, scope=CITY, area=city, by="department", **window())
    assert (dept.key, dept.name, dept.n, dept.median_h) == ("329902-01", "东城区城管执法局", 3, pytest.approx(6.5))
    cats = sla.handling(hand_conn, scope=CITY, area=city, by="category", **window())
    assert [(d.key, d.name, d.n) for d in cats] == [("0102", "暴露垃圾", 2), ("0505", "机动车乱停放", 1)]


def test_sla031_exception_rates(hand_conn):
    city = area(hand_conn, "329900")
    rows = sla.exceptions(hand_conn, scope=CITY, area=city, by="area", **window())
    # Closed in the window: 1, 2, 7, all 东城区, none extended, returned or reworked. Reported (void among
    # them): 东城区 1–6 (5 void), 西城区 8, 10.
    assert [(r.key, pair(r.extension), pair(r.returned), pair(r.rework), pair(r.void)) for r in rows] == [
        (EAST, (0, 3), (0, 3), (0, 3), (1, 6)), (WEST, (0, 0), (0, 0), (0, 0), (0, 2))]
    hand_conn.execute(update(events).where(events.c.id == 2).values(extension_count=2))
    hand_conn.execute(update(events).where(events.c.id == 7).values(return_count=1, rework_count=1))
    rebuild_closures(hand_conn)
    (dept,) = sla.exceptions(hand_conn, scope=CITY, area=city, by="department", **window())
    assert (pair(dept.extension), pair(dept.returned), pair(dept.rework), dept.void) == ((1, 3), (1, 3), (1, 3), None)
    sets = sla.case_sets(hand_conn, scope=CITY, area=city, limits=LIMITS, calendar=CALENDAR,
                         selector=sla.Selector("rework", "numerator", by="department", key="329902-01"), **window())
    total, rows = sla.case_page(hand_conn, sets=sets, offset=0, limit=10)
    assert (total, [r.id for r in rows]) == (1, [7])


def test_sla032_closures_backfill_of_an_older_store(hand_conn):
    hand_conn.execute(update(events).where(events.c.id == 2).values(extension_count=1))
    hand_conn.execute(update(closures).values(handled_at=None, deadline_at=None, extension_count=None,
                                              return_count=None, rework_count=None))
    assert closures_missing_sla(hand_conn)
    assert fill_closure_sla(hand_conn) == 3  # the closed 1, 2 and 7
    assert not closures_missing_sla(hand_conn) and fill_closure_sla(hand_conn) == 0
    from sqlalchemy import select
    rows = hand_conn.execute(select(closures.c.event_id, closures.c.handled_at, closures.c.deadline_at,
                                    closures.c.extension_count).order_by(closures.c.event_id)).all()
    assert [tuple(r) for r in rows] == [
        (1, datetime(2026, 11, 20, 10, 0), datetime(2026, 11, 20, 11, 10), 0),
        (2, datetime(2026, 11, 19, 16, 35), datetime(2026, 11, 19, 15, 35), 1),
        (7, datetime(2026, 10, 25, 10, 0), datetime(2026, 10, 9, 10, 30), 0)]


# ------------------------------------------------------------------------------------------ the cases behind

def cases(conn, selector, *, scope=CITY, code="329900", as_of=NOW, limit=50, offset=0):
    sets = sla.case_sets(conn, scope=scope, area=area(conn, code), selector=selector, limits=LIMITS,
                         calendar=CALENDAR, **window(as_of))
    total, rows = sla.case_page(conn, sets=sets, offset=offset, limit=limit)
    return total, [r.id for r in rows]


@pytest.mark.parametrize("selector, expected", [
    (sla.Selector("handle", "on_time"), (2, [6, 1])),
    (sla.Selector("handle", "late"), (3, [7, 3, 2])),
    (sla.Selector("handle", "all"), (5, [7, 3, 6, 2, 1])),
    (sla.Selector("close", "all"), (4, [7, 3, 2, 1])),
    (sla.Selector("close", "overdue"), (1, [3])),
    (sla.Selector("handle", "all", grain="week", bucket=date(2026, 11, 16)), (4, [3, 6, 2, 1])),
    (sla.Selector("handle", "all", grain="day", bucket=date(2026, 11, 17)), (1, [3])),
    (sla.Selector("close", "all", by="area", key=WEST), (0, [])),
    (sla.Selector("overdue_open", by="area", key=WEST), (1, [9])),
    (sla.Selector("age", by="class", key="06", bin="gt30d"), (1, [9])),
    (sla.Selector("age", bin="lt1d"), (2, [4, 10])),
    (sla.Selector("turning_red"), (1, [4])),
    (sla.Selector("light", key="red"), (2, [9, 3])),
    (sla.Selector("light", key="none"), (1, [10])),
    (sla.Selector("light", key="turning_red_2h"), (1, [4])),
    (sla.Selector("funnel", "reached", stage="handle"), (3, [6, 2, 1])),
    (sla.Selector("funnel", "over_limit", stage="handle"), (1, [2])),
    (sla.Selector("handling", by="class", key="01", bin="gt7d"), (1, [7])),
    (sla.Selector("void", "numerator", by="area", key=EAST), (1, [5])),
    (sla.Selector("extension", "denominator"), (3, [7, 2, 1])),
])
def test_sla040_the_cases_behind_each_figure(hand_conn, selector, expected):
    assert cases(hand_conn, selector) == expected


def test_sla041_case_rows_carry_names_and_no_personal_data(hand_conn):
    sets = sla.case_sets(hand_conn, scope=CITY, area=area(hand_conn, "329900"), selector=sla.Selector("handle", "late"),
                         limits=LIMITS, calendar=CALENDAR, **window())
    _, rows = sla.case_page(hand_conn, sets=sets, offset=1, limit=1)
    (row,) = sla_rules.case_rows(CALENDAR, rows, NOW)
    assert (row.id, row.category, row.place, row.department, row.status, row.light) == (
        3, "道路破损", "东街社区 · 东街第01网格", "东城区城管执法局", "dispatched", "red")
    assert "李娜" not in repr(row) and "138" not in repr(row)


# ---------------------------------------------------------------------------------------------------- scope

def test_sla050_a_street_never_sees_another_streets_figures_or_cases(hand_conn):
    street = Scope(DONGJIE, 2)
    west = area(hand_conn, WEST)
    assert sla.split(hand_conn, scope=street, area=west, by="area", **window()) == []
    assert sla.trend(hand_conn, scope=street, area=west, grain="day", **window()) == []
    assert sla.backlog_age(hand_conn, scope=street, area=west, by="class", as_of=NOW) == []
    assert sla.open_clocks(hand_conn, scope=street, area=west, as_of=NOW)["id"] == []
    own = area(hand_conn, DONGJIE)
    (row,) = sla.split(hand_conn, scope=street, area=own, by="area", **window())
    assert pair(row.handle) == (1, 3)
    assert cases(hand_conn, sla.Selector("handle", "all"), scope=street, code=DONGJIE) == (3, [3, 2, 1])


def test_sla051_a_department_sees_only_its_cases(hand_conn):
    west_dept = Scope(WEST, 1, department="329903-01")
    city_dept = Scope("329900", 0, department="329900-12")  # the hotline center: no case is its
    (row,) = sla.split(hand_conn, scope=west_dept, area=area(hand_conn, WEST), by="department", **window())
    assert (row.key, pair(row.handle), row.overdue_open) == ("329903-01", (0, 0), 1)
    assert sla.split(hand_conn, scope=city_dept, area=area(hand_conn, "329900"), by="department", **window()) == []
    assert cases(hand_conn, sla.Selector("handle", "all"), scope=city_dept) == (0, [])
    stages = sla.funnel(hand_conn, scope=city_dept, area=area(hand_conn, "329900"), limits=LIMITS,
                        calendar=CALENDAR, **window())
    assert [s.reached for s in stages] == [0] * 7


# ------------------------------------------------------------------------------------------------- selectors

@pytest.mark.parametrize("given, expected", [
    ({"figure": "handle", "grain": "day", "bucket": "2026-11-03", "part": "late"},
     sla.Selector("handle", "late", "day", date(2026, 11, 3))),
    ({"figure": "close", "part": "numerator", "by": "class", "key": "01"},
     sla.Selector("close", "on_time", by="class", key="01")),
    ({"figure": "age", "by": "class", "key": "01", "bin": "3to7d"}, sla.Selector("age", by="class", key="01", bin="3to7d")),
    ({"figure": "age", "by": "class", "key": "01", "bucket": "3to7d"}, sla.Selector("age", by="class", key="01", bin="3to7d")),
    ({"figure": "handling", "bucket": "gt7d"}, sla.Selector("handling", bin="gt7d")),
    ({"figure": "light", "key": "red"}, sla.Selector("light", key="red")),
    ({"figure": "funnel", "stage": "check", "part": "over_limit"}, sla.Selector("funnel", "over_limit", stage="check")),
    ({"figure": "void", "part": "numerator", "by": "area", "key": "329902"},
     sla.Selector("void", "numerator", by="area", key="329902")),
])
def test_sla060_selectors_parse(given, expected):
    got = sla_rules.parse_selector(given)
    assert got == expected
    assert sla_rules.parse_selector(sla_rules.selector_dict(got)) == got


@pytest.mark.parametrize("given, message", [
    ({}, "needs 'figure'"),
    ({"figure": "nope"}, "must be one of"),
    ({"figure": "handle", "grain": "day"}, "go together"),
    ({"figure": "handle", "grain": "week", "bucket": "2026-11-03"}, "first day of a week"),
    ({"figure": "handle", "grain": "day", "bucket": "2026-13-40"}, "must be a date"),
    ({"figure": "handle", "part": "everything"}, "must be one of"),
    ({"figure": "age", "by": "department"}, "must be one of"),
    ({"figure": "light"}, "needs 'key'"),
    ({"figure": "light", "key": "blue"}, "must be one of"),
    ({"figure": "close", "key": "01"}, "needs 'by'"),
    ({"figure": "close", "by": "class", "key": "01' OR 1=1"}, "must be a code"),
    ({"figure": "funnel"}, "needs 'stage'"),
    ({"figure": "age", "grain": "day", "bucket": "2026-11-03"}, "takes no 'grain'"),
    ({"figure": "age", "bucket": "2026-11-03"}, "must be one of"),
    ({"figure": "age", "bucket": "lt1d", "bin": "lt1d"}, "not both"),
    ({"figure": "light", "key": "red", "bucket": "lt1d"}, "takes no 'bucket'"),
    ({"figure": "handle", "by": "class", "key": "0" * 41}, "too long"),
    ({"figure": "handle", "evil": "1"}, "unknown selector field"),
    ({"figure": 3}, "must be a string"),
    ([("figure", "handle")], "is an object"),
])
def test_sla061_malformed_selectors_are_refused_with_a_reason(given, message):
    with pytest.raises(ValueError, match=message):
        sla_rules.parse_selector(given)


@pytest.mark.parametrize("offset, limit", [(-1, 50), (0, 0), (0, 201), (10**7, 50), (True, 50), (0, "5")])
def test_sla062_pages_out_of_range_are_refused(offset, limit):
    with pytest.raises(ValueError):
        sla_rules.check_page(offset, limit)


def test_sla063_unknown_grain_or_split_raises(hand_conn):
    city = area(hand_conn, "329900")
    with pytest.raises(ValueError):
        sla.trend(hand_conn, scope=CITY, area=city, grain="year", **window())
    with pytest.raises(ValueError):
        sla.split(hand_conn, scope=CITY, area=city, by="worker", **window())
    assert SINCE == window()["since"]


@pytest.mark.parametrize("values", [[5], [1, 2], [0, 0, 0, 10], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], list(range(1000))])
def test_sla070_percentiles_from_a_histogram_are_percentile_cont(values):
    import numpy as np
    from collections import Counter

    histogram = sorted(Counter(values).items())
    assert sla.percentiles(histogram, (0.5, 0.9, 0.0, 1.0)) == pytest.approx(
        [np.percentile(values, q) for q in (50, 90, 0, 100)])
    assert sla.percentiles([], (0.5,)) == [None]


@pytest.mark.parametrize("accepted_at, over", [
    # 6 reported 11-18 10:00: acceptance has a 1-hour limit, counted in whole minutes.
    (datetime(2026, 11, 18, 11, 0), 0),  # 60 minutes: at the limit, not over
    (datetime(2026, 11, 18, 11, 0, 59), 0),  # 60 whole minutes still
    (datetime(2026, 11, 18, 11, 1), 1),  # 61
])
def test_sla023_clock_limits_in_whole_minutes(hand_conn, accepted_at, over):
    hand_conn.execute(update(events).where(events.c.id == 6).values(accepted_at=accepted_at))
    nanyuan = area(hand_conn, NANYUAN)
    stages = {s.stage: s for s in sla.funnel(hand_conn, scope=CITY, area=nanyuan, limits=LIMITS, calendar=CALENDAR,
                                             **window())}
    assert (stages["accept"].over_limit, stages["accept"].timed) == (over, 1)
    assert stages["accept"].median_min == (61.0 if over else 60.0)
    sets = sla.case_sets(hand_conn, scope=CITY, area=nanyuan, limits=LIMITS, calendar=CALENDAR,
                         selector=sla.Selector("funnel", "over_limit", stage="accept"), **window())
    assert sla.case_page(hand_conn, sets=sets, offset=0, limit=10)[0] == over


def test_sla033_an_older_store_is_upgraded_once(hand_engine):
    """A store from before the SLA columns: the upgrade adds them empty, fills them from events, marks it done."""
    from sqlalchemy import select

    from dashboard.store import CLOSURES_SLA_FILLED, init_schema
    from queries.meta import get_meta

    with hand_engine.begin() as conn:
        for name in ("handled_at", "deadline_at", "extension_count", "return_count", "rework_count"):
            conn.exec_driver_sql(f"ALTER TABLE closures DROP COLUMN {name}")
    added = init_schema(hand_engine)
    assert {"closures.handled_at", "closures.rework_count"} <= set(added)
    with hand_engine.connect() as conn:
        assert get_meta(conn, CLOSURES_SLA_FILLED) == "1" and not closures_missing_sla(conn)
        assert conn.execute(select(closures.c.deadline_at).where(closures.c.event_id == 7)).scalar() == datetime(
            2026, 10, 9, 10, 30)
        assert pair(sla.split(conn, scope=CITY, area=area(conn, "329900"), by="area", **window())[0].close) == (1, 4)


def test_sla033_closures_rebuilt_a_window_at_a_time_are_the_same_rows_in_close_order(hand_conn):
    from datetime import timedelta

    from sqlalchemy import select

    def rows():
        return [tuple(r) for r in hand_conn.execute(select(closures))]  # in stored order: close order

    rebuild_closures(hand_conn)
    whole = rows()
    # Closed 1 (11-20 10:30), 2 (11-19 17:00), 7: one window per hour puts each in a window of its own.
    assert rebuild_closures(hand_conn, window=timedelta(hours=1)) == len(whole) == 3
    assert rows() == whole
    assert [r[1] for r in whole] == sorted(r[1] for r in whole)  # close order
