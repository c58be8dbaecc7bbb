"""bulk_insert: the DuckDB fast path and the generic executemany path give the same rows."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import (Boolean, Column, DateTime, Double, Integer, MetaData, Sequence, String, Table,
                        create_engine, select, text)

from queries.bulk import bulk_insert, restart_sequence

meta = MetaData()
things = Table(
    "things", meta,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("code", String(8), nullable=False),
    Column("seen_at", DateTime),
    Column("ok", Boolean),
    Column("size", Double),
    Column("worker_id", Integer),
    Column("note", String(32)),
)
meta_seq = MetaData()
seq = Sequence("things_seq", metadata=meta_seq)


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3],
        "code": pd.Categorical.from_codes([1, 0, 1], categories=["a", "b"]),
        "seen_at": pd.to_datetime(["2026-11-20 08:30:15", None, "2026-01-01 00:00:00"]).astype("datetime64[s]"),
        "ok": [True, False, True],
        "size": [1.5, float("nan"), 3.0],
        "worker_id": pd.array([7, None, 9], dtype="Int32"),
        "note": pd.Categorical.from_codes([-1, 0, 0], categories=["派遣至某局"]),
    })


EXPECTED = [
    (1, "b", datetime(2026, 11, 20, 8, 30, 15), True, 1.5, 7, None),
    (2, "a", None, False, None, None, "派遣至某局"),
    (3, "b", datetime(2026, 1, 1), True, 3.0, 9, "派遣至某局"),
]


@pytest.mark.parametrize("url", ["duckdb:///:memory:", "sqlite:///:memory:"])
def test_bulk_insert_round_trip(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        meta.create_all(conn)
        assert bulk_insert(conn, things, frame()) == 3
        rows = [tuple(r) for r in conn.execute(select(things).order_by(things.c.id))]
    assert rows == EXPECTED


def test_bulk_insert_column_subset_and_errors():
    engine = create_engine("duckdb:///:memory:")
    with engine.connect() as conn:
        meta.create_all(conn)
        assert bulk_insert(conn, things, frame()[["id", "code"]]) == 3
        assert conn.execute(select(things.c.note).where(things.c.id == 2)).scalar() is None
        assert bulk_insert(conn, things, frame().iloc[:0]) == 0
        with pytest.raises(ValueError, match="no column"):
            bulk_insert(conn, things, frame().assign(colour="red"))


def test_bulk_insert_generic_batches(monkeypatch):
    monkeypatch.setattr("queries.bulk.BATCH_ROWS", 2)  # 3 rows: two batches
    engine = create_engine("sqlite:///:memory:")
    with engine.connect() as conn:
        meta.create_all(conn)
        bulk_insert(conn, things, frame())
        assert conn.execute(text("select count(*) from things")).scalar() == 3


def test_restart_sequence_duckdb():
    engine = create_engine("duckdb:///:memory:")
    with engine.connect() as conn:
        meta_seq.create_all(conn)
        assert conn.execute(seq.next_value()).scalar() == 1
        restart_sequence(conn, seq, 1001)
        assert conn.execute(seq.next_value()).scalar() == 1001
