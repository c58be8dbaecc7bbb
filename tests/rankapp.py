"""Fixtures of the rankings page's tests: an app on tests/rankcity.py, with the packaged ranking configuration
or one whose minimum volumes are all 1 (so the small hand city is ranked, not set apart)."""
from __future__ import annotations

import re
import shutil

import pytest

from dashboard.rank_config import PACKAGED
from dashboard.settings import Settings
from dashboard.store import make_engine
from tests import rankcity


@pytest.fixture(scope="session")
def rank_store_template(tmp_path_factory):
    """Build the rankings' hand city once per session; tests copy the file."""
    folder = tmp_path_factory.mktemp("rank-template")
    engine = make_engine(Settings(data_dir=folder, frozen_now=rankcity.NOW))
    rankcity.build_rank_city(engine)
    engine.dispose()
    return folder / "gridcc.duckdb"


def min_one_config(folder) -> str:
    """Write the packaged configuration with every minimum volume 1; return its path."""
    text = re.sub(r"min_volume = \d+", "min_volume = 1", open(PACKAGED, encoding="utf-8").read())
    path = folder / "rankings-min1.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def make_rank_app(tmp_path, template, *, min_one: bool):
    """Return a gridcc app on a fresh copy of the rankings' hand city (now frozen at rankcity.NOW)."""
    from dashboard.app import create_app

    shutil.copy(template, tmp_path / "gridcc.duckdb")
    settings = Settings(data_dir=tmp_path, frozen_now=rankcity.NOW, cache_type="NullCache",
                        rankings=min_one_config(tmp_path) if min_one else "")
    return create_app(settings)


def close(app) -> None:
    app.server.extensions["gridcc_live"].stop()
    app.server.extensions["gridcc"].engine.dispose()


@pytest.fixture
def rank_app(tmp_path, rank_store_template):
    """An app on the rankings' hand city whose minimum volumes are 1."""
    app = make_rank_app(tmp_path, rank_store_template, min_one=True)
    yield app
    close(app)


@pytest.fixture
def rank_app_packaged(tmp_path, rank_store_template):
    """An app on the rankings' hand city with the packaged configuration (minimum volumes 10–20: all set apart)."""
    app = make_rank_app(tmp_path, rank_store_template, min_one=False)
    yield app
    close(app)
