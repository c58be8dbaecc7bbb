"""The ticker and the urgent alerts on the hand city (tests/handcity.py), worked out by hand.

Reported times of the hand city's events (2026): 1 A1 11-20 09:00, 2 A1 11-19 10:00, 3 A1 11-10 09:00,
4 A2 11-20 14:00, 5 A2 11-20 08:00 (void), 6 B1 11-18 10:00 (0401, urgent), 7 B1 10-01, 8 C1 11-20 10:00,
9 C2 09-01, 10 C2 11-20 14:59:59, 11 A1 11-20 16:00.

The ticker at 15:00 looks back 7 days, to 11-13 15:00, up to and including 15:00: 10, 4, 8, 1, 5, 2, 6
(3 is older, 11 later). Void events are listed like any report.

Urgent = the category is marked urgent in the catalogue (the events row's ``urgent``) or of class 04.
Only event 6 is urgent in the hand city, and it is older than 24 h at 15:00, so no alert is open; the
``alert_store`` fixture adds (reported, grid, category, urgent flag):
  12 B2 0115 11-20 11:00 urgent (class 01, marked urgent in the catalogue)
  13 C1 0402 11-20 12:00 flag false, but class 04
  14 A1 0401 11-20 13:00 void
  15 A2 0403 11-19 15:00 (the first instant of the 24 h before 15:00)
  16 A1 0401 11-20 15:30 (after 15:00)
  17 A2 0505 11-20 13:30 not urgent
At 15:00 the open alerts are 13, 12, 15 (newest first); 东城区 12, 15; 西城区 13.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, select

from queries import alerts as aq
from queries import areas as area_queries
from queries.schema import alert_acks, events
from queries.scope import Scope
from tests import handcity
from tests.handcity import A1, A2, B1, B2, C1, C2, NOW

CITY = Scope(handcity.CITY, 0)
EAST = Scope("329902", 1)
WEST = Scope("329903", 1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}")


def area(conn, code: str, scope: Scope = CITY):
    return area_queries.get_area(conn, scope=scope, code=code)


def recent(conn, code=handcity.CITY, *, scope=CITY, as_of=NOW, **kw) -> list[int]:
    return [e.id for e in aq.recent_events(conn, scope=scope, area=area(conn, code), as_of=as_of, **kw)]


# -- the ticker -----------------------------------------------------------------------------------------------
def test_alr001_the_newest_events_of_the_city_come_first(hand_conn):
    assert recent(hand_conn) == [10, 4, 8, 1, 5, 2, 6]


def test_alr002_an_event_reads_with_its_category_and_place(hand_conn):
    first, *_ = aq.recent_events(hand_conn, scope=CITY, area=area(hand_conn, handcity.CITY), as_of=NOW, limit=1)
    assert first == aq.TickerEvent(
        id=10, reported_at=at("11-20 14:59:59"), category_code="0601", category_name="矛盾纠纷",
        class_name="社会治理(扩展事件)", source="grid_worker", status="reported", urgent=False,
        community_name="西湖社区", grid_name="西湖第02网格", grid_code=C2, lat=31.1, lon=120.0)
    six = aq.recent_events(hand_conn, scope=CITY, area=area(hand_conn, B1), as_of=NOW)
    assert [(e.id, e.urgent, e.category_name) for e in six] == [(6, True, "路面塌陷")]


@pytest.mark.parametrize("code, expected", [
    ("329902", [4, 1, 5, 2, 6]),
    ("329903", [10, 8]),
    ("329902001", [4, 1, 5, 2]),
    (A1, [1, 2]),  # 3 is older than 7 days, 11 is after 15:00
    (B2, []),
])
def test_alr003_an_area_lists_its_own_events(hand_conn, code, expected):
    assert recent(hand_conn, code) == expected


def test_alr004_the_scope_cuts_whatever_area_is_asked(hand_conn):
    assert recent(hand_conn, "329903", scope=WEST) == [10, 8]
    # 东城区's area object asked under 西城区's scope: nothing of it.
    assert aq.recent_events(hand_conn, scope=WEST, area=area(hand_conn, "329902"), as_of=NOW) == []
    # A department sees its cases only: the city hotline center has none, 西城区's department 8 and 10.
    assert recent(hand_conn, scope=Scope(handcity.CITY, 0, department="329900-12")) == []
    assert recent(hand_conn, "329903", scope=Scope("329903", 1, department="329903-01")) == [10, 8]


@pytest.mark.parametrize("as_of, expected", [
    ("11-20 16:00", [11, 10, 4, 8, 1, 5, 2, 6]),  # 11 counts from its own instant
    ("11-20 14:00", [4, 8, 1, 5, 2, 6]),  # 4 at exactly as_of is in; 10 (14:59:59) is not yet
    ("11-20 13:59", [8, 1, 5, 2, 6]),
    ("11-17 09:00", [3]),  # the window starts at 11-10 09:00: 3 was reported at that instant
    ("11-17 09:01", []),  # … and a minute later it is out
])
def test_alr005_as_of_and_the_seven_day_window(hand_conn, as_of, expected):
    assert recent(hand_conn, as_of=at(as_of)) == expected


def test_alr006_limit_and_days(hand_conn):
    assert recent(hand_conn, limit=3) == [10, 4, 8]
    assert recent(hand_conn, limit=0) == [10]  # at least one
    assert recent(hand_conn, limit=10 ** 9) == [10, 4, 8, 1, 5, 2, 6]  # capped at MAX_LIMIT (200)
    assert recent(hand_conn, days=30) == [10, 4, 8, 1, 5, 2, 6, 3]  # 7 (10-01) is older still


# -- urgent alerts --------------------------------------------------------------------------------------------
ADDED = [  # id, grid, category, reported, urgent flag, void
    (12, B2, "0115", "11-20 11:00", True, False),
    (13, C1, "0402", "11-20 12:00", False, False),
    (14, A1, "0401", "11-20 13:00", True, True),
    (15, A2, "0403", "11-19 15:00", True, False),
    (16, A1, "0401", "11-20 15:30", True, False),
    (17, A2, "0505", "11-20 13:30", False, False),
]


def add_events(conn, added=ADDED) -> None:
    """Add events shaped like the hand city's (reported, not yet dispatched)."""
    template = next(row for row in handcity.event_rows() if row["id"] == 10)
    conn.execute(insert(events), [
        {**template, "id": eid, "grid_code": grid, "building_code": grid + "001", "community_code": grid[:12],
         "street_code": grid[:9], "district_code": grid[:6], "department_code": grid[:6] + "-01",
         "category_code": cat, "class_code": cat[:2], "urgent": urgent, "is_void": void,
         "status": "void" if void else "reported", "reported_at": at(reported), "description": f"加的事件 {eid}"}
        for eid, grid, cat, reported, urgent, void in added])


@pytest.fixture
def alert_conn(hand_engine):
    """The hand city with the urgent events of the module docstring."""
    with hand_engine.begin() as conn:
        add_events(conn)
    with hand_engine.connect() as conn:
        yield conn


def alerts(conn, scope=CITY, as_of=NOW, **kw) -> list[int]:
    return [e.id for e in aq.open_alerts(conn, scope=scope, as_of=as_of, **kw)]


def test_alr010_no_alert_in_the_hand_city_at_three(hand_conn):
    # Event 6 (0401) is urgent but was reported 11-18 10:00, more than 24 h before 15:00.
    assert alerts(hand_conn) == []
    assert alerts(hand_conn, as_of=at("11-19 09:59")) == [6]  # within 24 h of its report
    assert alerts(hand_conn, hours=72) == [6]


def test_alr011_urgent_by_the_catalogue_or_by_class_04_within_24_hours(alert_conn):
    assert alerts(alert_conn) == [13, 12, 15]
    found = aq.open_alerts(alert_conn, scope=CITY, as_of=NOW)
    assert all(e.urgent for e in found)  # 13's flag is false: class 04 makes it urgent


@pytest.mark.parametrize("as_of, expected", [
    ("11-20 15:00:01", [13, 12]),  # 15 (11-19 15:00) has left the 24 h
    ("11-20 15:30", [16, 13, 12]),  # 16 counts from its report
    ("11-20 11:59", [12, 15]),
])
def test_alr012_the_24_hours_move_with_as_of(alert_conn, as_of, expected):
    assert alerts(alert_conn, as_of=at(as_of)) == expected


def test_alr013_alerts_of_a_scope(alert_conn):
    assert alerts(alert_conn, EAST) == [12, 15]
    assert alerts(alert_conn, WEST) == [13]
    assert alerts(alert_conn, Scope("329902001", 2)) == [15]  # 东街街道: A1, A2
    assert alerts(alert_conn, Scope(handcity.CITY, 0, department="329900-12")) == []
    assert alerts(alert_conn, limit=1) == [13]


def test_alr014_an_acknowledged_alert_is_closed(alert_conn):
    alert_conn.execute(insert(alert_acks).values(event_id=12, user_name="dongcheng", acknowledged_at=NOW))
    assert alerts(alert_conn) == [13, 15]
    assert alerts(alert_conn, EAST) == [15]


# -- acknowledging ----------------------------------------------------------------------------------------------
def acks(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(select(alert_acks).order_by(alert_acks.c.event_id))]


def test_alr020_the_first_acknowledgement_counts(hand_engine):
    with hand_engine.begin() as conn:
        add_events(conn)
        assert aq.acknowledge(conn, scope=CITY, event_id=12, user_name="leader", at=NOW) == ("ok", B2)
        assert aq.acknowledge(conn, scope=EAST, event_id=12, user_name="dongcheng", at=at("11-20 15:05")) == \
            ("already", B2)
        assert aq.acknowledge(conn, scope=CITY, event_id=6, user_name="leader", at=NOW) == ("ok", B1)
        assert acks(conn) == [(6, "leader", NOW), (12, "leader", NOW)]


@pytest.mark.parametrize("event_id, scope", [
    (1, CITY),  # 0505: not urgent
    (17, CITY),  # 0505 added: not urgent
    (999_999, CITY),  # no such event
    (6, WEST),  # 东城区's urgent event, asked by 西城区
    (13, EAST),  # 西城区's urgent event, asked by 东城区
    (6, Scope("329902", 1, department="329900-12")),  # in the district, but not this department's case
])
def test_alr021_unknown_says_nothing_of_why(hand_engine, event_id, scope):
    with hand_engine.begin() as conn:
        add_events(conn)
        assert aq.acknowledge(conn, scope=scope, event_id=event_id, user_name="x", at=NOW) == ("unknown", None)
        assert acks(conn) == []
