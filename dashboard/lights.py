"""Traffic lights for many cases at once: ``loop.SlaClock.share`` and ``loop.traffic_light``, vectorised. Pure.

The backlog desk and the SLA page light tens of thousands of open cases per answer; one call here does
what ``SlaClock.used`` does for one case, on numpy arrays, with the same rules (DOMAIN.md §4, practice):
green while under 80 % of the time allowed is used, yellow at 80–100 %, red once past the deadline.
The clock runs from the limit's start (``clock_started_at``, else the dispatch) to the case's handling,
or to ``as_of`` while it is not handled; cases with no deadline, or parked, have no light.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.loop import GREEN_BELOW, RED_FROM
from dashboard.worktime import WorkCalendar

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHTS = (GREEN, YELLOW, RED)


def _minutes(calendar: WorkCalendar, starts: np.ndarray, ends: np.ndarray, work: np.ndarray) -> np.ndarray:
    """Return the minutes from each start to its end: working minutes where ``work``, clock minutes elsewhere."""
    out = ((ends - starts) // np.timedelta64(1, "m")).astype(np.int64)
    if work.any():
        out[work] = calendar.work_minutes_between(starts[work], ends[work])
    return out


def used_shares(calendar: WorkCalendar, *, started, deadline, handled, unit, as_of, parked=None) -> np.ndarray:
    """Return the share of the time allowed each case has used at ``as_of`` (NaN where no clock runs).

    ``started``, ``deadline`` and ``handled`` are datetime-like sequences (NaT where absent), ``unit``
    the category's limit unit per case (hours / work_hours / work_days), ``parked`` a boolean mask.
    A handled case's clock stopped at its handling (a handling after ``as_of`` does not count yet).
    Past the deadline the share is 1 plus the time over on the same clock, at least a hair over 1.
    """
    started = pd.to_datetime(pd.Series(started)).to_numpy("datetime64[m]")
    deadline = pd.to_datetime(pd.Series(deadline)).to_numpy("datetime64[m]")
    handled = pd.to_datetime(pd.Series(handled)).to_numpy("datetime64[m]")
    units = np.asarray(unit, dtype=object)
    now = np.datetime64(pd.Timestamp(as_of).to_datetime64(), "m")
    n = len(started)
    out = np.full(n, np.nan)
    running = ~np.isnat(started) & ~np.isnat(deadline)
    if parked is not None:
        running &= ~np.asarray(parked, dtype=bool)
    if not running.any():
        return out
    idx = np.flatnonzero(running)
    s, d, h = started[idx], deadline[idx], handled[idx]
    until = np.where(~np.isnat(h) & (h <= now), h, now)
    work = units[idx] != "hours"
    allowed = _minutes(calendar, s, d, work)
    late = until > d
    share = np.empty(len(idx))
    # Late: 1 + minutes over / minutes allowed (on the case's own clock), never exactly 1.
    over = _minutes(calendar, d, np.where(late, until, d), work)
    with np.errstate(divide="ignore", invalid="ignore"):
        late_share = 1.0 + np.maximum(np.where(allowed > 0, over / allowed, 0.0), 0.0001)
        remaining = _minutes(calendar, np.where(late, d, until), d, work)
        on_time_share = np.where(allowed > 0, np.maximum(0.0, 1.0 - remaining / np.where(allowed > 0, allowed, 1)),
                                 np.where(until >= d, 1.0, 0.0))
    share[:] = np.where(late, late_share, on_time_share)
    out[idx] = share
    return out


def lights(shares: np.ndarray) -> np.ndarray:
    """Return each share's light (green / yellow / red), or None where it has none (as ``loop.traffic_light``)."""
    shares = np.asarray(shares, dtype=float)
    out = np.full(shares.shape, None, dtype=object)
    known = ~np.isnan(shares)
    out[known & (shares < GREEN_BELOW)] = GREEN
    out[known & (shares >= GREEN_BELOW) & (shares <= RED_FROM)] = YELLOW
    out[known & (shares > RED_FROM)] = RED
    return out


__all__ = ["GREEN", "YELLOW", "RED", "LIGHTS", "used_shares", "lights"]
