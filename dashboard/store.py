"""The store: an engine for a SQLAlchemy URL (DuckDB file by default), and its schema."""
from __future__ import annotations

import logging
from pathlib import Path
from time import perf_counter

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from dashboard.settings import Settings
from queries.schema import metadata

log = logging.getLogger(__name__)

H3_FILLED = "h3_filled"  # store_meta key: every event had its events.h3 filled in once
H3_BATCH = 500_000  # ids per backfill batch (one commit each: bounded memory, resumable)


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
        # duckdb-engine leaves SQLAlchemy's compiled-statement cache off (it never declared support);
        # our statements are plain Core with bound parameters, so compiling each once is safe, and it
        # saves about 0.7 ms on every query (the whole suite runs with it on).
        engine.dialect._supports_statement_cache = True  # read per dialect instance (SQLAlchemy 2.1)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def is_duckdb(engine_or_conn) -> bool:
    """Return True when the store is the embedded DuckDB."""
    return engine_or_conn.dialect.name == "duckdb"


def init_schema(engine: Engine) -> list[str]:
    """Create every table that does not exist yet and add the nullable columns a newer schema has.

    A store seeded by an older gridcc keeps its data: what is missing is added, nothing is dropped.
    Return the columns added, as ``table.column``.
    """
    metadata.create_all(engine)
    added = []
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            # information_schema works on both engines (duckdb-engine's reflection does not, with SA 2.1).
            present = {r[0] for r in conn.execute(
                text("SELECT column_name FROM information_schema.columns "
                     "WHERE table_name = :name AND table_schema = current_schema()"),
                {"name": table.name})}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise RuntimeError(f"the store's {table.name} lacks the required column {column.name}: "
                                       "seed it again (gridcc seed) or migrate it by hand")
                kind = column.type.compile(dialect=conn.dialect)
                quote = conn.dialect.identifier_preparer
                # Identifiers and type come from our own schema, never from input.
                conn.exec_driver_sql(f"ALTER TABLE {quote.format_table(table)} ADD COLUMN {quote.quote(column.name)} {kind}")
                added.append(f"{table.name}.{column.name}")
    for name in added:
        log.info("store: added column %s", name)
    _fill_catalogue(engine)
    _fill_h3_once(engine)
    _fill_closure_sla_once(engine)
    _fill_demo_fieldwork_once(engine)
    return added


FIELDWORK_FILLED = "fieldwork_filled"


def _fill_demo_fieldwork_once(engine: Engine) -> None:
    """Give a demo store seeded before issue 7 the field work and 12345 follow-ups its seeding would write now.

    Only a store ``gridcc seed`` made (store_meta 'seed' and 'seeded_at') with no patrols at all: a city's own
    store is never given made-up field work. Marked done (store_meta 'fieldwork_filled') either way.
    """
    from sqlalchemy import func, select

    from queries.meta import get_meta, set_meta
    from queries.schema import patrols

    with engine.connect() as conn:
        if get_meta(conn, FIELDWORK_FILLED, "") == "1":
            return
        demo = get_meta(conn, "seed", "") != "" and get_meta(conn, "seeded_at", "") != ""
        empty = conn.execute(select(func.count()).select_from(patrols)).scalar() == 0
    with engine.connect() as conn:
        if demo and empty:
            from dashboard.seed.fieldwork import refill

            report = refill(conn)
            log.info("store: a demo store from before field work got the demo's: %s", report)
        set_meta(conn, FIELDWORK_FILLED, "1")
        conn.commit()


CLOSURES_SLA_FILLED = "closures_sla_filled"


def _fill_closure_sla_once(engine: Engine) -> None:
    """Backfill closures' SLA columns (issue 6) unless the store says it was done (a store from before them)."""
    from queries.meta import get_meta, set_meta
    from queries.state import closures_missing_sla, fill_closure_sla

    with engine.connect() as conn:
        if get_meta(conn, CLOSURES_SLA_FILLED, "") == "1":
            return
    started = perf_counter()
    with engine.connect() as conn:  # a commit per window of closing dates (queries.state.rebuild_closures)
        filled = fill_closure_sla(conn, commit_each=True) if closures_missing_sla(conn) else 0
        set_meta(conn, CLOSURES_SLA_FILLED, "1")  # only once every window is in
        conn.commit()
    if filled:
        log.info("store: filled closures' SLA columns for %d rows in %.1f s", filled, perf_counter() - started)


def _fill_h3_once(engine: Engine) -> None:
    """Backfill events.h3 unless the store says it was done (a store from before the heat layer)."""
    from queries.meta import get_meta

    with engine.connect() as conn:
        if get_meta(conn, H3_FILLED, "") == "1":
            return
    fill_h3(engine)


def fill_h3(engine: Engine, *, batch: int = H3_BATCH) -> int:
    """Give every event whose h3 is NULL its H3 cell, in batches of ids, one commit each; return rows filled.

    The cell is of the event's point, else of its building's, else of its grid's centroid (docs/heat.md).
    Marks the store done (store_meta 'h3_filled') at the end; an interrupted run picks up the rest.
    """
    from dashboard.heat import h3_cells
    from queries.heat import id_range, points_to_fill, write_cells
    from queries.meta import set_meta

    started = perf_counter()
    with engine.connect() as conn:
        low, high = id_range(conn)
    filled = 0
    for first in range(low, high + 1, batch) if high else ():
        with engine.begin() as conn:
            frame = points_to_fill(conn, first_id=first, last_id=first + batch - 1).dropna()
            if frame.empty:
                continue
            filled += write_cells(conn, frame.assign(h3=h3_cells(frame["lat"], frame["lon"]))[["id", "h3"]])
        log.info("store: h3 cells filled up to event %d of %d (%d rows, %.1f s)", min(first + batch - 1, high), high,
                 filled, perf_counter() - started)
    with engine.begin() as conn:
        set_meta(conn, H3_FILLED, "1")
    if filled:
        log.info("store: filled events.h3 for %d events in %.1f s", filled, perf_counter() - started)
    return filled


def _fill_catalogue(engine: Engine) -> None:
    """Give an empty store the packaged event catalogue, so events can come in before any seeding."""
    from dashboard.seed.catalogue import load_categories
    from queries.bulk import bulk_insert
    from queries.schema import categories

    with engine.begin() as conn:
        # fetchall: DuckDB 2.0 blocks the connection on a result that is not read to its end.
        if conn.execute(select(func.count()).select_from(categories)).fetchall()[0][0]:
            return
        bulk_insert(conn, categories, load_categories())
        log.info("store: filled the event catalogue from the packaged copy")
