"""The seeder fills events.h3 with the cell of each event's point, and marks the store as filled."""
from __future__ import annotations

from h3.api import basic_int

from dashboard.store import H3_FILLED
from queries.meta import get_meta
from queries.schema import H3_RESOLUTION


def test_seedh3001_every_event_has_the_cell_of_its_point(seeded):
    engine, report, tables = seeded
    frame = tables["events"]
    assert len(frame) == report.events and frame["h3"].notna().all()
    expected = [basic_int.latlng_to_cell(lat, lon, H3_RESOLUTION) for lat, lon in zip(frame["lat"], frame["lon"])]
    assert frame["h3"].astype("int64").tolist() == expected
    # Events stand a few metres from their building, so most share its res-11 cell (≈ 25 m across).
    assert frame["h3"].nunique() < len(frame)
    with engine.connect() as conn:
        assert get_meta(conn, H3_FILLED) == "1"


def test_seedh3002_a_seeded_store_needs_no_closures_backfill(seeded):
    # The seeder rebuilds closures with their SLA columns: opening the store afterwards writes nothing.
    from dashboard.store import CLOSURES_SLA_FILLED
    from queries.state import closures_missing_sla

    engine, _, _ = seeded
    with engine.connect() as conn:
        assert get_meta(conn, CLOSURES_SLA_FILLED) == "1" and not closures_missing_sla(conn)
