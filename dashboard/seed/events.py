"""The event history: reports through the closed loop (DOMAIN.md §3–4), vectorised with numpy.

Each event follows one path through a fixed list of transition slots (report, accept, verify …
close); a slot it never reaches holds no time. Every time later than ``now`` is dropped, and the
event's row is read off the slots it has reached, so its status, timestamps and event_log rows
agree by construction. Events come out in ``reported_at`` order in chunks, ids from 1; log rows are
merged across chunks so that their ids also follow time.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from dashboard.heat import h3_cells
from dashboard.seed.catalogue import SOURCE_SHARE, category_mix
from dashboard.seed.city import DEPARTMENT_KINDS, M_PER_DEG_LAT, M_PER_DEG_LON, City
from dashboard.worktime import WorkCalendar
from queries.schema import SOURCES, STATUSES

CHUNK_EVENTS = 1_000_000
NA = np.iinfo(np.int64).max  # "never": larger than any now, so `t <= now` also tests presence

SLOTS = (  # (action, to_status), in the only order they can happen
    ("report", "reported"),
    ("accept", "accepted"),
    ("verify", "verified"),
    ("void", "void"),
    ("register", "registered"),
    ("dispatch", "dispatched"),
    ("return", "registered"),
    ("dispatch", "dispatched"),  # re-dispatch after a return (改派)
    ("extend", "dispatched"),
    ("park", "parked"),
    ("handle", "handled"),
    ("rework", "dispatched"),
    ("handle", "handled"),  # handled again after rework (返工)
    ("check", "checked"),
    ("close", "closed"),
)
(REPORT, ACCEPT, VERIFY, VOID, REGISTER, DISPATCH1, RETURN, DISPATCH2, EXTEND, PARK,
 HANDLE1, REWORK, HANDLE2, CHECK, CLOSE) = range(len(SLOTS))
ACTIONS = tuple(dict.fromkeys(a for a, _ in SLOTS))
SLOT_ACTION = np.array([ACTIONS.index(a) for a, _ in SLOTS])
SLOT_STATUS = np.array([STATUSES.index(s) for _, s in SLOTS])

# Paths: exclusive, so every event has at most one exception.
NORMAL, VOIDED, RETURNED, EXTENDED, REWORKED, PARKED, STUCK = range(7)
P_RETURN, P_EXTEND, P_REWORK, P_STUCK, P_PARK = 0.010, 0.005, 0.005, 0.002, 0.001
# Invalid reports by source: patrols rarely, the public and machines more often (about 2 % overall).
P_VOID = {"grid_worker": 0.004, "hotline": 0.03, "citizen": 0.05, "iot": 0.03, "video_ai": 0.03, "other": 0.03}
ACCEPT_MEAN_S = {"grid_worker": 180, "hotline": 90, "citizen": 720, "iot": 120, "video_ai": 360, "other": 1200}
NEEDS_VERIFY = ("hotline", "citizen")
# Handling time as a fraction of the limit: lognormal with median 0.35 and sigma 0.69 puts about
# 6.5 % past 1.0, the late share of the cities in DOMAIN.md §5 before their rankings' rounding.
HANDLE_MEDIAN, HANDLE_SIGMA = 0.35, 0.69

# Reports per hour of day (relative), by source: patrols keep office hours, the hotline and the
# app run into the evening, sensors around the clock, cameras catch the night stalls.
HOUR_PROFILE = {  # hours 0 … 23
    "grid_worker": [0, 0, 0, 0, 0, 0, .2, .8, 2.2, 3.2, 3.4, 2.6,
                    1.2, 1.4, 2.8, 3.2, 3, 2.2, .9, .4, .2, .1, .05, .02],
    "hotline": [.3, .2, .15, .1, .1, .2, .5, 1.2, 2.4, 3, 3, 2.5,
                1.8, 2, 2.6, 2.7, 2.5, 2.1, 1.7, 1.6, 1.5, 1.2, .8, .5],
    "citizen": [.3, .15, .1, .1, .1, .2, .6, 1.5, 2.2, 2.5, 2.4, 2.2,
                1.9, 1.9, 2.1, 2.2, 2.2, 2.1, 2, 2.1, 2, 1.6, 1, .6],
    "iot": [.8, .8, .8, .8, .8, .9, 1, 1.1, 1.2, 1.2, 1.2, 1.2,
            1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.1, 1, 1, .9, .9, .8],
    "video_ai": [.2, .1, .05, .05, .05, .1, .4, 1.2, 2, 2.4, 2.4, 2.2,
                 2, 1.8, 2, 2.2, 2.3, 2.3, 2.2, 2.4, 2.3, 1.6, .9, .4],
    "other": [0, 0, 0, 0, 0, 0, 0, .2, 1, 2.5, 2.5, 2,
              .5, 1, 2.5, 2.5, 2, 1, .2, .1, 0, 0, 0, 0],
}
# Day factors for days off (Saturday / Sunday or statutory holiday): patrols thin out, sensors don't.
OFF_DAY = {
    "grid_worker": (0.55, 0.45), "hotline": (0.9, 0.8), "citizen": (1.0, 0.9),
    "iot": (1.0, 1.0), "video_ai": (0.9, 0.85), "other": (0.5, 0.4),
}
SOURCE_PHRASE = {
    "grid_worker": "网格员巡查发现", "hotline": "12345热线来电反映", "citizen": "市民随手拍反映",
    "iot": "物联感知设备告警", "video_ai": "视频智能识别", "other": "其他渠道转来",
}
NOTES = ("派遣有误，申请回退改派", "申请延期，值班长已批准", "挂账：本季度不具备处置条件", "核查未通过，返工", "无效上报：重复或不属实")
RETURN_NOTE, EXTEND_NOTE, PARK_NOTE, REWORK_NOTE, VOID_NOTE = range(len(NOTES))

EVENT_TIME_COLUMNS = {
    "reported_at": REPORT, "accepted_at": ACCEPT, "verified_at": VERIFY, "registered_at": REGISTER,
    "checked_at": CHECK, "closed_at": CLOSE,
}


@dataclass(frozen=True)
class Lookups:
    """Everything per category, source and actor the generator indexes into."""

    mix: np.ndarray  # [source, category] probabilities
    limit_value: np.ndarray
    limit_unit: np.ndarray  # object: hours / work_hours / work_days
    limit_minutes: np.ndarray
    hours_unit: np.ndarray  # bool: the limit runs around the clock
    urgent: np.ndarray
    department_kind: np.ndarray  # index into DEPARTMENT_KINDS
    parkable: np.ndarray  # engineering cases that may be parked for the season
    p_park: float  # chance a parkable case is parked, so that about P_PARK of all cases are
    category_codes: list[str]
    category_class: np.ndarray  # index into class_codes
    class_codes: list[str]
    descriptions: list[str]  # [source * n_categories + category]
    actors: list[str]
    notes: list[str]
    n_workers: int


def lookups(city: City, categories: pd.DataFrame, calendar: WorkCalendar) -> Lookups:
    """Precompute the per-category and per-actor arrays for ``city``."""
    mix = category_mix(categories)
    value = categories["limit_value"].to_numpy(dtype=float)
    unit = categories["limit_unit"].to_numpy(dtype=object)
    minutes = np.array([calendar.limit_minutes(v, u) for v, u in zip(value, unit)], dtype=np.int64)
    parkable = (unit == "work_days") & (value >= 5)
    share = np.array([SOURCE_SHARE[s] for s in SOURCES])
    parkable_share = float((share @ mix)[parkable].sum())
    workers = city.workers
    departments = city.departments
    class_codes = sorted(set(categories["class_code"]))
    return Lookups(
        mix=mix,
        limit_value=value,
        limit_unit=unit,
        limit_minutes=minutes,
        hours_unit=unit == "hours",
        urgent=categories["urgent"].to_numpy(dtype=bool),
        department_kind=np.array([DEPARTMENT_KINDS.index(k) for k in categories["department_kind"]]),
        parkable=parkable,
        p_park=min(1.0, P_PARK / parkable_share) if parkable_share > 0 else 0.0,
        category_codes=list(categories["code"]),
        category_class=np.searchsorted(class_codes, categories["class_code"].to_numpy(dtype=object)),
        class_codes=class_codes,
        descriptions=[f"{SOURCE_PHRASE[s]}：{name}" for s in SOURCES for name in categories["name"]],
        actors=["center"] + [f"source:{s}" for s in SOURCES] + [f"worker:{i}" for i in workers["id"]]
        + [f"dept:{c}" for c in departments["code"]],
        notes=list(NOTES) + [f"派遣至{n}" for n in departments["name"]],
        n_workers=len(workers),
    )


def hourly_counts(rng: np.random.Generator, *, events: int, start: np.datetime64, days: int,
                  calendar: WorkCalendar) -> np.ndarray:
    """Split ``events`` over the hours from ``start`` by source: returns counts[hour, source].

    Intensity = source share × hour-of-day profile × day factor (days off, a slow upward trend, a
    summer peak, day-to-day noise); one multinomial draw makes the total exact.
    """
    n_hours = days * 24
    bins = start + np.arange(n_hours) * np.timedelta64(3600, "s")
    day = bins.astype("datetime64[D]")
    hour = ((bins - day) // np.timedelta64(1, "h")).astype(np.int64)
    dates = np.unique(day)
    workday = np.array([calendar.is_workday(d) for d in dates.astype(object)])
    weekday = (dates.astype("datetime64[D]").view(np.int64) + 3) % 7  # 0 = Monday
    t = np.arange(len(dates)) / max(len(dates) - 1, 1)
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    season = 1.0 + 0.12 * np.sin(2 * np.pi * (doy - 105) / 365.25)  # a summer peak (stalls, floods)
    base = (1.0 + 0.10 * t) * season * rng.lognormal(0, 0.08, len(dates))
    d_idx = np.searchsorted(dates, day)
    intensity = np.empty((n_hours, len(SOURCES)))
    for s, source in enumerate(SOURCES):
        saturday, sunday = OFF_DAY[source]
        factor = np.where(workday, 1.0, np.where(weekday == 5, saturday, sunday)) * base
        profile = np.asarray(HOUR_PROFILE[source], dtype=float)
        intensity[:, s] = SOURCE_SHARE[source] * profile[hour] / profile.mean() * factor[d_idx]
    return rng.multinomial(events, (intensity / intensity.sum()).ravel()).reshape(n_hours, len(SOURCES))


def generate(city: City, categories: pd.DataFrame, *, events: int, seed: int, now: datetime, days: int,
             calendar: WorkCalendar, chunk_events: int = CHUNK_EVENTS
             ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield (events, event_log) frames chunk by chunk, both in time order with ids from 1."""
    lk = lookups(city, categories, calendar)
    now_s = int(np.datetime64(now, "s").astype(np.int64))
    start = np.datetime64(now, "s") - np.timedelta64(days, "D")
    start_s = int(start.astype(np.int64))
    counts = hourly_counts(np.random.default_rng([seed, 1]), events=events, start=start, days=days,
                           calendar=calendar)
    per_hour = counts.sum(axis=1)
    cum = np.cumsum(per_hour)
    edges = np.unique(np.concatenate((
        [0], np.searchsorted(cum, np.arange(chunk_events, events, chunk_events), side="right"), [len(per_hour)],
    )))
    # Log sort key: (seconds since start, event id, slot) packed into one int64.
    id_bits = max(int(events).bit_length(), 1)
    time_bits = int((days + 1) * 86400).bit_length()
    if time_bits + id_bits + 4 > 62:
        raise ValueError("too many events or days for the log sort key")
    shift = id_bits + 4
    pending: dict[str, np.ndarray] | None = None
    next_event_id, next_log_id = 1, 1
    for k, (h0, h1) in enumerate(zip(edges[:-1], edges[1:])):
        rng = np.random.default_rng([seed, 2, k])
        frame, log = _chunk(rng, city, lk, counts[h0:h1], h0, start_s, now_s, next_event_id, calendar)
        next_event_id += len(frame)
        log["key"] = ((log["t"] - start_s) << shift) | (log["event_id"] << 4) | log["slot"].astype(np.int64)
        if pending is not None:
            log = {c: np.concatenate((pending[c], log[c])) for c in log}
        order = np.argsort(log["key"])  # keys are unique
        log = {c: v[order] for c, v in log.items()}
        if h1 < len(per_hour):
            # Rows before the next chunk's first hour can no longer be overtaken: flush them.
            cut = int(np.searchsorted(log["key"], (int(h1) * 3600) << shift, side="left"))
        else:
            cut = len(log["key"])
        pending = {c: v[cut:] for c, v in log.items()}
        out = {c: v[:cut] for c, v in log.items()}
        yield frame, _log_frame(out, lk, next_log_id)
        next_log_id += cut


def _secs(rng, mean_s: float | np.ndarray, n: int) -> np.ndarray:
    return np.round(rng.exponential(mean_s, n)).astype(np.int64)


def _lognormal_s(rng, median_s: float, sigma: float, n: int, cap_s: float) -> np.ndarray:
    return np.round(np.minimum(median_s * rng.lognormal(0.0, sigma, n), cap_s)).astype(np.int64)


def _after(calendar: WorkCalendar, rng, start_s: np.ndarray, minutes: np.ndarray, hours_unit: np.ndarray) -> np.ndarray:
    """Return the time ``minutes`` after each start: clock minutes for ``hours`` limits, else working minutes."""
    start_m = start_s // 60
    out = start_m + minutes
    work = ~hours_unit
    if work.any():
        out[work] = calendar.add_work_minutes(start_m[work].astype("datetime64[m]"), minutes[work]).astype(np.int64)
    return out * 60 + rng.integers(0, 60, len(start_s))


def _deadline(calendar: WorkCalendar, lk: Lookups, start_s: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Return deadlines (seconds) from ``WorkCalendar.deadlines`` for limits started at ``start_s``."""
    if len(start_s) == 0:
        return start_s.copy()
    out = calendar.deadlines((start_s // 60).astype("datetime64[m]"), lk.limit_value[cat], lk.limit_unit[cat])
    return out.astype("datetime64[s]").astype(np.int64)


def _chunk(rng, city: City, lk: Lookups, counts: np.ndarray, h0: int, start_s: int, now_s: int,
           first_id: int, calendar: WorkCalendar):
    """Generate one chunk of events (the hours ``h0 …`` of ``counts``); return its frame and log rows."""
    n_src = len(SOURCES)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    n = len(cell)
    reported = start_s + (h0 + cell // n_src) * 3600 + rng.integers(0, 3600, n)
    src = cell % n_src
    order = np.argsort(reported, kind="stable")
    reported, src = reported[order], src[order]
    ids = first_id + np.arange(n, dtype=np.int64)

    cat = np.empty(n, dtype=np.int64)
    for s in range(n_src):
        members = np.flatnonzero(src == s)
        cat[members] = rng.choice(len(lk.category_codes), size=len(members), p=lk.mix[s])
    grid = rng.choice(len(city.grid_codes), size=n, p=city.grid_weight)
    building = city.building_first[grid] + (rng.random(n) * city.building_count[grid]).astype(np.int64)
    # A few metres around the building, never more than half its distance to the grid's edge.
    radius = np.minimum(6.0, 0.5 * city.building_clearance_m[building]) * np.sqrt(rng.random(n))
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    lat = np.round(city.buildings["lat"].to_numpy()[building] + radius * np.sin(angle) / M_PER_DEG_LAT, 6)
    lon = np.round(city.buildings["lon"].to_numpy()[building] + radius * np.cos(angle) / M_PER_DEG_LON, 6)

    gw = src == SOURCES.index("grid_worker")
    w_first, w_count = city.worker_first[grid], city.worker_count[grid]
    reporter = np.where(rng.random(n) < 0.65, w_first, w_first + (rng.random(n) * w_count).astype(np.int64))
    checker = w_first  # the grid's full-time worker verifies and checks (监督员)

    urgent = lk.urgent[cat]
    hours_unit = lk.hours_unit[cat]
    limit_min = lk.limit_minutes[cat]
    district = city.grid_district[grid]
    kind = lk.department_kind[cat]
    dept = city.department_index[district, kind]

    # Paths: void by source, then one exception at most for the rest.
    p_void = np.array([P_VOID[s] for s in SOURCES])[src]
    path = np.full(n, NORMAL)
    u = rng.random(n)
    bounds = np.cumsum([P_RETURN, P_EXTEND, P_REWORK, P_STUCK])
    path[u < bounds[3]] = STUCK
    path[u < bounds[2]] = REWORKED
    path[u < bounds[1]] = EXTENDED
    path[u < bounds[0]] = RETURNED
    path[(u >= bounds[3]) & (u < bounds[3] + lk.p_park) & lk.parkable[cat]] = PARKED
    path[rng.random(n) < p_void] = VOIDED

    T = np.full((n, len(SLOTS)), NA, dtype=np.int64)
    T[:, REPORT] = reported
    accept_mean = np.array([ACCEPT_MEAN_S[s] for s in SOURCES])[src]
    T[:, ACCEPT] = reported + _secs(rng, accept_mean, n)
    verify = np.isin(src, [SOURCES.index(s) for s in NEEDS_VERIFY])
    verified = T[:, ACCEPT] + _lognormal_s(rng, 2400, 0.8, n, 86400)
    T[verify, VERIFY] = verified[verify]
    ready = np.where(verify, verified, T[:, ACCEPT])
    voided = path == VOIDED
    T[voided, VOID] = ready[voided] + _secs(rng, 600, int(voided.sum()))

    live = ~voided
    T[live, REGISTER] = ready[live] + _secs(rng, np.where(urgent, 60, 240), n)[live]
    T[live, DISPATCH1] = T[live, REGISTER] + _secs(rng, np.where(urgent, 90, 360), n)[live]
    returned = path == RETURNED
    # A returned case was mostly sent to the wrong department first (准确派遣率).
    wrong = rng.random(n) < 0.7
    first_kind = np.where(wrong, (kind + rng.integers(1, city.department_index.shape[1], n))
                          % city.department_index.shape[1], kind)
    dept1 = np.where(returned, city.department_index[district, first_kind], dept)
    T[returned, RETURN] = T[returned, DISPATCH1] + _lognormal_s(rng, 5400, 0.8, int(returned.sum()), 3 * 86400)
    T[returned, DISPATCH2] = T[returned, RETURN] + _secs(rng, 1500, int(returned.sum()))
    current = np.where(returned, T[:, DISPATCH2], T[:, DISPATCH1])

    deadline = np.full(n, NA, dtype=np.int64)
    deadline[live] = _deadline(calendar, lk, current[live], cat[live])
    deadline_first = deadline.copy()  # for a returned case seen before its return
    deadline_first[returned] = _deadline(calendar, lk, T[returned, DISPATCH1], cat[returned])
    extended = path == EXTENDED
    span = deadline[extended] - current[extended]
    asked = np.round(span * rng.uniform(0.5, 0.9, int(extended.sum()))).astype(np.int64)
    T[extended, EXTEND] = current[extended] + asked  # asked for before the first deadline
    deadline_ext = deadline.copy()
    deadline_ext[extended] = _deadline(calendar, lk, deadline[extended], cat[extended])  # one more limit
    parked = path == PARKED
    T[parked, PARK] = current[parked] + _lognormal_s(rng, 86400, 0.7, int(parked.sum()), 20 * 86400)

    handled = live & ~parked & (path != STUCK)
    frac = np.clip(HANDLE_MEDIAN * rng.lognormal(0.0, HANDLE_SIGMA, n), 0.02, 8.0)
    frac[extended] = rng.uniform(1.05, 1.9, int(extended.sum()))  # finishes after the first deadline
    minutes = np.maximum(1, np.round(frac * limit_min)).astype(np.int64)
    T[handled, HANDLE1] = _after(calendar, rng, current[handled], minutes[handled], hours_unit[handled])
    reworked = path == REWORKED
    T[reworked, REWORK] = T[reworked, HANDLE1] + _lognormal_s(rng, 2700, 0.7, int(reworked.sum()), 2 * 86400)
    redo = np.maximum(1, np.round(np.clip(0.3 * rng.lognormal(0.0, 0.6, n), 0.02, 4.0) * limit_min)).astype(np.int64)
    T[reworked, HANDLE2] = _after(calendar, rng, T[reworked, REWORK], redo[reworked], hours_unit[reworked])
    last_handle = np.where(reworked, T[:, HANDLE2], T[:, HANDLE1])
    T[handled, CHECK] = last_handle[handled] + _lognormal_s(rng, 2700, 0.7, n, 2 * 86400)[handled]
    T[handled, CLOSE] = T[handled, CHECK] + _lognormal_s(rng, 900, 0.6, n, 86400)[handled]

    # What has happened by now.
    used = T <= now_s
    slot_index = np.arange(len(SLOTS))
    last = np.where(used, slot_index, -1).max(axis=1)
    status = SLOT_STATUS[last]
    pending_return = returned & used[:, DISPATCH1] & ~used[:, RETURN]
    dispatched_at = np.where(
        returned, np.where(used[:, DISPATCH2], T[:, DISPATCH2], np.where(used[:, RETURN], NA, T[:, DISPATCH1])),
        T[:, DISPATCH1])
    dispatched_at = np.where(dispatched_at <= now_s, dispatched_at, NA)
    on_desk = dispatched_at != NA
    department = np.where(on_desk, np.where(pending_return, dept1, dept), -1)
    deadline_at = np.where(used[:, EXTEND], deadline_ext, np.where(pending_return, deadline_first, deadline))
    deadline_at = np.where(on_desk, deadline_at, NA)
    handled_at = np.where(reworked & used[:, REWORK], np.where(used[:, HANDLE2], T[:, HANDLE2], NA), T[:, HANDLE1])
    handled_at = np.where(handled_at <= now_s, handled_at, NA)

    n_cat = len(lk.category_codes)
    frame = pd.DataFrame({
        "id": ids,
        "source": pd.Categorical.from_codes(src, categories=list(SOURCES)),
        "external_id": _ticket_numbers(ids, reported, src == SOURCES.index("hotline")),
        "category_code": pd.Categorical.from_codes(cat, categories=lk.category_codes),
        "class_code": pd.Categorical.from_codes(lk.category_class[cat], categories=lk.class_codes),
        "urgent": urgent,
        "description": pd.Categorical.from_codes(src * n_cat + cat, categories=lk.descriptions),
        "lat": lat,
        "lon": lon,
        "district_code": pd.Categorical.from_codes(district, categories=list(city.district_codes)),
        "street_code": pd.Categorical.from_codes(city.grid_street[grid], categories=list(city.street_codes)),
        "community_code": pd.Categorical.from_codes(city.grid_community[grid], categories=list(city.community_codes)),
        "grid_code": pd.Categorical.from_codes(grid, categories=list(city.grid_codes)),
        "building_code": pd.Categorical.from_codes(building, categories=list(city.buildings["code"])),
        "status": pd.Categorical.from_codes(status, categories=list(STATUSES)),
        **{col: _stamp(np.where(used[:, slot], T[:, slot], NA)) for col, slot in EVENT_TIME_COLUMNS.items()},
        "dispatched_at": _stamp(dispatched_at),
        "handled_at": _stamp(handled_at),
        "deadline_at": _stamp(deadline_at),
        "department_code": pd.Categorical.from_codes(department, categories=list(city.departments["code"])),
        "worker_id": pd.arrays.IntegerArray((reporter + 1).astype(np.int32), ~gw),  # ids are row + 1
        "extension_count": used[:, EXTEND].astype(np.int16),
        "return_count": used[:, RETURN].astype(np.int16),
        "rework_count": used[:, REWORK].astype(np.int16),
        "is_parked": used[:, PARK],
        "is_void": used[:, VOID],
        "updated_at": _stamp(np.where(used, T, -1).max(axis=1)),  # the latest step reached
        "h3": h3_cells(lat, lon),  # ~1 µs an event: about 5 % of the seeding time
    })
    # Column order: the events table's own.
    frame = frame[[
        "id", "source", "external_id", "category_code", "class_code", "urgent", "description", "lat", "lon",
        "district_code", "street_code", "community_code", "grid_code", "building_code", "status",
        "reported_at", "accepted_at", "verified_at", "registered_at", "dispatched_at", "handled_at",
        "checked_at", "closed_at", "deadline_at", "department_code", "worker_id", "extension_count",
        "return_count", "rework_count", "is_parked", "is_void", "updated_at", "h3",
    ]]

    # Log rows: one per reached slot; from_status is the status of the previous reached slot.
    prev = np.maximum.accumulate(np.where(used, slot_index, -1), axis=1)
    off_w, off_d = 1 + len(SOURCES), 1 + len(SOURCES) + lk.n_workers
    n_notes = len(NOTES)
    actor = np.zeros((n, len(SLOTS)), dtype=np.int32)  # 0 = the command center
    actor[:, REPORT] = np.where(gw, off_w + reporter, 1 + src)
    for slot in (VERIFY, REWORK, CHECK):
        actor[:, slot] = off_w + checker
    actor[:, RETURN] = off_d + dept1
    for slot in (EXTEND, PARK, HANDLE1, HANDLE2):
        actor[:, slot] = off_d + dept
    note = np.full((n, len(SLOTS)), -1, dtype=np.int32)
    note[:, DISPATCH1] = n_notes + dept1
    note[:, DISPATCH2] = n_notes + dept
    note[:, RETURN], note[:, EXTEND], note[:, PARK] = RETURN_NOTE, EXTEND_NOTE, PARK_NOTE
    note[:, REWORK], note[:, VOID] = REWORK_NOTE, VOID_NOTE
    rows, slots = np.nonzero(used)
    prev_slot = np.where(slots > 0, prev[rows, np.maximum(slots - 1, 0)], -1)
    log = {
        "event_id": ids[rows],
        "t": T[rows, slots],
        "slot": slots.astype(np.int8),
        "from": np.where(prev_slot >= 0, SLOT_STATUS[prev_slot], -1).astype(np.int8),
        "actor": actor[rows, slots],
        "note": note[rows, slots],
    }
    return frame, log


def _stamp(seconds: np.ndarray) -> np.ndarray:
    """Turn epoch seconds (NA for none) into datetime64[s] with NaT."""
    out = seconds.copy()
    out[out == NA] = np.iinfo(np.int64).min  # NaT's bit pattern
    return out.view("datetime64[s]")


def _ticket_numbers(ids: np.ndarray, reported: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return 12345 work-order numbers (GD + date + id) for the hotline rows, None elsewhere."""
    out = np.full(len(ids), None, dtype=object)
    days = reported[mask].astype("datetime64[s]").astype("datetime64[D]").astype(str)
    out[mask] = [f"GD{d.replace('-', '')}{i:08d}" for d, i in zip(days, ids[mask])]
    return out


def _log_frame(log: dict[str, np.ndarray], lk: Lookups, first_id: int) -> pd.DataFrame:
    slots = log["slot"]
    return pd.DataFrame({
        "id": first_id + np.arange(len(slots), dtype=np.int64),
        "event_id": log["event_id"],
        "occurred_at": log["t"].view("datetime64[s]"),
        "action": pd.Categorical.from_codes(SLOT_ACTION[slots], categories=list(ACTIONS)),
        "from_status": pd.Categorical.from_codes(log["from"], categories=list(STATUSES)),
        "to_status": pd.Categorical.from_codes(SLOT_STATUS[slots], categories=list(STATUSES)),
        "actor": pd.Categorical.from_codes(log["actor"], categories=lk.actors),
        "note": pd.Categorical.from_codes(log["note"], categories=lk.notes),
    })
