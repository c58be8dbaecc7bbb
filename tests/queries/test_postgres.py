"""The same queries on PostgreSQL: opt in with GRIDCC_TEST_PG_URL (a database this test may wipe).

    GRIDCC_TEST_PG_URL=postgresql+psycopg://gridcc:gridcc@127.0.0.1/gridcc_test bash scripts/test tests/queries
"""
from __future__ import annotations

import os
from datetime import datetime

import pytest

from queries import areas as aq
from queries import overview as ov
from queries.scope import Scope
from tests import handcity
from tests.queries.test_overview import HAND_FIGURES

PG_URL = os.environ.get("GRIDCC_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="set GRIDCC_TEST_PG_URL to run the queries on PostgreSQL")
CITY = Scope("329900", 0)


@pytest.fixture(scope="module")
def pg_conn(worker_id):
    from sqlalchemy import create_engine

    # A schema per xdist worker, so two workers never rebuild the same tables at once.
    schema = f"queries_{worker_id}"
    with create_engine(PG_URL).begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    handcity.build_hand_city(engine)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@pytest.mark.parametrize("code, reported, open_, overdue, closed, on_time", HAND_FIGURES)
def test_pg001_area_figures_by_hand(pg_conn, code, reported, open_, overdue, closed, on_time):
    area = aq.get_area(pg_conn, scope=CITY, code=code)
    got = ov.area_figures(pg_conn, scope=CITY, area=area, as_of=handcity.NOW, since=handcity.SINCE, until=handcity.NOW)
    assert (got.reported, got.open, got.overdue, got.closed, got.closed_on_time) == (
        reported, open_, overdue, closed, on_time)


def test_pg002_median_kpis_trend_and_state(pg_conn):
    city = aq.get_area(pg_conn, scope=CITY, code="329900")
    window = dict(since=handcity.SINCE, until=handcity.NOW)
    assert ov.median_handling_hours(pg_conn, scope=CITY, area=city, **window) == pytest.approx(6.5)
    assert ov.kpis(pg_conn, scope=CITY, area=city, as_of=handcity.NOW, **window).reported_today == 5
    trend = {d.day.isoformat(): (d.reported, d.closed) for d in ov.daily_trend(pg_conn, scope=CITY, area=city, **window)}
    assert trend["2026-11-20"] == (5, 1) and trend["2026-10-25"] == (0, 1) and len(trend) == 31
    later = ov.area_figures(pg_conn, scope=CITY, area=city, as_of=datetime(2026, 11, 20, 16, 30), **window)
    assert (later.open, later.overdue) == (6, 3)  # answered from open_events
    kids = ov.children_figures(pg_conn, scope=CITY, parent=city, child_codes=["329902", "329903"],
                               as_of=handcity.NOW, **window)
    assert [(k.open, k.median_handling_hours) for k in kids] == [(3, pytest.approx(6.5)), (2, None)]


def test_pg003_event_detail(pg_conn):
    from queries.events import event_detail

    got = event_detail(pg_conn, scope=CITY, event_id=3)
    assert (got.category_name, got.district_name, got.grid_name, got.building_name, got.department_name,
            got.worker_name, got.limit_value, got.limit_unit) == (
        "道路破损", "东城区", "东街第01网格", "2号楼", "东城区城管执法局", "张伟", 5.0, "work_days")
    assert (got.deadline_at, got.urgent, got.reporter) == (datetime(2026, 11, 17, 9, 30), False, "李娜 13812345678")
    assert [(s.action, s.at) for s in got.log] == [("report", datetime(2026, 11, 10, 9, 0))]
    assert event_detail(pg_conn, scope=Scope("329903", 1), event_id=3) is None
    assert event_detail(pg_conn, scope=Scope("329902", 1, department="329902-01"), event_id=3).id == 3
    assert [event_detail(pg_conn, scope=CITY, event_id=i) for i in (-1, 0, 12, 2**63 - 1, 2**63)] == [None] * 5


def test_pg003_heat_cells_and_h3_parent(pg_conn):
    # The same hand-worked cells as tests/queries/test_heat.py: events placed at their buildings.
    from sqlalchemy import update

    from dashboard.store import fill_h3
    from queries.heat import heat_cells
    from queries.schema import events
    from tests.queries.test_heat import by_name, parent_cases

    pg_conn.execute(update(events).values(lat=None, lon=None, h3=None))
    pg_conn.commit()
    assert fill_h3(pg_conn.engine) == 11
    city = aq.get_area(pg_conn, scope=CITY, code="329900")
    window = dict(since=handcity.SINCE, until=handcity.NOW)
    got = heat_cells(pg_conn, scope=CITY, area=city, resolution=11, **window)
    assert by_name(got) == {"A1": 2, "A1b2": 1, "A2": 1, "B1": 1, "C1": 1, "C2": 1}
    assert by_name(heat_cells(pg_conn, scope=CITY, area=city, resolution=5, **window), 5) == {"A1": 4, "B1": 2, "C2": 1}
    east = aq.get_area(pg_conn, scope=CITY, code="329902")
    assert by_name(heat_cells(pg_conn, scope=Scope("329902", 1), area=east, resolution=11, classes=("05",), **window)) == {
        "A1": 1, "A2": 1}
    parent_cases(pg_conn.engine)
    pg_conn.execute(update(events).values(lat=31.1, lon=120.0, h3=None))  # as the other tests expect it
    pg_conn.commit()
