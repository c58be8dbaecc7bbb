"""The store: an engine for a SQLAlchemy URL (DuckDB file by default), and its schema."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from dashboard.settings import Settings
from queries.schema import metadata

log = logging.getLogger(__name__)


def make_engine(settings: Settings) -> Engine:
    """Create the engine for ``settings.store_url``, making the DuckDB file's folder if needed."""
    url = make_url(settings.store_url)
    if url.get_backend_name() == "duckdb":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"config": {
                "memory_limit": settings.duckdb_memory_limit,
                "threads": settings.duckdb_threads,
            }},
            pool_pre_ping=False,
        )
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def is_duckdb(engine_or_conn) -> bool:
    """Return True when the store is the embedded DuckDB."""
    return engine_or_conn.dialect.name == "duckdb"


def init_schema(engine: Engine) -> None:
    """Create every table that does not exist yet."""
    metadata.create_all(engine)
