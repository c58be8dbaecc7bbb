"""The per-app services (settings, engine, cache) that loaders and routes reach through Flask."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import flask
from flask_caching import Cache
from sqlalchemy import Connection, Engine

from dashboard.settings import Settings

if TYPE_CHECKING:
    from dashboard.ingest import Ingestor

EXTENSION_KEY = "gridcc"


@dataclass
class AppContext:
    """What one gridcc app owns: its settings, its store and its cache."""

    settings: Settings
    engine: Engine
    cache: Cache
    ingestor: "Ingestor | None" = None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """Yield a read connection to the store."""
        with self.engine.connect() as conn:
            yield conn


def init_app(server: flask.Flask, ctx: AppContext) -> None:
    """Attach ``ctx`` to the Flask server."""
    server.extensions[EXTENSION_KEY] = ctx


def current() -> AppContext:
    """Return the context of the app serving this request."""
    return flask.current_app.extensions[EXTENSION_KEY]
