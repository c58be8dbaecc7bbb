"""What each hand-city user may see, worked out by hand from tests/handcity.py, and the tools the security
tests share: a Dash callback POSTed the way dash-renderer does, a snapshot of the store, the audit rows.

Nothing here asks the app what is in scope: the expectations come from the hand city's docstring and
tables, so a scope bug in the app cannot make its own test pass.
"""
from __future__ import annotations

import json
import re

from sqlalchemy import select, text

from queries.schema import metadata
from tests import handcity

CITY = handcity.CITY
# name: the area the user's screens start at (a department: the district it serves, or the city)
SCOPE_AREA = {
    "leader": CITY, "admin": CITY, "dongcheng": "329902", "xicheng": "329903", "dongjie": "329902001",
    "nanyuan": "329902002001", "dept_dc": "329902", "dept_xc": "329903", "dept_city": CITY, "viewer": "329903",
}
DEPARTMENT = {"dept_dc": "329902-01", "dept_xc": "329903-01", "dept_city": "329900-12"}
DEPARTMENT_NAMES = {"329902-01": "东城区城管执法局", "329903-01": "西城区城管执法局", "329900-12": "市12345热线中心"}
USERS = tuple(handcity.USERS)
ACTING = {"dongcheng", "xicheng", "dongjie", "nanyuan", "dept_dc", "dept_xc", "dept_city"}  # may act and reveal

AREA_NAME = {code: name for code, _, name, *_ in handcity.AREAS}
AREA_PARENT = {code: parent for code, _, _, parent, *_ in handcity.AREAS}
AREA_LEVEL = {code: level for code, level, *_ in handcity.AREAS}
BUILDINGS = tuple(row["code"] for row in handcity.building_rows())
# event id: (building, department) — handcity.event_rows gives every event its district's department.
EVENTS = {e[0]: (e[1] + e[2], e[1][:6] + "-01") for e in handcity.EVENTS}
NOWHERE_EVENT = 999_999  # no such event anywhere


def inside(user: str, code: str) -> bool:
    """Return True when area or building ``code`` lies in ``user``'s area (a department: its district)."""
    top = SCOPE_AREA[user]
    return True if top == CITY else code.startswith(top)


def ancestors(user: str) -> list[str]:
    """Return the areas above the user's own, nearest first."""
    out, code = [], AREA_PARENT[SCOPE_AREA[user]]
    while code is not None:
        out.append(code)
        code = AREA_PARENT[code]
    return out


def foreign_areas(user: str) -> list[str]:
    """Return the areas outside the user's that are not above it either (siblings, cousins and below)."""
    above = set(ancestors(user))
    return [code for code in AREA_NAME if not inside(user, code) and code not in above]


def foreign_buildings(user: str) -> list[str]:
    return [code for code in BUILDINGS if not inside(user, code)]


def visible_events(user: str) -> set[int]:
    """Return the ids of the events ``user`` may see: in its area, and of its department for a department."""
    department = DEPARTMENT.get(user)
    return {eid for eid, (building, dept) in EVENTS.items()
            if inside(user, building) and (department is None or dept == department)}


def foreign_events(user: str) -> list[int]:
    return sorted(set(EVENTS) - visible_events(user))


def names_not_seen(user: str, *, above_too: bool = True) -> list[str]:
    """Return the area names that must not appear in what ``user`` is shown (with those above, by default).

    Grid names of the user's own area are allowed; every other area's name is not.
    """
    codes = set(foreign_areas(user)) | (set(ancestors(user)) if above_too else set())
    return sorted({AREA_NAME[c] for c in codes} - {AREA_NAME[c] for c in AREA_NAME if inside(user, c)})


# The figures of each top area at as_of = NOW over the default 30-day window (the handcity docstring).
FIGURES = {
    CITY: dict(reported=8, open=5, overdue=2, closed=3, closed_on_time=1, on_time_rate=0.2,
               median_handling_hours=6.5),
    # 东城区: reported 1–6, open 3,4,6, overdue 3, closed 1,2,7 (1 on time): 1 / (3 + 1).
    "329902": dict(reported=6, open=3, overdue=1, closed=3, closed_on_time=1, on_time_rate=0.25,
                   median_handling_hours=6.5),
    # 西城区: reported 8,10, open 9,10, overdue 9, nothing closed: 0 / (0 + 1).
    "329903": dict(reported=2, open=2, overdue=1, closed=0, closed_on_time=0, on_time_rate=0.0,
                   median_handling_hours=None),
    # 东街街道: reported 1–5, open 3,4, overdue 3, closed 1,2 (1 on time): 1 / (2 + 1); median(0.8333, 6.5).
    "329902001": dict(reported=5, open=2, overdue=1, closed=2, closed_on_time=1, on_time_rate=0.333333,
                      median_handling_hours=3.667),
    # 南苑社区: reported 6, open 6 (handled before its deadline), closed 7 late (575.5 h): 0 / (1 + 0).
    "329902002001": dict(reported=1, open=1, overdue=0, closed=1, closed_on_time=0, on_time_rate=0.0,
                         median_handling_hours=575.5),
}
NOTHING = dict(reported=0, open=0, overdue=0, closed=0, closed_on_time=0, on_time_rate=None, median_handling_hours=None)
# Reported since midnight (1, 4, 5, 8, 10 reported on 11-20 before 15:00).
REPORTED_TODAY = {CITY: 5, "329902": 3, "329903": 2, "329902001": 3, "329902002001": 0}


def expected_figures(user: str) -> dict:
    """Return the figures ``user`` sees of its own area (a department handler: its cases only)."""
    if user == "dept_city":  # the hotline center has no case in the hand city
        return NOTHING
    return FIGURES[SCOPE_AREA[user]]


def expected_today(user: str) -> int:
    return 0 if user == "dept_city" else REPORTED_TODAY[SCOPE_AREA[user]]


def nowhere_like(code: str) -> str:
    """Return a code of the same length as ``code`` that is no area or building at all (prefix 329909)."""
    return ("329909" + "001" * 4)[:len(code)]


# -- text checks -------------------------------------------------------------------------------------------
def decoded(response) -> str:
    """Return a response body as text, JSON re-dumped without escapes (Dash escapes every CJK character)."""
    raw = response.get_data(as_text=True)
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False)
    except ValueError:
        return raw


def swap(text: str, old, new) -> str:
    """Return ``text`` with every whole number ``old`` (not part of a longer digit run) replaced by ``new``."""
    return re.sub(rf"(?<!\d){re.escape(str(old))}(?!\d)", str(new), text)


def codes_in(text: str) -> set[str]:
    """Return the whole runs of 6+ digits in ``text`` (area and building codes, never parts of one)."""
    return set(re.findall(r"(?<!\d)\d{6,}(?!\d)", text))


def leaks(text: str, *, codes=(), names=()) -> list[str]:
    """Return which of ``codes`` (whole digit runs) and ``names`` occur in ``text``."""
    found = codes_in(text)
    return [c for c in codes if c in found] + [n for n in names if n in text]


# -- Dash callbacks as dash-renderer posts them ------------------------------------------------------------
def server_callbacks(app) -> dict[str, dict]:
    """Return the callbacks that run on the server (clientside ones have no server function)."""
    return {key: spec for key, spec in app.callback_map.items() if "callback" in spec}


def callback_id(value) -> str:
    """Return a readable test id for a callback key: its first output's component id (a pattern's type)."""
    if not isinstance(value, str) or "." not in value:
        return str(value)
    first = (value[2:] if value.startswith("..") else value).split("...")[0].rsplit(".", 1)[0]
    return json.loads(first).get("type", "pattern") if first.startswith("{") else first


def _concrete(id_text: str, wildcards: dict):
    """Return a component id: a string, or a pattern id with MATCH/ALLSMALLER filled from ``wildcards``."""
    if not id_text.startswith("{"):
        return id_text
    pattern = json.loads(id_text)
    return {k: (wildcards.get(k, 1) if isinstance(v, list) else v) for k, v in pattern.items()}


def _is_all(id_text: str) -> bool:
    return id_text.startswith("{") and any(v == ["ALL"] for v in json.loads(id_text).values())


def _id_text(component_id) -> str:
    return component_id if isinstance(component_id, str) else json.dumps(component_id, sort_keys=True,
                                                                         separators=(",", ":"))


def callback_payload(key: str, spec: dict, value_of, wildcards: dict | None = None, fill_all: bool = False) -> dict:
    """Return the JSON body dash-renderer POSTs for callback ``key``; ``value_of(id, property)`` fills each input.

    A pattern-matching input with ALL gets no component — or, with ``fill_all``, one filled from ``wildcards``
    (a forger clicking a button of the id they choose), which is then the input that changed; MATCH ones are
    filled from ``wildcards``.
    """
    wildcards = wildcards or {}
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = []
    for part in parts:
        id_text, prop = part.rsplit(".", 1)
        outputs.append({"id": _concrete(id_text, wildcards), "property": prop})

    def items(entries):
        out = []
        for entry in entries:
            if _is_all(entry["id"]):
                cid = _concrete(entry["id"], wildcards)
                out.append([{"id": cid, "property": entry["property"], "value": value_of(cid, entry["property"])}]
                           if fill_all else [])
                continue
            cid = _concrete(entry["id"], wildcards)
            out.append({"id": cid, "property": entry["property"], "value": value_of(cid, entry["property"])})
        return out

    inputs = items(spec["inputs"])
    clicked = [i[0] for i in inputs if isinstance(i, list) and i]
    first = clicked[0] if clicked else next((i for i in inputs if isinstance(i, dict)), None)
    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
            "state": items(spec["state"]),
            "changedPropIds": [f"{_id_text(first['id'])}.{first['property']}"] if first else []}


DIGEST = "overview-digest"  # a live panel's store of what it shows (callbacks/overview.unless_same)


def _is_digest(id_text: str) -> bool:
    return id_text.startswith("{") and json.loads(id_text).get("type") == DIGEST


def split_digests(key: str, response) -> tuple[str, list[str]]:
    """Return (the answer with its digests blanked, as JSON text; the digests) of a callback's response.

    A digest is the SHA-1 of the panel's other outputs in callback order (checked here): a hash of what is
    shown and of nothing else, so the answers can be compared on what they show. Outputs left out
    (no_update) are neither shown nor hashed.
    """
    import hashlib

    import plotly.utils

    raw = response.get_data(as_text=True)
    if response.status_code != 200:
        return raw, []
    body = json.loads(raw)
    answer = body.get("response", {})
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    shown, digests = [], []
    for part in parts:
        id_text, prop = part.rsplit(".", 1)
        if prop not in answer.get(id_text, {}):  # no_update: Dash leaves the output out
            continue
        if _is_digest(id_text):
            digests.append(answer[id_text][prop])
            answer[id_text][prop] = "<digest>"
        else:
            shown.append(answer[id_text][prop])
    for digest in digests:
        assert digest == hashlib.sha1(json.dumps(shown, cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True,
                                                 ensure_ascii=False).encode()).hexdigest(), (key[:60], digest)
    return (json.dumps(body, ensure_ascii=False, sort_keys=True) if digests else raw), digests


def post_callback(client, payload: dict, headers: dict | None = None):
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json",
                       headers=headers or {})


# -- the store before and after ----------------------------------------------------------------------------
def snapshot(engine, *, skip_columns: dict[str, set[str]] | None = None) -> dict[str, list]:
    """Return every table's rows (sorted), but the audit log's: what a refused request may not change.

    One DuckDB query reads them all (each table as a list of row structs), so a test can afford two.
    """
    skip_columns = skip_columns or {}
    names = [t.name for t in metadata.sorted_tables if t.name != "audit_log"]

    def rows_of(name: str) -> str:
        skipped = skip_columns.get(name)
        source = f'(SELECT * EXCLUDE ({", ".join(sorted(skipped))}) FROM "{name}")' if skipped else f'"{name}"'
        return f'(SELECT list(x) FROM {source} x) AS "{name}"'

    with engine.connect() as conn:
        row = conn.execute(text("SELECT " + ", ".join(rows_of(n) for n in names))).one()
    return {name: sorted((repr(r) for r in (rows or [])), key=str) for name, rows in zip(names, row)}


def audit_rows(engine) -> list[tuple]:
    """Return the audit log as (id, actor, action, target, outcome, detail), oldest first."""
    from queries.schema import audit_log

    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(audit_log.c.id, audit_log.c.actor, audit_log.c.action, audit_log.c.target, audit_log.c.outcome,
                   audit_log.c.detail).order_by(audit_log.c.id))]


def new_audit_rows(engine, before: list[tuple]) -> list[tuple]:
    seen = {row[0] for row in before}
    return [row for row in audit_rows(engine) if row[0] not in seen]
