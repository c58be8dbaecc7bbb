"""The SLA figures on PostgreSQL: the hand-worked numbers of tests/queries/test_sla.py, on the other engine.

Opt in with GRIDCC_TEST_PG_URL (a database this test may wipe), as tests/queries/test_postgres.py.
Only the tests that do not write run here: the connection is shared by the module.
"""
from __future__ import annotations

import os

import pytest

from tests import handcity
from tests.queries import test_sla as hand

PG_URL = os.environ.get("GRIDCC_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="set GRIDCC_TEST_PG_URL to run the queries on PostgreSQL")


@pytest.fixture(scope="module")
def pg_conn(request):
    from sqlalchemy import create_engine

    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    schema = f"sla_{worker}"  # its own schema: never rebuilds the tables another module reads
    with create_engine(PG_URL).begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    handcity.build_hand_city(engine)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def test_slapg001_trends(pg_conn):
    hand.test_sla001_week_trend_city(pg_conn)
    hand.test_sla002_day_trend_adds_up_to_the_period(pg_conn)


@pytest.mark.parametrize("code, by, expected", hand.SPLITS_AT_NOW)
def test_slapg002_splits(pg_conn, code, by, expected):
    hand.test_sla004_splits_by_hand(pg_conn, code, by, expected)


def test_slapg003_parent_sum_and_as_of(pg_conn):
    hand.test_sla005_parent_is_the_sum_of_its_children(pg_conn)
    for as_of, handle, close in ((hand.datetime(2026, 11, 20, 10, 15), (2, 5), (0, 3)),
                                 (hand.datetime(2026, 11, 20, 16, 30), (2, 6), (1, 5))):
        hand.test_sla006_an_earlier_and_a_later_as_of(pg_conn, as_of, handle, close)


def test_slapg004_backlog_lights_funnel_handling_exceptions(pg_conn):
    hand.test_sla010_backlog_age_by_class_and_area(pg_conn)
    hand.test_sla011_lights_now_and_turning_red(pg_conn, handcity.NOW, (2, 0, 2, 1, 1))
    for as_of in (hand.datetime(2026, 11, 20, 15, 41), hand.datetime(2026, 11, 18, 11, 47), hand.datetime(2026, 11, 20, 16, 6)):
        hand.test_sla012_lights_in_sql_match_dashboard_lights(pg_conn, as_of)
    hand.test_sla020_funnel_city(pg_conn)
    hand.test_sla022_funnel_of_a_street_at_an_earlier_as_of(pg_conn)
    hand.test_sla030_handling_distribution(pg_conn)


def test_slapg005_exceptions_by_area(pg_conn):
    rows = hand.sla.exceptions(pg_conn, scope=hand.CITY, area=hand.area(pg_conn, "329900"), by="area", **hand.window())
    assert [(r.key, hand.pair(r.extension), hand.pair(r.void)) for r in rows] == [
        (hand.EAST, (0, 3), (1, 6)), (hand.WEST, (0, 0), (0, 2))]


@pytest.mark.parametrize("selector, expected", [
    (hand.sla.Selector("handle", "late"), (3, [7, 3, 2])),
    (hand.sla.Selector("handle", "all", grain="week", bucket=hand.date(2026, 11, 16)), (4, [3, 6, 2, 1])),
    (hand.sla.Selector("age", by="class", key="06", bin="gt30d"), (1, [9])),
    (hand.sla.Selector("funnel", "over_limit", stage="handle"), (1, [2])),
    (hand.sla.Selector("funnel", "over_limit", stage="check"), (0, [])),
    (hand.sla.Selector("handling", by="class", key="01", bin="gt7d"), (1, [7])),
    (hand.sla.Selector("void", "numerator", by="area", key=hand.EAST), (1, [5])),
])
def test_slapg006_the_cases_behind(pg_conn, selector, expected):
    assert hand.cases(pg_conn, selector) == expected
