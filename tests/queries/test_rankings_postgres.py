"""queries/rankings.py on PostgreSQL: the hand-worked counts of tests/queries/test_rankings.py, on the other engine.

Opt in with GRIDCC_TEST_PG_URL (a database this test may wipe), as tests/queries/test_postgres.py:

    GRIDCC_TEST_PG_URL=$(bash scripts/postgres-test-db) .venv/bin/python -m pytest tests/queries/test_rankings_postgres.py
"""
from __future__ import annotations

import os

import pytest

from tests import rankcity
from tests.queries import test_rankings as hand

PG_URL = os.environ.get("GRIDCC_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="set GRIDCC_TEST_PG_URL to run the rankings on PostgreSQL")


def _engine(request, name: str):
    from sqlalchemy import create_engine

    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    schema = f"{name}_{worker}"  # its own schema: never rebuilds the tables another module reads
    with create_engine(PG_URL).begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    rankcity.build_rank_city(engine)
    return engine


@pytest.fixture(scope="module")
def pg_conn(request):
    engine = _engine(request, "rank_read")
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@pytest.fixture
def pg_engine(request):
    engine = _engine(request, "rank_write")
    yield engine
    engine.dispose()


@pytest.mark.parametrize("test", [
    hand.test_rank002_units_of_the_city, hand.test_rank003_a_district_lists_only_its_units,
    hand.test_rank004_a_street_cannot_rank_districts_or_departments, hand.test_rank005_a_department_sees_only_its_department,
    hand.test_rank006_drilling_into_an_area, hand.test_rank010_october_grids,
    hand.test_rank011_october_communities_streets_districts, hand.test_rank012_october_departments,
    hand.test_rank013_october_workers, hand.test_rank014_worker_params_change_what_is_on_time,
    hand.test_rank020_october_as_of_the_20th, hand.test_rank021_a_case_handled_but_not_yet_closed_at_the_cut_off,
    hand.test_rank022_a_cut_off_before_the_period_counts_nothing, hand.test_rank030_september,
    hand.test_rank031_november_as_of_now, hand.test_rank032_from_the_current_state,
    hand.test_rank041_case_rows_and_pages, hand.test_rank042_cases_match_facts_everywhere, hand.test_rank060_due_months,
], ids=lambda f: f.__name__.split("_")[1])
def test_rankpg001_counts(pg_conn, test):
    test(pg_conn)


def test_rankpg002_freeze(pg_engine):
    hand.test_rank061_freeze_writes_once(pg_engine)


def test_rankpg003_no_department(pg_engine):
    hand.test_rank065_a_case_with_no_department_counts_for_its_areas(pg_engine)


def test_rankpg004_frozen_frames(pg_engine):
    hand.test_rank066_frozen_frames(pg_engine)
