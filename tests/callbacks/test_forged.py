"""Dash callbacks are HTTP endpoints anyone can POST to: forged and hostile inputs get no 500 and no data
from outside the scope."""
from __future__ import annotations

import json

import pytest

from layouts import overview as ids

HOSTILE = [
    None, "", "abc", "329999", "' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd", "9" * 100_000,
    123, 3.5, True, [], ["329902"], {}, {"area": {"$ne": 1}}, {"code": "329902"},
]


def _callback(app, output_id: str) -> tuple[str, dict]:
    for key, spec in app.callback_map.items():
        if f"{output_id}." in key:
            return key, spec
    raise LookupError(output_id)


def _component(id_text: str):
    """Return a component id from its callback-map text: a pattern id (JSON) as a dict, any other as is."""
    return json.loads(id_text) if id_text.startswith("{") else id_text


def post(client, app, output_id: str, values: dict):
    """POST a callback whose outputs include ``output_id``, with input/state values by component id.

    A pattern-matching input with ALL (the alerts' acknowledge buttons) is sent with no component, as
    dash-renderer sends it when none is on the page; a pattern id (a panel's digest store) gets the value of
    its type, when ``values`` has one.
    """
    key, spec = _callback(app, output_id)
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = [{"id": _component(part.rsplit(".", 1)[0]), "property": part.rsplit(".", 1)[1]} for part in parts]

    def items(entries):
        return [[] if '["ALL"]' in e["id"] else
                {"id": _component(e["id"]), "property": e["property"], "value": values.get(
                    e["id"], values.get(_component(e["id"])["type"]) if e["id"].startswith("{") else None)}
                for e in entries]

    inputs = items(spec["inputs"])
    payload = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
               "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]], "state": items(spec["state"])}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def client(hand_app):
    from tests.conftest import signed_in

    return signed_in(hand_app, "leader")


@pytest.mark.parametrize("value", HOSTILE)
def test_forged_requested_state_falls_back_to_the_scope(client, hand_app, value):
    state = value if isinstance(value, dict) else {"area": value, "building": value}
    for output in (ids.VIEW, ids.GEOJSON):
        response = post(client, hand_app, output, {ids.STATE: state, ids.METRIC: value, ids.LANG: value,
                                                   ids.VIEW: value})
        assert response.status_code in (200, 204), (output, response.status_code, response.data[:300])


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("output", [ids.KPIS, ids.CATEGORIES, ids.TREND, ids.BUILDING])
def test_forged_view_is_refused_quietly(client, hand_app, value, output):
    view = value if not isinstance(value, str) else {"code": value, "building": {"code": value}}
    response = post(client, hand_app, output, {ids.VIEW: view, ids.LANG: value})
    assert response.status_code in (200, 204), (output, response.status_code, response.data[:300])


@pytest.mark.parametrize("value", HOSTILE)
def test_forged_live_inputs_are_refused_quietly(client, hand_app, value):
    # Every live input can be forged too: the tick, the minute, playback, the digest, the heat filters.
    view = value if not isinstance(value, str) else {"code": value, "building": {"code": value}}
    forged = {ids.VIEW: view, ids.LANG: value, ids.TICK: value, ids.SCOPE_TICK: value, ids.MINUTE: value,
              ids.PLAYBACK: value, ids.DIGEST: value, ids.HEAT_ON: value, ids.HEAT_WINDOW: value,
              ids.HEAT_CLASS: value, ids.HEAT_SOURCE: value, ids.HEAT_URGENT: value}
    for output in (ids.KPIS, ids.KPI_MEDIAN, ids.CATEGORIES, ids.TREND, ids.BUILDING, ids.TICKER, ids.HEAT_DATA,
                   ids.ALERTS, ids.GEOJSON):
        response = post(client, hand_app, output, {**forged, ids.STATE: view})
        assert response.status_code in (200, 204), (output, response.status_code, response.data[:300])


def test_a_forged_view_of_a_foreign_code_shows_nothing_of_it(hand_app):
    # Scope narrower than the city: the callback must return nothing of 西城区 whatever the view says.
    from callbacks import overview as cb
    from dashboard import data
    from queries.scope import Scope

    with hand_app.server.test_request_context():
        original = data.request_scope
        data.request_scope = lambda: Scope("329902", 1)
        try:
            live = (None, None, {"on": False}, "zh", None)  # tick, minute, playback off, language, no digest yet
            tiles = cb.update_kpis({"code": "329903"}, *live)
            nowhere = cb.update_kpis({"code": "329999"}, *live)
            _, hideout, _, _ = cb.update_map({"area": "329903"}, "open", *live)
        finally:
            data.request_scope = original
    assert "329903" not in json.dumps(hideout["values"])
    assert set(hideout["values"]) == {"329902001", "329902002"}  # fell back to its own district
    # A foreign area's tiles (and their digest) are those of an area that does not exist: nothing of it shows.
    assert str(tiles) == str(nowhere)
