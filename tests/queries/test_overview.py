"""The overview queries on the hand city: every expected number is worked out in tests/handcity.py."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from queries import areas as aq
from queries import overview as ov
from queries.scope import Scope
from tests.handcity import A1, A2, B1, C2, NOW, SINCE

CITY_SCOPE = Scope("329900", 0)


def figures(conn, code, *, scope=CITY_SCOPE, as_of=NOW, since=SINCE, until=NOW):
    area = aq.get_area(conn, scope=CITY_SCOPE, code=code)
    return ov.area_figures(conn, scope=scope, area=area, as_of=as_of, since=since, until=until)


# code, reported, open, overdue, closed, closed on time — worked out in tests/handcity.py
HAND_FIGURES = [
    ("329900", 8, 5, 2, 3, 1),
    ("329902", 6, 3, 1, 3, 1),
    ("329903", 2, 2, 1, 0, 0),
    ("329902001", 5, 2, 1, 2, 1),
    ("329902002", 1, 1, 0, 1, 0),
    (A1, 3, 1, 1, 2, 1),
    (A2, 2, 1, 0, 0, 0),
    (C2, 1, 2, 1, 0, 0),
]


@pytest.mark.parametrize("code, reported, open_, overdue, closed, on_time", HAND_FIGURES)
def test_area_figures_by_hand(hand_conn, code, reported, open_, overdue, closed, on_time):
    got = figures(hand_conn, code)
    assert (got.reported, got.open, got.overdue, got.closed, got.closed_on_time) == (
        reported, open_, overdue, closed, on_time)


def test_on_time_rate_counts_open_overdue_against_the_unit(hand_conn):
    # City: 1 closed on time / (3 closed + 2 open and overdue) — not 1/3, which would hide the late open ones.
    assert figures(hand_conn, "329900").on_time_rate == pytest.approx(0.2)
    assert figures(hand_conn, "329902").on_time_rate == pytest.approx(0.25)
    assert figures(hand_conn, "329903").on_time_rate == 0.0
    assert figures(hand_conn, "329903001001001").on_time_rate is None  # nothing closed, nothing late


def test_median_handling_hours_is_dispatch_to_handled(hand_conn):
    # Closed in window: 0.8333 h, 6.5 h, 575.5 h → median 6.5 h.
    assert figures(hand_conn, "329900").median_handling_hours == pytest.approx(6.5)
    # 东街街道 closed 1 and 2: (0.8333 + 6.5) / 2
    assert figures(hand_conn, "329902001").median_handling_hours == pytest.approx((50 / 60 + 6.5) / 2)


@pytest.mark.parametrize(
    "as_of, open_, overdue",
    [
        (NOW, 5, 2),
        (datetime(2026, 11, 20, 12, 0), 3, 2),  # 1 closed at 10:30, 4 and 10 not reported yet
        (datetime(2026, 11, 20, 10, 0), 4, 2),  # 1 still open (closes 10:30), and 8 is parked
        (datetime(2026, 11, 20, 16, 30), 6, 3),  # 11 reported at 16:00; 4 due 16:05, not handled → overdue
    ],
)
def test_open_and_overdue_follow_as_of(hand_conn, as_of, open_, overdue):
    got = figures(hand_conn, "329900", as_of=as_of)
    assert (got.open, got.overdue) == (open_, overdue)


def test_parent_equals_sum_of_children_at_every_level(hand_conn):
    stack = ["329900"]
    while stack:
        code = stack.pop()
        parent = aq.get_area(hand_conn, scope=CITY_SCOPE, code=code)
        kids = aq.child_areas(hand_conn, scope=CITY_SCOPE, code=code)
        if not kids:
            continue
        rows = ov.children_figures(hand_conn, scope=CITY_SCOPE, parent=parent, child_codes=[k.code for k in kids],
                                   as_of=NOW, since=SINCE, until=NOW)
        whole = ov.area_figures(hand_conn, scope=CITY_SCOPE, area=parent, as_of=NOW, since=SINCE, until=NOW)
        for name in ("reported", "open", "overdue", "closed", "closed_on_time"):
            assert sum(getattr(r, name) for r in rows) == getattr(whole, name), (code, name)
        stack.extend(k.code for k in kids)


def test_children_figures_fill_zeros_and_keep_code_order(hand_conn):
    city = aq.get_area(hand_conn, scope=CITY_SCOPE, code="329903001001")
    rows = ov.children_figures(hand_conn, scope=CITY_SCOPE, parent=city,
                               child_codes=["329903001001002", "329903001001001"], as_of=NOW, since=SINCE, until=NOW)
    assert [r.code for r in rows] == ["329903001001001", "329903001001002"]
    assert rows[0].open == 0 and rows[0].reported == 1  # the parked one is reported, not open
    assert rows[1].open == 2


def test_grid_children_are_buildings(hand_conn):
    grid = aq.get_area(hand_conn, scope=CITY_SCOPE, code=A1)
    codes = [b.code for b in aq.grid_buildings(hand_conn, scope=CITY_SCOPE, grid_code=A1)]
    rows = ov.children_figures(hand_conn, scope=CITY_SCOPE, parent=grid, child_codes=codes,
                               as_of=NOW, since=SINCE, until=NOW)
    assert [(r.code[-3:], r.open, r.overdue) for r in rows] == [("001", 0, 0), ("002", 1, 1)]


def test_kpis_count_today_from_local_midnight(hand_conn):
    city = aq.get_area(hand_conn, scope=CITY_SCOPE, code="329900")
    got = ov.kpis(hand_conn, scope=CITY_SCOPE, area=city, as_of=NOW, since=SINCE, until=NOW)
    assert got.reported_today == 5
    assert got.figures.open == 5


def test_top_categories_most_first_ties_by_code(hand_conn):
    city = aq.get_area(hand_conn, scope=CITY_SCOPE, code="329900")
    got = ov.top_categories(hand_conn, scope=CITY_SCOPE, area=city, since=SINCE, until=NOW, limit=3)
    assert [(c.code, c.count) for c in got] == [("0505", 4), ("0102", 1), ("0110", 1)]
    assert got[0].name == "机动车乱停放"


def test_daily_trend_has_every_day_and_hand_counts(hand_conn):
    city = aq.get_area(hand_conn, scope=CITY_SCOPE, code="329900")
    got = ov.daily_trend(hand_conn, scope=CITY_SCOPE, area=city, since=SINCE, until=NOW)
    assert len(got) == 31 and got[0].day == date(2026, 10, 21) and got[-1].day == date(2026, 11, 20)
    by_day = {d.day: (d.reported, d.closed) for d in got}
    assert by_day[date(2026, 11, 20)] == (5, 1)
    assert by_day[date(2026, 11, 19)] == (1, 1)
    assert by_day[date(2026, 10, 25)] == (0, 1)
    assert sum(r for r, _ in by_day.values()) == 8


def test_building_open_events_oldest_first(hand_conn):
    got = ov.building_open_events(hand_conn, scope=CITY_SCOPE, building_code=A1 + "002", as_of=NOW)
    assert [(e.id, e.overdue) for e in got] == [(3, True)]
    assert ov.building_open_events(hand_conn, scope=CITY_SCOPE, building_code=A1 + "001", as_of=NOW) == []


@pytest.mark.parametrize(
    "scope, code, expect_open",
    [
        (Scope("329902", 1), "329902", 3),
        (Scope("329902", 1), "329902001", 2),
        (Scope("329903", 1), "329903001001", 2),
        (Scope("329902001", 2), A1, 1),
    ],
)
def test_scoped_caller_sees_own_area(hand_conn, scope, code, expect_open):
    area = aq.get_area(hand_conn, scope=scope, code=code)
    assert area is not None
    assert ov.area_figures(hand_conn, scope=scope, area=area, as_of=NOW, since=SINCE, until=NOW).open == expect_open


@pytest.mark.parametrize(
    "scope, code",
    [
        (Scope("329902", 1), "329903"),
        (Scope("329902", 1), "329900"),  # no looking above the scope
        (Scope("329902001", 2), "329902002"),
        (Scope("329902001", 2), B1),
        (Scope("329902001", 2), "329903001001002001"),
    ],
)
def test_out_of_scope_returns_nothing(hand_conn, scope, code):
    assert aq.get_area(hand_conn, scope=scope, code=code) is None
    assert aq.child_areas(hand_conn, scope=scope, code=code) == []
    assert aq.lineage(hand_conn, scope=scope, code=code) == []
    assert ov.building_open_events(hand_conn, scope=scope, building_code=code, as_of=NOW) == []
    # Even handed an Area object from elsewhere, a figure query returns nothing for it.
    foreign = aq.get_area(hand_conn, scope=CITY_SCOPE, code=code[:15])
    if foreign is not None:
        assert ov.area_figures(hand_conn, scope=scope, area=foreign, as_of=NOW, since=SINCE, until=NOW).open == 0
        assert ov.top_categories(hand_conn, scope=scope, area=foreign, since=SINCE, until=NOW) == []


def test_lineage_stops_at_the_scope(hand_conn):
    got = aq.lineage(hand_conn, scope=Scope("329902", 1), code=A2)
    assert [a.code for a in got] == ["329902", "329902001", "329902001001", A2]


@pytest.mark.parametrize("code", ["", "abc", "3299' OR 1=1 --", "32990%", "../../etc", "9" * 200])
def test_hostile_codes_find_nothing(hand_conn, code):
    assert aq.get_area(hand_conn, scope=CITY_SCOPE, code=code) is None
    assert aq.child_areas(hand_conn, scope=CITY_SCOPE, code=code) == []


def test_empty_window_gives_zero_reported(hand_conn):
    got = figures(hand_conn, "329900", since=NOW - timedelta(hours=1), until=NOW)
    assert got.reported == 2  # 4 (14:00) and 10 (14:59:59)
    assert figures(hand_conn, "329900", since=NOW, until=NOW).reported == 0
