"""The desk's actions on PostgreSQL: opt in with GRIDCC_TEST_PG_URL (a database this test may wipe).

    GRIDCC_TEST_PG_URL=$(bash scripts/postgres-test-db) .venv/bin/python -m pytest tests/test_desk_postgres.py

The same hand city and expectations as tests/test_desk.py, through the same statements on the other engine:
the one-by-one path (a few cases) and the staged one (a temporary table and one UPDATE … FROM, 20 cases on).
"""
from __future__ import annotations

import os
from datetime import datetime

import pytest
from sqlalchemy import func, select

from dashboard import desk
from dashboard.ingest import Ingestor
from dashboard.worktime import WorkCalendar
from queries.schema import audit_log, closures, event_log, events, open_events, whistle_calls
from queries.scope import Scope
from tests import handcity
from tests.handcity import NOW

PG_URL = os.environ.get("GRIDCC_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="set GRIDCC_TEST_PG_URL to run the desk on PostgreSQL")
DONGCHENG = Scope("329902", 1)


@pytest.fixture
def ingestor():
    from zoneinfo import ZoneInfo

    from sqlalchemy import create_engine

    schema = "desk_test"
    with create_engine(PG_URL).begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    handcity.build_hand_city(engine)
    yield Ingestor(engine, tz=ZoneInfo("Asia/Shanghai"), now=lambda: NOW, calendar=WorkCalendar())
    engine.dispose()


def act(ingestor, ids, action, *, role="district_manager", scope=DONGCHENG, **inputs):
    return desk.act(ingestor, ids, action, reason="理由", actor="pg", role=role, scope=scope, audit_from="test",
                    **inputs)


def test_pgdesk001_every_action_on_postgres(ingestor):
    engine = ingestor.engine
    assert act(ingestor, [3, 4, 1], "urge").done == [3, 4]
    assert act(ingestor, [3], "whistle", departments=["329900-12", "329902-01"]).done == [3]
    city_dept = Scope("329900", 0, department="329900-12")
    assert act(ingestor, [3], "report_back", role="department_handler", scope=city_dept).done == [3]
    assert act(ingestor, [4], "request_extension", role="department_handler",
               scope=Scope("329902", 1, department="329902-01"), until=datetime(2026, 11, 23, 17, 0)).done == [4]
    assert act(ingestor, [4], "approve_extension").done == [4]
    assert act(ingestor, [3], "redispatch", department_code="329900-12").done == [3]
    assert act(ingestor, [6], "check_close").done == [6]
    with engine.connect() as conn:
        assert conn.execute(select(events.c.urge_count, events.c.deadline_at, events.c.extension_count)
                            .where(events.c.id == 4)).one() == (1, datetime(2026, 11, 23, 17, 0), 1)
        assert conn.execute(select(open_events.c.department_code, open_events.c.whistled_at)
                            .where(open_events.c.id == 3)).one() == ("329900-12", NOW)
        assert conn.execute(select(whistle_calls.c.answer).where(whistle_calls.c.department_code == "329900-12")
                            ).scalar() == "理由"
        assert conn.execute(select(closures.c.closed_at).where(closures.c.event_id == 6)).scalar() == NOW
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar() == 3 + 1 + 1 + 1 + 1 + 1 + 1
        assert [r.action for r in conn.execute(select(event_log.c.action).where(event_log.c.event_id == 3)
                                               .order_by(event_log.c.id))] == [
            "report", "urge", "whistle", "report_back", "return", "dispatch"]


def test_pgdesk002_a_big_selection_through_the_staged_update(ingestor):
    records = [{"id": f"PG-{i}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T13:00:00+08:00",
                "accepted_at": "2026-11-20T13:01:00+08:00", "registered_at": "2026-11-20T13:02:00+08:00",
                "dispatched_at": "2026-11-20T13:40:00+08:00", "lat": 31.1, "lon": 120.01} for i in range(25)]
    ids = [r.id for r in ingestor.submit(records, actor="test")]
    assert act(ingestor, ids, "supervise", follow_up_at=datetime(2026, 11, 24, 9, 0)).done == ids
    assert act(ingestor, ids, "supervise", follow_up_at=datetime(2026, 11, 25, 9, 0)).done == ids
    with ingestor.engine.connect() as conn:
        assert set(conn.execute(select(events.c.supervised_until).where(events.c.id.in_(ids))).scalars()) == {
            datetime(2026, 11, 25, 9, 0)}
        assert conn.execute(select(func.count()).select_from(open_events)
                            .where(open_events.c.supervised_until == datetime(2026, 11, 25, 9, 0))).scalar() == 25
