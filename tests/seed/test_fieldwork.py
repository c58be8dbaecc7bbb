"""The demo's field work and 12345 follow-ups (dashboard/seed/fieldwork.py).

Two kinds of check: tiny hand-made inputs whose every row is worked out by hand, and the SMALL seeded store
(tests/seed/conftest.py: 48 workers in 40 grids, 240 buildings, 20,000 events over the 365 days before
2026-11-20 15:00) whose rows must keep the properties the rankings rely on: inside their worker's grid, on
working days, follow-ups only of closed 12345 tickets and 1–3 days after closing, shares near their targets.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard.seed import fieldwork as fw
from dashboard.worktime import WorkCalendar
from tests.seed.conftest import DAYS, NOW

CALENDAR = WorkCalendar()


# -- by hand ---------------------------------------------------------------------------------------------------
def test_a_ticket_is_followed_up_one_to_three_days_after_closing_and_never_after_now():
    now = datetime(2026, 11, 20, 15, 0)
    tickets = pd.DataFrame({
        "id": [11, 12, 13],
        "closed_at": pd.to_datetime(["2026-11-20 03:00:00", "2026-11-16 15:00:59", "2026-11-18 15:00:01"]),
        "department_code": ["d1", "d1", None],
    })
    for seed in range(20):
        rows = fw.make_followups(np.random.default_rng(seed), tickets, now=now)
        # 11 closed 12 h ago: a follow-up takes at least a day, so none yet. 12 closed 4 days ago: always one.
        assert 11 not in set(rows.event_id) and 12 in set(rows.event_id)
        closed = tickets.set_index("id").closed_at
        gap = rows.followed_at.to_numpy() - closed.loc[rows.event_id].to_numpy()
        assert (gap >= np.timedelta64(1, "D")).all() and (gap <= np.timedelta64(3, "D")).all()
        assert (rows.followed_at <= pd.Timestamp(now)).all()
        assert set(rows.satisfaction) <= {"satisfied", "basic", "dissatisfied", "unknown"}


def test_patrols_of_one_worker_over_three_working_days():
    workers = pd.DataFrame({"id": [7], "kind": ["full_time"], "grid_code": ["329902001001001"]})
    days = np.array(["2026-11-18", "2026-11-19", "2026-11-20"], dtype="datetime64[D]")
    since, now = datetime(2026, 11, 18, 0, 0), datetime(2026, 11, 20, 12, 0)
    rows = fw.make_patrols(np.random.default_rng(3), workers, days, since=since, now=now)
    assert list(rows.id) == list(range(1, len(rows) + 1))
    assert set(rows.worker_id) == {7} and set(rows.grid_code) == {"329902001001001"}
    assert set(rows.started_at.dt.date.astype(str)) <= {"2026-11-18", "2026-11-19", "2026-11-20"}
    assert (rows.started_at <= pd.Timestamp(now)).all() and (rows.started_at >= pd.Timestamp(since)).all()
    # A round still under way at now has no end; every other ends 20–150 minutes after it started.
    done = rows.ended_at.notna()
    assert (rows.ended_at[~done].index == rows.index[~done]).all()
    minutes = (rows.ended_at[done] - rows.started_at[done]).dt.total_seconds() / 60
    assert minutes.between(20, 150).all()
    assert (rows.started_at[~done] + pd.Timedelta(minutes=20) > pd.Timestamp(now)).all()
    assert rows.checkins.between(1, 12).all() and (rows.distance_m > 0).all()
    # The same generator state gives the same rows; another seed other rows.
    again = fw.make_patrols(np.random.default_rng(3), workers, days, since=since, now=now)
    pd.testing.assert_frame_equal(rows, again)


def test_visits_go_only_to_the_buildings_of_the_workers_grid():
    workers = pd.DataFrame({"id": [1, 2], "kind": ["full_time", "part_time"],
                            "grid_code": ["329902001001001", "329902001001002"]})
    buildings = pd.DataFrame({"code": ["329902001001001001", "329902001001001002", "329902001001002001"],
                              "grid_code": ["329902001001001", "329902001001001", "329902001001002"],
                              "households": [3, 40, 0]})
    days = fw._workdays(datetime(2026, 9, 1), datetime(2026, 11, 20, 15), CALENDAR)
    rows = fw.make_visits(np.random.default_rng(5), workers, buildings, days, since=datetime(2026, 9, 1),
                          now=datetime(2026, 11, 20, 15))
    assert len(rows) > 0
    assert (rows.building_code.str[:15] == rows.grid_code).all()
    assert (rows.grid_code == rows.worker_id.map({1: "329902001001001", 2: "329902001001002"})).all()
    # Households: 1–20, at most the building's own (a building of 3 households never shows 4; one of 0 shows 1).
    cap = rows.building_code.astype(str).map({"329902001001001001": 3, "329902001001001002": 20, "329902001001002001": 1})
    assert (rows.households >= 1).all() and (rows.households <= cap).all()
    assert all(CALENDAR.is_workday(d) for d in rows.visited_at.dt.date)


# -- the SMALL seeded store ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(tables):
    return {name: tables[name] for name in ("workers", "buildings", "events", "patrols", "visits",
                                            "hotline_followups")}


def test_every_patrol_is_in_its_workers_grid_on_a_working_day_inside_the_window(store):
    patrols, workers = store["patrols"], store["workers"].set_index("id")
    assert len(patrols) > 0 and patrols.id.is_unique
    assert (patrols.grid_code == workers.grid_code.loc[patrols.worker_id].to_numpy()).all()
    assert (patrols.started_at >= pd.Timestamp(NOW - timedelta(days=DAYS))).all()
    assert (patrols.started_at <= pd.Timestamp(NOW)).all()
    assert all(CALENDAR.is_workday(d) for d in set(patrols.started_at.dt.date))
    assert (patrols.ended_at.isna() | (patrols.ended_at <= pd.Timestamp(NOW))).all()
    # Mostly in working hours: 08:30–17:30 but for the evening rounds (about 5 %).
    minutes = patrols.started_at.dt.hour * 60 + patrols.started_at.dt.minute
    in_hours = minutes.between(8 * 60 + 30, 16 * 60).mean()
    assert 0.92 <= in_hours <= 0.97, in_hours


def test_patrol_rates_are_those_of_the_workers_kind_and_differ_between_workers(store):
    patrols, workers = store["patrols"], store["workers"].set_index("id")
    first = (NOW - timedelta(days=DAYS)).date()
    days = [d.date() for d in pd.date_range(first, NOW.date()) if CALENDAR.is_workday(d.date())]
    patrolled = patrols.groupby("worker_id").started_at.apply(lambda s: s.dt.date.nunique())
    rate = (patrolled.reindex(workers.index, fill_value=0) / len(days))
    full, part = rate[workers.kind == "full_time"], rate[workers.kind == "part_time"]
    assert len(full) == 40 and len(part) == 8
    # Drawn from 88–97 % and 40–70 % of ~245 working days: binomial noise is ±2–3 points.
    assert full.between(0.82, 1.0).all(), full.describe()
    assert part.between(0.32, 0.78).all(), part.describe()
    assert full.std() > 0.015 and part.std() > 0.03  # workers differ, so rankings differ
    # A few patrol twice a day: rows exceed patrol days by about 8 %.
    extra = len(patrols) / patrolled.sum() - 1
    assert 0.05 <= extra <= 0.11, extra


def test_visits_cover_the_workers_grid_month_by_month(store):
    visits, workers, buildings = store["visits"], store["workers"].set_index("id"), store["buildings"]
    assert (visits.grid_code == workers.grid_code.loc[visits.worker_id].to_numpy()).all()
    assert (visits.building_code.map(buildings.set_index("code").grid_code) == visits.grid_code).all()
    assert visits.households.between(1, 20).all()
    assert (visits.visited_at <= pd.Timestamp(NOW)).all()
    per_grid = buildings.groupby("grid_code").size()
    october = visits[visits.visited_at.dt.strftime("%Y-%m") == "2026-10"]
    covered = october.groupby("worker_id").building_code.nunique()
    share = covered / per_grid.loc[workers.grid_code.loc[covered.index]].to_numpy()
    full = share[workers.kind.loc[share.index] == "full_time"]
    # 50–100 % for a full-time worker (± 8 points a month, and grids of a few buildings are coarse).
    assert full.between(0.2, 1.0).all() and 0.55 <= full.mean() <= 0.9, full.describe()
    assert full.std() > 0.05


def test_followups_are_only_of_closed_hotline_tickets_after_closing(store):
    followups, events = store["hotline_followups"], store["events"].set_index("id")
    ticket = events.loc[followups.event_id]
    assert (ticket.source == "hotline").all() and ticket.closed_at.notna().all() and not ticket.is_void.any()
    gap = followups.followed_at.to_numpy() - ticket.closed_at.to_numpy()
    assert (gap >= np.timedelta64(1, "D")).all() and (gap <= np.timedelta64(3, "D")).all()
    assert (followups.followed_at <= pd.Timestamp(NOW)).all()
    # Every ticket closed 3 days or more before now has its follow-up.
    due = events[(events.source == "hotline") & (events.closed_at <= pd.Timestamp(NOW - timedelta(days=3)))]
    assert set(due.index) <= set(followups.event_id)


def test_followup_shares_are_near_their_targets_and_departments_differ(store):
    f = store["hotline_followups"]
    assert len(f) > 2000
    assert 0.93 <= f.valid.mean() <= 0.97
    assert 0.93 <= f.contacted.mean() <= 0.995
    assert 0.87 <= f.resolved.mean() <= 0.95
    share = f.satisfaction.value_counts(normalize=True)
    assert 0.72 <= share["satisfied"] <= 0.85 and 0.09 <= share["basic"] <= 0.15
    assert 0.04 <= share["dissatisfied"] <= 0.10 and share["unknown"] <= 0.06
    by_dept = f.join(store["events"].set_index("id").department_code, on="event_id").groupby("department_code")
    resolved = by_dept.resolved.mean()[by_dept.size() >= 200]
    assert len(resolved) >= 3 and resolved.max() - resolved.min() > 0.02, resolved


def test_rows_written_after_the_seed_take_the_next_ids(tmp_path, store_factory):
    """The seeder writes its ids itself; the sequences must then hand out the next ones (the API's writes)."""
    from sqlalchemy import func, select

    from queries import fieldwork as q
    from queries.schema import patrols, visits

    make_store, _ = store_factory
    engine, _ = make_store(tmp_path / "ids.duckdb", events=2000, days=40)
    try:
        with engine.connect() as conn:
            last_patrol = conn.execute(select(func.max(patrols.c.id))).scalar()
            last_visit = conn.execute(select(func.max(visits.c.id))).scalar()
            assert last_patrol == conn.execute(select(func.count()).select_from(patrols)).scalar() > 0
            worker = q.worker_frame(conn).iloc[0]
            building = q.building_frame(conn).query("grid_code == @worker.grid_code").iloc[0]
            q.insert_patrols(conn, [dict(worker_id=int(worker.id), grid_code=worker.grid_code, started_at=NOW,
                                         ended_at=None, checkins=1, distance_m=None, external_id="after-seed")])
            q.insert_visits(conn, [dict(worker_id=int(worker.id), grid_code=worker.grid_code,
                                        building_code=building.code, visited_at=NOW, households=2, external_id=None)])
            conn.commit()
            assert [r.id for r in q.patrol_rows(conn, worker_id=int(worker.id))][-1] == last_patrol + 1
            assert conn.execute(select(func.max(visits.c.id))).scalar() == last_visit + 1
    finally:
        engine.dispose()


def test_refill_writes_again_exactly_what_the_seeding_wrote(tmp_path, store_factory):
    """A store seeded before issue 7 gets its field work from refill: the same rows the seeding writes now."""
    from sqlalchemy import delete

    from queries.schema import hotline_followups, patrols, visits

    make_store, read_tables = store_factory
    engine, _ = make_store(tmp_path / "refill.duckdb", events=3000, days=60)
    try:
        names = ("patrols", "visits", "hotline_followups")
        seeded = read_tables(engine)
        assert all(len(seeded[name]) > 0 for name in names)
        with engine.begin() as conn:  # an older store: none of them
            for table in (patrols, visits, hotline_followups):
                conn.execute(delete(table))
        with engine.begin() as conn:
            report = fw.refill(conn, days=60)
        assert (report.patrols, report.visits, report.followups) == tuple(len(seeded[name]) for name in names)
        again = read_tables(engine)
        for name in names:
            pd.testing.assert_frame_equal(again[name], seeded[name])
    finally:
        engine.dispose()
