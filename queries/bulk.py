"""Bulk writes: a DataFrame into a table, fast on DuckDB, batched executemany elsewhere."""
from __future__ import annotations

import itertools

import pandas as pd
from sqlalchemy import Connection, Sequence, Table, insert, text

BATCH_ROWS = 10_000


def bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame`` into ``table`` (columns matched by name); return the row count.

    On DuckDB the frame is scanned in place by the engine (categorical columns arrive as ENUMs and
    are cast to the column's type); elsewhere rows go through ``insert(table)`` in batches.
    """
    unknown = set(frame.columns) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {sorted(unknown)}")
    if frame.empty:
        return 0
    if conn.dialect.name == "duckdb":
        _duckdb_insert(conn, table, frame)
    else:
        _generic_insert(conn, table, frame)
    return len(frame)


def _duckdb_insert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    quote = conn.dialect.identifier_preparer
    raw = conn.connection.driver_connection  # the DuckDB connection, inside the same transaction
    view = f"_bulk_{table.name}"
    columns = ", ".join(quote.quote(c) for c in frame.columns)
    raw.register(view, frame)
    try:
        # Identifiers only (quoted by the dialect): the values never pass through SQL text.
        raw.execute(f"INSERT INTO {quote.format_table(table)} ({columns}) SELECT {columns} FROM {view}")
    except Exception:
        try:
            raw.unregister(view)
        except Exception:  # an aborted transaction refuses even this; the error that matters is the first
            pass
        raise
    raw.unregister(view)


def bulk_update(conn: Connection, table: Table, frame: pd.DataFrame, *, key: str) -> int:
    """Set the other columns of ``frame`` on the rows of ``table`` whose ``key`` matches (DuckDB: one scan).

    Return the row count of the frame. Elsewhere, callers update with executemany.
    """
    if conn.dialect.name != "duckdb":
        raise NotImplementedError("bulk_update is DuckDB's frame scan; use executemany elsewhere")
    unknown = set(frame.columns) - set(table.c.keys())
    if unknown or key not in frame.columns:
        raise ValueError(f"{table.name}: bad columns {sorted(unknown)} or no key {key!r}")
    if frame.empty:
        return 0
    quote = conn.dialect.identifier_preparer
    raw = conn.connection.driver_connection
    view = f"_bulk_update_{table.name}"
    target = quote.format_table(table)
    sets = ", ".join(f"{quote.quote(c)} = {view}.{quote.quote(c)}" for c in frame.columns if c != key)
    raw.register(view, frame)
    try:
        # Identifiers only (quoted by the dialect): the values never pass through SQL text.
        raw.execute(f"UPDATE {target} SET {sets} FROM {view} WHERE {target}.{quote.quote(key)} = {view}.{quote.quote(key)}")
    finally:
        try:
            raw.unregister(view)
        except Exception:  # an aborted transaction refuses even this; the error that matters is the first
            pass
    return len(frame)


def _generic_insert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    records = _records(frame)
    statement = insert(table)
    while batch := list(itertools.islice(records, BATCH_ROWS)):
        conn.execute(statement, batch)


def _records(frame: pd.DataFrame):
    """Yield rows as dicts of plain Python values (None for NaN/NaT/NA, datetime for timestamps)."""
    columns = list(frame.columns)
    converted = []
    for name in columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            values = [None if pd.isna(v) else v.to_pydatetime() for v in col]
        else:
            values = [None if _missing(v) else (v.item() if hasattr(v, "item") else v)
                      for v in col.to_numpy(dtype=object)]
        converted.append(values)
    for row in zip(*converted):
        yield dict(zip(columns, row))


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def restart_sequence(conn: Connection, sequence: Sequence, next_value: int) -> None:
    """Make ``sequence`` hand out ``next_value`` next (after rows were inserted with explicit ids)."""
    name = conn.dialect.identifier_preparer.format_sequence(sequence)
    if conn.dialect.name == "duckdb":
        # DuckDB has neither setval nor ALTER SEQUENCE … RESTART; replacing it is the way.
        conn.exec_driver_sql(f"CREATE OR REPLACE SEQUENCE {name} START WITH {int(next_value)}")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT setval(:name, :value, false)"), {"name": name, "value": int(next_value)})
