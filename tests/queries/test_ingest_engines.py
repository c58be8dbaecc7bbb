"""The write path on both engines: DuckDB always, PostgreSQL when GRIDCC_TEST_PG_URL is set.

Each test drives dashboard.ingest.Ingestor on the hand city (now frozen at 2026-11-20 15:00), then
checks that what it kept in step by hand — open_events, closures, the data version — equals what
the projections' own rebuild computes from events.
"""
from __future__ import annotations

import os
from datetime import datetime

import pytest
from sqlalchemy import create_engine, func, select

from dashboard.ingest import IngestRefused, Ingestor
from dashboard.settings import Settings
from dashboard.store import init_schema
from queries.meta import data_version
from queries.schema import closures, event_log, events, open_events
from queries.scope import Scope
from queries.state import rebuild_closures, rebuild_open_events, state_as_of
from tests import handcity

PG_URL = os.environ.get("GRIDCC_TEST_PG_URL")
CITY = Scope(handcity.CITY, 0)
# A point inside grid A1 (lon 120.0–120.05, lat 31.0–31.2).
LAT, LON = 31.1, 120.02


@pytest.fixture(params=["duckdb", "postgresql"])
def engine(request, hand_engine, worker_id):
    if request.param == "duckdb":
        yield hand_engine
        return
    if not PG_URL:
        pytest.skip("set GRIDCC_TEST_PG_URL to run the write path on PostgreSQL")
    # A schema of its own (per xdist worker): test_postgres.py rebuilds the hand city in 'public'.
    schema = f"ingest_{worker_id}"
    with create_engine(PG_URL).begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    pg = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    handcity.build_hand_city(pg)
    init_schema(pg)
    yield pg
    pg.dispose()


@pytest.fixture
def ingestor(engine) -> Ingestor:
    settings = Settings(frozen_now=handcity.NOW)
    return Ingestor(engine, tz=settings.tz, now=settings.now, calendar=settings.calendar())


def record(i: int, **more) -> dict:
    return {"id": f"E-{i}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
            "lat": LAT, "lon": LON, **more}


def counts(engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                     for t in (events, event_log, open_events, closures))


def assert_projections_match_a_rebuild(engine):
    """open_events / closures as the write path left them equal a rebuild from events (then restored)."""
    with engine.connect() as conn:
        kept_open = sorted(tuple(r) for r in conn.execute(select(open_events)))
        kept_closed = sorted(tuple(r) for r in conn.execute(select(closures)))
        rebuild_open_events(conn, as_of=state_as_of(conn))
        rebuild_closures(conn)
        assert sorted(tuple(r) for r in conn.execute(select(open_events))) == kept_open
        assert sorted(tuple(r) for r in conn.execute(select(closures))) == kept_closed
        conn.rollback()


def test_eng001_a_report_is_stored_once_with_its_log_and_state(engine, ingestor):
    before = counts(engine)
    with engine.connect() as conn:
        version = data_version(conn)
    (receipt,) = ingestor.submit([record(1)], actor="hotline-12345")
    assert (receipt.created, receipt.status, receipt.id) == (True, "reported", 12)  # the hand city ends at 11
    # Sent again, alone and inside a batch: the same id, nothing written, numbering without a gap.
    again, fresh = ingestor.submit([record(1), record(2)], actor="hotline-12345")
    assert (again.created, again.id, fresh.created, fresh.id) == (False, 12, True, 13)
    assert counts(engine) == (before[0] + 2, before[1] + 2, before[2] + 2, before[3])
    with engine.connect() as conn:
        assert data_version(conn) == version + 2
        assert state_as_of(conn) == handcity.STATE_AS_OF  # never moved backwards (now is 15:00)
        row = conn.execute(select(events).where(events.c.id == 12)).one()
        log = conn.execute(select(event_log.c.action, event_log.c.actor).where(event_log.c.event_id == 12)).all()
    assert (row.grid_code, row.building_code, row.department_code) == (handcity.A1, None, None)
    assert log == [("report", "hotline-12345")]
    assert_projections_match_a_rebuild(engine)


def test_eng002_a_lifecycle_batch_and_steps_keep_the_projections(engine, ingestor):
    stamps = {"accepted_at": "2026-11-20T14:01:00+08:00", "registered_at": "2026-11-20T14:02:00+08:00",
              "dispatched_at": "2026-11-20T14:03:00+08:00", "handled_at": "2026-11-20T14:30:00+08:00",
              "checked_at": "2026-11-20T14:40:00+08:00", "closed_at": "2026-11-20T14:50:00+08:00"}
    batch = [record(i) for i in range(300)] + [record(900, **stamps)]  # 301 rows: DuckDB's bulk path
    receipts = ingestor.submit(batch, actor="import")
    assert [r.status for r in receipts[-2:]] == ["reported", "closed"]
    event_id = receipts[0].id
    for action, at in (("accept", "14:10"), ("register", "14:11"), ("dispatch", "14:12"), ("handle", "14:40")):
        view = ingestor.transition(event_id, {"action": action, "at": f"2026-11-20T{at}:00+08:00"},
                                   actor="app", scope=CITY)
    # 0505 has 2 working hours: dispatched Fri 14:12 -> 16:12; handled 14:40, 28 minutes after dispatch.
    assert (view["status"], view["deadline_at"], view["sla"]["light"]) == (
        "handled", "2026-11-20T16:12:00+08:00", "green")
    with pytest.raises(IngestRefused) as refused:
        ingestor.transition(event_id, {"action": "close"}, actor="app", scope=CITY)
    assert refused.value.conflict and "must be checked" in refused.value.problems[0].reason
    ingestor.transition(event_id, {"action": "check", "at": "2026-11-20T14:45:00+08:00"}, actor="app", scope=CITY)
    ingestor.transition(event_id, {"action": "close", "at": "2026-11-20T14:50:00+08:00"}, actor="app", scope=CITY)
    with engine.connect() as conn:
        closed = conn.execute(select(closures.c.on_time, closures.c.handling_minutes)
                              .where(closures.c.event_id.in_([event_id, receipts[-1].id]))
                              .order_by(closures.c.event_id)).all()
    # The lifecycle record: dispatched 14:03, handled 14:30 (27 minutes), deadline 16:03.
    assert [tuple(r) for r in closed] == [(True, 28), (True, 27)]
    assert_projections_match_a_rebuild(engine)


def test_eng003_an_import_with_one_bad_line_stores_nothing(engine, ingestor):
    before = counts(engine)
    chunks = [([2, 3], [record(1), record(2)]), ([4], [record(3, category="9999")])]
    with pytest.raises(IngestRefused) as refused:
        ingestor.import_chunks(chunks, actor="import")
    assert [(p.index, p.field) for p in refused.value.problems] == [(4, "category")]
    assert counts(engine) == before
    assert ingestor.import_chunks(chunks[:1], actor="import") == (2, 0)


def test_eng004_a_time_in_the_future_is_refused_on_both_engines(engine, ingestor):
    with pytest.raises(IngestRefused) as refused:
        ingestor.submit([record(1, reported_at=datetime(2026, 11, 20, 15, 6).isoformat() + "+08:00")], actor="x")
    assert refused.value.problems[0].field == "reported_at"
