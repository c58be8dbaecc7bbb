"""queries/tours.py: a tour is its owner's alone; slides keep their order 0, 1, 2 … through moves and deletes.

Runs on DuckDB (the hand city's store) and, with GRIDCC_TEST_PG_URL set (a database this test may wipe, as
tests/queries/test_postgres.py), on PostgreSQL in a schema of its own.
"""
from __future__ import annotations

import os
from datetime import datetime

import pytest
from sqlalchemy import select

from queries import tours as q
from queries.schema import metadata, tour_slides

PG_URL = os.environ.get("GRIDCC_TEST_PG_URL")
T0 = datetime(2026, 11, 20, 15, 0)
T1 = datetime(2026, 11, 20, 15, 5)
AS_OF = datetime(2026, 11, 1, 0, 0)


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="set GRIDCC_TEST_PG_URL to run the tours on PostgreSQL"))])
def engine(request, tmp_path):
    from sqlalchemy import create_engine

    if request.param == "duckdb":
        from dashboard.settings import Settings
        from dashboard.store import make_engine

        made = make_engine(Settings(data_dir=tmp_path))
        metadata.create_all(made)
    else:
        worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
        schema = f"tours_{worker}"
        with create_engine(PG_URL).begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        made = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
        metadata.create_all(made)
    yield made
    made.dispose()


def positions(conn, tour_id):
    return [tuple(r) for r in conn.execute(select(tour_slides.c.position, tour_slides.c.title)
                                           .where(tour_slides.c.tour_id == tour_id)
                                           .order_by(tour_slides.c.position))]


def test_tour001_owner_only(engine):
    with engine.begin() as conn:
        mine = q.create(conn, owner="ann", title="十一月例会", as_of=AS_OF, now=T0)
        theirs = q.create(conn, owner="bob", title="Bob's", as_of=AS_OF, now=T0)
        assert mine != theirs and mine > 0
        assert q.add_slide(conn, owner="ann", tour_id=mine, title="总览", note="", path="/", query="", now=T0)
        # Bob cannot see, change, fill or delete Ann's tour, nor any slide on it.
        assert q.tour(conn, owner="bob", tour_id=mine) is None
        assert q.slides(conn, owner="bob", tour_id=mine) == []
        assert [t.id for t in q.tours_of(conn, owner="bob")] == [theirs]
        assert q.update(conn, owner="bob", tour_id=mine, title="x", now=T1) is False
        assert q.add_slide(conn, owner="bob", tour_id=mine, title="x", note="", path="/", query="", now=T1) is None
        slide_id = q.slides(conn, owner="ann", tour_id=mine)[0].id
        assert q.slide(conn, owner="bob", slide_id=slide_id) is None
        assert q.update_slide(conn, owner="bob", slide_id=slide_id, title="x", now=T1) is False
        assert q.move_slide(conn, owner="bob", slide_id=slide_id, offset=1, now=T1) is False
        assert q.delete_slide(conn, owner="bob", slide_id=slide_id, now=T1) is False
        assert q.delete(conn, owner="bob", tour_id=mine) is False
        # Ann's tour is as she left it.
        found = q.tour(conn, owner="ann", tour_id=mine)
        assert (found.title, found.as_of, found.updated_at) == ("十一月例会", AS_OF, T0)
        assert [(s.title, s.position) for s in q.slides(conn, owner="ann", tour_id=mine)] == [("总览", 0)]
        assert [(r.tour.id, r.slides) for r in q.tour_rows(conn, owner="ann")] == [(mine, 1)]
        assert [(r.tour.id, r.slides) for r in q.tour_rows(conn, owner="bob")] == [(theirs, 0)]
        assert q.count_tours(conn, owner="ann") == 1 and q.count_tours(conn, owner="carl") == 0


def test_tour002_order_moves_and_deletes_renumber(engine):
    with engine.begin() as conn:
        tid = q.create(conn, owner="ann", title="t", as_of=AS_OF, now=T0)
        ids = [q.add_slide(conn, owner="ann", tour_id=tid, title=name, note=f"note {name}", path="/sla",
                           query=f"area=329902&period={name}", now=T0) for name in "ABCD"]
        assert positions(conn, tid) == [(0, "A"), (1, "B"), (2, "C"), (3, "D")]
        assert q.move_slide(conn, owner="ann", slide_id=ids[2], offset=-1, now=T1)  # C up
        assert positions(conn, tid) == [(0, "A"), (1, "C"), (2, "B"), (3, "D")]
        assert q.move_slide(conn, owner="ann", slide_id=ids[0], offset=1, now=T1)  # A down
        assert positions(conn, tid) == [(0, "C"), (1, "A"), (2, "B"), (3, "D")]
        # Not past the ends.
        assert q.move_slide(conn, owner="ann", slide_id=ids[3], offset=1, now=T1) is False
        assert q.move_slide(conn, owner="ann", slide_id=ids[2], offset=-1, now=T1) is False
        assert q.delete_slide(conn, owner="ann", slide_id=ids[0], now=T1)  # A
        assert positions(conn, tid) == [(0, "C"), (1, "B"), (2, "D")]
        appended = q.add_slide(conn, owner="ann", tour_id=tid, title="E", note="", path="/", query="", now=T1)
        assert positions(conn, tid) == [(0, "C"), (1, "B"), (2, "D"), (3, "E")]
        assert q.update_slide(conn, owner="ann", slide_id=appended, note="说明", now=T1)
        shown = q.slides(conn, owner="ann", tour_id=tid)
        assert [(s.title, s.note) for s in shown] == [("C", "note C"), ("B", "note B"), ("D", "note D"), ("E", "说明")]
        assert shown[0].view.path == "/sla" and shown[0].view.get("period") == "C"
        assert q.tour(conn, owner="ann", tour_id=tid).updated_at == T1


def test_tour003_update_and_delete_with_slides(engine):
    with engine.begin() as conn:
        old = q.create(conn, owner="ann", title="old", as_of=AS_OF, now=T0)
        new = q.create(conn, owner="ann", title="new", as_of=AS_OF, now=T1)
        assert [t.id for t in q.tours_of(conn, owner="ann")] == [new, old]  # latest changed first
        assert q.update(conn, owner="ann", tour_id=old, title="renamed", as_of=T0, now=datetime(2026, 11, 21))
        assert [(t.id, t.title, t.as_of) for t in q.tours_of(conn, owner="ann")] == [
            (old, "renamed", T0), (new, "new", AS_OF)]
        q.add_slide(conn, owner="ann", tour_id=old, title="s", note="", path="/", query="", now=T1)
        q.add_slide(conn, owner="ann", tour_id=new, title="kept", note="", path="/", query="", now=T1)
        assert q.delete(conn, owner="ann", tour_id=old)
        assert q.tour(conn, owner="ann", tour_id=old) is None
        assert positions(conn, old) == []  # its slides went with it
        assert positions(conn, new) == [(0, "kept")]
        assert q.delete(conn, owner="ann", tour_id=old) is False
