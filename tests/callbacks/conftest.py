"""Callback fixtures: a request context on the hand-city app, so loaders find their store."""
from __future__ import annotations

import pytest


@pytest.fixture
def in_app(hand_app):
    """Run the test inside a request to the hand-city app; return the app."""
    with hand_app.server.test_request_context():
        yield hand_app
