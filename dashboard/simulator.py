"""The live demo: a background thread that reports new events and moves open ones along the loop.

It is one more source on the ingest path (``Ingestor.submit`` / ``Ingestor.transition``, actor
"simulator"), at the demo city's rate: the store's reports per day of the last four weeks, spread
over the sources and hours of the day as the seed spreads them (dashboard/seed/events.py), and each
event's steps drawn from the seed's handling-time distributions.

Time: a simulated clock runs ``speed`` times faster than the wall clock and decides *when* things
happen (how many reports arrive, which step is due). Every timestamp written is the app's own "now"
at the tick, never the simulated clock, so nothing lies in the future: a speed-up compresses the
gaps between an event's steps, not the calendar. The hour-of-day profile follows the simulated clock,
so a sped-up demo shows the day's rhythm.
"""
from __future__ import annotations

import heapq
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from dashboard import desk
from dashboard.contract import MAX_BATCH
from dashboard.ingest import IngestRefused, Ingestor, NotFound
from dashboard.loop import TRANSITIONS
from dashboard.seed.catalogue import SOURCE_SHARE, category_mix
from dashboard.seed.city import M_PER_DEG_LAT, M_PER_DEG_LON
from dashboard.seed.events import (
    ACCEPT_MEAN_S, HANDLE_MEDIAN, HANDLE_SIGMA, HOUR_PROFILE, NEEDS_VERIFY, OFF_DAY, P_EXTEND, P_RETURN, P_REWORK,
    P_VOID, SOURCE_PHRASE, _lognormal_s, _secs,
)
from queries import simulation as q
from queries.schema import SOURCES
from queries.scope import Scope

log = logging.getLogger(__name__)

ACTOR = "simulator"
DEFAULT_EVENTS_PER_DAY = 1_000_000 / 365  # the default demo's seed: 1 M events over a year
RATE_WINDOW = timedelta(days=28)
# A grid worker fixes small things on the spot (自行处置); the seeded history has none of these.
P_SELF_RESOLVE = 0.03
JITTER_M = 15.0  # a report lies within this distance of a building, inside the building's grid
# The desk, live: a slow case is urged (催办) once it has used most of its limit, and an extension is
# asked for (申请延期) before it is granted. Both go through dashboard.desk like a person's.
P_URGE_SLOW = 0.8  # of the cases that take more than their limit
URGE_AT = 0.8  # of the limit
DESK_STEPS = {"urge": ("api_token", "已用时限八成，请加快处置"),
              "request_extension": ("department_handler", "现场情况复杂，申请延期")}
DAY_S = 86_400


@dataclass(frozen=True)
class TickReport:
    """What one tick did: events reported, steps taken, steps the loop refused."""

    reported: int
    steps: int
    refused: int


@dataclass
class _Tracked:
    source: str
    steps: deque  # (action, simulated seconds to wait after the previous step)


class Simulator:
    """Report events and move them along the loop in simulated real time, through ``ingestor``.

    ``speed`` is simulated seconds per wall-clock second (60: a minute a second); ``clock`` the
    monotonic wall clock in seconds (tests pass a fake one); ``seed`` makes a run reproducible.
    """

    def __init__(self, ingestor: Ingestor, *, scope: Scope | None = None, speed: float = 60.0,
                 seed: int | None = None, events_per_day: float | None = None, max_tracked: int = 5_000,
                 max_steps_per_tick: int = 500, interval_s: float = 1.0, max_catch_up_s: float = 10.0,
                 clock=time.monotonic):
        if speed <= 0 or interval_s <= 0:
            raise ValueError("speed and interval_s must be positive")
        self.ingestor = ingestor
        self.scope = scope
        self.speed = float(speed)
        self.seed = int(np.random.SeedSequence(seed).entropy % 10**8) if seed is None else int(seed)
        self.events_per_day = events_per_day
        self.max_tracked = max_tracked
        self.max_steps_per_tick = max_steps_per_tick
        self.interval_s = interval_s
        self.max_catch_up_s = max_catch_up_s
        self._clock = clock
        self._rng = np.random.default_rng(self.seed)
        self._tracked: dict[int, _Tracked] = {}
        self._due: list[tuple[float, int]] = []  # (simulated second due, event id)
        self._ticket = 0
        self._reports = 0
        self._sim_s = 0.0  # simulated seconds since the first tick
        self._sim_start: datetime | None = None
        self._last: tuple[float, datetime] | None = None  # (clock, now) of the previous tick
        self._run_id = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # tick() from the thread and from a caller never interleave
        self.totals = TickReport(0, 0, 0)

    # -- the thread ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking every ``interval_s`` seconds in a daemon thread."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the simulator is running already")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gridcc-simulator", daemon=True)
        self._thread.start()
        log.info("simulator started: speed %g×, seed %d", self.speed, self.seed)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread and wait (up to ``timeout`` seconds) until it has finished its tick."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("simulator thread still busy after %.0f s", timeout)
            self._thread = None
        log.info("simulator stopped: %s", self.totals)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def tracked(self) -> int:
        """Return how many events the simulator is moving along."""
        return len(self._tracked)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a store hiccup must not end the demo; the next tick tries again
                log.exception("simulator tick failed")
            self._stop.wait(self.interval_s)

    # -- one tick --------------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> TickReport:
        """Advance the simulated clock by the wall time since the last tick × speed; report and step.

        ``now`` (naive local time, default the ingestor's) stamps everything written in this tick.
        """
        with self._lock:
            now = (now or self.ingestor.now()).replace(microsecond=0)
            wall = self._clock()
            if self._last is None:
                self._begin(now)
                self._last = (wall, now)
                return TickReport(0, 0, 0)
            last_wall, last_now = self._last
            if now < last_now:  # the clock went back: wait until it has caught up
                return TickReport(0, 0, 0)
            elapsed = min(max(wall - last_wall, 0.0), self.max_catch_up_s) * self.speed
            self._last = (wall, now)
            self._sim_s += elapsed
            reported = self._report(last_now, now, elapsed)
            steps, refused = self._step(now)
            done = TickReport(reported, steps, refused)
            self.totals = TickReport(self.totals.reported + reported, self.totals.steps + steps,
                                     self.totals.refused + refused)
            return done

    def _begin(self, now: datetime) -> None:
        """Read the city (places, catalogue, rate) and pick up open events to move along."""
        with self.ingestor.engine.connect() as conn:
            self.scope = self.scope or q.top_scope(conn)
            if self.scope is None:
                raise LookupError("the store holds no areas: seed it first")
            self._places = q.places(conn, scope=self.scope)
            cats = q.category_limits(conn)
            if self.events_per_day is None:
                per_day = q.reports_per_day(conn, scope=self.scope, since=now - RATE_WINDOW, until=now)
                self.events_per_day = per_day if per_day >= 1 else DEFAULT_EVENTS_PER_DAY
            picked = q.open_events_to_move(conn, scope=self.scope, now=now, limit=self.max_tracked // 2)
            self._ref = self.ingestor.reference(conn)
        if not self._places:
            raise LookupError(f"no buildings in {self.scope.area_code} to report from")
        frame = pd.DataFrame({"code": [c.code for c in cats], "class_code": [c.class_code for c in cats]})
        mix = category_mix(frame)
        self._mix = np.where(np.isfinite(mix), mix, 1.0 / len(cats))
        self._cats = cats
        self._cat_index = {c.code: i for i, c in enumerate(cats)}
        calendar = self.ingestor.clock.calendar
        self._limit_s = np.array([calendar.limit_minutes(c.limit_value, c.limit_unit) * 60 for c in cats], dtype=float)
        self._place_lat = np.array([p.lat for p in self._places])
        self._place_lon = np.array([p.lon for p in self._places])
        self._place_grid = np.array([p.grid_code for p in self._places], dtype=object)
        self._sim_start = now
        self._run_id = f"sim{self.seed}-{now:%Y%m%d%H%M%S}"
        for event in picked:
            cat = self._cat_index.get(event.category_code)
            if cat is None:
                continue
            steps = deque(self._plan(event.source, cat))
            while steps and event.status not in TRANSITIONS[_loop_action(steps[0][0])][0]:
                steps.popleft()
            if steps:
                action, wait = steps[0]
                steps[0] = (action, wait * self._rng.random())  # it is somewhere along its wait already
                self._track(event.id, _Tracked(event.source, steps))
        log.info("simulator: %.0f reports a day in %s; picked up %d open events", self.events_per_day,
                 self.scope.area_code, len(self._tracked))

    # -- new reports -----------------------------------------------------------------------------------
    def _report(self, since: datetime, now: datetime, elapsed_s: float) -> int:
        """Submit the reports that arrive in ``elapsed_s`` simulated seconds, stamped in [since, now]."""
        if elapsed_s <= 0:
            return 0
        sim_now = self._sim_start + timedelta(seconds=self._sim_s - elapsed_s / 2)
        hour = sim_now.hour
        workday = self.ingestor.clock.calendar.is_workday(sim_now.date())
        counts = []
        for source in SOURCES:
            profile = np.asarray(HOUR_PROFILE[source], dtype=float)
            saturday, sunday = OFF_DAY[source]
            factor = 1.0 if workday else (saturday if sim_now.weekday() == 5 else sunday)
            per_s = self.events_per_day * SOURCE_SHARE[source] * profile[hour] / profile.mean() * factor / DAY_S
            counts.append(int(self._rng.poisson(per_s * elapsed_s)))
        total = sum(counts)
        if total == 0:
            return 0
        if total > MAX_BATCH:
            counts = [c * MAX_BATCH // total for c in counts]
        records, sources, cats = [], [], []
        span_s = (now - since).total_seconds()
        for s, count in enumerate(counts):
            if count == 0:
                continue
            source = SOURCES[s]
            cat = self._rng.choice(len(self._cats), size=count, p=self._mix[s])
            lat, lon = self._points(count)
            offsets = np.sort(self._rng.random(count)) * span_s
            for i in range(count):
                c = self._cats[cat[i]]
                self._ticket += 1
                at = since + timedelta(seconds=int(offsets[i]))
                records.append({
                    "id": f"{self._run_id}-{self._ticket:07d}", "source": source, "category": c.code,
                    "reported_at": at.replace(tzinfo=self.ingestor.tz).isoformat(),
                    "lat": float(lat[i]), "lon": float(lon[i]),
                    "description": f"{SOURCE_PHRASE[source]}：{c.name}", "reporter": self._reporter(source),
                })
                sources.append(source)
                cats.append(int(cat[i]))
        try:
            receipts = self.ingestor.submit(records, actor=ACTOR)
        except IngestRefused as refused:
            log.warning("simulator: batch of %d refused: %s", len(records), refused)
            return 0
        created = 0
        for receipt in receipts:
            if not receipt.created:
                continue
            created += 1
            if len(self._tracked) < self.max_tracked:
                source = sources[receipt.index]
                self._track(receipt.id, _Tracked(source, deque(self._plan(source, cats[receipt.index]))))
        return created

    def _points(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``n`` random points near random buildings, each inside its building's grid."""
        pick = self._rng.integers(0, len(self._places), n)
        radius = JITTER_M * np.sqrt(self._rng.random(n))
        angle = self._rng.uniform(0.0, 2 * np.pi, n)
        lat = np.round(self._place_lat[pick] + radius * np.sin(angle) / M_PER_DEG_LAT, 6)
        lon = np.round(self._place_lon[pick] + radius * np.cos(angle) / M_PER_DEG_LON, 6)
        outside = self._ref.locate(lon, lat) != self._place_grid[pick]
        lat[outside], lon[outside] = self._place_lat[pick][outside], self._place_lon[pick][outside]
        return lat, lon

    def _reporter(self, source: str) -> str | None:
        if source in ("hotline", "citizen"):
            return f"1{self._rng.integers(30, 90)}****{self._rng.integers(0, 10_000):04d}"
        return None

    # -- steps along the loop --------------------------------------------------------------------------
    def _plan(self, source: str, cat: int) -> list[tuple[str, float]]:
        """Draw an event's steps and the simulated seconds before each, from the seed's distributions."""
        rng = self._rng
        one = lambda fn, *a: float(fn(rng, *a)[0])  # noqa: E731  (the seed's helpers draw arrays)
        urgent = self._cats[cat].urgent
        limit_s = self._limit_s[cat]
        if source == "grid_worker" and rng.random() < P_SELF_RESOLVE:
            return [("self_resolve", one(_secs, ACCEPT_MEAN_S[source], 1))]
        steps = [("accept", one(_secs, ACCEPT_MEAN_S[source], 1))]
        if source in NEEDS_VERIFY:
            steps.append(("verify", one(_lognormal_s, 2400, 0.8, 1, DAY_S)))
        if rng.random() < P_VOID[source]:
            return steps + [("void", one(_secs, 600, 1))]
        steps += [("register", one(_secs, 60 if urgent else 240, 1)),
                  ("dispatch", one(_secs, 90 if urgent else 360, 1))]
        u = rng.random()
        if u < P_RETURN:
            steps += [("return", one(_lognormal_s, 5400, 0.8, 1, 3 * DAY_S)), ("dispatch", one(_secs, 1500, 1))]
        if P_RETURN <= u < P_RETURN + P_EXTEND:
            asked = rng.uniform(0.5, 0.9) * limit_s  # asked for before the first deadline, finished after it
            granted = rng.uniform(0.0, 0.05) * limit_s  # the center decides soon after
            steps += [("request_extension", asked), ("extend", granted),
                      ("handle", rng.uniform(1.05, 1.9) * limit_s - asked - granted)]
        else:
            frac = float(np.clip(HANDLE_MEDIAN * rng.lognormal(0.0, HANDLE_SIGMA), 0.02, 8.0))
            if frac > 1.0 and rng.random() < P_URGE_SLOW:
                steps += [("urge", URGE_AT * limit_s), ("handle", max(60.0, (frac - URGE_AT) * limit_s))]
            else:
                steps.append(("handle", max(60.0, frac * limit_s)))
        if P_RETURN + P_EXTEND <= u < P_RETURN + P_EXTEND + P_REWORK:
            redo = float(np.clip(0.3 * rng.lognormal(0.0, 0.6), 0.02, 4.0)) * limit_s
            steps += [("rework", one(_lognormal_s, 2700, 0.7, 1, 2 * DAY_S)), ("handle", max(60.0, redo))]
        return steps + [("check", one(_lognormal_s, 2700, 0.7, 1, 2 * DAY_S)),
                        ("close", one(_lognormal_s, 900, 0.6, 1, DAY_S))]

    def _track(self, event_id: int, tracked: _Tracked) -> None:
        self._tracked[event_id] = tracked
        heapq.heappush(self._due, (self._sim_s + tracked.steps[0][1], event_id))

    def _step(self, now: datetime) -> tuple[int, int]:
        """Take every step due by the simulated clock (at most ``max_steps_per_tick``), stamped ``now``."""
        done = refused = 0
        at = now.replace(tzinfo=self.ingestor.tz).isoformat()
        while self._due and self._due[0][0] <= self._sim_s and done + refused < self.max_steps_per_tick:
            _, event_id = heapq.heappop(self._due)
            tracked = self._tracked.get(event_id)
            if tracked is None:
                continue
            action, _ = tracked.steps.popleft()
            try:
                if action in DESK_STEPS:
                    marked = self._desk(event_id, action, now)  # a mark not possible: the case goes on anyway
                else:
                    self.ingestor.transition(event_id, {"action": action, "at": at}, actor=ACTOR, scope=self.scope)
                    marked = True
            except (IngestRefused, NotFound) as error:
                # Someone else moved it first (or it left the scope): leave it to them.
                log.debug("simulator: %s of event %d refused: %s", action, event_id, error)
                del self._tracked[event_id]
                refused += 1
                continue
            done, refused = (done + 1, refused) if marked else (done, refused + 1)
            if tracked.steps:
                heapq.heappush(self._due, (self._sim_s + tracked.steps[0][1], event_id))
            else:
                del self._tracked[event_id]
        return done, refused

    def _desk(self, event_id: int, action: str, now: datetime) -> bool:
        """Take a desk action on one case as the center (urge) or its department (request); return True if done."""
        role, reason = DESK_STEPS[action]
        until = None
        if action == "request_extension":  # a day more (refused when the deadline is later already)
            until = now + timedelta(days=1)
        try:
            result = desk.act(self.ingestor, [event_id], action, reason=reason, actor=ACTOR, role=role,
                              scope=self.scope, audit_from=None, until=until)
        except desk.ActRefused as error:
            log.debug("simulator: %s of event %d refused: %s", action, event_id, error)
            return False
        return bool(result.done)


def _loop_action(action: str) -> str:
    """Return the loop step a simulated action takes first (a desk action's own, e.g. ask_extension)."""
    return desk.STEPS[action][0] if action in DESK_STEPS else action


__all__ = ["ACTOR", "Simulator", "TickReport"]
