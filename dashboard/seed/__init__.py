"""Seed a store with the deterministic demo city (云州市, 329900) and its event history.

``seed_store(engine, now=...)`` drops and recreates every table and fills it; the same (seed, now,
spec, events, days) always gives the same rows. FULL is the default demo, SMALL the test city.
"""
from __future__ import annotations

import logging
import sys
import zlib
from dataclasses import astuple, dataclass
from datetime import datetime
from time import perf_counter

import numpy as np
from sqlalchemy import Engine
from tqdm import tqdm

from dashboard.seed.catalogue import load_categories
from dashboard.seed.city import CITY_CODE, build_city
from dashboard.seed.events import generate
from dashboard.seed.fieldwork import add_fieldwork
from dashboard.seed.marks import add_marks
from dashboard.store import CLOSURES_SLA_FILLED, H3_FILLED
from dashboard.worktime import WorkCalendar
from queries import schema
from queries.bulk import bulk_insert, restart_sequence
from queries.meta import DATA_VERSION, set_meta
from queries.state import rebuild_closures, rebuild_open_events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CitySpec:
    """How big the city is: counts of each kind of unit."""

    districts: int
    streets: int
    communities: int
    grids: int
    buildings: int
    workers: int
    departments: int


FULL = CitySpec(8, 60, 600, 5000, 60000, 5000, 80)
# Tests: two districts (one urban, one with a town), a village, part-time workers.
SMALL = CitySpec(2, 4, 8, 40, 240, 48, 20)


@dataclass(frozen=True)
class SeedReport:
    """Row counts written and seconds spent."""

    areas: int
    buildings: int
    departments: int
    categories: int
    workers: int
    events: int
    event_log: int
    open_events: int
    city_seconds: float
    events_seconds: float
    seconds: float


def seed_store(engine: Engine, *, events: int = 1_000_000, seed: int = 42, now: datetime, spec: CitySpec = FULL,
               days: int = 365, progress: bool = False, calendar: WorkCalendar | None = None) -> SeedReport:
    """Drop and recreate every table, then fill it with the demo city and ``events`` events.

    Events cover the ``days`` before ``now`` (naive Asia/Shanghai time); nothing after ``now`` is
    written, and open_events is rebuilt as of ``now``. ``progress`` shows a tqdm bar on stderr.
    Deterministic in (seed, now, spec, events, days).
    """
    if events < 0 or days < 1:
        raise ValueError("events must be >= 0 and days >= 1")
    calendar = calendar or WorkCalendar()
    started = perf_counter()
    city = build_city(np.random.default_rng([seed, 0]), spec)
    categories = load_categories()
    city_seconds = perf_counter() - started
    log.info("city built in %.1f s: %d areas, %d buildings", city_seconds, len(city.areas), len(city.buildings))

    n_events = n_log = 0
    with engine.connect() as conn:
        schema.metadata.drop_all(conn)
        schema.metadata.create_all(conn)
        bulk_insert(conn, schema.areas, city.areas)
        bulk_insert(conn, schema.buildings, city.buildings)
        bulk_insert(conn, schema.departments, city.departments)
        bulk_insert(conn, schema.categories, categories)
        bulk_insert(conn, schema.workers, city.workers)
        conn.commit()
        events_started = perf_counter()
        with tqdm(total=events, unit="event", disable=not progress, file=sys.stderr, desc="events") as bar:
            # One commit per chunk keeps DuckDB's transaction-local storage (and memory) bounded.
            for frame, log_frame in generate(city, categories, events=events, seed=seed, now=now, days=days,
                                             calendar=calendar):
                n_events += bulk_insert(conn, schema.events, frame)
                n_log += bulk_insert(conn, schema.event_log, log_frame)
                conn.commit()
                bar.update(len(frame))
        # The desk's marks on some open cases (urged, supervised, extension asked, whistled), logged.
        n_log += add_marks(conn, seed=seed, now=now, first_log_id=n_log + 1)
        conn.commit()
        # Field work (patrols, visits) and 12345 follow-ups of the closed tickets: what the rankings count.
        add_fieldwork(conn, seed=seed, now=now, days=days, calendar=calendar)
        conn.commit()
        # The projections: the current state (and its store_meta 'state_as_of') as of now, and closures.
        n_open = rebuild_open_events(conn, as_of=now)
        rebuild_closures(conn, commit_each=True)
        restart_sequence(conn, schema.event_id_seq, n_events + 1)
        restart_sequence(conn, schema.event_log_id_seq, n_log + 1)
        set_meta(conn, "seeded_at", now.isoformat())
        set_meta(conn, "seed", str(seed))
        set_meta(conn, "events", str(n_events))
        set_meta(conn, "city_code", CITY_CODE)
        set_meta(conn, H3_FILLED, "1")  # every event got its cell above: no backfill needed
        set_meta(conn, CLOSURES_SLA_FILLED, "1")  # closures were rebuilt whole above, SLA columns and all
        set_meta(conn, "fieldwork_filled", "1")  # the field work and follow-ups were written above
        # A version derived from the arguments: the same arguments (the same data) give the same one,
        # and a reseed with other arguments is very unlikely to hit a version a server has cached.
        key = repr((seed, now.isoformat(), astuple(spec), events, days)).encode()
        set_meta(conn, DATA_VERSION, str(zlib.crc32(key) % 1_000_000_000 + 1))
        conn.commit()
    # Rankings: the months closed by now are frozen as the freezer thread would (dashboard/rank_service.py).
    from dashboard import rank_service

    rank_service.freeze_due(engine, now=now, calendar=calendar)
    events_seconds = perf_counter() - events_started
    report = SeedReport(
        areas=len(city.areas), buildings=len(city.buildings), departments=len(city.departments),
        categories=len(categories), workers=len(city.workers), events=n_events, event_log=n_log,
        open_events=n_open, city_seconds=round(city_seconds, 2), events_seconds=round(events_seconds, 2),
        seconds=round(perf_counter() - started, 2),
    )
    log.info("seeded %s", report)
    return report


__all__ = ["CitySpec", "FULL", "SMALL", "SeedReport", "seed_store"]
