"""queries.events.event_detail on the hand city (tests/handcity.py): names, log order, scope, hostile ids."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert

from queries.events import event_detail
from queries.schema import event_log
from queries.scope import Scope
from tests import handcity

CITY = Scope(handcity.CITY, 0)
DONGCHENG = Scope("329902", 1)
XICHENG = Scope("329903", 1)


def test_evq001_names_and_fields(hand_conn):
    got = event_detail(hand_conn, scope=CITY, event_id=3)
    assert (got.id, got.category_code, got.category_name, got.class_code, got.class_name) == (
        3, "0110", "道路破损", "01", "市容环境")
    assert (got.district_name, got.street_name, got.community_name, got.grid_name, got.building_name) == (
        "东城区", "东街街道", "东街社区", "东街第01网格", "2号楼")
    assert (got.grid_code, got.building_code) == (handcity.A1, handcity.A1 + "002")
    assert (got.department_code, got.department_name, got.worker_id, got.worker_name) == (
        "329902-01", "东城区城管执法局", 1, "张伟")
    assert (got.limit_value, got.limit_unit) == (5.0, "work_days")
    assert (got.status, got.dispatched_at, got.deadline_at, got.handled_at) == (
        "dispatched", datetime(2026, 11, 10, 9, 30), datetime(2026, 11, 17, 9, 30), None)
    assert got.reporter == "李娜 13812345678"  # whole: the loader masks it
    assert (got.urgent, got.is_parked, got.is_void, got.lat, got.lon) == (False, False, False, 31.1, 120.0)
    assert [(s.action, s.status) for s in got.log] == [("report", "reported")]
    # Event 6 is urgent (04 突发事件); event 8 parked; event 5 void and never dispatched.
    assert event_detail(hand_conn, scope=CITY, event_id=6).urgent is True
    assert event_detail(hand_conn, scope=CITY, event_id=8).is_parked is True
    five = event_detail(hand_conn, scope=CITY, event_id=5)
    assert (five.is_void, five.department_code, five.deadline_at) == (True, "329902-01", None)


def test_evq002_log_in_the_order_it_happened(hand_conn):
    # Steps appended out of id order (an import filled an older step later): the log is read by time.
    at = datetime(2026, 11, 10, 9, 0)
    rows = [
        dict(id=101, event_id=3, occurred_at=datetime(2026, 11, 10, 9, 30), action="dispatch",
             from_status="registered", to_status="dispatched", actor="center", department_code="329902-01",
             deadline_at=datetime(2026, 11, 17, 9, 30)),
        dict(id=100, event_id=3, occurred_at=datetime(2026, 11, 10, 9, 20), action="register",
             from_status="accepted", to_status="registered", actor="center"),
        dict(id=99, event_id=3, occurred_at=at, action="accept", from_status="reported", to_status="accepted",
             actor="center", note="电话 13812345678"),
        dict(id=102, event_id=4, occurred_at=at, action="accept", from_status="reported", to_status="accepted"),
    ]
    blank = dict.fromkeys(("actor", "note", "department_code", "deadline_at"))
    hand_conn.execute(insert(event_log), [{**blank, **row} for row in rows])
    got = event_detail(hand_conn, scope=CITY, event_id=3)
    assert [(s.id, s.action, s.at, s.status) for s in got.log] == [
        (3, "report", at, "reported"),
        (99, "accept", at, "accepted"),  # same instant as the report: by id
        (100, "register", datetime(2026, 11, 10, 9, 20), "registered"),
        (101, "dispatch", datetime(2026, 11, 10, 9, 30), "dispatched"),
    ]
    dispatch = got.log[-1]
    assert (dispatch.department_code, dispatch.deadline_at, dispatch.actor, dispatch.from_status) == (
        "329902-01", datetime(2026, 11, 17, 9, 30), "center", "registered")
    assert got.log[1].note == "电话 13812345678"  # whole: the loader masks it


@pytest.mark.parametrize("scope, visible", [
    (CITY, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}),
    (DONGCHENG, {1, 2, 3, 4, 5, 6, 7, 11}),
    (XICHENG, {8, 9, 10}),
    (Scope("329902002", 2), {6, 7}),  # 南苑街道
    (Scope(handcity.A2, 4), {4, 5}),
    # A department handler: its district, only its own cases (every hand event has its district's).
    (Scope("329902", 1, department="329902-01"), {1, 2, 3, 4, 5, 6, 7, 11}),
    (Scope("329903", 1, department="329903-01"), {8, 9, 10}),
    (Scope(handcity.CITY, 0, department="329900-12"), set()),  # the hotline center has no case here
])
def test_evq003_scope(hand_conn, scope, visible):
    found = {i for i in range(1, 12) if event_detail(hand_conn, scope=scope, event_id=i) is not None}
    assert found == visible


def test_evq004_outside_scope_and_unknown_look_the_same(hand_conn):
    assert event_detail(hand_conn, scope=XICHENG, event_id=3) is None  # 东城区's
    assert event_detail(hand_conn, scope=XICHENG, event_id=12) is None  # nobody's
    assert event_detail(hand_conn, scope=CITY, event_id=12) is None


@pytest.mark.parametrize("event_id", [0, -1, -(2**63), 2**63, 2**70, 10**40, True, "3", 3.0, None, "3 OR 1=1"])
def test_evq005_hostile_ids(hand_conn, event_id):
    assert event_detail(hand_conn, scope=CITY, event_id=event_id) is None
    assert event_detail(hand_conn, scope=CITY, event_id=2**63 - 1) is None  # the largest BIGINT: no such event
