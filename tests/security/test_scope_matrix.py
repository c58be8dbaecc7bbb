"""Issue 4's scope matrix: every route and every server callback × every hand-city user, own area and foreign.

A user sees and acts only inside their scope. For each user of tests/handcity.py (one per role and level)
this module asks every route and every Dash callback (taken from the app's callback_map, so a new one is
covered without editing this file) for their own area and for areas, buildings and events that are not
theirs, and checks that:

* what they see of their own area are the figures worked out by hand in tests/handcity.py;
* a foreign area, building or event is answered exactly as one that does not exist at all (the same
  status and the same body, but for the code asked for): nothing of it, not even that it exists;
* no name or code of an area outside their scope ever appears, and the map and breadcrumb never go
  above their own area.

Expectations come from tests/security/common.py, written from the hand city's tables, never from the app.
"""
from __future__ import annotations

import json

import pytest

from tests import handcity
from tests.security import common as c
from tests.security.conftest import server_callback_keys

CALLBACKS = server_callback_keys()
# (user, callback) for every user to whom something in the hand city is foreign: areas for a callback
# fed with codes, events for one fired by a pattern-matching button. The leader and the administrator
# see everything (they are checked on their own figures); the hotline center sees every area but no event.
FORGED = [(user, key) for user in c.USERS for key, by_pattern in CALLBACKS.items()
          if (c.foreign_events(user) if by_pattern else c.foreign_areas(user))]
A1_B2 = handcity.A1 + "002"  # the building of event 3 (reporter 李娜 13812345678)


def _sample(codes: list[str]) -> list[str]:
    """Return one code of each length (district, street, community, grid, building) from ``codes``."""
    by_length = {}
    for code in codes:
        by_length.setdefault(len(code), code)
    return [by_length[n] for n in sorted(by_length)]


def _few(codes: list[str]) -> list[str]:
    """Return the highest foreign area and a foreign grid (or building): the two ends of the hierarchy."""
    sample = _sample(codes)
    return sample[:1] + sample[-1:] if len(sample) > 1 else sample


def _targets(user: str, spec: dict) -> list[tuple[str, str | int]]:
    """Return what a forger tries on a callback: the highest foreign area, the one above, a foreign building, or events.

    A callback fired by a pattern-matching input (the reporter's "show") is forged with foreign event ids;
    any other with codes of areas and buildings.
    """
    if any(entry["id"].startswith("{") for entry in spec["inputs"]):
        return [("event", e) for e in c.foreign_events(user)[:2]]
    areas = _sample(c.foreign_areas(user))[:1] + c.ancestors(user)[:1]
    return [("area", a) for a in areas] + [("building", b) for b in _few(c.foreign_buildings(user))[-1:]]


def _forged_inputs(user: str, kind: str, target):
    """Return (value_of, wildcards) filling every callback input with ``target`` where it can go.

    Known inputs get the shape the page sends; any other input (a callback added later) gets the code.
    """
    own = c.SCOPE_AREA[user]
    area = target if kind == "area" else own
    building = target if kind == "building" else None
    state = {"area": area, "building": building}
    view = {"code": area, "level": 1, "name": "x", "top": area, "parent": None,
            "building": None if building is None else {"code": building, "name": "x", "grid": building[:15]}}
    search = f"?area={area}" + (f"&building={building}" if building else "")
    known = {
        ("overview-state", "data"): state, ("overview-view", "data"): view, ("overview-metric", "value"): "open",
        ("overview-lang", "data"): "zh", ("overview-minute", "n_intervals"): 1,
        ("overview-tick", "data"): {"v": 2, "areas": [area]}, ("overview-scope-tick", "data"): {"v": 2},
        ("overview-playback", "data"): {"on": False},
        # The heat layer on, over its widest window: its cells must be the user's alone too.
        ("overview-heat-on", "value"): True, ("overview-heat-window", "value"): "7d",
        ("overview-heat-class", "value"): "all", ("overview-heat-source", "value"): "all",
        ("overview-heat-urgent", "value"): False,
        ("shell-location", "search"): search, ("shell-location", "pathname"): "/",
        ("_pages_location", "pathname"): "/", ("_pages_location", "search"): search,
    }

    def value_of(component_id, prop):
        if isinstance(component_id, dict):  # a pattern-matching input: a button's n_clicks; a digest: none yet
            return None if component_id.get("type") == c.DIGEST else 1
        return known.get((component_id, prop), building or area)

    return value_of, {"event": target if kind == "event" else c.NOWHERE_EVENT}


def _nowhere(kind: str, target):
    return c.NOWHERE_EVENT if kind == "event" else c.nowhere_like(target)


def _call(client, app, key, user, kind, target):
    value_of, wildcards = _forged_inputs(user, kind, target)
    # An event-fired callback gets a click on the button of the (foreign) event, whether by ALL or MATCH.
    payload = c.callback_payload(key, c.server_callbacks(app)[key], value_of, wildcards, fill_all=kind == "event")
    return c.post_callback(client, payload)


_NOWHERE_ANSWERS: dict[tuple, tuple[int, str]] = {}


def _nowhere_answer(client, app, key, user, kind, target) -> tuple[int, str]:
    """Return (status, body) of the callback forged with a code that exists nowhere (one call per shape)."""
    nowhere = _nowhere(kind, target)
    slot = (id(app), user, key, kind, nowhere)
    if slot not in _NOWHERE_ANSWERS:
        answer = _call(client, app, key, user, kind, nowhere)
        _NOWHERE_ANSWERS[slot] = answer.status_code, c.split_digests(key, answer)[0]
    return _NOWHERE_ANSWERS[slot]


# -- every server callback, forged with foreign codes --------------------------------------------------------
@pytest.mark.parametrize("user, key", FORGED, ids=c.callback_id)
def test_a_forged_callback_answers_a_foreign_code_as_one_that_does_not_exist(shared_app, clients, user, key):
    client = clients(user)
    forbidden_names = c.names_not_seen(user)
    outside = set(c.foreign_areas(user)) | set(c.ancestors(user)) | set(c.foreign_buildings(user))
    targets = _targets(user, c.server_callbacks(shared_app)[key])
    assert targets, user
    for kind, target in targets:
        nowhere = _nowhere(kind, target)
        forged = _call(client, shared_app, key, user, kind, target)
        status, body = _nowhere_answer(client, shared_app, key, user, kind, target)
        what = f"{user} {kind} {target} → {key[:60]}"
        assert forged.status_code in (200, 204), (what, forged.status_code, forged.data[:300])
        assert forged.status_code == status, what
        # Byte for byte the answer for a code that exists nowhere, with only the code asked for in it. A live
        # panel's digest is the hash of what it shows (split_digests checks it), so it differs with the
        # code shown (a building asked for is the map's "selected"): compared blanked.
        assert c.split_digests(key, forged)[0] == c.swap(body, nowhere, target), what
        text = c.decoded(forged)
        assert not c.leaks(text, codes=sorted(outside - {target}), names=forbidden_names), what


def test_every_server_callback_of_the_app_is_in_the_matrix(shared_app):
    # The matrix is built from a fresh app's callback_map at collection: the same set as the app under test.
    assert set(CALLBACKS) == set(c.server_callbacks(shared_app))
    # overview (13: view, map, 6 panels, heat, alerts, detail, 2 reveals), audit page (2), users page (3),
    # Dash's page routing (1)
    assert len(CALLBACKS) >= 19


# -- the map and breadcrumb never go above the user's own area -----------------------------------------------
def _response(r) -> dict:
    assert r.status_code == 200, r.data[:300]
    return r.get_json()["response"]


def _crumbs(breadcrumb: list) -> list[str]:
    """Return the codes of the breadcrumb's steps (each crumb carries its code as title)."""
    return [item["props"]["title"] for item in breadcrumb
            if isinstance(item, dict) and "ovw-crumb" in item["props"].get("className", "").split()]


def _view_of(client, app, user, area, building=None) -> dict:
    value_of, wildcards = _forged_inputs(user, "area", area)
    state = {"area": area, "building": building}
    key = next(k for k in c.server_callbacks(app) if "overview-breadcrumb.children" in k)
    payload = c.callback_payload(key, c.server_callbacks(app)[key],
                                 lambda cid, prop: state if (cid, prop) == ("overview-state", "data")
                                 else value_of(cid, prop), wildcards)
    return _response(c.post_callback(client, payload))


@pytest.mark.parametrize("user", c.USERS)
def test_the_view_starts_at_the_users_area_and_never_goes_above_it(shared_app, clients, user):
    own = c.SCOPE_AREA[user]
    client = clients(user)
    for asked in [None, "", *c.ancestors(user), handcity.CITY]:
        answer = _view_of(client, shared_app, user, asked)
        view = answer["overview-view"]["data"]
        assert (view["code"], view["top"], view["parent"]) == (own, own, None), (user, asked, view)
        assert _crumbs(answer["overview-breadcrumb"]["children"]) == [own], (user, asked)
        assert answer["overview-context"]["url"] is None  # no layer of the siblings above the top
        assert not c.leaks(json.dumps(answer, ensure_ascii=False), codes=[a for a in c.ancestors(user) if a != asked],
                           names=c.names_not_seen(user)), (user, asked)
    # Drilling down inside: the first crumb is still the user's own area.
    grid = next(code for code in c.AREA_NAME if len(code) == 15 and c.inside(user, code))
    answer = _view_of(client, shared_app, user, grid)
    crumbs = _crumbs(answer["overview-breadcrumb"]["children"])
    assert crumbs[0] == own and crumbs[-1] == grid, (user, crumbs)


@pytest.mark.parametrize("user", c.USERS)
def test_the_map_colours_only_the_users_own_children(shared_app, clients, user):
    own = c.SCOPE_AREA[user]
    key = next(k for k in c.server_callbacks(shared_app) if "overview-geojson.hideout" in k)
    for asked in [own, *c.ancestors(user), *_sample(c.foreign_areas(user))]:
        value_of, wildcards = _forged_inputs(user, "area", asked)
        answer = _response(c.post_callback(clients(user), c.callback_payload(
            key, c.server_callbacks(shared_app)[key], value_of, wildcards)))
        geo = answer["overview-geojson"]
        assert geo["url"] == f"/geo/children/{own}.json", (user, asked)
        children = {code for code, parent in c.AREA_PARENT.items() if parent == own}
        assert set(geo["hideout"]["values"]) <= children, (user, asked, geo["hideout"]["values"])
        assert sum(geo["hideout"]["values"].values()) == c.expected_figures(user)["open"], (user, asked)


# -- own figures: the API, the KPI tiles -------------------------------------------------------------------
def _rounded(figures: dict) -> dict:
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in figures.items()}


@pytest.mark.parametrize("user", c.USERS)
def test_the_api_top_area_is_the_users_with_its_hand_computed_figures(clients, user):
    body = clients(user).get("/api/v1/areas").get_json()
    (area,) = body["areas"]
    assert area["code"] == c.SCOPE_AREA[user]
    assert _rounded(area["figures"]) == _rounded(c.expected_figures(user)), user


def _kpis(component, out=None) -> dict:
    """Return {data-kpi: shown value} from a KPI tiles answer."""
    out = {} if out is None else out
    if isinstance(component, list):
        for item in component:
            _kpis(item, out)
    elif isinstance(component, dict) and "props" in component:
        props = component["props"]
        if "data-kpi" in props:
            values = []
            _texts(props.get("children"), values, "ovw-kpi-value")
            out[props["data-kpi"]] = values[0] if values else None
        else:
            _kpis(props.get("children"), out)
    return out


def _texts(component, out, class_name) -> None:
    if isinstance(component, list):
        for item in component:
            _texts(item, out, class_name)
    elif isinstance(component, dict) and "props" in component:
        if component["props"].get("className") == class_name:
            out.append(component["props"].get("children"))
        _texts(component["props"].get("children"), out, class_name)


@pytest.mark.parametrize("user", c.USERS)
def test_the_kpi_tiles_show_the_users_own_numbers_whatever_area_is_forged(shared_app, clients, user):
    figures = c.expected_figures(user)
    own_tiles = {"reported_today": str(c.expected_today(user)), "open": str(figures["open"]),
                 "overdue": str(figures["overdue"]), "closed": str(figures["closed"])}
    key = next(k for k in c.server_callbacks(shared_app) if k.startswith("..overview-kpis.children..."))
    for asked in [c.SCOPE_AREA[user], *c.ancestors(user), *_sample(c.foreign_areas(user))]:
        value_of, wildcards = _forged_inputs(user, "area", asked)
        answer = _response(c.post_callback(clients(user), c.callback_payload(
            key, c.server_callbacks(shared_app)[key], value_of, wildcards)))
        tiles = _kpis(answer["overview-kpis"]["children"])
        if asked == c.SCOPE_AREA[user]:
            assert {k: tiles[k] for k in own_tiles} == own_tiles, (user, tiles)
        else:  # an area not in scope shows what an area that does not exist shows: nothing
            assert {k: tiles[k] for k in own_tiles} == {k: "0" for k in own_tiles}, (user, asked, tiles)


# -- the API and GeoJSON routes ----------------------------------------------------------------------------
AREA_ROUTES = ("/api/v1/areas/{}", "/api/v1/areas/{}/children", "/geo/children/{}.json")


@pytest.mark.parametrize("user", c.USERS)
def test_an_area_outside_the_scope_is_a_404_like_one_that_does_not_exist(clients, user):
    client = clients(user)
    outside = [code for code in (*c.AREA_NAME, *c.BUILDINGS) if not c.inside(user, code)]
    # Every outside area and building on the area route; one of each level on the others.
    checks = [(AREA_ROUTES[0], code) for code in outside] + [
        (route, code) for route in AREA_ROUTES[1:] for code in _sample(outside) + c.ancestors(user)
        if not (route.startswith("/geo") and len(code) == 18)]  # buildings have no children
    missing = {}
    for route, code in checks:
        nowhere = c.nowhere_like(code)
        if (route, nowhere) not in missing:
            missing[route, nowhere] = client.get(route.format(nowhere)).get_data(as_text=True)
        foreign = client.get(route.format(code))
        assert foreign.status_code == 404, (user, route, code, foreign.status_code)
        assert foreign.get_json() == json.loads(c.swap(missing[route, nowhere], nowhere, code)), (user, route, code)


@pytest.mark.parametrize("user", c.USERS)
def test_every_level_inside_the_scope_answers_with_nothing_from_outside(clients, user):
    client = clients(user)
    forbidden = c.foreign_areas(user) + c.foreign_buildings(user)
    names = c.names_not_seen(user)
    for code in _few([a for a in c.AREA_NAME if c.inside(user, a)]):  # the top area and a grid
        for route in AREA_ROUTES:
            answer = client.get(route.format(code))
            assert answer.status_code == 200, (user, route, code, answer.status_code)
            assert not c.leaks(c.decoded(answer), codes=forbidden, names=names), (user, route, code)
        if user == "dept_city":  # the hotline center's scope holds areas but none of their cases
            figures = client.get(f"/api/v1/areas/{code}").get_json()["area"]["figures"]
            assert figures == c.NOTHING, (code, figures)


# -- events: the API, Open311 ------------------------------------------------------------------------------
@pytest.mark.parametrize("user", c.USERS)
def test_an_event_outside_the_scope_is_a_404_like_one_that_does_not_exist(clients, user):
    client = clients(user)
    missing = client.get(f"/api/v1/events/{c.NOWHERE_EVENT}")
    assert missing.status_code == 404
    for eid in c.EVENTS:
        answer = client.get(f"/api/v1/events/{eid}")
        if eid in c.visible_events(user):
            assert answer.status_code == 200, (user, eid)
            body = answer.get_json()
            assert body["event_id"] == eid and c.inside(user, body["building_code"])
            if eid == 3:  # a person reads the reporter masked; the full one only through the audited "show"
                assert body["reporter"] == "李* 138****5678"
        else:
            assert answer.status_code == 404, (user, eid, answer.status_code)
            assert answer.get_json() == json.loads(
                c.swap(missing.get_data(as_text=True), c.NOWHERE_EVENT, eid)), (user, eid)


# Open311's default window is the 90 days up to now: events 1–10 (11 is reported after now).
OPEN311_LISTED = set(range(1, 11))


@pytest.mark.parametrize("user", c.USERS)
def test_open311_lists_only_the_users_requests(clients, user):
    import xml.etree.ElementTree as ET

    client = clients(user)
    visible = c.visible_events(user)
    ids_query = ",".join(str(e) for e in c.EVENTS)
    for query in ("", "?status=open", f"?service_request_id={ids_query}", "?extensions=true&status=closed"):
        answer = client.get(f"/open311/v2/requests.json{query}")
        assert answer.status_code == 200, (user, query, answer.data[:200])
        listed = {int(r["service_request_id"]) for r in answer.get_json()}
        assert listed <= visible, (user, query, listed)
        if query == "":
            assert listed == OPEN311_LISTED & visible, (user, listed)
        if query.startswith("?service_request_id"):
            assert listed == visible, (user, listed)
        assert not c.leaks(c.decoded(answer), codes=c.foreign_areas(user) + c.foreign_buildings(user),
                           names=c.names_not_seen(user, above_too=False)), (user, query)
    xml = client.get("/open311/v2/requests.xml")
    assert {int(e.text) for e in ET.fromstring(xml.data).iter("service_request_id")} == OPEN311_LISTED & visible
    for fmt in ("json", "xml"):
        missing = client.get(f"/open311/v2/requests/{c.NOWHERE_EVENT}.{fmt}")
        assert missing.status_code == 404
        for eid in c.foreign_events(user)[:3] if fmt == "json" else c.foreign_events(user)[:1]:
            one = client.get(f"/open311/v2/requests/{eid}.{fmt}")
            assert one.status_code == 404, (user, eid)
            assert one.get_data(as_text=True) == c.swap(missing.get_data(as_text=True), c.NOWHERE_EVENT, eid)
    for eid in sorted(visible)[:2]:
        assert client.get(f"/open311/v2/requests/{eid}.json").status_code == 200, (user, eid)


# -- writes on what is not the user's -----------------------------------------------------------------------
def _foreign_point(user: str) -> tuple[float, float] | None:
    """Return (lat, lon) in a grid outside the user's area, or None when the whole city is theirs."""
    boxes = {code: box for code, level, _, _, _, box, _ in handcity.AREAS if level == 4}
    for code, (west, south, east, north) in boxes.items():
        if not c.inside(user, code):
            return (south + north) / 2, (west + east) / 2
    return None


@pytest.mark.parametrize("user", c.USERS)
def test_writes_on_foreign_events_and_places_are_refused_and_change_nothing(shared_app, clients, user):
    client = clients(user)
    engine = shared_app.server.extensions["gridcc"].engine
    before = c.snapshot(engine)
    audit_before = c.audit_rows(engine)
    acts = user in c.ACTING
    foreign = c.foreign_events(user)
    for eid in sorted({*foreign[:2], *foreign[-1:]}):  # the first foreign events and the last
        step = client.post(f"/api/v1/events/{eid}/transitions", json={"action": "accept"})
        assert step.status_code == (404 if acts else 403), (user, eid, step.status_code, step.data[:200])
        assert step.get_json()["message"], (user, eid)
        shown = client.post(f"/api/v1/events/{eid}/reveal")
        assert shown.status_code == (404 if acts else 403), (user, eid, shown.status_code)
        assert "李娜" not in shown.get_data(as_text=True) and "王芳" not in shown.get_data(as_text=True)
    point = _foreign_point(user)
    if point is not None:
        report = client.post("/api/v1/events", json={
            "id": f"forged-{user}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
            "lat": point[0], "lon": point[1]})
        assert report.status_code == (422 if acts else 403), (user, report.status_code, report.data[:300])
    assert c.snapshot(engine) == before, user
    assert all(row[4] != "ok" for row in c.new_audit_rows(engine, audit_before)), user


@pytest.mark.parametrize("user", ["dongjie", "xicheng", "dept_dc"])
def test_a_report_outside_the_scope_is_refused_without_naming_the_foreign_area(clients, user):
    lat, lon = _foreign_point(user)
    report = clients(user).post("/api/v1/events", json={
        "id": f"probe-{user}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
        "lat": lat, "lon": lon})
    assert report.status_code == 422 and report.get_json()["message"]
    outside = c.foreign_areas(user) + c.ancestors(user) + c.foreign_buildings(user)
    assert not c.leaks(c.decoded(report), codes=outside, names=c.names_not_seen(user)), report.get_json()


@pytest.mark.parametrize("user", c.USERS)
def test_the_audit_export_is_the_administrators_alone(clients, user):
    answer = clients(user).get("/admin/audit/export.csv")
    if user == "admin":
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
    else:
        assert answer.status_code == 403, (user, answer.status_code)
        assert answer.get_json()["error"] == "forbidden"


# -- pages and the frame -------------------------------------------------------------------------------------
@pytest.mark.parametrize("user", c.USERS)
def test_pages_and_the_frame_show_the_user_and_nothing_from_outside(clients, user):
    client = clients(user)
    names = c.names_not_seen(user)
    foreign = (_sample(c.foreign_areas(user)) or [c.nowhere_like(handcity.A1)])[0]
    for path in ("/", f"/?area={foreign}&building={foreign}", "/admin/audit", "/?lang=en"):
        page = client.get(path)
        assert page.status_code == 200 and page.mimetype == "text/html", (user, path)
        assert not c.leaks(page.get_data(as_text=True), names=names), (user, path)
    frame = client.get("/_dash-layout")
    assert frame.status_code == 200
    text = c.decoded(frame)
    scope_name = c.DEPARTMENT_NAMES.get(c.DEPARTMENT.get(user), c.AREA_NAME[c.SCOPE_AREA[user]])
    assert f"测试{user}" in text and scope_name in text, user
    assert not c.leaks(text, codes=c.foreign_areas(user), names=names), user
    assert client.get("/_dash-dependencies").status_code == 200


# Who may open which page, and whom each manager of users manages (docs/access.md, worked out by hand):
# the administrator everyone; a district manager the street operators, department handlers and viewers
# of their own district (not the city hotline center, whose department serves no district).
PAGES = {"/": set(c.USERS), "/admin/audit": {"admin"}, "/admin/users": {"admin", "dongcheng", "xicheng"}}
MANAGED = {"admin": set(c.USERS), "dongcheng": {"dongjie", "nanyuan", "dept_dc"}, "xicheng": {"dept_xc", "viewer"}}


def _page_answer(app, client, path: str, search: str = "") -> str:
    key = next(k for k in c.server_callbacks(app) if "_pages_content.children" in k)
    values = {("_pages_location", "pathname"): path, ("_pages_location", "search"): search}
    payload = c.callback_payload(key, c.server_callbacks(app)[key], lambda cid, p: values.get((cid, p)))
    answer = c.post_callback(client, payload)
    assert answer.status_code == 200, (path, answer.status_code, answer.data[:300])
    return c.decoded(answer)


@pytest.mark.parametrize("user", c.USERS)
def test_every_page_is_its_users_and_refuses_everyone_else_without_data(shared_app, clients, user):
    others = [f"测试{u}" for u in c.USERS if u != user]
    for path, allowed in PAGES.items():
        text = _page_answer(shared_app, clients(user), path, f"?area={c.SCOPE_AREA[user]}")
        if user not in allowed:
            assert "adm-refused" in text, (user, path)
            assert not c.leaks(text, names=others + [n for n in c.AREA_NAME.values()]), (user, path)
        assert not c.leaks(text, codes=c.foreign_areas(user), names=c.names_not_seen(user)), (user, path)


@pytest.mark.parametrize("user", c.USERS)
def test_the_user_grid_lists_only_the_users_its_manager_manages(shared_app, clients, user):
    key = next(k for k in c.server_callbacks(shared_app) if "admin-users-grid.rowData" in k)
    payload = c.callback_payload(key, c.server_callbacks(shared_app)[key],
                                 lambda cid, p: "zh" if cid == "admin-users-lang" else "x")
    answer = c.post_callback(clients(user), payload)
    if user not in MANAGED:
        assert answer.status_code == 204, (user, answer.status_code)  # answers nothing (and is audited)
        return
    rows = next(v for k, v in answer.get_json()["response"].items() if k == "admin-users-grid")["rowData"]
    assert {row["name"] for row in rows} == MANAGED[user], user
    assert not c.leaks(c.decoded(answer), codes=c.foreign_areas(user), names=c.names_not_seen(user)), user


# -- a department sees its own cases only --------------------------------------------------------------------
def test_a_department_sees_only_its_cases_even_inside_its_district(fresh_app):
    """An event in 东城区 dispatched to the city hotline center: dept_city sees it, dept_dc does not."""
    from queries import tokens
    from tests.conftest import signed_in

    engine = fresh_app.server.extensions["gridcc"].engine
    with engine.begin() as conn:
        token = tokens.create_token(conn, name="hotline", now=handcity.NOW)
    lat, lon = 31.12, 120.025  # A1, building 002
    posted = fresh_app.server.test_client().post("/api/v1/events", headers={"Authorization": f"Bearer {token}"}, json={
        "id": "HL-dept", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
        "registered_at": "2026-11-20T14:01:00+08:00", "accepted_at": "2026-11-20T14:00:30+08:00",
        "dispatched_at": "2026-11-20T14:02:00+08:00", "department": "329900-12", "lat": lat, "lon": lon,
        "reporter": "赵六 13700001111"})
    assert posted.status_code == 201, posted.data
    eid = posted.get_json()["events"][0]["event_id"]
    building = fresh_app.server.test_client().get(f"/api/v1/events/{eid}",
                                                 headers={"Authorization": f"Bearer {token}"}).get_json()["building_code"]
    dept_dc, dept_city, district = (signed_in(fresh_app, n) for n in ("dept_dc", "dept_city", "dongcheng"))
    # The district manager counts it; the district's own department does not; the hotline center does.
    assert district.get("/api/v1/areas").get_json()["areas"][0]["figures"]["reported"] == 7
    assert dept_dc.get("/api/v1/areas").get_json()["areas"][0]["figures"] == c.FIGURES["329902"]
    assert dept_city.get("/api/v1/areas").get_json()["areas"][0]["figures"]["reported"] == 1
    assert dept_dc.get(f"/api/v1/events/{eid}").status_code == 404
    assert dept_city.get(f"/api/v1/events/{eid}").status_code == 200
    assert eid not in {int(r["service_request_id"]) for r in dept_dc.get("/open311/v2/requests.json").get_json()}
    assert {int(r["service_request_id"]) for r in dept_city.get("/open311/v2/requests.json").get_json()} == {eid}
    assert dept_dc.post(f"/api/v1/events/{eid}/transitions", json={"action": "handle"}).status_code == 404
    assert dept_dc.post(f"/api/v1/events/{eid}/reveal").status_code == 404
    # The building card of its building: dept_dc sees none of it, dept_city only it.
    key = next(k for k in c.server_callbacks(fresh_app) if "overview-building.children" in k)
    view = {"code": building[:15], "building": {"code": building}}

    def card(client):
        payload = c.callback_payload(key, c.server_callbacks(fresh_app)[key],
                                     lambda cid, prop: view if cid == "overview-view" else ("zh" if prop == "data" else 1))
        return c.decoded(c.post_callback(client, payload))

    assert "赵*" not in card(dept_dc) and "赵*" in card(dept_city)


def test_finding_a_foreign_event_by_its_senders_id_tells_nothing_of_it(fresh_app):
    """GET /api/v1/events?source=&id= for another area's event answers as for an id that was never sent."""
    from queries import tokens
    from tests.conftest import signed_in

    with fresh_app.server.extensions["gridcc"].engine.begin() as conn:
        token = tokens.create_token(conn, name="west-app", now=handcity.NOW, scope_code="329903")
    sent = fresh_app.server.test_client().post("/api/v1/events", headers={"Authorization": f"Bearer {token}"}, json={
        "id": "W-SECRET", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
        "lat": 31.1, "lon": 120.25})
    assert sent.status_code == 201
    eid = sent.get_json()["events"][0]["event_id"]
    client = signed_in(fresh_app, "dongcheng")
    foreign = client.get("/api/v1/events?source=hotline&id=W-SECRET")
    missing = client.get("/api/v1/events?source=hotline&id=W-NEVER1")
    assert foreign.status_code == missing.status_code == 404
    assert str(eid) not in foreign.get_json()["message"]
    assert foreign.get_json() == json.loads(missing.get_data(as_text=True).replace("W-NEVER1", "W-SECRET"))


# -- the desk's actions (docs/desk.md) ----------------------------------------------------------------------
@pytest.mark.parametrize("user", c.USERS)
def test_desk_actions_on_foreign_events_are_refused_as_unknown_and_change_nothing(shared_app, clients, user):
    """Each user's own desk action on every event outside their area: refused one by one, as ids never used."""
    from dashboard import desk

    client = clients(user)  # its session first: the snapshot holds the sessions too
    engine = shared_app.server.extensions["gridcc"].engine
    before, audit_before = c.snapshot(engine), c.audit_rows(engine)
    allowed = desk.allowed(handcity.USERS[user][0])
    action = next((a for a in ("urge", "report_back") if a in allowed), "urge")
    foreign = c.foreign_events(user)
    answer = client.post("/api/v1/events/actions", json={
        "ids": [*foreign, c.NOWHERE_EVENT], "action": action, "reason": "probe"})
    if user not in c.ACTING:
        assert answer.status_code == 403, (user, answer.status_code)
    else:
        assert answer.status_code == 200, (user, answer.status_code, answer.data[:300])
        outcomes = answer.get_json()["outcomes"]
        assert [o["id"] for o in outcomes] == [*foreign, c.NOWHERE_EVENT]
        # A foreign event is refused in the very words of an id that does not exist: nothing is learnt.
        assert {(o["ok"], o["reason"], o["status"]) for o in outcomes} == {(False, outcomes[-1]["reason"], None)}
        assert answer.get_json()["data_version"] is None
    assert c.snapshot(engine) == before, user
    assert all(row[4] != "ok" for row in c.new_audit_rows(engine, audit_before)), user


# -- every route is in this matrix --------------------------------------------------------------------------
# rule: where it is checked (in this module or tests/security/test_break_in.py)
COVERED = {
    "/": "pages", "/<path:path>": "pages (/admin/audit), break-in path traversal",
    "/_dash-layout": "pages", "/_dash-dependencies": "pages",
    "/_dash-update-component": "every server callback", "/_reload-hash": "break-in: open paths",
    "/_favicon.ico": "break-in: open paths", "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>":
        "break-in: path traversal", "/assets/<path:filename>": "break-in: path traversal",
    "/static/<path:filename>": "break-in: path traversal",
    "/auth/sign-in": "break-in", "/auth/sign-out": "break-in", "/auth/public-wall": "break-in",
    "/auth/password": "break-in: CSRF, brute force",
    "/api/v1/areas": "api top area", "/api/v1/areas/<code>": "area routes", "/api/v1/areas/<code>/children":
        "area routes", "/api/v1/openapi.json": "break-in: open paths", "/api/v1/<path:rest>": "break-in",
    "/api/v1/events": "writes; break-in find-by-source", "/api/v1/events/<event_id>": "event routes",
    "/api/v1/events/<event_id>/transitions": "writes", "/api/v1/events/<event_id>/reveal": "writes",
    "/open311/v2/services.<fmt>": "break-in: open paths", "/open311/v2/services/<code>.<fmt>": "break-in: open paths",
    "/open311/v2/requests.<fmt>": "open311", "/open311/v2/requests/<rid>.<fmt>": "open311",
    "/open311/v2/": "break-in", "/open311/v2/<path:rest>": "break-in",
    "/geo/children/<code>.json": "area routes", "/admin/audit/export.<fmt>": "audit export",
    "/api/v1/live/poll": "live poll (below)",
    "/api/v1/live/stream": "tests/test_live.py: the same message() as the poll (liv005, liv010), a caller needed (liv016)",
    "/api/v1/alerts/firings": "alert firings (below); tests/callbacks/test_rule_banner.py",
    "/api/v1/events/actions": "desk actions on foreign events (above); tests/api/test_actions.py",
    "/api/v1/sla": "SLA figures (below); tests/api/test_sla_api.py",
    "/api/v1/sla/cases": "SLA cases (below); tests/api/test_sla_api.py",
    "/backlog/export.xlsx": "backlog export (below); tests/callbacks/test_backlog.py",
    # Field work and 12345 follow-ups in (issue 7): a worker, grid, building or ticket outside the caller's scope
    # is refused exactly as one that does not exist, and nothing is written (tests/api/test_fieldwork.py).
    "/api/v1/fieldwork/patrols": "writes: workers and grids of the caller's area only; tests/api/test_fieldwork.py",
    "/api/v1/fieldwork/visits": "writes: workers and buildings of the caller's area only; tests/api/test_fieldwork.py",
    "/api/v1/hotline/followups": "writes: hotline tickets of the caller's scope only; tests/api/test_fieldwork.py",
    # Rankings (issue 7): tables, cases, export and print of the caller's scope only (below;
    # tests/api/test_rankings_api.py for the numbers).
    "/api/v1/rankings": "rankings (below); tests/api/test_rankings_api.py",
    "/api/v1/rankings/cases": "rankings (below); tests/api/test_rankings_api.py",
    "/rankings/export.xlsx": "rankings export (below)",
    "/rankings/print": "rankings print view (below)",
    # Tours (issue 8): a tour is its owner's alone; anyone else's id answers 404 (tests/test_tour_export.py), and
    # the pictures are taken by a session of the owner's, so they hold the owner's scope only.
    "/tours/<int:tour_id>/export.<fmt>": "tour export, owner only; tests/test_tour_export.py",
}


# -- the rankings: every level a user may rank, and its export and print view, are of their area only -------------
def _rank_levels(user: str) -> tuple[str, ...]:
    from queries.rankings import levels_for
    from queries.scope import Scope

    area = c.SCOPE_AREA[user]
    return levels_for(Scope(area, c.AREA_LEVEL.get(area, 0), c.DEPARTMENT.get(user)))


def _rank_text(answer) -> str:
    text = c.decoded(answer)
    for name in c.DEPARTMENT_NAMES.values():  # a department's name holds its district's name
        text = text.replace(name, "")
    return text


@pytest.mark.parametrize("user", c.USERS)
def test_the_rankings_of_each_user_are_of_their_area_only(clients, user):
    client = clients(user)
    levels = _rank_levels(user)
    assert levels, user
    forbidden = c.foreign_areas(user) + c.foreign_buildings(user)
    for level in levels:
        answer = client.get(f"/api/v1/rankings?level={level}&period=2026-11")
        assert answer.status_code == 200, (user, level, answer.get_data(as_text=True)[:300])
        rows = answer.get_json()["rows"]
        if level == "department":
            own = c.DEPARTMENT.get(user)
            assert all(own is None or r["code"] == own for r in rows), (user, rows)
        elif level != "worker":
            assert rows and all(c.inside(user, r["code"]) for r in rows), (user, level, rows)
        assert not c.leaks(_rank_text(answer), codes=forbidden, names=c.names_not_seen(user)), (user, level)
        for route in ("/rankings/export.xlsx", "/rankings/print"):
            made = client.get(f"{route}?level={level}&period=2026-11")
            assert made.status_code == 200, (user, route, made.get_data(as_text=True)[:200])
            if route.endswith("print"):
                assert not c.leaks(_rank_text(made), codes=forbidden, names=c.names_not_seen(user)), (user, route)


@pytest.mark.parametrize("user", c.USERS)
def test_a_rankings_area_outside_the_scope_is_a_404_like_one_that_does_not_exist(clients, user):
    client = clients(user)
    level = _rank_levels(user)[0]
    for code in _sample(c.foreign_areas(user))[:3]:
        nowhere = c.nowhere_like(code)
        for route in (f"/api/v1/rankings?level={level}&period=2026-11&area={{}}",
                      f"/api/v1/rankings/cases?level={level}&period=2026-11&unit=1&count=handled&area={{}}"):
            missing = client.get(route.format(nowhere))
            foreign = client.get(route.format(code))
            assert foreign.status_code == missing.status_code == 404, (user, route, code)
            assert foreign.get_json() == json.loads(c.swap(missing.get_data(as_text=True), nowhere, code))


# -- the SLA page's JSON and the backlog desk's export (issue 6) ------------------------------------------------
@pytest.mark.parametrize("user", c.USERS)
def test_the_sla_figures_and_their_cases_are_of_the_users_area_only(clients, user):
    client = clients(user)
    answer = client.get("/api/v1/sla?from=2026-01-01T00:00:00%2B08:00")
    assert answer.status_code == 200, (user, answer.status_code)
    assert c.inside(user, answer.get_json()["area"]["code"])
    forbidden = c.foreign_areas(user) + c.foreign_buildings(user)
    # The departments handling the user's cases are named ("东城区城管执法局" holds the district's name).
    text = c.decoded(answer)
    for name in c.DEPARTMENT_NAMES.values():
        text = text.replace(name, "")
    assert not c.leaks(text, codes=forbidden, names=c.names_not_seen(user)), user
    seen = set()
    for key in ("green", "yellow", "red", "none", "turning_red_2h"):
        cases = client.get(f"/api/v1/sla/cases?figure=light&key={key}&limit=200")
        assert cases.status_code == 200, (user, key, cases.get_data(as_text=True))
        seen |= {row["id"] for row in cases.get_json()["cases"]}
    assert seen <= c.visible_events(user), (user, seen - c.visible_events(user))


@pytest.mark.parametrize("user", c.USERS)
def test_an_sla_area_outside_the_scope_is_a_404_like_one_that_does_not_exist(clients, user):
    client = clients(user)
    for code in _sample(c.foreign_areas(user)):
        nowhere = c.nowhere_like(code)
        for route in ("/api/v1/sla?area={}", "/api/v1/sla/cases?area={}&figure=light&key=red"):
            missing = client.get(route.format(nowhere))
            foreign = client.get(route.format(code))
            assert foreign.status_code == missing.status_code == 404, (user, route, code)
            assert foreign.get_json() == json.loads(c.swap(missing.get_data(as_text=True), nowhere, code))


@pytest.mark.parametrize("user", c.USERS)
def test_the_backlog_export_holds_only_the_users_cases(clients, user):
    import io

    import openpyxl

    answer = clients(user).get("/backlog/export.xlsx")
    assert answer.status_code == 200, (user, answer.status_code, answer.get_data(as_text=True)[:200])
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data), read_only=True).active
    ids = {int(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True) if row and row[0] is not None}
    assert ids <= c.visible_events(user), (user, ids - c.visible_events(user))
    text = "\n".join(str(v) for row in openpyxl.load_workbook(io.BytesIO(answer.data), read_only=True).active
                     .iter_rows(values_only=True) for v in row if v is not None)
    for name in c.DEPARTMENT_NAMES.values():
        text = text.replace(name, "")
    assert not c.leaks(text, codes=c.foreign_areas(user), names=c.names_not_seen(user)), user


def test_the_alert_firings_of_each_user_are_of_their_area_only(fresh_app):
    # Firings for 南苑街道 (a street count), and for cases 15 (A2), 12 (B2), 13 (C1): tests/callbacks/test_rule_banner.py.
    from tests.callbacks.test_rule_banner import fire
    from tests.conftest import signed_in

    keys = fire(fresh_app)
    assert len(keys) == 4
    for user in c.USERS:
        answer = signed_in(fresh_app, user).get("/api/v1/alerts/firings")
        assert answer.status_code == 200, user
        firings = answer.get_json()["firings"]
        assert all(c.inside(user, f["area_code"]) for f in firings), (user, firings)
        if user.startswith("dept_"):  # a department: only its own cases, never an area's count
            assert all(f["kind"] == "undispatched_urgent" for f in firings), user
        assert not c.leaks(c.decoded(answer), codes=c.foreign_areas(user), names=c.names_not_seen(user)), user


def test_the_live_poll_names_only_the_grids_of_the_users_area(fresh_app):
    """A change in every grid of the city: each user is told of the grids in their own area, never of others."""
    from dashboard import live
    from tests.conftest import signed_in

    hub = fresh_app.server.extensions["gridcc_live"]
    version = hub.version
    hub.publish(live.Change(version + 1, handcity.NOW, handcity.GRIDS))
    for user in c.USERS:
        told = signed_in(fresh_app, user).get(f"/api/v1/live/poll?v={version}&wait=0")
        assert told.status_code == 200, (user, told.status_code)
        body = told.get_json()
        assert body["v"] == version + 1, (user, body)
        assert body["areas"] == sorted(g for g in handcity.GRIDS if c.inside(user, g)), (user, body)
        assert not c.leaks(c.decoded(told), codes=c.foreign_areas(user), names=c.names_not_seen(user)), user


def test_every_route_of_the_app_is_in_the_matrix(shared_app):
    rules = {rule.rule for rule in shared_app.server.url_map.iter_rules()}
    assert rules - set(COVERED) == set(), "a new route: add it to the scope matrix"
