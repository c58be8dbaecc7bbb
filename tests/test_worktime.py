"""Hand-worked SLA deadlines on the Chinese statutory calendar (working hours 08:30–12:00, 13:30–17:30).

One work day is 3.5 h + 4 h = 450 working minutes. 2026 facts used below, as chinese_calendar has them
(checked in test_2026_calendar_facts): National Day Oct 1–7 off, Sun Sep 20 and Sat Oct 10 are
make-up workdays (调休), Mid-autumn Fri Sep 25 – Sun Sep 27 off; Nov 13 2026 is a Friday.
"""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from dashboard.worktime import WorkCalendar, default_calendar, load_overrides


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_2026_calendar_facts(cal):
    assert [cal.is_workday(date(2026, 10, d)) for d in range(1, 8)] == [False] * 7
    assert cal.is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6  # a Sunday, worked
    assert cal.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5  # a Saturday, worked
    assert not cal.is_workday(date(2026, 9, 19))  # the Saturday before stays off
    assert date(2026, 11, 13).weekday() == 4
    assert cal.minutes_per_day == 450


@pytest.mark.parametrize("start, value, unit, expected", [
    # Fri 16:00 + 4 work hours: Fri 16:00–17:30 is 90 min, 150 left from Mon 08:30 -> Mon 11:00.
    (datetime(2026, 11, 13, 16, 0), 4, "work_hours", datetime(2026, 11, 16, 11, 0)),
    # Wed Sep 30 15:00 + 1 work day (450): 150 on Sep 30; Oct 1–7 off; Oct 8 08:30–12:00 is 210,
    # 90 more from 13:30 -> Oct 8 15:00.
    (datetime(2026, 9, 30, 15, 0), 1, "work_days", datetime(2026, 10, 8, 15, 0)),
    # + 2 work days (900): 150 + 450 (Oct 8) + 300 on Fri Oct 9 -> 15:00.
    (datetime(2026, 9, 30, 15, 0), 2, "work_days", datetime(2026, 10, 9, 15, 0)),
    # + 3 work days (1350): ... + 450 (Oct 9) + 300 on Sat Oct 10, a make-up workday -> 15:00.
    (datetime(2026, 9, 30, 15, 0), 3, "work_days", datetime(2026, 10, 10, 15, 0)),
    # Dispatched on Sat Sep 19 (off): the clock starts Sun Sep 20 08:30 (make-up day) -> 10:30.
    (datetime(2026, 9, 19, 10, 0), 2, "work_hours", datetime(2026, 9, 20, 10, 30)),
    # Tue 19:45 is after hours: the clock starts Wed 08:30, + 120 min -> Wed 10:30.
    (datetime(2026, 11, 17, 19, 45), 2, "work_hours", datetime(2026, 11, 18, 10, 30)),
    # Tue 12:10 is the lunch break: starts 13:30, + 60 -> 14:30.
    (datetime(2026, 11, 17, 12, 10), 1, "work_hours", datetime(2026, 11, 17, 14, 30)),
    # Before opening: Tue 07:00 + 30 min -> 09:00.
    (datetime(2026, 11, 17, 7, 0), 0.5, "work_hours", datetime(2026, 11, 17, 9, 0)),
    # `hours` run around the clock, holidays and nights included: Sat Oct 3 23:30 + 2 h -> Oct 4 01:30.
    (datetime(2026, 10, 3, 23, 30), 2, "hours", datetime(2026, 10, 4, 1, 30)),
])
def test_deadline_hand_worked(cal, start, value, unit, expected):
    assert cal.deadline(start, value, unit) == expected


def test_deadlines_vectorised_mixed_units(cal):
    starts = np.array(["2026-11-13T16:00", "2026-10-03T23:30", "2026-09-30T15:00"], dtype="datetime64[m]")
    out = cal.deadlines(starts, [4, 2, 1], ["work_hours", "hours", "work_days"])
    assert out.tolist() == [datetime(2026, 11, 16, 11, 0), datetime(2026, 10, 4, 1, 30), datetime(2026, 10, 8, 15, 0)]


def test_override_file(tmp_path):
    path = tmp_path / "overrides.csv"
    # The city works Saturday Nov 14 and takes Monday Nov 16 off.
    path.write_text("date,workday\n2026-11-14,1\n2026-11-16,0\n", encoding="utf-8")
    assert load_overrides(path) == {date(2026, 11, 14): True, date(2026, 11, 16): False}
    cal = default_calendar(path)
    # Fri 16:00 + 4 work hours: 90 min on Friday, 150 from Sat 08:30 -> Sat 11:00.
    assert cal.deadline(datetime(2026, 11, 13, 16, 0), 4, "work_hours") == datetime(2026, 11, 14, 11, 0)
    # Sat 11:00 + 1 work day (450): 60 to 12:00, 240 to 17:30 (300); Sun and Mon (override) off;
    # 150 from Tue 08:30 -> Tue 11:00.
    assert cal.deadline(datetime(2026, 11, 14, 11, 0), 1, "work_days") == datetime(2026, 11, 17, 11, 0)


def test_work_minutes_between(cal):
    starts = np.array(["2026-11-13T16:00", "2026-09-30T15:00", "2026-11-17T12:00", "2026-11-16T11:00"],
                      dtype="datetime64[m]")
    ends = np.array(["2026-11-16T11:00", "2026-10-08T15:00", "2026-11-17T13:30", "2026-11-13T16:00"],
                    dtype="datetime64[m]")
    # 90 + 150; 150 + 0 (holiday) + 300; the lunch break counts nothing; reversed is negative.
    assert cal.work_minutes_between(starts, ends).tolist() == [240, 450, 0, -240]


def test_limit_minutes(cal):
    assert cal.limit_minutes(2, "work_days") == 900
    assert cal.limit_minutes(4, "work_hours") == 240
    assert cal.limit_minutes(1.5, "hours") == 90
    with pytest.raises(ValueError):
        cal.limit_minutes(1, "fortnights")


def test_zero_minutes_never_moves_a_deadline_back():
    # Friday 2026-11-20 20:00 is after hours; adding nothing must not step back to 17:30.
    calendar = WorkCalendar()
    assert calendar.deadline(datetime(2026, 11, 20, 20, 0), 0, "work_hours") >= datetime(2026, 11, 20, 20, 0)


def test_wt_settings_read_working_hours_and_the_override_file(tmp_path):
    from datetime import date, datetime

    from dashboard.settings import from_env
    from dashboard.worktime import parse_periods

    overrides = tmp_path / "local.csv"
    overrides.write_text("date,workday\n2026-11-21,TRUE\n", encoding="utf-8")  # Saturday worked, as Excel writes it
    settings = from_env({"GRIDCC_WORK_HOURS": "09:00-12:00, 14:00-18:00",
                         "GRIDCC_CALENDAR_OVERRIDES": str(overrides)})
    calendar = settings.calendar()
    assert calendar.minutes_per_day == 180 + 240
    assert calendar.is_workday(date(2026, 11, 21))
    # Fri 17:00 + 2 working hours: 60 on Friday, 60 from Saturday 09:00 -> Sat 10:00.
    assert calendar.deadline(datetime(2026, 11, 20, 17, 0), 2, "work_hours") == datetime(2026, 11, 21, 10, 0)
    for bad in ("9-12", "12:00-09:00", "08:30-12:00,11:00-17:30", ""):
        with pytest.raises(ValueError, match="working hours"):
            parse_periods(bad)
