"""The event timeline (dashboard/timeline.py), every number worked out by hand.

Working hours 08:30–12:00 and 13:30–17:30 (450 working minutes a day). 2026: Mon Nov 16 … Fri Nov 20;
National Day Oct 1–7 off, Sat Oct 10 a make-up workday, Sun Oct 11 off (tests/test_worktime.py).
Assumed stage limits: accept 1 h, verify 2 h, register 2 h, dispatch 2 h (around the clock), check and
close 1 work day. Each event is built the way the write path builds it: its steps replayed through
the loop, the log rows keeping the deadline each deciding step left behind.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from dashboard.loop import Limit, SlaClock, Transition, apply, EventState
from dashboard.timeline import STAGE_LIMITS, timeline
from dashboard.worktime import WorkCalendar
from queries.events import EventDetail, LogStep

NO_NOW = datetime(2100, 1, 1)


@pytest.fixture(scope="module")
def clock() -> SlaClock:
    return SlaClock(WorkCalendar())


def _d(text: str) -> datetime:
    """Parse 'MM-DD HH:MM' in 2026."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M")


def event(clock: SlaClock, limit: Limit, reported: str, steps: list[tuple[str, str]], *, log: bool = True,
          **more) -> EventDetail:
    """Return an EventDetail whose row is the fold of ``steps`` (action, 'MM-DD HH:MM') and whose log holds them."""
    state = EventState(source="grid_worker", status="reported", reported_at=_d(reported), updated_at=_d(reported))
    rows = [LogStep(1, "report", _d(reported), None, "reported", None, None, "t", None)]
    for i, (action, at) in enumerate(steps, start=2):
        before = state
        state = apply(state, Transition(action, _d(at), department_code="329902-01"), limit=limit, clock=clock,
                      now=NO_NOW)
        decided = action in ("dispatch", "extend", "unpark", "rework", "return")
        rows.append(LogStep(i, action, _d(at), before.status, state.status,
                            state.department_code if decided else None, state.deadline_at if decided else None,
                            "t", None))
    fields = dict(
        id=42, source="grid_worker", external_id=None, category_code="0102", category_name="暴露垃圾",
        class_code="01", class_name="市容环境", urgent=False, description="d", reporter=None, lat=31.1, lon=120.02,
        district_code="329902", district_name="东城区", street_code="329902001", street_name="东街街道",
        community_code="329902001001", community_name="东街社区", grid_code="329902001001001",
        grid_name="东街第01网格", building_code=None, building_name=None, department_name="东城区城管执法局",
        worker_id=None, worker_name=None, limit_value=limit.value, limit_unit=limit.unit,
        log=tuple(rows) if log else tuple(rows[:1]),
    )
    fields.update({name: getattr(state, name) for name in (
        "status", "is_parked", "is_void", "extension_count", "return_count", "rework_count", "reported_at",
        "accepted_at", "verified_at", "registered_at", "dispatched_at", "handled_at", "checked_at", "closed_at",
        "deadline_at", "clock_started_at", "updated_at", "department_code")})
    fields.update(more)
    return EventDetail(**fields)


def table(stages) -> list[tuple]:
    """Return (key, at, took, allowed, over, verdict, current) of each stage."""
    return [(s.key, s.at, s.took_minutes, s.allowed_minutes, s.over_minutes, s.verdict, s.current) for s in stages]


WORK_HOURS_2 = Limit(2, "work_hours")
WORK_HOURS_4 = Limit(4, "work_hours")


def test_tl001_closed_on_time(clock):
    # Mon Nov 16. Dispatch 10:30 + 120 working min: 90 to 12:00, 30 from 13:30 -> deadline 14:00.
    # Handled 11:45: 75 working min of 120. Checked 15:00: 15 (11:45-12:00) + 90 (13:30-15:00) = 105 of
    # 450; its deadline: 255 left on Monday, 195 from Tue 08:30 -> Tue 11:45. Closed 16:00: 60 of 450.
    detail = event(clock, WORK_HOURS_2, "11-16 09:00", [
        ("accept", "11-16 09:20"), ("register", "11-16 10:00"), ("dispatch", "11-16 10:30"),
        ("handle", "11-16 11:45"), ("check", "11-16 15:00"), ("close", "11-16 16:00")])
    stages = timeline(detail, clock=clock, as_of=_d("11-20 15:00"))
    assert table(stages) == [
        ("report", _d("11-16 09:00"), None, None, None, None, False),
        ("accept", _d("11-16 09:20"), 20, 60, None, "within", False),
        ("register", _d("11-16 10:00"), 40, 120, None, "within", False),
        ("dispatch", _d("11-16 10:30"), 30, 120, None, "within", False),
        ("handle", _d("11-16 11:45"), 75, 120, None, "within", False),
        ("check", _d("11-16 15:00"), 105, 450, None, "within", False),
        ("close", _d("11-16 16:00"), 60, 450, None, "within", False),
    ]
    handle = stages[4]
    assert (handle.deadline_at, handle.unit, handle.working_time, handle.assumed) == (
        _d("11-16 14:00"), "work_hours", True, False)
    assert handle.limit == WORK_HOURS_2 and handle.light == "green"
    assert (stages[5].deadline_at, stages[5].assumed, stages[5].limit) == (_d("11-17 11:45"), True, STAGE_LIMITS["check"])
    assert not stages[1].working_time  # the center's stages run around the clock
    assert not any(s.current for s in stages)


def test_tl002_closed_late_across_a_weekend(clock):
    # Fri Nov 13. Accept 2 h 10 min after the report: 1 h limit, deadline 14:00, over by 70 min.
    # Dispatch Fri 16:00 + 240 working min: 90 on Friday, 150 from Mon 08:30 -> Mon 11:00.
    # Handled Mon 14:00: 90 + 210 + 30 = 330 working min of 240, over by 60 (11:00-12:00) + 30 = 90.
    detail = event(clock, WORK_HOURS_4, "11-13 13:00", [
        ("accept", "11-13 15:10"), ("register", "11-13 15:30"), ("dispatch", "11-13 16:00"),
        ("handle", "11-16 14:00"), ("check", "11-16 15:00"), ("close", "11-16 15:10")])
    stages = timeline(detail, clock=clock, as_of=_d("11-20 15:00"))
    assert table(stages)[1:5] == [
        ("accept", _d("11-13 15:10"), 130, 60, 70, "over", False),
        ("register", _d("11-13 15:30"), 20, 120, None, "within", False),
        ("dispatch", _d("11-13 16:00"), 30, 120, None, "within", False),
        ("handle", _d("11-16 14:00"), 330, 240, 90, "over", False),
    ]
    handle = stages[4]
    assert handle.deadline_at == _d("11-16 11:00")
    assert handle.share == pytest.approx(1 + 90 / 240) and handle.light == "red"
    assert stages[1].light == "red"


def test_tl003_open_and_overdue(clock):
    # 2 work days from Tue Nov 17 09:00 (900 working min): 420 on Tuesday, 450 on Wednesday, 30 on
    # Thursday -> Thu 09:00. At Fri 10:00: 420 + 450 + 450 + 90 = 1410 used; over by 420 (Thu from
    # 09:00) + 90 (Fri to 10:00) = 510. Check and close wait, unmeasured.
    detail = event(clock, Limit(2, "work_days"), "11-17 08:40", [
        ("accept", "11-17 08:45"), ("register", "11-17 08:50"), ("dispatch", "11-17 09:00")])
    stages = timeline(detail, clock=clock, as_of=_d("11-20 10:00"))
    assert table(stages)[4:] == [
        ("handle", None, 1410, 900, 510, "overdue", True),
        ("check", None, None, None, None, None, False),
        ("close", None, None, None, None, None, False),
    ]
    assert stages[4].deadline_at == _d("11-19 09:00") and stages[4].light == "red"
    assert stages[4].since == _d("11-17 09:00")


def test_tl004_open_running_within(clock):
    # Dispatched Fri 14:05, 2 working hours -> deadline 16:05; at 15:00, 55 of 120 used (46 %: green).
    detail = event(clock, WORK_HOURS_2, "11-20 14:00", [
        ("accept", "11-20 14:00"), ("register", "11-20 14:05"), ("dispatch", "11-20 14:05")])
    handle = timeline(detail, clock=clock, as_of=_d("11-20 15:00"))[4]
    assert (handle.key, handle.took_minutes, handle.allowed_minutes, handle.verdict, handle.light, handle.current) == (
        "handle", 55, 120, "running", "green", True)


def test_tl005_extended(clock):
    # Dispatch Mon 09:00, 2 working hours -> 11:00. Extended at 10:30 by one more full limit: 11:00 + 120
    # = 60 to 12:00 + 60 from 13:30 -> 14:30. Handled 14:00: 180 + 30 = 210 of 240: within (late
    # without the extension).
    detail = event(clock, WORK_HOURS_2, "11-16 08:40", [
        ("accept", "11-16 08:45"), ("register", "11-16 08:50"), ("dispatch", "11-16 09:00"),
        ("extend", "11-16 10:30"), ("handle", "11-16 14:00")])
    stages = timeline(detail, clock=clock, as_of=_d("11-16 15:00"))
    extend, handle, check = stages[4], stages[5], stages[6]
    assert (extend.key, extend.exception, extend.at, extend.took_minutes, extend.deadline_at, extend.verdict) == (
        "extend", True, _d("11-16 10:30"), 90, _d("11-16 14:30"), None)
    assert (handle.key, handle.took_minutes, handle.allowed_minutes, handle.verdict, handle.deadline_at) == (
        "handle", 210, 240, "within", _d("11-16 14:30"))
    assert handle.since == _d("11-16 09:00")  # from the dispatch, not from the extension
    # The check is now open: 14:00 -> 15:00, 60 of 450 working minutes.
    assert (check.key, check.took_minutes, check.verdict, check.current) == ("check", 60, "running", True)


def test_tl006_reworked(clock):
    # 4 working hours. Dispatch Mon 09:00 -> 14:30; handled 11:00 (120 of 240, within). The check fails:
    # rework Mon 15:00 restarts the limit, 150 on Monday + 90 from Tue 08:30 -> Tue 10:00. Handled again
    # Tue 11:00: 150 + 150 = 300 of 240, over by 60. Check Tue 14:00 (11:00-12:00 60 + 30 = 90 of 450).
    detail = event(clock, WORK_HOURS_4, "11-16 08:40", [
        ("accept", "11-16 08:45"), ("register", "11-16 08:50"), ("dispatch", "11-16 09:00"),
        ("handle", "11-16 11:00"), ("rework", "11-16 15:00"), ("handle", "11-17 11:00"),
        ("check", "11-17 14:00"), ("close", "11-17 14:30")])
    stages = timeline(detail, clock=clock, as_of=_d("11-20 15:00"))
    assert [s.key for s in stages] == ["report", "accept", "register", "dispatch", "handle", "rework", "handle",
                                       "check", "close"]
    assert table(stages)[4:8] == [
        ("handle", _d("11-16 11:00"), 120, 240, None, "within", False),
        ("rework", _d("11-16 15:00"), 240, None, None, None, False),
        ("handle", _d("11-17 11:00"), 300, 240, 60, "over", False),
        ("check", _d("11-17 14:00"), 90, 450, None, "within", False),
    ]
    assert stages[5].exception and stages[5].deadline_at == _d("11-17 10:00")
    assert (stages[4].deadline_at, stages[6].deadline_at) == (_d("11-16 14:30"), _d("11-17 10:00"))
    assert stages[6].since == _d("11-16 15:00")


def test_tl007_parked_the_clock_stands_still(clock):
    # Dispatch Mon 09:30, 2 working hours -> 11:30; parked at 10:30 with 60 of 120 used. Days later the
    # handling stage still shows 60 of 120, paused.
    detail = event(clock, WORK_HOURS_2, "11-16 09:00", [
        ("accept", "11-16 09:05"), ("register", "11-16 09:10"), ("dispatch", "11-16 09:30"),
        ("park", "11-16 10:30")])
    stages = timeline(detail, clock=clock, as_of=_d("11-20 15:00"))
    park, handle = stages[4], stages[5]
    assert (park.key, park.exception, park.at, park.took_minutes) == ("park", True, _d("11-16 10:30"), 60)
    assert (handle.key, handle.at, handle.took_minutes, handle.allowed_minutes, handle.verdict, handle.current) == (
        "handle", None, 60, 120, "paused", True)
    assert handle.light == "green" and [s.current for s in stages].count(True) == 1


def test_tl008_unparked_parked_time_does_not_count(clock):
    # Parked Mon 10:30, unparked Tue 09:00: 90 + 240 + 30 = 360 working minutes paused. The deadline
    # moves from Mon 11:30 by 360: 30 + 240 on Monday, 90 from Tue 08:30 -> Tue 10:00; the clock's start
    # from Mon 09:30 by 360: 150 + 210 -> Mon 17:00. Handled Tue 09:45: 30 + 75 = 105 of 30 + 90 = 120
    # (60 before the pause + 45 after it): within. The unpark row says how long it was parked (22.5 h).
    detail = event(clock, WORK_HOURS_2, "11-16 09:00", [
        ("accept", "11-16 09:05"), ("register", "11-16 09:10"), ("dispatch", "11-16 09:30"),
        ("park", "11-16 10:30"), ("unpark", "11-17 09:00"), ("handle", "11-17 09:45")])
    stages = timeline(detail, clock=clock, as_of=_d("11-17 10:00"))
    unpark, handle = stages[5], stages[6]
    assert (unpark.key, unpark.took_minutes, unpark.deadline_at) == ("unpark", 1350, _d("11-17 10:00"))
    assert (handle.took_minutes, handle.allowed_minutes, handle.verdict, handle.since, handle.deadline_at) == (
        105, 120, "within", _d("11-16 17:00"), _d("11-17 10:00"))


@pytest.mark.parametrize("handled, took, over, verdict", [
    # Dispatch Fri Oct 9 14:00 + 1 work day: 210 on Oct 9, 240 on the make-up Saturday Oct 10 -> 14:00.
    # Handled Sat Oct 10 13:00: 210 + 210 (08:30-12:00) = 420 of 450, within.
    ("10-10 13:00", 420, None, "within"),
    # Handled Mon Oct 12 09:00: 210 + 450 + (Sun Oct 11 off) + 30 = 690; over by 210 (Sat 14:00-17:30) + 30.
    ("10-12 09:00", 690, 240, "over"),
])
def test_tl009_work_days_across_a_make_up_saturday(clock, handled, took, over, verdict):
    detail = event(clock, Limit(1, "work_days"), "10-09 13:00", [
        ("accept", "10-09 13:10"), ("register", "10-09 13:30"), ("dispatch", "10-09 14:00"), ("handle", handled)])
    handle = timeline(detail, clock=clock, as_of=_d("10-12 10:00"))[4]
    assert (handle.deadline_at, handle.took_minutes, handle.allowed_minutes, handle.over_minutes, handle.verdict) == (
        _d("10-10 14:00"), took, 450, over, verdict)
    assert handle.unit == "work_days" and handle.day_minutes == 450


def test_tl010_check_across_national_day(clock):
    # Handled Wed Sep 30 15:00; the check (1 work day, assumed) runs 150 on Sep 30, nothing Oct 1-7, and
    # 90 on Oct 8 to 10:00: 240 of 450 working minutes, within — though 7 days 19 hours went by.
    detail = event(clock, Limit(4, "hours"), "09-30 10:00", [
        ("accept", "09-30 10:10"), ("register", "09-30 10:20"), ("dispatch", "09-30 10:30"),
        ("handle", "09-30 15:00"), ("check", "10-08 10:00")])
    stages = timeline(detail, clock=clock, as_of=_d("10-08 11:00"))
    handle, check, close = stages[4], stages[5], stages[6]
    # 4 hours around the clock: 10:30 -> 14:30; handled 15:00 is 270 minutes, over by 30.
    assert (handle.took_minutes, handle.over_minutes, handle.verdict, handle.working_time) == (270, 30, "over", False)
    assert (check.took_minutes, check.allowed_minutes, check.verdict, check.deadline_at, check.working_time) == (
        240, 450, "within", _d("10-08 15:00"), True)
    # The close is open since 10:00: 60 working minutes of 450 at 11:00.
    assert (close.current, close.took_minutes, close.verdict) == (True, 60, "running")


def test_tl011_returned_then_waiting_for_re_dispatch(clock):
    # Returned at 11:00: the re-dispatch (改派) is the open stage, measured from the return (2 h limit):
    # at 14:00 it has run 180 minutes, over by 60.
    detail = event(clock, WORK_HOURS_2, "11-16 09:00", [
        ("accept", "11-16 09:05"), ("register", "11-16 09:10"), ("dispatch", "11-16 09:30"),
        ("return", "11-16 11:00")])
    stages = timeline(detail, clock=clock, as_of=_d("11-16 14:00"))
    assert [(s.key, s.exception) for s in stages[4:]] == [
        ("return", True), ("dispatch", False), ("handle", False), ("check", False), ("close", False)]
    assert table(stages)[5] == ("dispatch", None, 180, 120, 60, "overdue", True)


def test_tl012_void_and_open_report(clock):
    detail = event(clock, WORK_HOURS_2, "11-16 09:00", [("accept", "11-16 09:05"), ("void", "11-16 09:30")])
    stages = timeline(detail, clock=clock, as_of=_d("11-20 15:00"))
    assert [(s.key, s.exception, s.current) for s in stages] == [
        ("report", False, False), ("accept", False, False), ("void", True, False)]
    # Reported 14:20, nothing since: accepting is open, 40 of 60 minutes at 15:00 (67 %: green).
    fresh = event(clock, WORK_HOURS_2, "11-20 14:20", [])
    stages = timeline(fresh, clock=clock, as_of=_d("11-20 15:00"))
    assert [s.key for s in stages] == ["report", "accept", "register", "dispatch", "handle", "check", "close"]
    assert table(stages)[1] == ("accept", None, 40, 60, None, "running", True)
    assert stages[1].light == "green"


def test_tl013_verify_only_when_it_happened(clock):
    steps = [("accept", "11-16 09:05"), ("verify", "11-16 10:00"), ("register", "11-16 10:30")]
    stages = timeline(event(clock, WORK_HOURS_2, "11-16 09:00", steps), clock=clock, as_of=_d("11-16 11:00"))
    assert [s.key for s in stages] == ["report", "accept", "verify", "register", "dispatch", "handle", "check",
                                       "close"]
    assert table(stages)[2:5] == [
        ("verify", _d("11-16 10:00"), 55, 120, None, "within", False),
        ("register", _d("11-16 10:30"), 30, 120, None, "within", False),
        ("dispatch", None, 30, 120, None, "running", True),
    ]


def test_tl014_read_off_the_timestamps_when_the_log_has_only_the_report(clock):
    # The hand city's event 2 (its log holds only the report): 4 working hours from 11-19 10:05 -> 15:35,
    # handled 16:35: 300 of 240, over by 60.
    detail = event(clock, WORK_HOURS_4, "11-19 10:00", [
        ("accept", "11-19 10:00"), ("register", "11-19 10:05"), ("dispatch", "11-19 10:05"),
        ("handle", "11-19 16:35"), ("check", "11-19 16:50"), ("close", "11-19 17:00")], log=False)
    assert len(detail.log) == 1
    stages = timeline(detail, clock=clock, as_of=_d("11-20 15:00"))
    assert [s.key for s in stages] == ["report", "accept", "register", "dispatch", "handle", "check", "close"]
    assert table(stages)[4] == ("handle", _d("11-19 16:35"), 300, 240, 60, "over", False)


def test_tl015_a_city_sets_its_own_limits(clock):
    detail = event(clock, WORK_HOURS_2, "11-16 09:00", [("accept", "11-16 09:50")])
    mine = dict(STAGE_LIMITS, accept=Limit(0.5, "hours"))
    assert timeline(detail, clock=clock, as_of=_d("11-16 10:00"), limits=mine)[1].verdict == "over"
    assert timeline(detail, clock=clock, as_of=_d("11-16 10:00"))[1].verdict == "within"
