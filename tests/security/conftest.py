"""Security test fixtures: one hand-city app shared by a module's read-only checks, and the server callbacks."""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from dashboard.settings import Settings
from tests import handcity


@functools.cache
def server_callback_keys() -> dict[str, bool]:
    """Return {key: fired by a pattern-matching input} of every server callback of a freshly built app.

    For parametrizing at collection. Dash adds its page-routing callback on the first request, so one
    request is made first.
    """
    from dashboard.app import create_app
    from tests.security.common import server_callbacks

    folder = tempfile.mkdtemp(prefix="gridcc-callbacks-")
    try:
        app = create_app(Settings(data_dir=folder, frozen_now=handcity.NOW, cache_type="NullCache"))
        app.server.test_client().get("/auth/sign-in")
        keys = {key: any(entry["id"].startswith("{") for entry in spec["inputs"])
                for key, spec in sorted(server_callbacks(app).items())}
        app.server.extensions["gridcc"].engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return keys


def _store_folder(tmp_path_factory, name: str):
    """Return a new folder for a store: in memory (/dev/shm) where there is one, since every audit row is a
    commit and DuckDB syncs each one to disk; under pytest's tmp_path otherwise."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix=f"gridcc-{name}-", dir=shm))
    return tmp_path_factory.mktemp(name)


@pytest.fixture
def fresh_app(hand_store_template, tmp_path_factory):
    """Return a gridcc app on its own copy of the hand city (tests that change events, users or sessions)."""
    from dashboard.app import create_app

    folder = _store_folder(tmp_path_factory, "security")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    app = create_app(Settings(data_dir=folder, frozen_now=handcity.NOW, cache_type="NullCache"))
    yield app
    app.server.extensions["gridcc_live"].stop()  # a live poll starts its watcher thread, which reads the store
    app.server.extensions["gridcc"].engine.dispose()
    if str(folder).startswith("/dev/shm/"):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_app(hand_store_template, tmp_path_factory):
    """Return one app on a copy of the hand city for a whole module of checks that change no event.

    It caches figures as a server does by default (SimpleCache): every user asks it in turn, so an
    answer cached for one scope and served to another would show up as a leak.
    """
    from dashboard.app import create_app

    folder = _store_folder(tmp_path_factory, "security-shared")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    app = create_app(Settings(data_dir=folder, frozen_now=handcity.NOW, cache_type="SimpleCache"))
    app.server.test_client().get("/auth/sign-in")  # Dash registers its page-routing callback on the first request
    yield app
    app.server.extensions["gridcc_live"].stop()
    app.server.extensions["gridcc"].engine.dispose()
    if str(folder).startswith("/dev/shm/"):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def clients(shared_app):
    """Return a function giving one signed-in client per hand-city user of the shared app (made once)."""
    from tests.conftest import signed_in

    made = {}

    def client(name: str):
        if name not in made:
            made[name] = signed_in(shared_app, name)
        return made[name]

    return client


@pytest.fixture
def cheap_argon2(monkeypatch, fresh_app):
    """Return ``fresh_app`` with argon2 made cheap for this test: the same sign-in logic, in milliseconds.

    The hand city's users get the same password hashed with the cheap parameters, and unknown names are
    checked against a cheap dummy hash. argon2's own cost (and that an unknown name costs as much as a
    wrong password) is tests/test_auth.py's business; here it would only make brute force take minutes.
    Use it before making sessions: a new hash ends the sessions made before it.
    """
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from dashboard import auth
    from queries.schema import users

    cheap = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    monkeypatch.setattr(auth, "_HASHER", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("not a password anyone has"))
    with fresh_app.server.extensions["gridcc"].engine.begin() as conn:
        conn.execute(update(users).values(password_hash=cheap.hash(handcity.PASSWORD)))
    return fresh_app
