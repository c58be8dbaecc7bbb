"""queries/fieldwork.py on PostgreSQL (opt in with GRIDCC_TEST_PG_URL, as tests/queries/test_postgres.py).

The hand city (tests/handcity.py) with, as in tests/api/test_fieldwork.py: workers 1 (A1, the hand city's),
2 (part-time, A1) and 3 (C1); events 1, 2, 7, 8 made 12345 tickets (source 'hotline'). The same reads and
writes the API and the seeder make, with the counts worked out by hand.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, insert, select, update

from dashboard.seed import fieldwork as fw
from queries import fieldwork as q
from queries.schema import DISTRICT, STREET, events, hotline_followups, patrols, visits, workers
from queries.scope import Scope
from tests import handcity
from tests.handcity import A1, A2, C1, NOW

PG_URL = os.environ.get("GRIDCC_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="set GRIDCC_TEST_PG_URL to run the queries on PostgreSQL")
CITY = Scope("329900", 0)


@pytest.fixture(scope="module")
def pg_conn(worker_id):
    from sqlalchemy import create_engine

    schema = f"fieldwork_{worker_id}"  # a schema of its own: other test modules rebuild theirs meanwhile
    with create_engine(PG_URL).begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    handcity.build_hand_city(engine)
    with engine.begin() as conn:
        conn.execute(insert(workers), [dict(id=2, name="李强", phone=None, kind="part_time", grid_code=A1),
                                       dict(id=3, name="王敏", phone=None, kind="full_time", grid_code=C1)])
        conn.execute(update(events).where(events.c.id.in_([1, 2, 7, 8])).values(source="hotline"))
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def test_pgf001_lookups_are_cut_to_the_scope(pg_conn):
    east_street = Scope("329902001", STREET)
    assert q.workers_in_scope(pg_conn, scope=CITY, ids=[1, 2, 3, 99]) == {1: A1, 2: A1, 3: C1}
    assert q.workers_in_scope(pg_conn, scope=east_street, ids=[1, 2, 3]) == {1: A1, 2: A1}
    assert q.workers_in_scope(pg_conn, scope=Scope("329902", DISTRICT, department="329902-01"), ids=[1]) == {}
    assert q.grids_in_scope(pg_conn, scope=east_street, codes=[A1, A2, C1, "329902001"]) == {A1, A2}
    assert q.buildings_in_scope(pg_conn, scope=east_street, codes=[A1 + "002", C1 + "001", A1 + "009"]) == {
        A1 + "002": A1}
    tickets = q.hotline_tickets_in_scope(pg_conn, scope=Scope("329902", DISTRICT, department="329902-01"),
                                         ids=[1, 2, 3, 7, 8])
    assert sorted(tickets) == [1, 2, 7]  # 3 is a grid worker's report; 8 is 西城区's
    assert tickets[7] == datetime(2026, 10, 1, 10, 0)


def test_pgf002_writes_and_resends(pg_conn):
    rows = [dict(worker_id=1, grid_code=A1, started_at=NOW, ended_at=None, checkins=1, distance_m=None,
                 external_id="XC-1"),
            dict(worker_id=2, grid_code=A1, started_at=NOW, ended_at=NOW + timedelta(hours=1), checkins=4,
                 distance_m=3000, external_id=None)]
    assert q.insert_patrols(pg_conn, rows) == 2
    assert q.known_patrols(pg_conn, keys=[(1, "XC-1"), (2, "XC-1")]) == {(1, "XC-1")}
    assert q.insert_visits(pg_conn, [dict(worker_id=1, grid_code=A1, building_code=A1 + "001", visited_at=NOW,
                                          households=3, external_id="ZF-1")]) == 1
    assert q.known_visits(pg_conn, keys=[(1, "ZF-1")]) == {(1, "ZF-1")}
    follow = dict(event_id=7, followed_at=NOW, valid=True, contacted=True, resolved=False, satisfaction="basic")
    assert q.replace_followups(pg_conn, [follow]) == 1
    assert q.replace_followups(pg_conn, [dict(follow, resolved=True, satisfaction="satisfied")]) == 1
    assert q.stored_followups(pg_conn, ids=[7, 8]) == {7: (NOW, True, True, True, "satisfied")}
    assert [(r.checkins, r.distance_m) for r in q.patrol_rows(pg_conn, worker_id=2)] == [(4, 3000)]
    pg_conn.rollback()


def test_pgf003_the_seeders_rows_go_in_and_the_sequences_follow(pg_conn):
    worker_rows = q.worker_frame(pg_conn)
    building_rows = q.building_frame(pg_conn)
    assert list(worker_rows.id) == [1, 2, 3] and len(building_rows) == 7
    since = NOW - timedelta(days=40)
    days = fw._workdays(since, NOW, fw.WorkCalendar())
    p = fw.make_patrols(np.random.default_rng(1), worker_rows, days, since=since, now=NOW)
    v = fw.make_visits(np.random.default_rng(2), worker_rows, building_rows, days, since=since, now=NOW)
    f = fw.make_followups(np.random.default_rng(3), q.closed_hotline(pg_conn, until=NOW), now=NOW)
    # Closed 12345 tickets: 1 and 2 (closed 11-20 10:30, 11-19 17:00: a follow-up comes a day later at least, after
    # NOW 11-20 15:00) and 7 (closed 10-25): only 7 is followed up.
    assert sorted(q.closed_hotline(pg_conn, until=NOW).id) == [1, 2, 7] and list(f.event_id) == [7]
    assert q.write_seeded(pg_conn, patrol_rows=p, visit_rows=v, followup_rows=f) == (len(p), len(v), 1)
    q.insert_patrols(pg_conn, [dict(worker_id=3, grid_code=C1, started_at=NOW, ended_at=None, checkins=1,
                                    distance_m=None, external_id=None)])
    assert pg_conn.execute(select(func.max(patrols.c.id))).scalar() == len(p) + 1
    assert pg_conn.execute(select(func.count()).select_from(visits)).scalar() == len(v)
    assert pg_conn.execute(select(hotline_followups.c.event_id)).scalars().all() == [7]
    pg_conn.rollback()
