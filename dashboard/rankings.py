"""Rankings, the pure part: periods, the indicators, and scoring a level's units (issue 7; docs/metrics.md).

No SQL and no Dash here: counts in (``queries.rankings.facts`` or the frozen ones), ranked rows out. A period is
[since, until) in naive local time; a month, quarter or year is made of whole months (``months``), a custom period
of days (``months`` empty).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from dashboard.rank_config import Scheme

MAX_CUSTOM_DAYS = 366
MIN_YEAR = 2000
MAX_PERIOD_TEXT = 40
KINDS = ("month", "quarter", "year", "custom")


# -- periods ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A ranking period: its kind, its key as typed ("2026-10", "2026-Q4", "2026", "2026-10-01..2026-10-15")."""

    kind: str
    key: str
    since: datetime
    until: datetime
    months: tuple[date, ...]  # the first days of its months, oldest first; () for a custom period

    @property
    def days(self) -> int:
        """Return the number of days in the period."""
        return (self.until - self.since).days


_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])", re.ASCII)
_YEAR = re.compile(r"(\d{4})", re.ASCII)
_CUSTOM = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", re.ASCII)


def _add_months(day: date, n: int) -> date:
    """Return the first day of the month ``n`` months after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _months(first: date, n: int) -> Period:
    """Return the period of ``n`` whole months from ``first`` (1: a month, 3: a quarter, 12: a year)."""
    months = tuple(_add_months(first, i) for i in range(n))
    end = _add_months(first, n)
    if n == 1:
        kind, key = "month", f"{first:%Y-%m}"
    elif n == 3:
        kind, key = "quarter", f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    else:
        kind, key = "year", f"{first.year}"
    return Period(kind, key, _at(first), _at(end), months)


def _custom(first: date, last: date) -> Period:
    return Period("custom", f"{first:%Y-%m-%d}..{last:%Y-%m-%d}", _at(first), _at(last + timedelta(days=1)), ())


def _year(text: str, whole: str) -> int:
    year = int(text)
    if year < MIN_YEAR:
        raise ValueError(f"the period {whole!r} is before {MIN_YEAR}: rankings start in {MIN_YEAR}")
    return year


def parse_period(text: str, *, today: date) -> Period:
    """Return the period ``text`` names: "2026-10", "2026-Q4", "2026" or "2026-10-01..2026-10-15" (inclusive).

    Raise ValueError with a sentence naming the problem: an unknown form, a month 13, a custom period longer
    than 366 days or ending before it starts, or a period that starts after ``today`` (local date).
    """
    if not isinstance(text, str):
        raise ValueError("the period must be text such as 2026-10, 2026-Q4, 2026 or 2026-10-01..2026-10-15")
    raw = text.strip()
    if len(raw) > MAX_PERIOD_TEXT:
        raise ValueError(f"the period is {len(raw)} characters long; expected a form such as 2026-10 or 2026-Q4")
    shown = raw if raw.isprintable() else raw.encode("unicode_escape").decode("ascii")
    if m := _MONTH.fullmatch(raw):
        year, month = _year(m[1], shown), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"the period {shown!r} names month {month}: months run from 01 to 12")
        period = _months(date(year, month, 1), 1)
    elif m := _QUARTER.fullmatch(raw):
        year = _year(m[1], shown)
        period = _months(date(year, 3 * int(m[2]) - 2, 1), 3)
    elif m := _YEAR.fullmatch(raw):
        period = _months(date(_year(m[1], shown), 1, 1), 12)
    elif m := _CUSTOM.fullmatch(raw):
        try:
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError:
            raise ValueError(f"the period {shown!r} holds a date that does not exist") from None
        _year(str(first.year), shown)
        if last < first:
            raise ValueError(f"the period {shown!r} ends before it starts")
        days = (last - first).days + 1
        if days > MAX_CUSTOM_DAYS:
            raise ValueError(f"the period {shown!r} is {days} days long; a custom period is at most "
                             f"{MAX_CUSTOM_DAYS} days")
        period = _custom(first, last)
    else:
        raise ValueError(f"the period {shown!r} is not a month (2026-10), a quarter (2026-Q4), a year (2026) or "
                         "a range of dates (2026-10-01..2026-10-15)")
    if period.since.date() > today:
        raise ValueError(f"the period {period.key} starts after today ({today:%Y-%m-%d})")
    return period


def previous(p: Period) -> Period:
    """Return the period of the same kind just before ``p`` (custom: the same number of days just before)."""
    if p.kind == "custom":
        first = p.since.date() - timedelta(days=p.days)
        return _custom(first, p.since.date() - timedelta(days=1))
    n = len(p.months)
    return _months(_add_months(p.months[0], -n), n)


def history(p: Period, n: int = 12) -> list[Period]:
    """Return the ``n`` periods ending with ``p``, oldest first; [] for a custom period."""
    if p.kind == "custom" or n <= 0:
        return []
    periods = [p]
    for _ in range(n - 1):
        periods.append(previous(periods[-1]))
    return periods[::-1]


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_label(p: Period, lang: str) -> str:
    """Return how a period reads: "2026年10月" / "Oct 2026", "2026年第4季度" / "Q4 2026", "2026年" / "2026"."""
    en = lang == "en"
    first = p.since.date()
    if p.kind == "month":
        return f"{_MONTHS_EN[first.month - 1]} {first.year}" if en else f"{first.year}年{first.month}月"
    if p.kind == "quarter":
        quarter = (first.month - 1) // 3 + 1
        return f"Q{quarter} {first.year}" if en else f"{first.year}年第{quarter}季度"
    if p.kind == "year":
        return f"{first.year}" if en else f"{first.year}年"
    last = (p.until - timedelta(days=1)).date()
    return f"{first:%Y-%m-%d} – {last:%Y-%m-%d}" if en else f"{first:%Y-%m-%d}至{last:%Y-%m-%d}"


# -- indicators and schemes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    """A ratio of counts: Σ weight × count over ``numerator``, divided by the ``denominator`` count."""

    key: str
    numerator: tuple[tuple[str, float], ...]
    denominator: str
    lower_is_better: bool = False


def _ind(key: str, numerator, denominator: str, lower: bool = False) -> tuple[str, Indicator]:
    parts = ((numerator, 1.0),) if isinstance(numerator, str) else tuple(numerator)
    return key, Indicator(key, parts, denominator, lower)


INDICATORS: dict[str, Indicator] = dict((
    _ind("valid_report_rate", "valid_reports", "reports"),
    _ind("miss_rate", "missed", "grid_registered", lower=True),
    _ind("verify_on_time_rate", "verified_on_time", "to_verify"),
    _ind("check_on_time_rate", "checked_on_time", "to_check"),
    _ind("patrol_rate", "patrol_days", "work_days"),
    _ind("visit_coverage", "buildings_visited", "grid_buildings"),
    _ind("handle_rate", "handled", "to_handle"),
    _ind("handle_on_time_rate", "handled_on_time", "to_handle"),
    _ind("rework_rate", "reworked", "to_close", lower=True),
    _ind("overdue_rate", "overdue_open", "to_handle", lower=True),
    _ind("extension_rate", "extended", "to_handle", lower=True),
    _ind("close_rate", "closed", "to_close"),
    _ind("close_on_time_rate", "closed_on_time", "to_close"),
    _ind("public_report_rate", "public_registered", "registered", lower=True),
    _ind("response_rate", "contacted", "followups"),
    _ind("resolve_rate", "resolved", "followups"),
    _ind("satisfaction_rate", (("satisfied", 1.0), ("basically_satisfied", 0.9)), "followups"),
))

SCHEMES = ("worker", "handling", "area", "hotline")
# The levels each scheme may rank, the default scheme of each level, and the count that is a unit's volume.
SCHEME_LEVELS: dict[str, tuple[str, ...]] = {
    "worker": ("worker",),
    "handling": ("department", "street", "district", "community", "grid"),
    "area": ("district", "street", "community", "grid"),
    "hotline": ("district", "street", "department"),
}
DEFAULT_SCHEME: dict[str, str] = {"district": "area", "street": "handling", "community": "area", "grid": "area",
                                  "worker": "worker", "department": "handling"}
SCHEME_VOLUME: dict[str, str] = {"worker": "reports", "handling": "to_handle", "area": "to_close",
                                 "hotline": "followups"}
# The indicators a scheme may hold: those whose counts exist at its levels.
_HANDLING = ("handle_rate", "handle_on_time_rate", "rework_rate", "overdue_rate", "extension_rate")
SCHEME_INDICATORS: dict[str, tuple[str, ...]] = {
    "worker": ("valid_report_rate", "miss_rate", "verify_on_time_rate", "check_on_time_rate", "patrol_rate",
               "visit_coverage"),
    "handling": (*_HANDLING, "close_rate", "close_on_time_rate"),
    "area": ("close_rate", "close_on_time_rate", "public_report_rate", *_HANDLING),
    "hotline": ("response_rate", "resolve_rate", "satisfaction_rate"),
}


def derive(counts: Mapping[str, int]) -> dict[str, int]:
    """Return ``counts`` with the derived ones added: to_handle = handled + overdue_open, to_close = closed + overdue_open."""
    out = dict(counts)
    overdue = int(out.get("overdue_open", 0))
    out["to_handle"] = int(out.get("handled", 0)) + overdue
    out["to_close"] = int(out.get("closed", 0)) + overdue
    return out


# -- scoring ---------------------------------------------------------------------------------------------------
class Cell(NamedTuple):
    """One indicator of one unit: its ratio, and what it adds to (points) and takes from (lost) the score.

    A named tuple, not a dataclass: 5,000 grid workers × 6 indicators are 30,000 cells a ranking, and a frozen
    dataclass's __init__ took 150 ms of the 200 ms the ranking may take (bench/rank_cases.py).
    """

    indicator: str
    numerator: float
    denominator: int
    value: float | None  # numerator / denominator; None when the denominator is 0
    weight: float
    points: float | None  # None when not counted (nothing to count, or weight 0)
    lost: float | None


@dataclass(frozen=True)
class Row:
    """One unit's place in a ranking."""

    code: str
    name: str
    parent_code: str | None
    parent_name: str | None
    households: int
    grids: int
    volume: int
    score: float | None  # as shown: rounded half up to 2 decimals; None: nothing to count (unranked)
    grade: str | None
    rank: int | None
    apart: bool  # below the minimum volume: ranked in its own sequence after the others
    cells: tuple[Cell, ...]
    counts: Mapping[str, int]
    prev_rank: int | None = None
    change: int | None = None  # previous rank − this rank (positive: moved up)
    spark: tuple = ()
    exact_score: float | None = None  # before rounding (the cells' points add up to it)


def shown_score(score: float) -> float:
    """Return ``score`` (0–100) as people see it: 2 decimals, half up (binary noise past 6 decimals of cents dropped).

    89.995 is 89.99499999999999744 in binary: Python's round() gives 89.99, this gives 90.0, as it reads.
    """
    return math.floor(round(score * 100.0, 6) + 0.5) / 100.0


def shown_scores(scores):
    """Return ``shown_score`` of each element of a numpy array (NaN stays NaN)."""
    return np.floor(np.round(np.asarray(scores, dtype=float) * 100.0, 6) + 0.5) / 100.0


def grade_of(score: float | None, grades: Sequence[tuple[str, float]]) -> str | None:
    """Return the grade of a shown ``score``: the first band (descending) whose floor it reaches."""
    if score is None or not grades:
        return None
    for name, floor in grades:
        if score >= floor:
            return name
    return grades[-1][0]


def _plan(scheme: "Scheme") -> tuple:
    """Return each item of ``scheme`` as (indicator, numerator parts, denominator, lower is better, weight)."""
    return tuple((item.indicator, INDICATORS[item.indicator].numerator, INDICATORS[item.indicator].denominator,
                  INDICATORS[item.indicator].lower_is_better, float(item.weight)) for item in scheme.items)


def _cell(*fields) -> Cell:
    """Return a Cell of ``fields`` (in order) without NamedTuple's keyword handling."""
    return tuple.__new__(Cell, fields)


class _CountsRow(Mapping):
    """One unit's counts (derived ones included) read from whole columns: no dict per unit."""

    __slots__ = ("_cols", "_i")

    def __init__(self, cols: Mapping[str, list], i: int):
        self._cols, self._i = cols, i

    def __getitem__(self, key: str) -> int:
        return self._cols[key][self._i]

    def __iter__(self):
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)


def _frame_columns(frame, codes: Sequence[str], names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Return the count columns of ``frame`` (indexed by unit code) in the order of ``codes``, derived ones added
    (only ``names`` and what the derived ones need, when given)."""
    if names is not None:
        wanted = set(names) | {"handled", "closed", "overdue_open"}
        frame = frame[[c for c in frame.columns if c in wanted]]
    frame = frame.reindex(codes, fill_value=0)
    values = frame.to_numpy(dtype=np.int64)
    cols = {name: values[:, j] for j, name in enumerate(frame.columns)}
    zeros = np.zeros(len(codes), dtype=np.int64)
    overdue = cols.get("overdue_open", zeros)
    cols["to_handle"] = cols.get("handled", zeros) + overdue
    cols["to_close"] = cols.get("closed", zeros) + overdue
    return cols


def _columns(derived: Sequence[Mapping[str, int]], plan: tuple, arrays: Mapping[str, np.ndarray] | None = None
             ) -> tuple[list, np.ndarray]:
    """Return per item (numerators, denominators, values, points, lost) as lists, and the exact scores (NaN: none).

    Whole columns at once (5,000 workers × 6 items): an item counts when its denominator and weight are above 0;
    its score stays in [0, 1] even if bad data put the numerator past the denominator; points and the score are
    added in the items' order, as a reader adds them.
    """
    n = len(derived)

    def column(name: str) -> np.ndarray:
        if arrays is not None:
            return arrays[name].astype(float) if name in arrays else np.zeros(n)
        return np.fromiter((d.get(name, 0) for d in derived), dtype=float, count=n)

    cache: dict[str, np.ndarray] = {}
    staged, total = [], np.zeros(n)
    for _indicator, numerator_parts, denominator_key, lower, weight in plan:
        numerator = np.zeros(n)
        for name, factor in numerator_parts:
            numerator = numerator + (cache.setdefault(name, column(name)) * factor if factor != 1 else
                                     cache.setdefault(name, column(name)))
        denominator = cache.setdefault(denominator_key, column(denominator_key))
        has = denominator > 0
        value = np.divide(numerator, denominator, out=np.zeros(n), where=has)
        item_score = np.clip(1.0 - value if lower else value, 0.0, 1.0)
        counted = has & (weight > 0)
        total = total + np.where(counted, weight, 0.0)
        staged.append((numerator, denominator, value, has, item_score, counted, weight))
    scale = np.divide(100.0, total, out=np.zeros(n), where=total > 0)
    score = np.zeros(n)
    items = []
    for numerator, denominator, value, has, item_score, counted, weight in staged:
        points = scale * weight * item_score
        lost = scale * weight * (1.0 - item_score)
        score = score + np.where(counted, points, 0.0)
        items.append((numerator.tolist(), denominator.astype(np.int64).tolist(),
                      [v if h else None for v, h in zip(value.tolist(), has.tolist())],
                      [v if c else None for v, c in zip(points.tolist(), counted.tolist())],
                      [v if c else None for v, c in zip(lost.tolist(), counted.tolist())]))
    return items, np.where(total > 0, score, np.nan)


def score_rows(units, counts, scheme: "Scheme",
               grades: Sequence[tuple[str, float]], min_volume: int) -> list[Row]:
    """Score and rank ``units`` (queries.rankings.Unit) on their ``counts`` by ``scheme``.

    ``counts`` is {code: {count: n}}, or a frame of counts indexed by unit code (read as whole columns; each
    row's ``counts`` is then a read-only view of them).

    Display order: the ranked units (score ↓, then volume ↓, then code ↑, on the score as shown), then the units
    below ``min_volume`` in their own sequence (apart), then those with nothing to count (no score, by code).
    """
    units = list(units)
    volume_key = SCHEME_VOLUME[scheme.key]
    plan = _plan(scheme)
    if hasattr(counts, "reindex"):  # a frame of counts indexed by unit code (dashboard/rank_service.py): columns
        arrays = _frame_columns(counts, [unit.code for unit in units])
        lists = {name: column.tolist() for name, column in arrays.items()}
        derived = [_CountsRow(lists, i) for i in range(len(units))]
    else:
        arrays = None
        derived = [derive(counts.get(unit.code) or {}) for unit in units]
    items, exact = _columns(derived, plan, arrays)
    shown = shown_scores(exact).tolist()
    exact = exact.tolist()
    # Each item's cells down the column, then each unit's cells across the row (zip is the transpose).
    by_item = [[_cell(key, n, d, v, weight, pt, ls) for n, d, v, pt, ls in zip(num, den, value, points, lost)]
               for (key, _parts, _den, _lower, weight), (num, den, value, points, lost) in zip(plan, items)]
    cells_of = list(zip(*by_item)) if by_item else [()] * len(units)
    scored, apart, unscored = [], [], []
    for i, unit in enumerate(units):
        volume = int(derived[i].get(volume_key, 0))
        score = None if exact[i] != exact[i] else shown[i]
        (unscored if score is None else apart if volume < min_volume else scored).append((score, volume, unit.code, i))

    def row(staged: tuple, rank: int | None) -> Row:
        score, volume, code, i = staged
        unit = units[i]
        # Without the frozen dataclass's __init__ (5,000 rows for a worker ranking: 60 ms of its 200).
        made = object.__new__(Row)
        made.__dict__.update(code=code, name=unit.name, parent_code=unit.parent_code, parent_name=unit.parent_name,
                             households=int(unit.households or 0), grids=int(unit.grids or 0), volume=volume,
                             score=score, grade=grade_of(score, grades), rank=rank, apart=volume < min_volume,
                             cells=cells_of[i], counts=derived[i], exact_score=None if score is None else exact[i],
                             prev_rank=None, change=None, spark=())
        return made

    def order(staged: tuple):
        return -staged[0], -staged[1], staged[2]

    rows = [row(staged, rank) for rank, staged in enumerate(sorted(scored, key=order), 1)]
    rows += [row(staged, rank) for rank, staged in enumerate(sorted(apart, key=order), 1)]
    return rows + [row(staged, None) for staged in sorted(unscored, key=lambda staged: staged[2])]


def with_history(rows: Sequence[Row], previous_rows: Sequence[Row],
                 history: Sequence[Mapping[str, float | None]]) -> list[Row]:
    """Return ``rows`` with the previous period's rank, the change and the sparkline (``history``: {code: score} per period, oldest first).

    The change is None unless the unit is ranked in both periods and apart in neither.
    """
    before = {row.code: row for row in previous_rows}
    out = []
    for row in rows:
        prev = before.get(row.code)
        prev_rank = prev.rank if prev is not None and prev.rank is not None and not prev.apart else None
        change = prev_rank - row.rank if prev_rank is not None and row.rank is not None and not row.apart else None
        spark = tuple(period.get(row.code) for period in history)
        out.append(replace(row, prev_rank=prev_rank, change=change, spark=spark))
    return out


NORMALISE = ("households", "grids", "cases")


def normalised(row: Row, value: float, how: str) -> float | None:
    """Return ``value`` per 1,000 households, per grid or per case (of the row's volume); None when that is 0."""
    if how not in NORMALISE:
        raise ValueError(f"normalise by one of {', '.join(NORMALISE)}, not {how!r}")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if how == "households":
        return 1000.0 * value / row.households if row.households > 0 else None
    if how == "grids":
        return value / row.grids if row.grids > 0 else None
    return value / row.volume if row.volume > 0 else None
