"""Working time: the Chinese statutory calendar, working hours, and SLA deadlines, vectorised.

Working days come from the maintained ``chinesecalendar`` package (statutory holidays off, make-up
workdays 调休 on), corrected by a city's override table; years the package does not know yet fall
back to Monday–Friday and are logged. Working hours default to 08:30–12:00 and 13:30–17:30, so one
work day is 7.5 working hours. Times are naive local times; the clock runs to the minute.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import chinese_calendar
import numpy as np

log = logging.getLogger(__name__)

DEFAULT_PERIODS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
MINUTE = np.timedelta64(1, "m")


def load_overrides(path: str | Path) -> dict[date, bool]:
    """Read a CSV of ``date,workday`` rows (``2027-01-01,0``) into {date: is_workday}."""
    overrides: dict[date, bool] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            overrides[date.fromisoformat(row["date"].strip())] = row["workday"].strip().lower() in ("1", "true", "yes")
    return overrides


def parse_periods(text: str) -> tuple[tuple[time, time], ...]:
    """Read working hours like ``08:30-12:00,13:30-17:30`` (ordered, not overlapping, within a day)."""
    periods = []
    for part in text.split(","):
        start_text, sep, end_text = part.strip().partition("-")
        try:
            start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
        except ValueError:
            raise ValueError(f"working hours {text!r}: write them like 08:30-12:00,13:30-17:30") from None
        if not sep or end <= start or (periods and start < periods[-1][1]):
            raise ValueError(f"working hours {text!r}: each period must end after it starts, in order")
        periods.append((start, end))
    return tuple(periods)


@dataclass
class WorkCalendar:
    """Which minutes are working minutes, and arithmetic on them."""

    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS
    overrides: dict[date, bool] = field(default_factory=dict)

    def __post_init__(self):
        self._origin: np.datetime64 | None = None
        self._cum: np.ndarray | None = None
        self._warned: set[int] = set()
        self._day_mask = np.zeros(1440, dtype=bool)
        for start, end in self.periods:
            self._day_mask[start.hour * 60 + start.minute:end.hour * 60 + end.minute] = True

    @property
    def minutes_per_day(self) -> int:
        """Working minutes in one work day (450 with the default hours)."""
        return int(self._day_mask.sum())

    def is_workday(self, day: date) -> bool:
        """Return True when ``day`` is a working day (overrides first, then the statutory calendar)."""
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("no statutory calendar for %s: Monday-Friday assumed; add overrides", day.year)
            return day.weekday() < 5

    def _ensure(self, lo: np.datetime64, hi: np.datetime64) -> None:
        """Build the cumulative working-minute table so that it covers [lo, hi] with margin."""
        lo_day = lo.astype("datetime64[D]") - np.timedelta64(2, "D")
        hi_day = hi.astype("datetime64[D]") + np.timedelta64(120, "D")
        if self._origin is not None:
            end = self._origin + np.timedelta64(len(self._cum) - 1, "m")
            if self._origin <= lo_day and end >= hi_day:
                return
            lo_day = min(lo_day, self._origin.astype("datetime64[D]"))
            hi_day = max(hi_day, end.astype("datetime64[D]"))
        days = np.arange(lo_day, hi_day + np.timedelta64(1, "D"))
        workdays = np.array([self.is_workday(d.astype(date)) for d in days])
        flags = (workdays[:, None] & self._day_mask[None, :]).ravel()
        self._origin = lo_day.astype("datetime64[m]")
        self._cum = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))

    def _index(self, ts: np.ndarray) -> np.ndarray:
        return ((ts.astype("datetime64[m]") - self._origin) // MINUTE).astype(np.int64)

    def add_work_minutes(self, starts, minutes) -> np.ndarray:
        """Return the instants ``minutes`` working minutes after each of ``starts`` (datetime64[m]).

        A start outside working time begins counting at the next working minute.
        """
        starts = np.asarray(starts, dtype="datetime64[m]")
        minutes = np.asarray(minutes, dtype=np.int64)
        if starts.size == 0:
            return starts
        self._ensure(starts.min(), starts.max() + np.timedelta64(int(minutes.max() // self.minutes_per_day * 3 + 3), "D"))
        target = self._cum[self._index(starts)] + minutes
        while target.max() > self._cum[-1]:  # a limit that runs past the table: grow it
            self._ensure(self._origin, self._origin + np.timedelta64(len(self._cum) * 2, "m"))
            target = self._cum[self._index(starts)] + minutes
        # The first minute boundary by which `target` working minutes have elapsed; never before the
        # start (adding nothing outside working time would otherwise step back to the last work minute).
        ends = self._origin + np.searchsorted(self._cum, target, side="left") * MINUTE
        return np.maximum(ends, starts)

    def work_minutes_between(self, starts, ends) -> np.ndarray:
        """Return the working minutes from each start to its end (negative if the end is earlier)."""
        starts = np.asarray(starts, dtype="datetime64[m]")
        ends = np.asarray(ends, dtype="datetime64[m]")
        if starts.size == 0:
            return np.zeros(0, dtype=np.int64)
        self._ensure(min(starts.min(), ends.min()), max(starts.max(), ends.max()))
        return self._cum[self._index(ends)] - self._cum[self._index(starts)]

    def limit_minutes(self, value: float, unit: str) -> int:
        """Return a handling limit in minutes of its own clock (working minutes or clock minutes)."""
        if unit == "hours" or unit == "work_hours":
            return int(round(value * 60))
        if unit == "work_days":
            return int(round(value * self.minutes_per_day))
        raise ValueError(f"unknown limit unit {unit!r}: expected hours, work_hours or work_days")

    def deadlines(self, starts, values, units) -> np.ndarray:
        """Return the deadline of each limit (value, unit) started at ``starts`` (datetime64[m])."""
        starts = np.asarray(starts, dtype="datetime64[m]")
        units = np.asarray(units)
        values = np.asarray(values, dtype=float)
        minutes = np.where(units == "work_days", np.round(values * self.minutes_per_day), np.round(values * 60))
        minutes = minutes.astype(np.int64)
        out = starts + minutes * MINUTE  # around the clock
        work = units != "hours"
        if work.any():
            out[work] = self.add_work_minutes(starts[work], minutes[work])
        return out

    def deadline(self, start: datetime, value: float, unit: str) -> datetime:
        """Return the deadline of one limit started at ``start``."""
        (out,) = self.deadlines(np.array([np.datetime64(start, "m")]), [value], [unit])
        return out.astype(datetime)


def default_calendar(overrides_path: str | Path | None = None) -> WorkCalendar:
    """Return the default calendar, with a city's override file when given."""
    overrides = load_overrides(overrides_path) if overrides_path else {}
    return WorkCalendar(overrides=overrides)


__all__ = ["WorkCalendar", "default_calendar", "load_overrides", "parse_periods", "DEFAULT_PERIODS"]
