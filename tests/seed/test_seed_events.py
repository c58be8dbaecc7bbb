"""The seeded event history: codes, the closed loop's timestamps, statuses, deadlines and the log."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard.loop import MARKS
from dashboard.seed import SMALL
from dashboard.seed.catalogue import load_categories
from dashboard.seed.city import build_city
from dashboard.seed.events import generate
from dashboard.worktime import WorkCalendar
from queries import schema
from queries.meta import get_meta

STAGES = ["reported_at", "accepted_at", "verified_at", "registered_at", "dispatched_at", "handled_at",
          "checked_at", "closed_at"]
STAGE_STATUS = dict(zip(STAGES, ["reported", "accepted", "verified", "registered", "dispatched", "handled",
                                 "checked", "closed"]))


@pytest.fixture(scope="module")
def events(tables) -> pd.DataFrame:
    return tables["events"]


@pytest.fixture(scope="module")
def log(tables) -> pd.DataFrame:
    return tables["event_log"]


def test_report_and_meta(seeded, now):
    engine, report, tables = seeded
    assert report.events == len(tables["events"]) == 20_000
    assert report.event_log == len(tables["event_log"])
    assert report.areas == len(tables["areas"]) and report.buildings == SMALL.buildings
    with engine.connect() as conn:
        assert get_meta(conn, "seeded_at") == now.isoformat()
        assert get_meta(conn, "seed") == "7"
        assert get_meta(conn, "events") == "20000"
        assert get_meta(conn, "city_code") == "329900"
        assert int(get_meta(conn, "data_version")) > 0


def test_ids_follow_report_time(events, log):
    assert events.id.tolist() == list(range(1, len(events) + 1))
    assert events.reported_at.is_monotonic_increasing
    assert log.id.tolist() == list(range(1, len(log) + 1))
    # The history is logged in time order; the desk's marks of the last days (dashboard/seed/marks.py)
    # follow it, in time order among themselves.
    marks = log.action.isin(sorted(MARKS))
    assert marks.any() and not marks[:(~marks).sum()].any()
    assert log.occurred_at[~marks].is_monotonic_increasing and log.occurred_at[marks].is_monotonic_increasing


def test_codes_consistent_with_grid(events, tables):
    parent = tables["areas"].set_index("code").parent_code
    assert (events.community_code == parent.reindex(events.grid_code).to_numpy()).all()
    assert (events.street_code == parent.reindex(events.community_code).to_numpy()).all()
    assert (events.district_code == parent.reindex(events.street_code).to_numpy()).all()
    assert (events.building_code.str[:15] == events.grid_code).all()
    assert events.building_code.isin(tables["buildings"].code).all()
    cats = tables["categories"].set_index("code")
    assert (events.class_code == cats.class_code.reindex(events.category_code).to_numpy()).all()
    assert (events.urgent == cats.urgent.reindex(events.category_code).to_numpy()).all()


def test_locations_near_their_building(events, tables):
    buildings = tables["buildings"].set_index("code")
    dlat = (events.lat - buildings.lat.reindex(events.building_code).to_numpy()) * 111_195
    dlon = (events.lon - buildings.lon.reindex(events.building_code).to_numpy()) * 111_195 * np.cos(np.radians(31.3))
    assert (np.hypot(dlat, dlon) <= 6.5).all()


def test_timestamps_ordered_and_not_after_now(events, now):
    stamps = events[STAGES]
    # Every non-null stage is no earlier than the previous non-null one.
    filled = stamps.ffill(axis=1)
    for a, b in zip(STAGES, STAGES[1:]):
        present = stamps[b].notna()
        assert (stamps.loc[present, b] >= filled.loc[present, a]).all(), b
    for column in STAGES:
        assert (events[column].dropna() <= now).all()
    assert events.reported_at.min() >= now - pd.Timedelta(days=365)
    # Verification only for the public's reports (hotline, citizen app).
    assert set(events.loc[events.verified_at.notna(), "source"]) <= {"hotline", "citizen"}


def test_status_matches_last_timestamp(events):
    stamps = events[STAGES]
    last = stamps.notna().to_numpy()[:, ::-1].argmax(axis=1)
    last_stage = np.array(STAGES)[len(STAGES) - 1 - last]
    expected = pd.Series([STAGE_STATUS[s] for s in last_stage], index=events.index)
    ordinary = ~events.status.isin(["void", "parked"])
    assert (events.status[ordinary] == expected[ordinary]).all()
    void = events[events.status == "void"]
    assert void.is_void.all() and void.registered_at.isna().all() and void.dispatched_at.isna().all()
    assert (events.is_void == (events.status == "void")).all()
    parked = events[events.status == "parked"]
    assert parked.is_parked.all() and parked.dispatched_at.notna().all() and parked.handled_at.isna().all()
    assert (events.is_parked == (events.status == "parked")).all()


def test_deadlines_from_the_work_calendar(events, tables):
    dispatched = events.dispatched_at.notna()
    assert (events.deadline_at.notna() == dispatched).all()
    assert (events.department_code.notna() == dispatched).all()
    rows = events[dispatched]
    assert (rows.deadline_at > rows.dispatched_at).all()
    cats = tables["categories"].set_index("code")
    values = cats.limit_value.reindex(rows.category_code).to_numpy()
    units = cats.limit_unit.reindex(rows.category_code).to_numpy()
    cal = WorkCalendar()
    expected = cal.deadlines(rows.dispatched_at.to_numpy().astype("datetime64[m]"), values, units)
    extended = rows.extension_count.to_numpy() > 0
    expected[extended] = cal.deadlines(expected[extended], values[extended], units[extended])
    assert (rows.deadline_at.to_numpy().astype("datetime64[m]") == expected).all()


def test_departments_and_workers(events, tables):
    departments = tables["departments"].set_index("code")
    rows = events[events.department_code.notna()]
    assert (departments.district_code.reindex(rows.department_code).to_numpy() == rows.district_code).all()
    workers = tables["workers"].set_index("id")
    by_worker = events.source == "grid_worker"
    assert events.loc[by_worker, "worker_id"].notna().all() and events.loc[~by_worker, "worker_id"].isna().all()
    reporters = events[by_worker]
    assert (workers.grid_code.reindex(reporters.worker_id.astype(int)).to_numpy() == reporters.grid_code).all()


def test_exception_shares_are_realistic(events):
    n = len(events)
    assert 0.01 < events.is_void.mean() < 0.04
    handled = events[events.handled_at.notna()]
    late = (handled.handled_at > handled.deadline_at).mean()
    assert 0.04 < late < 0.09
    assert 0.005 < (events.return_count > 0).mean() < 0.016
    assert 0.002 < (events.extension_count > 0).mean() < 0.009
    assert 0.002 < (events.rework_count > 0).mean() < 0.009
    classes = events.class_code.value_counts(normalize=True)
    assert classes["01"] + classes["05"] > 0.5 and classes["04"] < 0.05
    assert (events.source == "hotline").mean() > 0.15
    assert (events.category_code == "0609").sum() > 0.05 * n
    # Old open overdue cases exist (the backlog), and Sundays are quieter than Wednesdays.
    now = events.reported_at.max()
    stuck = events[events.handled_at.isna() & (events.deadline_at < now - pd.Timedelta(days=30))
                   & (events.status == "dispatched")]
    assert len(stuck) >= 5
    weekday = events.reported_at.dt.day_of_week.value_counts()
    assert weekday[6] < 0.85 * weekday[2]
    hours = events.reported_at.dt.hour.value_counts()
    assert hours[10] > 5 * hours[3]


ACTION_COLUMN = {"report": "reported_at", "accept": "accepted_at", "verify": "verified_at",
                 "register": "registered_at", "check": "checked_at", "close": "closed_at"}


def test_log_matches_event_timestamps(events, log, now):
    assert (log.occurred_at <= now).all()
    ev = events.set_index("id")
    last_by_action = log.pivot_table(index="event_id", columns="action", values="occurred_at", aggfunc="max")
    last_by_action = last_by_action.reindex(ev.index)
    for action, column in ACTION_COLUMN.items():
        pd.testing.assert_series_equal(last_by_action[action], ev[column], check_names=False, check_freq=False)
    # The current dispatch and handling are the last ones logged.
    has = ev.dispatched_at.notna()
    assert (last_by_action.loc[has, "dispatch"] == ev.loc[has, "dispatched_at"]).all()
    has = ev.handled_at.notna()
    assert (last_by_action.loc[has, "handle"] == ev.loc[has, "handled_at"]).all()
    counts = log.pivot_table(index="event_id", columns="action", values="id", aggfunc="count")
    counts = counts.reindex(ev.index).fillna(0).astype(int)
    assert (counts["return"] == ev.return_count).all()
    assert (counts["extend"] == ev.extension_count).all()
    assert (counts["rework"] == ev.rework_count).all()
    assert (counts["park"] == ev.is_parked.astype(int)).all()
    assert (counts["void"] == ev.is_void.astype(int)).all()
    assert (counts["report"] == 1).all()


def test_log_status_chain(events, log):
    ordered = log.sort_values(["event_id", "id"])
    previous = ordered.groupby("event_id").to_status.shift()
    first = previous.isna()
    assert ordered.loc[first, "action"].eq("report").all() and ordered.loc[first, "from_status"].isna().all()
    assert (ordered.loc[~first, "from_status"] == previous[~first]).all()
    final = ordered.groupby("event_id").to_status.last()
    assert (final.reindex(events.id).to_numpy() == events.status.to_numpy()).all()
    dispatches = ordered[ordered.action == "dispatch"]
    assert dispatches.note.str.startswith("派遣至").all()
    assert ordered.loc[ordered.action == "handle", "actor"].str.startswith("dept:").all()


def test_open_events_is_the_state_at_now(seeded, events, tables, now):
    engine, report, _ = seeded
    open_now = events[~events.is_void & events.closed_at.isna()]
    assert tables["open_events"].id.tolist() == open_now.id.tolist() == sorted(open_now.id)
    assert report.open_events == len(open_now) > 0
    with engine.connect() as conn:
        assert get_meta(conn, "state_as_of") == now.isoformat()


def test_sequences_continue_after_the_seed(seeded):
    engine, report, _ = seeded
    with engine.connect() as conn:
        new_id = conn.execute(insert(schema.events).values(
            source="other", category_code="0102", class_code="01", district_code="329902",
            street_code="329902001", community_code="329902001001", grid_code="329902001001001",
            status="reported", reported_at=pd.Timestamp("2026-11-20 15:00").to_pydatetime(),
        )).inserted_primary_key[0]
        conn.rollback()
    assert new_id == report.events + 1


def test_chunks_merge_the_log_in_time_order(now):
    """Small chunks: ids stay contiguous and the log stays in time order across chunk borders."""
    city = build_city(np.random.default_rng(3), SMALL)
    categories = load_categories()
    parts = list(generate(city, categories, events=6000, seed=3, now=now, days=60, calendar=WorkCalendar(),
                          chunk_events=1000))
    assert len(parts) >= 5
    ev = pd.concat([p[0] for p in parts], ignore_index=True)
    lg = pd.concat([p[1] for p in parts], ignore_index=True)
    assert ev.id.tolist() == list(range(1, 6001)) and ev.reported_at.is_monotonic_increasing
    assert lg.id.tolist() == list(range(1, len(lg) + 1)) and lg.occurred_at.is_monotonic_increasing
    closed = ev.set_index("id").closed_at.dropna()
    logged = lg[lg.action == "close"].set_index("event_id").occurred_at
    pd.testing.assert_series_equal(logged.sort_index(), closed.sort_index(), check_names=False)


@pytest.mark.parametrize("events, days", [(0, 30), (500, 1)])
def test_edge_sizes(tmp_path, store_factory, events, days):
    make_store, read_tables = store_factory
    engine, report = make_store(tmp_path / "edge.duckdb", events=events, days=days)
    frames = read_tables(engine)
    engine.dispose()
    assert report.events == len(frames["events"]) == events
    assert len(frames["event_log"]) >= events


def test_desk_marks_on_open_cases(events, log, tables, now):
    """Some open cases carry the desk's marks, each logged after the case's steps and none after now."""
    ev = events.set_index("id")
    urged = ev[ev.urge_count.fillna(0) > 0]
    assert len(urged) > 0 and (urged.status == "dispatched").all()
    assert (urged.last_urged_at <= now).all()
    pending = ev[ev.extension_requested_at.notna()]
    assert len(pending) > 0 and (pending.extension_requested_until > pending.deadline_at).all()
    supervised = ev[ev.supervised_until.notna()]
    assert len(supervised) > 0 and (supervised.supervised_until > now).all()
    finished = ev.closed_at.notna() | ev.is_void
    assert not ev.loc[finished, ["urge_count", "supervised_until", "whistled_at"]].notna().any().any()
    marks = log[log.action.isin(sorted(MARKS))]
    per_case = marks.groupby("event_id").action.value_counts().unstack(fill_value=0)
    assert (per_case["urge"].reindex(urged.index) == urged.urge_count).all()
    last_step = log[~log.action.isin(sorted(MARKS))].groupby("event_id").occurred_at.max()
    assert (marks.occurred_at.to_numpy() >= last_step.reindex(marks.event_id).to_numpy()).all()
    assert (marks.occurred_at <= now).all()
    assert (ev.loc[marks.event_id.unique(), "updated_at"].to_numpy()
            == marks.groupby("event_id").occurred_at.max().reindex(marks.event_id.unique()).to_numpy()).all()
    calls = tables["whistle_calls"]
    whistled = ev[ev.whistled_at.notna()]
    assert set(calls.event_id) == set(whistled.index)
    answered = calls[calls.answered_at.notna()]
    assert (answered.answered_at >= answered.called_at).all()
    assert len(marks[marks.action == "report_back"]) == len(answered)
