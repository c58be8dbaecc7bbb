"""The same arguments give the same store, row for row; another seed gives another city."""
from __future__ import annotations

import pandas as pd


def test_same_seed_same_tables_other_seed_differs(tmp_path, store_factory):
    make_store, read_tables = store_factory
    args = {"events": 3000, "days": 60}
    first = read_tables(make_store(tmp_path / "a.duckdb", seed=11, **args)[0])
    again = read_tables(make_store(tmp_path / "b.duckdb", seed=11, **args)[0])
    other = read_tables(make_store(tmp_path / "c.duckdb", seed=12, **args)[0])
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, again[name], obj=name)
    assert len(first["events"]) == len(other["events"]) == 3000
    for name in ("areas", "buildings", "workers", "events", "event_log"):
        assert not first[name].equals(other[name]), name
    # The catalogue does not depend on the seed.
    pd.testing.assert_frame_equal(first["categories"], other["categories"])
