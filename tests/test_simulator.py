"""The demo's simulator on the hand city: it reports and steps through the ingest path, every event's
log is a path the loop allows, nothing is stamped after now, and a seed makes a run repeatable."""
from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.ingest import Ingestor
from dashboard.loop import MARKS, TRANSITIONS, Limit, SlaClock, Transition, replay
from dashboard.settings import Settings
from dashboard.simulator import ACTOR, Simulator
from dashboard.store import make_engine
from queries import simulation as q
from queries.schema import categories, event_log, events
from queries.scope import Scope
from tests.handcity import CITY, NOW

TICKS = 36  # one simulated hour each: from Friday 15:00 to Saturday 03:00 and on


class FakeClock:
    """A monotonic clock that moves one second each time it is read."""

    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def tick_nows(n: int):
    """Return the app's "now" at each tick: a minute apart, the last one at NOW (never after it)."""
    return [NOW - timedelta(minutes=n - 1 - k) for k in range(n)]


def make_ingestor(settings: Settings) -> Ingestor:
    return Ingestor(make_engine(settings), tz=settings.tz, now=settings.now, calendar=settings.calendar())


@pytest.fixture
def ingestor(hand_settings):
    ingestor = make_ingestor(hand_settings)
    yield ingestor
    ingestor.engine.dispose()


def run(ingestor: Ingestor, ticks: int = TICKS, **kw) -> Simulator:
    sim = Simulator(ingestor, **{"scope": Scope(CITY, 0), "speed": 3600, "seed": 7, "events_per_day": 120,
                                 "clock": FakeClock(), **kw})
    for now in tick_nows(ticks):
        sim.tick(now)
    return sim


@pytest.fixture(scope="module")
def simulated(hand_store_template, tmp_path_factory):
    """Return (simulator, ingestor) after TICKS ticks on a copy of the hand city shared by this module's reads."""
    folder = tmp_path_factory.mktemp("simulated")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    ingestor = make_ingestor(Settings(data_dir=folder, frozen_now=NOW))
    yield run(ingestor), ingestor
    ingestor.engine.dispose()


def simulator_log(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(event_log).where(event_log.c.actor == ACTOR)
                            .order_by(event_log.c.event_id, event_log.c.id)).fetchall()


def simulated_events(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(events).where(events.c.external_id.startswith("sim7-"))
                            .order_by(events.c.id)).fetchall()


def test_sim001_reports_and_steps_through_the_ingest_path(simulated):
    sim, ingestor = simulated
    steps = [r for r in simulator_log(ingestor.engine) if r.action != "report"]  # reports: test_sim009
    stored = simulated_events(ingestor.engine)
    assert sim.totals.reported == len(stored) > 30
    assert sim.totals.steps == len(steps) > len(stored)
    assert {"accept", "register", "dispatch", "handle", "check", "close"} <= {r.action for r in steps}
    assert all(r.grid_code.startswith("3299") and r.building_code is not None for r in stored)
    assert len({r.source for r in stored}) >= 4
    # The ingest path filed each report under the grid its point lies in.
    with ingestor.engine.connect() as conn:
        grids = ingestor.reference(conn).locate([r.lon for r in stored], [r.lat for r in stored])
    assert list(grids) == [r.grid_code for r in stored]


def test_sim009_report_rows_carry_the_simulator_as_actor(simulated):
    _, ingestor = simulated
    reports = [r for r in simulator_log(ingestor.engine) if r.action == "report"]
    assert len(reports) == len(simulated_events(ingestor.engine))


def test_sim002_every_log_is_a_path_the_loop_allows(simulated):
    _, ingestor = simulated
    ours = {r.id for r in simulated_events(ingestor.engine)}
    with ingestor.engine.connect() as conn:
        limits = {r.code: Limit(r.limit_value, r.limit_unit) for r in conn.execute(select(categories))}
        rows = conn.execute(select(event_log).order_by(event_log.c.event_id, event_log.c.id)).fetchall()
        info = {r.id: r for r in conn.execute(select(events.c.id, events.c.source, events.c.category_code,
                                                     events.c.status, events.c.reported_at))}
    logs = defaultdict(list)
    for r in rows:
        logs[r.event_id].append(r)
    moved = [eid for eid, log in logs.items() if any(r.actor == ACTOR for r in log)]
    assert len(moved) > len(ours) / 2 and set(moved) - ours  # new events and picked-up ones
    clock = SlaClock(ingestor.clock.calendar)
    for eid in moved:
        log = logs[eid]
        for r in log[1:]:
            if r.actor == ACTOR:
                allowed_from, to = TRANSITIONS[r.action]
                to = to or r.from_status  # a desk mark (催办, 申请延期) leaves the status as it was
                assert r.from_status in allowed_from and r.to_status == to, (eid, r.action, r.from_status)
        assert [r.occurred_at for r in log] == sorted(r.occurred_at for r in log)
        if eid in ours:  # reported by the simulator: the whole log replays to the stored status
            event = info[eid]
            # A desk mark's logged time is the time it names (the deadline asked for): docs/desk.md.
            steps = [Transition(r.action, r.occurred_at, department_code=r.department_code,
                                until=r.deadline_at if r.action in MARKS else None) for r in log[1:]]
            state = replay(event.source, event.reported_at, steps, limit=limits[event.category_code], clock=clock,
                           now=NOW)
            assert state.status == event.status == log[-1].to_status


def test_sim003_nothing_is_stamped_after_now(simulated):
    _, ingestor = simulated
    rows = simulator_log(ingestor.engine)
    assert rows and max(r.occurred_at for r in rows) <= NOW
    with ingestor.engine.connect() as conn:
        stamps = conn.execute(select(events.c.reported_at, events.c.updated_at, events.c.closed_at)
                              .where(events.c.external_id.startswith("sim7-"))).fetchall()
    assert stamps and all(t <= NOW for row in stamps for t in row if t is not None)


def test_sim004_a_seed_makes_a_run_repeatable(hand_store_template, tmp_path):
    def one(folder):
        folder.mkdir()
        shutil.copy(hand_store_template, folder / "gridcc.duckdb")
        ingestor = make_ingestor(Settings(data_dir=folder, frozen_now=NOW))
        try:
            run(ingestor, ticks=8, events_per_day=60)
            return [(r.event_id, r.action, r.occurred_at, r.to_status) for r in simulator_log(ingestor.engine)]
        finally:
            ingestor.engine.dispose()

    first, second = one(tmp_path / "a"), one(tmp_path / "b")
    assert first and first == second


def test_sim005_a_step_taken_by_someone_else_is_refused_and_dropped(ingestor):
    nows = tick_nows(12)
    sim = run(ingestor, ticks=0)
    for now in nows[:3]:
        sim.tick(now)
    event_id = next(iter(sim._tracked))
    action = sim._tracked[event_id].steps[0][0]
    ingestor.transition(event_id, {"action": action}, actor="center", scope=Scope(CITY, 0))
    for now in nows[3:]:
        sim.tick(now)  # must not raise
    assert sim.totals.refused >= 1
    assert event_id not in sim._tracked
    assert [r.actor for r in simulator_log(ingestor.engine) if r.event_id == event_id and r.action == action] == []


def test_sim006_picks_up_open_events_in_scope_and_stays_bounded(ingestor):
    with ingestor.engine.connect() as conn:
        city = q.open_events_to_move(conn, scope=Scope(CITY, 0), now=NOW)
        west = q.open_events_to_move(conn, scope=Scope("329903", 1), now=NOW)
    # Open at NOW and not parked: 3, 4, 6, 9, 10 (8 is parked, 11 is reported after NOW), latest first.
    assert [e.id for e in city] == [10, 4, 6, 3, 9]
    assert [e.id for e in west] == [10, 9]  # both in C2
    sim = run(ingestor, ticks=12, max_tracked=6)
    assert sim.tracked <= 6
    moved_hand = {r.event_id for r in simulator_log(ingestor.engine) if r.event_id <= 11}
    assert moved_hand and moved_hand <= {3, 4, 6, 9, 10}


def test_sim007_reports_follow_the_hour_of_day(ingestor):
    # Reports only (nothing tracked, so no steps): this test is about the rate.
    sim = Simulator(ingestor, scope=Scope(CITY, 0), speed=3600, seed=3, events_per_day=2400, max_tracked=0,
                    clock=FakeClock())
    sim.tick(NOW - timedelta(hours=1))
    by_hour = {}
    for k in range(24):  # simulated Friday 15:00 … Saturday 15:00
        by_hour[(15 + k) % 24] = sim.tick(NOW - timedelta(minutes=59 - 2 * k)).reported
    night = sum(by_hour[h] for h in (1, 2, 3, 4))
    morning = sum(by_hour[h] for h in (9, 10, 11, 12))
    assert morning > 5 * night
    # A Friday afternoon and a Saturday morning: fewer than a working day's 2,400, more than half.
    assert 1200 < sum(by_hour.values()) < 2400


def test_sim008_starts_and_stops(ingestor):
    sim = Simulator(ingestor, scope=Scope(CITY, 0), speed=60, seed=1, interval_s=0.01)
    sim.start()
    with pytest.raises(RuntimeError):
        sim.start()
    sim.stop()
    assert not sim.running
