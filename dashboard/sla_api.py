"""The SLA page's figures as JSON (issue 6 §4): GET /api/v1/sla and the cases behind any figure, /api/v1/sla/cases.

Same parameters, scope rules and errors as dashboard/api.py (its helpers parse them): ``area`` (default the
caller's own), ``from``, ``to``, ``as_of``. Every rate carries its numerator and denominator, and every count the
selector of the cases behind it (``cases_url`` + the selector's fields lists them). docs/sla.md defines each figure.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

import flask

from dashboard import data
from dashboard.api import BadRequest, _area_json, _check_code, _iso, _window, _window_json, bp
from dashboard.sla import SELECTOR_FIELDS, selector_dict
from queries.sla import (
    AGE_BUCKETS, CASE_PAGE_LIMIT, GRAINS, HOUR_BIN_KEYS, HOUR_BINS, LIGHT_KEYS, Selector,
)

MAX_SELECTOR_JSON = 1000
MAX_NUMBER_TEXT = 9


def _area_code(scope) -> str:
    code = flask.request.args.get("area") or scope.area_code
    _check_code(code)
    return code


def _area(scope, code: str):
    found = data.area(scope, code)
    if found is None:
        flask.abort(404, description=f"no area with code {code} here")
    return found


class _Links:
    """Builds the selector of the cases behind a figure; ``cases_url`` + its fields is their list."""

    def __init__(self, code: str, as_of, since, until):
        self.base = {"area": code, "from": _iso(since), "to": _iso(until), "as_of": _iso(as_of)}

    @property
    def cases_url(self) -> str:
        return flask.url_for("api.sla_cases") + "?" + urlencode(self.base)

    def __call__(self, figure: str, **fields) -> dict:
        return selector_dict(Selector(figure, **{k: v for k, v in fields.items() if v is not None}))


def _rate(rate, links: _Links, figure: str, **fields) -> dict:
    value = rate.value
    return {"numerator": rate.numerator, "denominator": rate.denominator,
            "value": None if value is None else round(value, 6),
            "cases": {"numerator": links(figure, part="on_time" if figure in ("handle", "close") else "numerator",
                                         **fields),
                      "denominator": links(figure, part="all" if figure in ("handle", "close") else "denominator",
                                           **fields)}}


def _split_json(rows, by: str, links: _Links) -> list[dict]:
    return [{"key": r.key, "name": r.name, "handle": _rate(r.handle, links, "handle", by=by, key=r.key),
             "close": _rate(r.close, links, "close", by=by, key=r.key),
             "overdue_open": {"count": r.overdue_open, "cases": links("overdue_open", by=by, key=r.key)}}
            for r in rows]


def _age_json(rows, by: str, links: _Links) -> list[dict]:
    return [{"key": r.key, "name": r.name, "total": r.total,
             "buckets": [{"bucket": b, "count": n, "cases": links("age", by=by, key=r.key, bin=b)}
                         for b, n in zip(AGE_BUCKETS, r.buckets)]} for r in rows]


def _handling_json(rows, by: str, links: _Links) -> list[dict]:
    return [{"key": d.key, "name": d.name, "n": d.n, "cases": links("handling", by=by, key=d.key),
             "median_hours": None if d.median_h is None else round(d.median_h, 3),
             "p90_hours": None if d.p90_h is None else round(d.p90_h, 3),
             "bins": [{"bin": b, "count": n, "cases": links("handling", by=by, key=d.key, bin=b)}
                      for b, n in zip(HOUR_BIN_KEYS, d.bins)]} for d in rows]


def _exceptions_json(rows, by: str, links: _Links) -> list[dict]:
    out = []
    for r in rows:
        row = {"key": r.key, "name": r.name,
               "extension": _rate(r.extension, links, "extension", by=by, key=r.key),
               "return": _rate(r.returned, links, "return", by=by, key=r.key),
               "rework": _rate(r.rework, links, "rework", by=by, key=r.key)}
        if r.void is not None:
            row["void"] = _rate(r.void, links, "void", by=by, key=r.key)
        out.append(row)
    return out


def _funnel_json(stages, links: _Links) -> list[dict]:
    from dashboard.sla import stage_limits
    from queries.sla import limit_units

    units = limit_units(stage_limits())
    out = []
    for s in stages:
        row = {"stage": s.stage, "reached": {"count": s.reached, "cases": links("funnel", stage=s.stage, part="reached")}}
        if s.stage != "report":
            over = s.over_limit / s.timed if s.timed else None
            row.update({"median_minutes": s.median_min, "p90_minutes": s.p90_min, "limit_minutes": s.limit_min,
                        "limit_clock": units[s.stage],
                        "over_limit": {"numerator": s.over_limit, "denominator": s.timed,
                                       "value": None if over is None else round(over, 6),
                                       "cases": {"numerator": links("funnel", stage=s.stage, part="over_limit"),
                                                 "denominator": links("funnel", stage=s.stage, part="reached")}}})
        out.append(row)
    return out


@bp.get("/sla")
def sla_figures():
    """Return every figure of the SLA page for one area and window, each with numerator, denominator and cases."""
    as_of, since, until = _window()
    scope = data.request_scope()
    code = _area_code(scope)
    area = _area(scope, code)
    grain = flask.request.args.get("grain") or "day"
    if grain not in GRAINS:
        raise BadRequest(f"'grain' must be one of {', '.join(GRAINS)}")
    links = _Links(code, as_of, since, until)
    window = (since, until, as_of)
    trend = [{"bucket": p.bucket.isoformat(),
              "handle": _rate(p.handle, links, "handle", grain=grain, bucket=p.bucket),
              "close": _rate(p.close, links, "close", grain=grain, bucket=p.bucket)}
             for p in data.sla_trend(scope, code, grain, *window)]
    lights = data.sla_lights(scope, code, as_of)
    return flask.jsonify({
        **_window_json(as_of, since, until), "area": _area_json(area),
        # The cases behind a figure: this URL with the fields of its selector added (or as selector=JSON).
        "cases_url": links.cases_url,
        "on_time": {"grain": grain, "trend": trend,
                    **{f"by_{by}": _split_json(data.sla_split(scope, code, by, *window), by, links)
                       for by in ("class", "department", "area", "street")}},
        "backlog_age": {"buckets": list(AGE_BUCKETS),
                        **{f"by_{by}": _age_json(data.sla_backlog_age(scope, code, by, as_of), by, links)
                           for by in ("class", "area")}},
        "lights": {key: {"count": getattr(lights, key), "cases": links("light", key=key)} for key in LIGHT_KEYS},
        "funnel": _funnel_json(data.sla_funnel(scope, code, *window), links),
        "handling": {"bins": list(HOUR_BIN_KEYS), "bin_edges_hours": list(HOUR_BINS),
                     **{f"by_{by}": _handling_json(data.sla_handling(scope, code, by, *window), by, links)
                        for by in ("class", "department")}},
        "exceptions": {f"by_{by}": _exceptions_json(data.sla_exceptions(scope, code, by, *window), by, links)
                       for by in ("department", "area")},
    })


def _whole(name: str, default: int) -> int:
    text = flask.request.args.get(name)
    if text is None or text == "":
        return default
    if len(text) > MAX_NUMBER_TEXT or not (text.isascii() and text.isdigit()):
        raise BadRequest(f"'{name}' must be a whole number")
    return int(text)


def _selector() -> dict:
    """Return the selector of the request: the JSON object in ``selector``, or the flat fields."""
    args = flask.request.args
    text = args.get("selector")
    if text is not None:
        if len(text) > MAX_SELECTOR_JSON:
            raise BadRequest("'selector' is too long")
        try:
            found = json.loads(text)
        except ValueError:
            raise BadRequest("'selector' is not JSON; send an object, e.g. {\"figure\":\"light\",\"key\":\"red\"}")
        if not isinstance(found, dict):
            raise BadRequest("'selector' must be a JSON object")
        return found
    return {name: args.get(name) for name in SELECTOR_FIELDS if args.get(name) is not None}


@bp.get("/sla/cases")
def sla_cases():
    """Return one page of the cases behind a figure of the SLA page (no personal data)."""
    as_of, since, until = _window()
    scope = data.request_scope()
    code = _area_code(scope)
    _area(scope, code)
    offset, limit = _whole("offset", 0), _whole("limit", 50)
    selector = _selector()
    try:
        page = data.sla_cases(scope, code, selector, since, until, as_of, offset, limit)
    except ValueError as refused:
        raise BadRequest(str(refused)) from None
    return flask.jsonify({
        **_window_json(as_of, since, until), "area": code, "selector": selector, "offset": offset, "limit": limit,
        "total": page.total, "max_limit": CASE_PAGE_LIMIT,
        "cases": [{"id": r.id, "category": r.category, "place": r.place, "department": r.department,
                   "status": r.status, "reported_at": _iso(r.reported_at),
                   "deadline_at": None if r.deadline_at is None else _iso(r.deadline_at), "light": r.light}
                  for r in page.rows],
    })
