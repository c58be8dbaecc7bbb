"""The demo's field work and 12345 follow-ups (issue 7): what the workers' and the hotline's rankings count.

* patrols (巡查): each worker patrols their own grid on most working days (full-time 88–97 % of them,
  part-time 40–70 %, a rate of their own), mostly in working hours, sometimes twice a day; 1–12 check-ins.
* visits (走访): each worker visits buildings of their grid over each month (full-time 50–100 % of them,
  part-time 15–50 %, varying month by month), now and then one building twice; 1–20 households a visit.
* hotline_followups (回访): every closed 12345 ticket (source 'hotline') is followed up 1–3 days after it
  closed, if that is before ``now``: valid ~95 %, contacted ~97 %, resolved 88–95 % and satisfied ~80 % /
  basic ~12 % / dissatisfied ~6 %, each department with rates of its own (an unresolved case seldom satisfies).

Vectorised; deterministic in (seed, the stored workers, buildings and events, now, days). Written with the
bulk loader after the events, so the follow-ups see the tickets' final closing times.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from time import perf_counter

import numpy as np
import pandas as pd

from dashboard.worktime import WorkCalendar
from queries import fieldwork as q

log = logging.getLogger(__name__)

PATROL_RATE = {"full_time": (0.88, 0.97), "part_time": (0.40, 0.70)}  # share of working days patrolled
SECOND_PATROL = 0.08  # of patrol days: a second round in the afternoon
OFF_HOURS = 0.05  # of patrols: in the evening (18:00–20:00) rather than in working hours
COVERAGE = {"full_time": (0.50, 1.00), "part_time": (0.15, 0.50)}  # share of the grid's buildings a month
COVERAGE_JITTER = 0.08  # month-to-month
REVISIT = 0.2  # of visited buildings: visited twice in the month
FOLLOW_VALID = 0.95
CONTACTED = (0.93, 0.995)  # per department
RESOLVED = (0.88, 0.95)  # per department
# Satisfaction of a resolved case: satisfied (per department), basic 0.11, dissatisfied 0.02, unknown the rest;
# of an unresolved one the shares below. With ~91 % resolved: satisfied ~80 %, basic ~12 %, dissatisfied ~6 %.
SATISFIED_IF_RESOLVED = (0.82, 0.87)
BASIC_IF_RESOLVED, DISSATISFIED_IF_RESOLVED = 0.11, 0.02
IF_UNRESOLVED = (0.30, 0.20, 0.45)  # satisfied, basic, dissatisfied (unknown the rest)
SATISFACTION = np.array(["satisfied", "basic", "dissatisfied", "unknown"], dtype=object)


@dataclass(frozen=True)
class FieldworkReport:
    patrols: int
    visits: int
    followups: int
    seconds: float


def add_fieldwork(conn, *, seed: int, now: datetime, days: int, calendar: WorkCalendar) -> FieldworkReport:
    """Write the demo's patrols, visits and follow-ups over the ``days`` before ``now``; the caller commits."""
    started = perf_counter()
    since = now - timedelta(days=days)
    worker_rows = q.worker_frame(conn)
    building_rows = q.building_frame(conn)
    tickets = q.closed_hotline(conn, until=now)
    workdays = _workdays(since, now, calendar)
    patrol_rows = make_patrols(np.random.default_rng([seed, 7, 1]), worker_rows, workdays, since=since, now=now)
    visit_rows = make_visits(np.random.default_rng([seed, 7, 2]), worker_rows, building_rows, workdays,
                             since=since, now=now)
    followup_rows = make_followups(np.random.default_rng([seed, 7, 3]), tickets, now=now)
    counts = q.write_seeded(conn, patrol_rows=patrol_rows, visit_rows=visit_rows, followup_rows=followup_rows)
    report = FieldworkReport(*counts, seconds=round(perf_counter() - started, 2))
    log.info("field work: %s", report)
    return report


def refill(conn, *, days: int = 365, calendar: WorkCalendar | None = None) -> FieldworkReport:
    """Replace the field work and follow-ups of a seeded store with the demo's, as its seeding would write them.

    For a store seeded before issue 7 (the demo's, the benchmark's): the seed and "now" come from its
    store_meta, ``days`` must be the seeding's own (365 by default). The caller commits.
    """
    seed, seeded_at = q.seeding(conn)
    if seed is None or seeded_at is None:
        raise ValueError("this store was not seeded by gridcc seed: no seed or seeded_at in store_meta")
    q.clear_fieldwork(conn)
    return add_fieldwork(conn, seed=seed, now=seeded_at, days=days, calendar=calendar or WorkCalendar())


def _workdays(since: datetime, now: datetime, calendar: WorkCalendar) -> np.ndarray:
    """Return the working days of the whole months from since's to now's (inclusive) as datetime64[D]."""
    first = np.datetime64(since.date(), "M").astype("datetime64[D]")
    last = (np.datetime64(now.date(), "M") + 1).astype("datetime64[D]")
    all_days = np.arange(first, last)
    return all_days[np.array([calendar.is_workday(d.astype(date)) for d in all_days], dtype=bool)]


def _minutes(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype("timedelta64[m]")


def make_patrols(rng, worker_rows: pd.DataFrame, workdays: np.ndarray, *, since: datetime,
                 now: datetime) -> pd.DataFrame:
    """Return the patrols of every worker on the working days (ids from 1), those inside [since, now]."""
    n_w, n_d = len(worker_rows), len(workdays)
    columns = ["id", "worker_id", "grid_code", "started_at", "ended_at", "checkins", "distance_m"]
    if n_w == 0 or n_d == 0:
        return pd.DataFrame(columns=columns)
    full = (worker_rows["kind"].to_numpy() == "full_time")
    lo = np.where(full, PATROL_RATE["full_time"][0], PATROL_RATE["part_time"][0])
    hi = np.where(full, PATROL_RATE["full_time"][1], PATROL_RATE["part_time"][1])
    rate = rng.uniform(lo, hi)
    on = rng.random((n_w, n_d)) < rate[:, None]
    w_idx, d_idx = np.nonzero(on)  # worker-major, days in order
    second = rng.random(len(w_idx)) < SECOND_PATROL
    w_idx = np.concatenate([w_idx, w_idx[second]])
    d_idx = np.concatenate([d_idx, d_idx[second]])
    afternoon = np.concatenate([rng.random(second.size) < 0.35, np.ones(int(second.sum()), dtype=bool)])
    n = len(w_idx)
    start_min = np.where(afternoon, 13 * 60 + 30, 8 * 60 + 30) + rng.integers(0, 150, n)
    evening = rng.random(n) < OFF_HOURS
    start_min = np.where(evening, 18 * 60 + rng.integers(0, 120, n), start_min)
    duration = rng.integers(20, 151, n)
    started = workdays[d_idx].astype("datetime64[m]") + _minutes(start_min)
    ended = started + _minutes(duration)
    checkins = np.clip(np.rint(duration / 12 + rng.normal(0, 1.5, n)), 1, 12).astype(np.int16)
    distance = (duration * rng.uniform(40, 80, n)).astype(np.int64)
    keep = np.nonzero((started >= np.datetime64(since, "m")) & (started <= np.datetime64(now, "m")))[0]
    worker_ids = worker_rows["id"].to_numpy().astype(np.int32)
    # In time order (then by worker), as a store appends them: numpy's sort of two int columns, not pandas'.
    order = keep[np.lexsort((worker_ids[w_idx[keep]], started[keep].astype(np.int64)))]
    ended = ended[order].astype("datetime64[us]")
    ended[ended > np.datetime64(now, "us")] = np.datetime64("NaT")  # a round still under way at now: no end yet
    grids, grid_of_worker = np.unique(worker_rows["grid_code"].to_numpy().astype(str), return_inverse=True)
    return pd.DataFrame({
        "id": np.arange(1, len(order) + 1, dtype=np.int64),
        "worker_id": worker_ids[w_idx[order]],
        # Categorical: DuckDB takes a dictionary of a few thousand codes far faster than a million strings.
        "grid_code": pd.Categorical.from_codes(grid_of_worker[w_idx[order]], categories=grids),
        "started_at": started[order].astype("datetime64[us]"),
        "ended_at": ended,
        "checkins": checkins[order],
        "distance_m": distance[order],
    })


def make_visits(rng, worker_rows: pd.DataFrame, building_rows: pd.DataFrame, workdays: np.ndarray, *,
                since: datetime, now: datetime) -> pd.DataFrame:
    """Return the visits of every worker to the buildings of their grid, month by month (ids from 1), inside
    [since, now]. ``workdays``: the working days of the whole months the window touches."""
    columns = ["id", "worker_id", "grid_code", "building_code", "visited_at", "households"]
    if len(worker_rows) == 0 or len(building_rows) == 0 or len(workdays) == 0:
        return pd.DataFrame(columns=columns)
    full = (worker_rows["kind"].to_numpy() == "full_time")
    base = np.where(full, rng.uniform(*COVERAGE["full_time"], len(worker_rows)),
                    rng.uniform(*COVERAGE["part_time"], len(worker_rows)))
    # Every (worker, building of the worker's grid) pair.
    pairs = worker_rows[["id", "grid_code"]].reset_index(names="w").merge(
        building_rows.rename(columns={"code": "building_code"}), on="grid_code", how="inner", sort=False)
    pairs = pairs.sort_values(["w", "building_code"], kind="stable")
    w = pairs["w"].to_numpy()
    months = workdays.astype("datetime64[M]")
    month_keys, month_first, month_count = np.unique(months, return_index=True, return_counts=True)
    n_m, n_p = len(month_keys), len(pairs)
    coverage = np.clip(base[:, None] + rng.uniform(-COVERAGE_JITTER, COVERAGE_JITTER, (len(worker_rows), n_m)),
                       0.05, 1.0)
    visited = rng.random((n_p, n_m)) < coverage[w]
    p_idx, m_idx = np.nonzero(visited)
    again = rng.random(len(p_idx)) < REVISIT
    p_idx = np.concatenate([p_idx, p_idx[again]])
    m_idx = np.concatenate([m_idx, m_idx[again]])
    n = len(p_idx)
    # A working day of the whole month: the window's partial first and last months keep the visits of the
    # part inside it (cut below), as a store that started or stopped mid-month would hold.
    day = workdays[month_first[m_idx] + (rng.random(n) * month_count[m_idx]).astype(np.int64)]
    at = day.astype("datetime64[m]") + _minutes(9 * 60 + rng.integers(0, 8 * 60, n))
    households = building_rows.set_index("code")["households"]
    cap = np.maximum(households.reindex(pairs["building_code"].to_numpy()).fillna(1).to_numpy(), 1)[p_idx]
    keep = np.nonzero((at >= np.datetime64(since, "m")) & (at <= np.datetime64(now, "m")))[0]
    worker_ids = pairs["id"].to_numpy().astype(np.int32)
    codes, building_of_pair = np.unique(pairs["building_code"].to_numpy().astype(str), return_inverse=True)
    grid_codes, grid_of_pair = np.unique(pairs["grid_code"].to_numpy().astype(str), return_inverse=True)
    # In time order, then by worker and building (codes sort as their category numbers do).
    order = keep[np.lexsort((building_of_pair[p_idx[keep]], worker_ids[p_idx[keep]], at[keep].astype(np.int64)))]
    return pd.DataFrame({
        "id": np.arange(1, len(order) + 1, dtype=np.int64),
        "worker_id": worker_ids[p_idx[order]],
        "grid_code": pd.Categorical.from_codes(grid_of_pair[p_idx[order]], categories=grid_codes),
        "building_code": pd.Categorical.from_codes(building_of_pair[p_idx[order]], categories=codes),
        "visited_at": at[order].astype("datetime64[us]"),
        "households": np.minimum(rng.integers(1, 21, n), cap)[order].astype(np.int16),
    })


def make_followups(rng, tickets: pd.DataFrame, *, now: datetime) -> pd.DataFrame:
    """Return one follow-up per closed 12345 ticket, 1–3 days after it closed and not after ``now``."""
    columns = ["event_id", "followed_at", "valid", "contacted", "resolved", "satisfaction"]
    if len(tickets) == 0:
        return pd.DataFrame(columns=columns)
    n = len(tickets)
    departments = tickets["department_code"].fillna("").to_numpy(dtype=object)
    codes, dept = np.unique(departments.astype(str), return_inverse=True)
    # Each department's own rates, drawn in code order (the same department, the same rates).
    by_dept = np.random.default_rng(rng.integers(2**32))
    contacted_rate = by_dept.uniform(*CONTACTED, len(codes))
    resolved_rate = by_dept.uniform(*RESOLVED, len(codes))
    satisfied_rate = by_dept.uniform(*SATISFIED_IF_RESOLVED, len(codes))
    closed = tickets["closed_at"].to_numpy().astype("datetime64[s]")
    # 1–3 days after closing, on a whole minute: rounded up, so never less than a day after it.
    after = closed + _minutes(rng.integers(24 * 60, 72 * 60, n)).astype("timedelta64[s]") + np.timedelta64(59, "s")
    followed = after.astype("datetime64[m]")
    resolved = rng.random(n) < resolved_rate[dept]
    # Satisfaction: the cumulative shares (satisfied, +basic, +dissatisfied) of each case; unknown the rest.
    sat = np.where(resolved, satisfied_rate[dept], IF_UNRESOLVED[0])
    basic = np.where(resolved, BASIC_IF_RESOLVED, IF_UNRESOLVED[1])
    dis = np.where(resolved, DISSATISFIED_IF_RESOLVED, IF_UNRESOLVED[2])
    u = rng.random(n)
    pick = (u >= sat).astype(np.int8) + (u >= sat + basic) + (u >= sat + basic + dis)
    frame = pd.DataFrame({
        "event_id": tickets["id"].to_numpy().astype(np.int64),
        "followed_at": followed.astype("datetime64[us]"),
        "valid": rng.random(n) < FOLLOW_VALID,
        "contacted": rng.random(n) < contacted_rate[dept],
        "resolved": resolved,
        "satisfaction": SATISFACTION[pick],
    })
    return frame[followed <= np.datetime64(now, "m")].reset_index(drop=True)


__all__ = ["FieldworkReport", "add_fieldwork", "make_followups", "make_patrols", "make_visits", "refill"]
