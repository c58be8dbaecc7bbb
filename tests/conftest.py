"""Shared fixtures: the hand-built city in a DuckDB file, its settings, and an app on it."""
from __future__ import annotations

import shutil

import pytest

from dashboard.settings import Settings
from dashboard.store import make_engine
from queries.scope import Scope
from tests import handcity


@pytest.fixture(scope="session")
def hand_store_template(tmp_path_factory):
    """Build the hand city once per session; tests copy the file so none can spoil another."""
    folder = tmp_path_factory.mktemp("hand-template")
    settings = Settings(data_dir=folder, frozen_now=handcity.NOW)
    engine = make_engine(settings)
    handcity.build_hand_city(engine)
    engine.dispose()
    return folder / "gridcc.duckdb"


@pytest.fixture
def hand_settings(tmp_path, hand_store_template) -> Settings:
    """Return settings for a fresh copy of the hand city, with now frozen at handcity.NOW."""
    shutil.copy(hand_store_template, tmp_path / "gridcc.duckdb")
    return Settings(data_dir=tmp_path, frozen_now=handcity.NOW, cache_type="NullCache")


@pytest.fixture
def hand_engine(hand_settings):
    """Return an engine on the hand city (disposed after the test)."""
    engine = make_engine(hand_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def hand_conn(hand_engine):
    """Return a connection to the hand city."""
    with hand_engine.connect() as conn:
        yield conn


@pytest.fixture
def city_scope() -> Scope:
    """Return the scope of the whole hand city."""
    return Scope(handcity.CITY, 0)


@pytest.fixture
def hand_app(hand_settings):
    """Return a gridcc Dash app on the hand city."""
    from dashboard.app import create_app

    app = create_app(hand_settings)
    yield app
    app.server.extensions["gridcc"].engine.dispose()
