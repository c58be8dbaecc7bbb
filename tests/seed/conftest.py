"""A SMALL seeded store shared by the seed tests, and its tables as DataFrames."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import select

from dashboard.seed import SMALL, seed_store
from dashboard.settings import Settings
from dashboard.store import make_engine
from queries import schema

NOW = datetime(2026, 11, 20, 15, 0)
SEED = 7
EVENTS = 20_000
DAYS = 365


def make_store(path, **kwargs):
    """Seed a SMALL store at ``path`` and return (engine, report)."""
    engine = make_engine(Settings(store_url=f"duckdb:///{path}"))
    args = {"events": EVENTS, "seed": SEED, "now": NOW, "spec": SMALL, "days": DAYS} | kwargs
    return engine, seed_store(engine, **args)


def read_tables(engine) -> dict[str, pd.DataFrame]:
    """Read every table, ordered by its primary key."""
    frames = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            frames[table.name] = pd.read_sql(select(table).order_by(*table.primary_key.columns), conn)
    return frames


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    engine, report = make_store(tmp_path_factory.mktemp("seed") / "small.duckdb")
    yield engine, report, read_tables(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def tables(seeded) -> dict[str, pd.DataFrame]:
    return seeded[2]


@pytest.fixture(scope="session")
def store_factory():
    """Return make_store and read_tables, for tests that seed their own stores."""
    return make_store, read_tables


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW
