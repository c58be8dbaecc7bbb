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


def post(client, app, output_id: str, values: dict):
    """POST a callback whose outputs include ``output_id``, with input/state values by component id."""
    key, spec = _callback(app, output_id)
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")]

    def items(entries):
        return [{"id": e["id"], "property": e["property"], "value": values.get(e["id"])} for e in entries]

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


def test_a_forged_view_of_a_foreign_code_shows_nothing_of_it(hand_app):
    # Scope narrower than the city: the callback must return nothing of 西城区 whatever the view says.
    from callbacks import overview as cb
    from dashboard import data
    from queries.scope import Scope

    with hand_app.server.test_request_context():
        original = data.request_scope
        data.request_scope = lambda: Scope("329902", 1)
        try:
            tiles = cb.update_kpis({"code": "329903"}, None, "zh")
            nowhere = cb.update_kpis({"code": "329999"}, None, "zh")
            _, hideout, _ = cb.update_map({"area": "329903"}, "open", None, "zh")
        finally:
            data.request_scope = original
    assert "329903" not in json.dumps(hideout["values"])
    assert set(hideout["values"]) == {"329902001", "329902002"}  # fell back to its own district
    # A foreign area's tiles are those of an area that does not exist: nothing of it shows.
    assert str(tiles) == str(nowhere)
