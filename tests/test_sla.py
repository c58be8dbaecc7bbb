"""The SLA clock of the closed loop (dashboard/loop.py SlaClock on dashboard/worktime.py), worked by hand.

Working hours 08:30–12:00 (210 min) and 13:30–17:30 (240 min): one work day is 450 working minutes.
November 2026 has no holidays; Fri Nov 20, Mon Nov 23. Around National Day 2026 the statutory calendar
(chinesecalendar, checked in test_sla000) has: Sat Sep 19 off, Sun Sep 20 a make-up workday (调休),
Fri Sep 25 – Sun Sep 27 off (Mid-autumn), Oct 1–7 off, Sat Oct 10 a make-up workday, Sun Oct 11 off.
Every expected deadline is worked out in the comment beside it.
"""
from __future__ import annotations

from datetime import date, datetime

import chinese_calendar
import pytest

from dashboard.loop import EventState, Limit, SlaClock, Transition, apply, traffic_light
from dashboard.worktime import WorkCalendar, default_calendar, load_overrides

NOW = datetime(2026, 12, 31, 12, 0)  # after every step below


@pytest.fixture(scope="module")
def clock() -> SlaClock:
    return SlaClock(WorkCalendar())


def dispatched(clock: SlaClock, at: datetime, limit: Limit, **extra) -> EventState:
    """Return an event registered just before ``at`` and dispatched at ``at`` on ``limit``."""
    registered = EventState(source="hotline", status="registered", reported_at=at, updated_at=at, registered_at=at)
    return apply(registered, Transition("dispatch", at, department_code="D07", **extra), limit=limit, clock=clock,
                 now=NOW)


def step(clock, state, action, at, limit, **extra) -> EventState:
    return apply(state, Transition(action, at, **extra), limit=limit, clock=clock, now=NOW)


def test_sla000_the_2026_calendar_this_file_assumes():
    """Independently of WorkCalendar: what chinesecalendar says about autumn 2026."""
    off = [date(2026, 9, 19), date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27), date(2026, 10, 11)]
    off += [date(2026, 10, d) for d in range(1, 8)]
    assert not any(chinese_calendar.is_workday(d) for d in off)
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 1)) == (True, "National Day")
    for makeup in (date(2026, 9, 20), date(2026, 10, 10)):  # a Sunday and a Saturday that are worked
        assert makeup.weekday() >= 5 and chinese_calendar.is_workday(makeup)
        assert chinese_calendar.get_holiday_detail(makeup) == (False, "National Day")
    assert [chinese_calendar.is_workday(date(2026, 9, d)) for d in (21, 22, 23, 24, 28, 29, 30)] == [True] * 7
    assert [chinese_calendar.is_workday(date(2026, 10, d)) for d in (8, 9, 12)] == [True] * 3
    assert date(2026, 11, 20).weekday() == 4 and date(2026, 11, 23).weekday() == 0
    assert WorkCalendar().minutes_per_day == 450


# (start, limit, expected deadline)
CASES = {
    # (a) Working hours across a weekend.
    # Fri 15:00 + 6 wh (360): Fri 15:00–17:30 is 150; 210 left = all of Mon 08:30–12:00 -> Mon 12:00 sharp.
    "sla001_fri_6wh_to_mon_noon": (datetime(2026, 11, 20, 15, 0), Limit(6, "work_hours"), datetime(2026, 11, 23, 12)),
    # Fri 15:00 + 8 wh (480): 150 Fri, 210 Mon morning, 120 from 13:30 -> Mon 15:30.
    "sla002_fri_8wh_to_mon_afternoon": (datetime(2026, 11, 20, 15, 0), Limit(8, "work_hours"),
                                        datetime(2026, 11, 23, 15, 30)),
    # (b) Working days across National Day.
    # Tue Sep 29 10:00 + 2 wd (900): Sep 29 120 + 240 = 360; Sep 30 450 -> 810; Oct 1–7 off; 90 on Thu Oct 8
    # from 08:30 -> Oct 8 10:00.
    "sla010_2wd_over_national_day": (datetime(2026, 9, 29, 10, 0), Limit(2, "work_days"), datetime(2026, 10, 8, 10)),
    # Fri Oct 9 14:00 + 1 wd (450): 210 on Oct 9 (14:00–17:30); 240 on Sat Oct 10, a make-up workday:
    # 210 in the morning, 30 from 13:30 -> Sat Oct 10 14:00 (the deadline lands on the worked Saturday).
    "sla011_1wd_lands_on_makeup_saturday": (datetime(2026, 10, 9, 14, 0), Limit(1, "work_days"),
                                            datetime(2026, 10, 10, 14, 0)),
    # Fri Oct 9 14:00 + 2 wd (900): 210 Oct 9, 450 Sat Oct 10 -> 660; Sun Oct 11 off; 240 on Mon Oct 12 ->
    # Mon 14:00 (a day earlier than Mon–Fri counting would give: Tue Oct 13 14:00).
    "sla012_2wd_passes_over_makeup_saturday": (datetime(2026, 10, 9, 14, 0), Limit(2, "work_days"),
                                               datetime(2026, 10, 12, 14, 0)),
    # Fri Sep 18 17:00 + 1 wd: 30 on Fri; Sat Sep 19 off; Sun Sep 20 is worked: 210 + 210 -> Sun 17:00.
    "sla013_1wd_lands_on_makeup_sunday": (datetime(2026, 9, 18, 17, 0), Limit(1, "work_days"),
                                          datetime(2026, 9, 20, 17, 0)),
    # Thu Sep 24 16:00 + 1 wd: 90 on Thu; Sep 25–27 off (Mid-autumn); Mon Sep 28: 210 + 150 -> 16:00.
    "sla014_1wd_over_mid_autumn": (datetime(2026, 9, 24, 16, 0), Limit(1, "work_days"), datetime(2026, 9, 28, 16)),
    # Dispatched on a holiday, Sat Oct 3 10:00: the clock starts Thu Oct 8 08:30; 450 -> Oct 8 17:30.
    "sla015_dispatched_on_a_holiday": (datetime(2026, 10, 3, 10, 0), Limit(1, "work_days"),
                                       datetime(2026, 10, 8, 17, 30)),
    # Half a work day (225) from Wed Sep 30 16:00: 90 on Sep 30; 135 from Oct 8 08:30 -> 10:45.
    "sla016_half_wd_over_national_day": (datetime(2026, 9, 30, 16, 0), Limit(0.5, "work_days"),
                                         datetime(2026, 10, 8, 10, 45)),
    # (c) Around the clock: holidays, nights and weekends all count.
    # Fri 22:00 + 12 h -> Sat 10:00.
    "sla020_12h_friday_night": (datetime(2026, 11, 20, 22, 0), Limit(12, "hours"), datetime(2026, 11, 21, 10, 0)),
    # Sat 20:00 + 36 h -> Mon 08:00.
    "sla021_36h_over_the_weekend": (datetime(2026, 11, 21, 20, 0), Limit(36, "hours"), datetime(2026, 11, 23, 8)),
    # Sun 23:15 + 1.5 h -> Mon 00:45.
    "sla022_90min_past_midnight": (datetime(2026, 11, 22, 23, 15), Limit(1.5, "hours"), datetime(2026, 11, 23, 0, 45)),
    # (d) Outside working time the clock starts at the next working minute.
    # Tue 19:00 + 2 wh: starts Wed 08:30 -> 10:30.
    "sla030_evening": (datetime(2026, 11, 17, 19, 0), Limit(2, "work_hours"), datetime(2026, 11, 18, 10, 30)),
    # Tue 12:30 (lunch) + 1.5 wh: starts 13:30 -> 15:00.
    "sla031_lunch": (datetime(2026, 11, 17, 12, 30), Limit(1.5, "work_hours"), datetime(2026, 11, 17, 15, 0)),
    # Tue 12:00 sharp is lunch already: + 30 min -> 14:00.
    "sla032_noon_sharp": (datetime(2026, 11, 17, 12, 0), Limit(0.5, "work_hours"), datetime(2026, 11, 17, 14, 0)),
    # Tue 17:30 sharp is after hours: + 1 wh -> Wed 09:30.
    "sla033_closing_sharp": (datetime(2026, 11, 17, 17, 30), Limit(1, "work_hours"), datetime(2026, 11, 18, 9, 30)),
    # Tue 06:00 + 1 wd: starts 08:30, a whole day -> Tue 17:30.
    "sla034_early_morning": (datetime(2026, 11, 17, 6, 0), Limit(1, "work_days"), datetime(2026, 11, 17, 17, 30)),
    # Fri 19:00 + 4 wh: weekend off, starts Mon 08:30 -> 12:00, 30 more -> 14:00.
    "sla035_friday_evening": (datetime(2026, 11, 20, 19, 0), Limit(4, "work_hours"), datetime(2026, 11, 23, 14, 0)),
}


@pytest.mark.parametrize("start, limit, expected", CASES.values(), ids=CASES.keys())
def test_sla001_deadline_at_dispatch(clock, start, limit, expected):
    assert clock.deadline(start, limit) == expected
    state = dispatched(clock, start, limit)
    assert (state.dispatched_at, state.deadline_at) == (start, expected)


# --- (e) extensions ---------------------------------------------------------------------------------

# Dispatched Mon Nov 16 10:00 on 4 wh: 120 to noon, 120 from 13:30 -> 15:30.
EXT_START, EXT_DEADLINE = datetime(2026, 11, 16, 10, 0), datetime(2026, 11, 16, 15, 30)
EXTENSIONS = {
    # Default: one more full limit (240): 15:30–17:30 is 120, 120 from Tue 08:30 -> Tue 10:30.
    "sla040_default_one_more_limit": (None, datetime(2026, 11, 17, 10, 30)),
    # One work day (450): 120 on Mon, 330 on Tue: 210 + 120 from 13:30 -> Tue 15:30.
    "sla041_one_work_day": (Limit(1, "work_days"), datetime(2026, 11, 17, 15, 30)),
    # 1.5 wh (90): 15:30 -> 17:00.
    "sla042_work_hours": (Limit(1.5, "work_hours"), datetime(2026, 11, 16, 17, 0)),
    # 3 h around the clock: 15:30 -> 18:30, after hours.
    "sla043_clock_hours": (Limit(3, "hours"), datetime(2026, 11, 16, 18, 30)),
}


@pytest.mark.parametrize("extension, expected", EXTENSIONS.values(), ids=EXTENSIONS.keys())
def test_sla040_extension_moves_the_deadline(clock, extension, expected):
    limit = Limit(4, "work_hours")
    state = dispatched(clock, EXT_START, limit)
    assert state.deadline_at == EXT_DEADLINE
    after = step(clock, state, "extend", datetime(2026, 11, 16, 14, 0), limit, extension=extension)
    assert (after.deadline_at, after.extension_count, after.dispatched_at) == (expected, 1, EXT_START)


def test_sla044_two_extensions_add_up(clock):
    limit = Limit(4, "work_hours")
    state = dispatched(clock, EXT_START, limit)
    once = step(clock, state, "extend", datetime(2026, 11, 16, 14, 0), limit)
    # Tue 10:30 + 240: 90 to noon, 150 from 13:30 -> Tue 16:00.
    twice = step(clock, once, "extend", datetime(2026, 11, 17, 9, 0), limit)
    assert (twice.deadline_at, twice.extension_count) == (datetime(2026, 11, 17, 16, 0), 2)


def test_sla045_extension_over_national_day(clock):
    limit = Limit(2, "work_days")
    state = dispatched(clock, datetime(2026, 9, 29, 10, 0), limit)  # -> Oct 8 10:00 (sla010)
    # + 900 from Oct 8 10:00: 360 rest of Oct 8, 450 Oct 9 -> 810, 90 on make-up Sat Oct 10 -> 10:00.
    after = step(clock, state, "extend", datetime(2026, 9, 30, 9, 0), limit)
    assert after.deadline_at == datetime(2026, 10, 10, 10, 0)


def test_sla046_extension_of_an_around_the_clock_limit(clock):
    limit = Limit(12, "hours")
    state = dispatched(clock, datetime(2026, 11, 20, 22, 0), limit)  # -> Sat 10:00
    after = step(clock, state, "extend", datetime(2026, 11, 21, 9, 0), limit)  # + 12 h -> Sat 22:00
    assert after.deadline_at == datetime(2026, 11, 21, 22, 0)


# --- (f) parking pauses the clock -----------------------------------------------------------------

def test_sla050_parked_working_minutes_move_the_deadline(clock):
    limit = Limit(1, "work_days")
    # Mon Nov 16 10:00 + 450: 120 + 240 on Mon, 90 on Tue -> Tue 10:00.
    state = dispatched(clock, datetime(2026, 11, 16, 10, 0), limit)
    assert state.deadline_at == datetime(2026, 11, 17, 10, 0)
    parked = step(clock, state, "park", datetime(2026, 11, 16, 15, 0), limit)
    assert parked.deadline_at == datetime(2026, 11, 17, 10, 0)  # unchanged while parked
    # Parked Mon 15:00 – Wed 11:00: 150 (Mon) + 450 (Tue) + 150 (Wed 08:30–11:00) = 750 working minutes.
    # Tue 10:00 + 750: 120 + 240 on Tue -> 360, 390 on Wed: 210 + 180 from 13:30 -> Wed 16:30.
    # (Cross-check: 210 used before parking, 240 left from Wed 11:00: 60 + 180 -> 16:30.)
    back = step(clock, parked, "unpark", datetime(2026, 11, 18, 11, 0), limit)
    assert (back.status, back.deadline_at, back.is_parked) == ("dispatched", datetime(2026, 11, 18, 16, 30), False)


def test_sla051_parked_over_a_holiday_only_counts_working_minutes(clock):
    limit = Limit(2, "work_days")
    state = dispatched(clock, datetime(2026, 9, 29, 10, 0), limit)  # -> Oct 8 10:00 (sla010)
    parked = step(clock, state, "park", datetime(2026, 9, 30, 16, 0), limit)
    # Parked Sep 30 16:00 – Oct 8 09:00: 90 on Sep 30, none Oct 1–7, 30 on Oct 8 = 120 -> Oct 8 12:00.
    back = step(clock, parked, "unpark", datetime(2026, 10, 8, 9, 0), limit)
    assert back.deadline_at == datetime(2026, 10, 8, 12, 0)


def test_sla052_parked_off_hours_moves_nothing(clock):
    limit = Limit(4, "work_hours")
    state = dispatched(clock, datetime(2026, 11, 20, 15, 0), limit)  # 150 Fri, 90 Mon -> Mon 10:00
    parked = step(clock, state, "park", datetime(2026, 11, 20, 18, 0), limit)
    back = step(clock, parked, "unpark", datetime(2026, 11, 23, 8, 0), limit)  # only the weekend: 0 minutes
    assert back.deadline_at == datetime(2026, 11, 23, 10, 0)


def test_sla053_parked_around_the_clock(clock):
    limit = Limit(24, "hours")
    state = dispatched(clock, datetime(2026, 11, 20, 9, 0), limit)  # -> Sat 09:00
    parked = step(clock, state, "park", datetime(2026, 11, 20, 12, 0), limit)
    back = step(clock, parked, "unpark", datetime(2026, 11, 21, 6, 0), limit)  # 18 h -> Sun 03:00
    assert back.deadline_at == datetime(2026, 11, 22, 3, 0)


def test_sla054_rework_restarts_the_limit(clock):
    limit = Limit(4, "work_hours")
    state = dispatched(clock, datetime(2026, 11, 16, 10, 0), limit)  # -> 15:30
    handled = step(clock, state, "handle", datetime(2026, 11, 16, 11, 0), limit)
    # Rework on Fri Nov 20 16:00: 90 on Fri, 150 from Mon 08:30 -> Mon Nov 23 11:00.
    again = step(clock, handled, "rework", datetime(2026, 11, 20, 16, 0), limit)
    assert (again.deadline_at, again.handled_at, again.rework_count) == (datetime(2026, 11, 23, 11, 0), None, 1)


# --- (g) the traffic light ----------------------------------------------------------------------

@pytest.mark.parametrize("used, light", [
    (None, None), (0.0, "green"), (0.5, "green"), (0.7999, "green"), (0.8, "yellow"), (0.95, "yellow"),
    (1.0, "yellow"), (1.0001, "red"), (3.0, "red"),
])
def test_sla060_traffic_light_thresholds(used, light):
    assert traffic_light(used) == light


# Dispatched Mon Nov 16 08:30 on 1 wd: deadline Mon 17:30, 450 working minutes allowed.
# 80 % = 360 minutes used: 210 in the morning + 150 from 13:30 -> 16:00.
DAY = EventState(source="hotline", status="dispatched", reported_at=datetime(2026, 11, 16, 8, 0),
                 updated_at=datetime(2026, 11, 16, 8, 30), dispatched_at=datetime(2026, 11, 16, 8, 30),
                 deadline_at=datetime(2026, 11, 16, 17, 30), department_code="D07")
LIGHTS = {
    "sla061_start": (datetime(2026, 11, 16, 8, 30), 0.0, "green"),
    # 13:30: 210 of 450 used (lunch does not count: the same at 12:45).
    "sla062_after_lunch": (datetime(2026, 11, 16, 13, 30), 210 / 450, "green"),
    "sla063_lunch": (datetime(2026, 11, 16, 12, 45), 210 / 450, "green"),
    "sla064_just_green": (datetime(2026, 11, 16, 15, 59), 359 / 450, "green"),
    "sla065_yellow_at_80": (datetime(2026, 11, 16, 16, 0), 0.8, "yellow"),
    "sla066_deadline_is_yellow": (datetime(2026, 11, 16, 17, 30), 1.0, "yellow"),
    "sla067_a_minute_late": (datetime(2026, 11, 16, 17, 31), None, "red"),
    # Past the deadline though outside working time: red all night.
    "sla068_next_morning": (datetime(2026, 11, 17, 7, 0), None, "red"),
}


@pytest.mark.parametrize("now, share, light", LIGHTS.values(), ids=LIGHTS.keys())
def test_sla061_used_on_a_working_day(clock, now, share, light):
    used = clock.used(DAY, now, "work_days")
    if share is not None:
        assert used == pytest.approx(share)
    else:
        assert used > 1.0
    assert traffic_light(used) == light


def test_sla069_used_around_the_clock(clock):
    # Dispatched Sat 00:00 with 10 h: deadline Sat 10:00, 600 minutes; 80 % at 08:00.
    state = EventState(source="iot", status="dispatched", reported_at=datetime(2026, 11, 21),
                       updated_at=datetime(2026, 11, 21), dispatched_at=datetime(2026, 11, 21),
                       deadline_at=datetime(2026, 11, 21, 10, 0))
    assert clock.used(state, datetime(2026, 11, 21, 7, 59), "hours") == pytest.approx(479 / 600)
    assert traffic_light(clock.used(state, datetime(2026, 11, 21, 7, 59), "hours")) == "green"
    assert traffic_light(clock.used(state, datetime(2026, 11, 21, 8, 0), "hours")) == "yellow"
    assert traffic_light(clock.used(state, datetime(2026, 11, 21, 10, 1), "hours")) == "red"


def test_sla070_no_clock_no_light(clock):
    now = datetime(2026, 11, 20, 9, 0)
    registered = EventState(source="hotline", status="registered", reported_at=datetime(2026, 11, 16, 8, 0),
                            updated_at=datetime(2026, 11, 16, 8, 30), registered_at=datetime(2026, 11, 16, 8, 30))
    returned = step(clock, DAY, "return", datetime(2026, 11, 16, 9, 0), Limit(1, "work_days"))
    closed = EventState(**{**DAY.__dict__, "status": "closed", "closed_at": datetime(2026, 11, 16, 9, 0)})
    void = EventState(source="citizen_app", status="void", reported_at=datetime(2026, 11, 16, 8, 0),
                      updated_at=datetime(2026, 11, 16, 8, 5), is_void=True)
    for state in (registered, returned, closed, void):
        assert clock.used(state, now, "work_days") is None
        assert traffic_light(clock.used(state, now, "work_days")) is None


def test_sla071_the_clock_stops_when_handled(clock):
    # Handled at 16:00 (80 %), looked at a week later: still yellow, not red.
    handled = step(clock, DAY, "handle", datetime(2026, 11, 16, 16, 0), Limit(1, "work_days"))
    used = clock.used(handled, datetime(2026, 11, 23, 9, 0), "work_days")
    assert used == pytest.approx(0.8) and traffic_light(used) == "yellow"


def test_sla072_the_clock_stops_while_parked(clock):
    # Parked at 13:30 (210 of 450 used), looked at days after the deadline: still 210 / 450, green.
    parked = step(clock, DAY, "park", datetime(2026, 11, 16, 13, 30), Limit(1, "work_days"))
    used = clock.used(parked, datetime(2026, 11, 20, 9, 0), "work_days")
    assert used == pytest.approx(210 / 450) and traffic_light(used) == "green"


def test_sla073_a_deadline_with_no_working_time_before_it_goes_red(clock):
    # Imported: dispatched Fri 18:00 with the reporting system's deadline Sat 10:00. No working minute lies
    # between, so the share is all or nothing: before the deadline green (0), on Mon morning long past it: red.
    state = dispatched(clock, datetime(2026, 11, 20, 18, 0), Limit(4, "work_hours"),
                       deadline_at=datetime(2026, 11, 21, 10, 0))
    assert traffic_light(clock.used(state, datetime(2026, 11, 20, 19, 0), "work_hours")) == "green"
    assert traffic_light(clock.used(state, datetime(2026, 11, 21, 10, 0), "work_hours")) == "yellow"
    assert traffic_light(clock.used(state, datetime(2026, 11, 23, 9, 0), "work_hours")) == "red"


# --- (h) the city's override table --------------------------------------------------------------

def test_sla080_override_a_saturday_into_a_workday():
    # Sat Nov 21 worked: Fri 15:00 + 6 wh = 150 Fri + 210 Sat morning -> Sat 12:00 (not Mon 12:00, sla001).
    clock = SlaClock(WorkCalendar(overrides={date(2026, 11, 21): True}))
    assert clock.deadline(datetime(2026, 11, 20, 15, 0), Limit(6, "work_hours")) == datetime(2026, 11, 21, 12, 0)


def test_sla081_override_a_monday_off():
    # Mon Nov 23 off: Fri 15:00 + 6 wh = 150 Fri + 210 Tue morning -> Tue Nov 24 12:00.
    clock = SlaClock(WorkCalendar(overrides={date(2026, 11, 23): False}))
    assert clock.deadline(datetime(2026, 11, 20, 15, 0), Limit(6, "work_hours")) == datetime(2026, 11, 24, 12, 0)


def test_sla082_override_file(tmp_path):
    path = tmp_path / "workdays.csv"
    # A holiday worked (Mon Oct 5), a make-up Saturday not worked after all (Oct 10), spelled three ways.
    path.write_text("date,workday\n2026-10-05,1\n 2026-10-10 , 0 \n2026-11-21,yes\n", encoding="utf-8")
    overrides = load_overrides(path)
    assert overrides == {date(2026, 10, 5): True, date(2026, 10, 10): False, date(2026, 11, 21): True}
    clock = SlaClock(default_calendar(path))
    # Tue Sep 29 10:00 + 2 wd: 810 by Sep 30 (sla010), then 90 on the worked Mon Oct 5 -> Oct 5 10:00.
    assert clock.deadline(datetime(2026, 9, 29, 10, 0), Limit(2, "work_days")) == datetime(2026, 10, 5, 10, 0)
    # Fri Oct 9 14:00 + 1 wd: 210 on Oct 9; Sat Oct 10 now off, Sun Oct 11 off; Mon Oct 12: 210 + 30 -> 14:00
    # (Sat Oct 10 14:00 without the file, sla011).
    assert clock.deadline(datetime(2026, 10, 9, 14, 0), Limit(1, "work_days")) == datetime(2026, 10, 12, 14, 0)
    state = dispatched(clock, datetime(2026, 11, 20, 15, 0), Limit(6, "work_hours"))
    assert state.deadline_at == datetime(2026, 11, 21, 12, 0)  # as sla080


# --- the share used after a rework or a pause ------------------------------------------------------
# A rework restarts the limit, and an unpark moves both the deadline and the clock's start by the
# paused minutes (EventState.clock_started_at), so neither counts time that was not allowed.

def test_sla090_used_restarts_with_rework(clock):
    limit = Limit(1, "work_days")
    handled = step(clock, DAY, "handle", datetime(2026, 11, 16, 9, 0), limit)
    # Rework Wed Nov 18 08:30: a fresh 450 -> Wed 17:30. At 13:00 210 of 450 are used: green.
    again = step(clock, handled, "rework", datetime(2026, 11, 18, 8, 30), limit)
    assert again.deadline_at == datetime(2026, 11, 18, 17, 30)
    used = clock.used(again, datetime(2026, 11, 18, 13, 0), "work_days")
    assert used == pytest.approx(210 / 450)  # counted from the first dispatch it would be 1 - 240 / 1350 = 0.82, yellow


def test_sla091_used_leaves_out_the_pause(clock):
    limit = Limit(1, "work_days")
    parked = step(clock, DAY, "park", datetime(2026, 11, 16, 13, 30), limit)  # 210 of 450 used
    # Unparked Thu Nov 19 08:30: paused 240 + 450 + 450 = 1140; 240 left from Thu 08:30 -> Thu 14:00.
    back = step(clock, parked, "unpark", datetime(2026, 11, 19, 8, 30), limit)
    assert back.deadline_at == datetime(2026, 11, 19, 14, 0)
    used = clock.used(back, datetime(2026, 11, 19, 8, 30), "work_days")
    assert used == pytest.approx(210 / 450)  # counting the pause it would be 1 - 240 / 1590 = 0.85, yellow
