"""Callback fixtures: a request context on the hand-city app, so loaders find their store."""
from __future__ import annotations

import pytest


@pytest.fixture
def in_app(hand_app):
    """Run the test inside a request to the hand-city app by its city leader; return the app."""
    import flask

    from tests.conftest import principal_for

    with hand_app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(hand_app, "leader")
        yield hand_app
