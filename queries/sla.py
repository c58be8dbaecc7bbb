"""The SLA page's figures (issue 6 §1): on-time rates, the backlog's age, the loop as a funnel, handling times,
exception rates, and the cases behind each figure. docs/sla.md defines every figure exactly.

Every figure carries its numerator and denominator. All times are naive local times; windows are half-open
[since, until); ``as_of`` is the instant the figures are as of: a step counts only if it happened by then.
Void and parked cases are left out as in queries/overview.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

GRAINS = ("day", "week", "month")
SPLITS = ("class", "department", "area", "street")
AGE_SPLITS = ("class", "area")
HANDLING_SPLITS = ("class", "category", "department")
EXCEPTION_SPLITS = ("department", "area")
# Backlog age buckets: age = as_of − reported_at; lower edge inclusive, in days.
AGE_BUCKETS = ("lt1d", "1to3d", "3to7d", "7to30d", "gt30d")
AGE_EDGES_DAYS = (1, 3, 7, 30)
# Handling-time bins: dispatch → handled, in hours; lower edge inclusive.
HOUR_BINS = (1, 2, 4, 8, 24, 48, 72, 168)
HOUR_BIN_KEYS = ("lt1h", "1to2h", "2to4h", "4to8h", "8to24h", "1to2d", "2to3d", "3to7d", "gt7d")
FUNNEL_STAGES = ("report", "accept", "register", "dispatch", "handle", "check", "close")
LIGHT_KEYS = ("green", "yellow", "red", "none", "turning_red_2h")
CASE_PAGE_LIMIT = 200


@dataclass(frozen=True)
class Rate:
    """A ratio with its parts: ``numerator`` / ``denominator`` (None when nothing counts)."""

    key: str
    name: str
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """Return numerator / denominator, or None when the denominator is 0."""
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class TrendPoint:
    """按期处置率 and 按期结案率 of one day / week (Monday) / month (its 1st)."""

    bucket: date
    handle: Rate
    close: Rate


@dataclass(frozen=True)
class SplitRow:
    """The two on-time rates of one category class, department or area, and its open overdue cases at as_of."""

    key: str
    name: str
    handle: Rate
    close: Rate
    overdue_open: int


@dataclass(frozen=True)
class AgeRow:
    """Open cases at as_of of one class or area, counted per AGE_BUCKETS."""

    key: str
    name: str
    buckets: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.buckets)


@dataclass(frozen=True)
class LightCounts:
    """Open cases at as_of by traffic light; ``none``: no clock yet; turning_red_2h: due in (as_of, as_of + 2 h]."""

    green: int = 0
    yellow: int = 0
    red: int = 0
    none: int = 0
    turning_red_2h: int = 0

    @property
    def total(self) -> int:
        return self.green + self.yellow + self.red + self.none


@dataclass(frozen=True)
class FunnelStage:
    """One stage of the loop: cases that reached it by as_of, and the minutes spent in it (previous stamp → its stamp).

    ``timed`` cases have both stamps; ``over_limit`` of them took longer than the stage's limit.
    """

    stage: str
    reached: int
    median_min: float | None
    p90_min: float | None
    limit_min: float | None
    over_limit: int
    timed: int


@dataclass(frozen=True)
class Distribution:
    """Handling hours (dispatch → handled) of the cases closed in the window of one class, category or department."""

    key: str
    name: str
    n: int
    median_h: float | None
    p90_h: float | None
    bins: tuple[int, ...]  # per HOUR_BIN_KEYS


@dataclass(frozen=True)
class ExceptionRow:
    """延期率, 回退率, 返工率 and (per area) 作废率 of one department or area."""

    key: str
    name: str
    extension: Rate
    returned: Rate
    rework: Rate
    void: Rate | None


@dataclass(frozen=True)
class CaseRow:
    """One case behind a figure. No personal data."""

    id: int
    category: str
    place: str  # community · grid names
    department: str | None
    status: str
    reported_at: datetime
    deadline_at: datetime | None
    light: str | None = None


@dataclass(frozen=True)
class CasePage:
    """A page of the cases behind a figure, and how many there are in all."""

    total: int
    rows: tuple[CaseRow, ...]
