"""Group commit (dashboard/ingest.py): requests that queue for the write lock are written together.

The test holds the write lock itself while N requests queue behind it, so they form one group
deterministically; then it checks each request got exactly its own answer.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from dashboard.ingest import IngestRefused
from queries.meta import data_version
from queries.schema import audit_log, event_log, events, open_events
from queries.scope import Scope

CITY = Scope("329900", 0)


def report(n: int, **changes) -> dict:
    body = {"id": f"GC-{n}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:30:00+08:00",
            "lat": 31.1, "lon": 120.01, "description": "井盖缺失"}
    body.update(changes)
    return body


@pytest.fixture
def ingestor(hand_app):
    return hand_app.server.extensions["gridcc"].ingestor


def _queued(ingestor, bodies: list[dict], audit: bool = False) -> list:
    """Submit each body from its own thread while the lock is held, so all queue; return answer or error each."""
    answers: list = [None] * len(bodies)

    def send(i):
        try:
            answers[i] = ingestor.submit([bodies[i]], actor="gw", scope=CITY, audit_from="10.0.0.1" if audit else None)
        except Exception as error:  # noqa: BLE001 - the test looks at which
            answers[i] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    with ingestor.write_lock:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while len(ingestor._queue) < len(bodies) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(ingestor._queue) == len(bodies)  # every request is waiting: they will be one group
    for thread in threads:
        thread.join(10)
    return answers


def _counts(engine):
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(events)).scalar(), data_version(conn),
                conn.execute(select(func.count()).select_from(audit_log).where(audit_log.c.action == "events.report"))
                .scalar())


def test_gc001_queued_requests_are_one_transaction_each_with_its_own_receipt(hand_app, ingestor, monkeypatch):
    engine = hand_app.server.extensions["gridcc"].engine
    groups = []
    together = ingestor._write_together
    monkeypatch.setattr(ingestor, "_write_together", lambda group: (groups.append(len(group)), together(group))[1])
    before = _counts(engine)
    answers = _queued(ingestor, [report(i) for i in range(8)], audit=True)
    assert groups == [8]
    ids = [a[0].id for a in answers]
    assert [a[0].external_id for a in answers] == [f"GC-{i}" for i in range(8)]
    assert len(set(ids)) == 8 and all(a[0].created for a in answers)
    # Eight events in one write (one data version), eight audit rows: one per request, as alone.
    assert _counts(engine) == (before[0] + 8, before[1] + 1, before[2] + 8)
    # Each request's own event, its own log rows and projections.
    with engine.connect() as conn:
        stored = dict(conn.execute(select(events.c.external_id, events.c.id).where(events.c.id.in_(ids))).all())
        assert stored == {f"GC-{i}": ids[i] for i in range(8)}
        assert conn.execute(select(func.count()).select_from(event_log).where(event_log.c.event_id.in_(ids))).scalar() == 8
        assert conn.execute(select(func.count()).select_from(open_events).where(open_events.c.id.in_(ids))).scalar() == 8


def test_gc002_a_refused_request_in_a_group_leaves_the_others_stored(hand_app, ingestor):
    engine = hand_app.server.extensions["gridcc"].engine
    before = _counts(engine)
    bodies = [report(0), report(1, category="9999"), report(2), report(3, lat=40.0, lon=100.0)]
    answers = _queued(ingestor, bodies)
    assert isinstance(answers[1], IngestRefused) and answers[1].problems[0].field == "category"
    assert isinstance(answers[3], IngestRefused)
    assert answers[0][0].created and answers[2][0].created
    assert _counts(engine)[:2] == (before[0] + 2, before[1] + 1)


def test_gc003_a_resend_in_a_group_is_stored_once(hand_app, ingestor):
    engine = hand_app.server.extensions["gridcc"].engine
    first = ingestor.submit([report(7)], actor="gw", scope=CITY)[0]
    before = _counts(engine)
    answers = _queued(ingestor, [report(7), report(8), report(7)])
    assert answers[0][0].id == answers[2][0].id == first.id
    assert not answers[0][0].created and not answers[2][0].created
    assert answers[1][0].created
    assert _counts(engine)[0] == before[0] + 1


def test_gc004_a_store_failure_fails_every_request_of_the_group_and_stores_none(hand_app, ingestor, monkeypatch):
    engine = hand_app.server.extensions["gridcc"].engine
    before = _counts(engine)
    calls = []
    real = ingestor._audit_report

    def failing(conn, ticket, receipts):
        calls.append(ticket)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(conn, ticket, receipts)

    monkeypatch.setattr(ingestor, "_audit_report", failing)
    answers = _queued(ingestor, [report(20), report(21), report(22)])
    assert all(isinstance(a, RuntimeError) for a in answers)
    assert _counts(engine)[:2] == before[:2]  # nothing acknowledged, nothing stored
    monkeypatch.setattr(ingestor, "_audit_report", real)
    assert ingestor.submit([report(20)], actor="gw", scope=CITY)[0].created  # and the store goes on


def test_gc005_the_same_new_event_twice_in_a_group_is_stored_once(hand_app, ingestor):
    engine = hand_app.server.extensions["gridcc"].engine
    before = _counts(engine)
    answers = _queued(ingestor, [report(30), report(31), report(30)])
    assert answers[0][0].id == answers[2][0].id
    assert sorted([answers[0][0].created, answers[2][0].created]) == [False, True]
    assert answers[1][0].created
    assert _counts(engine)[0] == before[0] + 2


def test_gc006_a_batch_request_in_a_group_keeps_its_order_and_ids(hand_app, ingestor):
    answers: list = [None, None]
    batch = [report(40), report(41), report(42)]

    def send(i, body):
        answers[i] = ingestor.submit(body, actor="gw", scope=CITY)

    threads = [threading.Thread(target=send, args=(0, [report(39)])), threading.Thread(target=send, args=(1, batch))]
    with ingestor.write_lock:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while len(ingestor._queue) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join(10)
    assert [r.external_id for r in answers[1]] == ["GC-40", "GC-41", "GC-42"]
    assert [r.index for r in answers[1]] == [0, 1, 2]
    assert len({answers[0][0].id, *(r.id for r in answers[1])}) == 4
