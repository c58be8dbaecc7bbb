"""The vectorised lights agree with the loop's one-case clock (loop.SlaClock.used, loop.traffic_light)."""
from datetime import datetime, timedelta

import numpy as np
import pytest

from dashboard.lights import lights, used_shares
from dashboard.loop import EventState, SlaClock, traffic_light
from dashboard.worktime import default_calendar

CAL = default_calendar()
CLOCK = SlaClock(CAL)


def _one(started, deadline, handled, unit, as_of):
    state = EventState(source="app", status="handled" if handled and handled <= as_of else "dispatched",
                       reported_at=started, updated_at=started, dispatched_at=started,
                       handled_at=handled if handled and handled <= as_of else None, deadline_at=deadline,
                       clock_started_at=started)
    return CLOCK.used(state, as_of, unit)


def test_hand_cases_on_the_clock():
    # A 10-hour limit around the clock, started at 08:00 on 2026-03-02 (deadline 18:00).
    start, deadline = datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 18)
    shares = used_shares(CAL, started=[start] * 4, deadline=[deadline] * 4, handled=[None] * 4,
                         unit=["hours"] * 4,
                         as_of=datetime(2026, 3, 2, 15, 59))  # 7 h 59 min of 10 h: 79.8 %
    assert shares[0] == pytest.approx(479 / 600)
    assert list(lights(shares)) == ["green"] * 4
    # 16:00 is exactly 80 %: yellow; 18:00 exactly 100 %: still yellow; 18:01 red; 23:00 = 1.5.
    for at, light, share in [(datetime(2026, 3, 2, 16), "yellow", 0.8), (deadline, "yellow", 1.0),
                             (datetime(2026, 3, 2, 23), "red", 1.5)]:
        s = used_shares(CAL, started=[start], deadline=[deadline], handled=[None], unit=["hours"], as_of=at)
        assert s[0] == pytest.approx(share) and lights(s)[0] == light


def test_no_clock_no_light_and_parked_has_none():
    s = used_shares(CAL, started=[None, datetime(2026, 3, 2, 8)], deadline=[None, datetime(2026, 3, 2, 9)],
                    handled=[None, None], unit=["hours", "hours"], as_of=datetime(2026, 3, 2, 12),
                    parked=[False, True])
    assert np.isnan(s).all() and list(lights(s)) == [None, None]


def test_a_handled_case_stops_its_clock_but_not_before_it_is_handled():
    start, deadline = datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 18)
    handled = datetime(2026, 3, 2, 10)  # 20 %
    s = used_shares(CAL, started=[start, start], deadline=[deadline, deadline], handled=[handled, handled],
                    unit=["hours", "hours"], as_of=datetime(2026, 3, 3, 12))
    assert s[0] == pytest.approx(0.2)
    before = used_shares(CAL, started=[start], deadline=[deadline], handled=[handled], unit=["hours"],
                         as_of=datetime(2026, 3, 2, 9))  # handling not yet happened at as_of: 10 %
    assert before[0] == pytest.approx(0.1)


def test_agrees_with_the_one_case_clock_on_random_cases():
    rng = np.random.default_rng(6)
    starts, deadlines, handled, units, expected = [], [], [], [], []
    as_of = datetime(2026, 5, 20, 14, 37)
    for _ in range(400):
        unit = rng.choice(["hours", "work_hours", "work_days"])
        start = as_of - timedelta(minutes=int(rng.integers(0, 60 * 24 * 20)))
        limit = float(rng.choice([2, 4, 24, 1, 3, 5])) if unit != "work_days" else float(rng.choice([1, 3, 5]))
        deadline = CAL.deadline(start, limit, unit)
        h = None
        if rng.random() < 0.3:
            h = start + timedelta(minutes=int(rng.integers(0, 60 * 24 * 25)))
        starts.append(start), deadlines.append(deadline), handled.append(h), units.append(unit)
        expected.append(_one(start, deadline, h, unit, as_of))
    got = used_shares(CAL, started=starts, deadline=deadlines, handled=handled, unit=units, as_of=as_of)
    assert got == pytest.approx(np.array(expected, dtype=float), rel=1e-9)
    assert list(lights(got)) == [traffic_light(e) for e in expected]


def test_empty_input():
    s = used_shares(CAL, started=[], deadline=[], handled=[], unit=[], as_of=datetime(2026, 1, 1))
    assert s.shape == (0,) and lights(s).shape == (0,)
