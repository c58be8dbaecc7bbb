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
    app.server.extensions["gridcc_live"].stop()  # its watcher thread reads the store: stop it first
    app.server.extensions["gridcc"].engine.dispose()


@pytest.fixture
def live_url(hand_app):
    """Serve the hand-city app on a free localhost port in a background thread; return its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, hand_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    hand_app.server.extensions["gridcc_live"].stop()  # release open live streams first
    server.shutdown()
    thread.join(timeout=5)


def principal_for(app, name: str):
    """Return the Principal of hand-city user ``name`` on ``app`` (for calling callbacks directly)."""
    from dashboard import access
    from queries import users as user_queries

    ctx = app.server.extensions["gridcc"]
    with ctx.engine.connect() as conn:
        user = user_queries.get_user(conn, name=name)
        scope = access.scope_of(conn, user.scope_kind, user.scope_code)
    return access.Principal(name=user.name, display_name=user.display_name, kind="user", role=user.role,
                            scope=scope, rights=access.RIGHTS[user.role], session="0" * 64)


def signed_in(app, name: str = "leader"):
    """Return a test client of ``app`` with a live session of hand-city user ``name`` and its CSRF header.

    The session is stored as a real sign-in stores it (tests/test_access.py signs in through the form).
    """
    import secrets

    from dashboard import access
    from queries import sessions as session_queries
    from queries import users as user_queries

    ctx = app.server.extensions["gridcc"]
    session_id = secrets.token_urlsafe(32)
    digest = access._digest(session_id)
    with ctx.engine.begin() as conn:
        user = user_queries.get_user(conn, name=name)
        session_queries.start(conn, id_sha256=digest, user_name=name, now=ctx.settings.now(), source="test",
                              fingerprint=access.fingerprint(user_queries.password_hash(conn, name=name), user.role,
                                                             user.scope_kind, user.scope_code))
    client = app.server.test_client()
    with client.session_transaction() as session:
        session["sid"] = session_id
    with app.server.test_request_context():
        client.environ_base["HTTP_X_CSRFTOKEN"] = access.csrf_token(digest)
    return client


@pytest.fixture
def leader_client(hand_app):
    """Return a test client signed in as the hand city's city leader (sees the whole city)."""
    return signed_in(hand_app, "leader")
