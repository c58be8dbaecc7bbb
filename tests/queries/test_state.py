"""The current-state table answers 'open now' exactly as the full history does."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete, func, select

from queries import areas as aq
from queries import overview as ov
from queries.schema import open_events, store_meta
from queries.scope import Scope
from queries.state import STATE_AS_OF, open_source, rebuild_open_events
from tests.handcity import A1, NOW, SINCE, STATE_AS_OF as HAND_STATE

CITY_SCOPE = Scope("329900", 0)
LATER = [HAND_STATE, datetime(2026, 11, 20, 16, 30), datetime(2026, 11, 23, 9, 0)]


def test_state_table_holds_the_open_and_parked_events(hand_conn):
    ids = sorted(hand_conn.execute(select(open_events.c.id)).scalars())
    assert ids == [3, 4, 6, 8, 9, 10, 11]  # not 1, 2, 7 (closed) nor 5 (void); 8 parked stays, flagged


@pytest.mark.parametrize("as_of, expect_state", [(NOW, False), (HAND_STATE, True), (LATER[-1], True)])
def test_open_source_uses_state_only_from_its_instant(hand_conn, as_of, expect_state):
    assert open_source(hand_conn, as_of)[1] is expect_state


@pytest.mark.parametrize("as_of", LATER)
@pytest.mark.parametrize("code", ["329900", "329902", "329903001", A1])
def test_state_and_history_agree(hand_engine, as_of, code):
    def both():
        with hand_engine.connect() as conn:
            area = aq.get_area(conn, scope=CITY_SCOPE, code=code)
            kids = [k.code for k in aq.child_areas(conn, scope=CITY_SCOPE, code=code)] or \
                   [b.code for b in aq.grid_buildings(conn, scope=CITY_SCOPE, grid_code=code)]
            return (
                ov.area_figures(conn, scope=CITY_SCOPE, area=area, as_of=as_of, since=SINCE, until=NOW),
                ov.children_figures(conn, scope=CITY_SCOPE, parent=area, child_codes=kids, as_of=as_of,
                                    since=SINCE, until=NOW),
                ov.building_open_events(conn, scope=CITY_SCOPE, building_code=A1 + "002", as_of=as_of),
            )

    from_state = both()
    with hand_engine.begin() as conn:  # forget the state: every answer now comes from history
        conn.execute(delete(store_meta).where(store_meta.c.key == STATE_AS_OF))
    assert both() == from_state


def test_state_figures_by_hand_at_16_30(hand_conn):
    city = aq.get_area(hand_conn, scope=CITY_SCOPE, code="329900")
    got = ov.area_figures(hand_conn, scope=CITY_SCOPE, area=city, as_of=LATER[1], since=SINCE, until=NOW)
    assert (got.open, got.overdue) == (6, 3)  # 3, 4, 6, 9, 10, 11 open; 3, 9 and 4 (due 16:05) late


def test_rebuild_is_idempotent(hand_engine):
    with hand_engine.begin() as conn:
        first = rebuild_open_events(conn, as_of=HAND_STATE)
        second = rebuild_open_events(conn, as_of=HAND_STATE)
        assert first == second == conn.execute(select(func.count()).select_from(open_events)).scalar() == 7


def test_closures_hold_each_closed_event_in_close_order(hand_conn):
    from queries.schema import closures

    rows = hand_conn.execute(select(closures.c.event_id, closures.c.on_time, closures.c.handling_minutes)
                             .order_by(closures.c.closed_at)).all()
    # 7 closed 10-25 (late, 10-01 10:30 → 10-25 10:00 = 575.5 h), 2 on 11-19 (late, 6.5 h), 1 on 11-20 (50 min).
    assert [tuple(r) for r in rows] == [(7, False, 34530), (2, False, 390), (1, True, 50)]


def test_a_write_bumps_the_data_version_caches_key_on(hand_engine):
    from queries.meta import bump_data_version, data_version

    with hand_engine.begin() as conn:
        before = data_version(conn)
        assert bump_data_version(conn) == before + 1 == data_version(conn)
