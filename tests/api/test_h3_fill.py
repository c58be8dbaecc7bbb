"""Every write path fills events.h3, and an upgraded store gets it backfilled (docs/heat.md).

The cell is of the event's point; an event that came without one (located by grid code) takes its
grid's centroid (the hand city's grids are rectangles: A1 is lon 120.00–120.05, lat 31.0–31.2, so its
centroid is (31.1, 120.025)); in the backfill, an event with a building but no point takes the building's.
"""
from __future__ import annotations

import logging

import pytest
from h3.api import basic_int
from sqlalchemy import select, text, update

from dashboard.store import H3_FILLED, fill_h3, init_schema
from queries import tokens
from queries.ingest import BULK_FROM
from queries.meta import get_meta
from queries.schema import events
from tests.handcity import A1, B2, NOW


def cell(lat: float, lon: float) -> int:
    return basic_int.latlng_to_cell(lat, lon, 11)


def h3_of(engine, *ids: int) -> list[int | None]:
    with engine.connect() as conn:
        found = dict(conn.execute(select(events.c.id, events.c.h3).where(events.c.id.in_(ids))).fetchall())
    return [found.get(i) for i in ids]


@pytest.fixture
def engine(hand_app):
    return hand_app.server.extensions["gridcc"].engine


@pytest.fixture
def auth(engine) -> dict:
    with engine.begin() as conn:
        return {"Authorization": f"Bearer {tokens.create_token(conn, name='h3-fill', now=NOW)}"}


def report(i: int, **changes) -> dict:
    body = {"id": f"H3-{i}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
            "lat": 31.1, "lon": 120.01}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_h3fill001_one_post_with_a_point(hand_app, engine, auth):
    response = hand_app.server.test_client().post("/api/v1/events", json=report(1, lat=31.0802, lon=120.0251),
                                                  headers=auth)
    assert response.status_code == 201, response.get_json()
    event_id = response.get_json()["events"][0]["event_id"]
    assert h3_of(engine, event_id) == [cell(31.0802, 120.0251)]


def test_h3fill002_a_grid_code_without_a_point_takes_the_grid_centroid(hand_app, engine, auth):
    response = hand_app.server.test_client().post("/api/v1/events", json=report(2, lat=None, lon=None, grid_code=A1),
                                                  headers=auth)
    assert response.status_code == 201, response.get_json()
    assert h3_of(engine, response.get_json()["events"][0]["event_id"]) == [cell(31.1, 120.025)]


def test_h3fill003_a_large_batch_goes_through_the_frame_path(hand_app, engine, auth):
    # BULK_FROM rows and more go in as one DataFrame scan on DuckDB (queries/ingest.insert_rows).
    n = BULK_FROM + 10
    batch = [report(100 + i, lat=31.01 + i * 0.0008, lon=120.16) for i in range(n - 1)]
    batch.append(report(99, lat=None, lon=None, grid_code=B2))  # B2: lon 120.15–120.2 → centroid (31.1, 120.175)
    response = hand_app.server.test_client().post("/api/v1/events", json=batch, headers=auth)
    assert response.status_code == 201, response.get_json()
    ids = [e["event_id"] for e in response.get_json()["events"]]
    expected = [cell(31.01 + i * 0.0008, 120.16) for i in range(n - 1)] + [cell(31.1, 120.175)]
    assert h3_of(engine, *ids) == expected


def test_h3fill004_an_old_store_is_backfilled_on_upgrade(hand_engine, caplog):
    # An old-shaped store: events without the h3 column. The hand city's events carry (31.1, 120.0);
    # event 1 loses its point (→ its building A1 001 at (31.08, 120.025)), event 7 its point and building
    # (→ grid B1's centroid (31.1, 120.125)).
    with hand_engine.begin() as conn:
        conn.execute(update(events).where(events.c.id == 1).values(lat=None, lon=None))
        conn.execute(update(events).where(events.c.id == 7).values(lat=None, lon=None, building_code=None))
    with hand_engine.begin() as conn:
        conn.execute(text("ALTER TABLE events DROP COLUMN h3"))
    with caplog.at_level(logging.INFO, logger="dashboard.store"):
        assert "events.h3" in init_schema(hand_engine)
    expected = {i: cell(31.1, 120.0) for i in range(1, 12)} | {1: cell(31.08, 120.025), 7: cell(31.1, 120.125)}
    assert dict(zip(range(1, 12), h3_of(hand_engine, *range(1, 12)))) == expected
    assert "filled events.h3 for 11 events" in caplog.text
    with hand_engine.connect() as conn:
        assert get_meta(conn, H3_FILLED) == "1"
    # Done once: a later start neither adds nor fills anything.
    with hand_engine.begin() as conn:
        conn.execute(update(events).where(events.c.id == 2).values(h3=None))
    assert init_schema(hand_engine) == [] and h3_of(hand_engine, 2) == [None]


def test_h3fill005_backfill_in_batches_resumes(hand_engine):
    with hand_engine.begin() as conn:
        conn.execute(update(events).where(events.c.id.in_([2, 5, 9])).values(h3=None))
        conn.execute(update(events).where(events.c.id.not_in([2, 5, 9])).values(h3=1))
    # Batches of 2 ids: [1, 2], [3, 4], …; only the NULL ones are read and written.
    assert fill_h3(hand_engine, batch=2) == 3
    assert h3_of(hand_engine, 1, 2, 5, 9) == [1, cell(31.1, 120.0), cell(31.1, 120.0), cell(31.1, 120.0)]
    assert fill_h3(hand_engine) == 0
