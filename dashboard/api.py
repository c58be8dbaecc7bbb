"""The JSON API: the same figures as the screens, under /api/v1 (documented in docs/api.md)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import flask
from werkzeug.exceptions import HTTPException

from dashboard import context, data
from dashboard.openapi import openapi_document
from queries.schema import BUILDING, GRID, LEVEL_NAMES

bp = flask.Blueprint("api", __name__, url_prefix="/api/v1")

MAX_WINDOW = timedelta(days=366)
FIRST_YEAR, LAST_YEAR = 1970, 2099
MAX_CODE_LENGTH = 18
_SPACE_OFFSET = re.compile(r"([T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class BadRequest(ValueError):
    """A request the API refuses, with the reason shown to the caller."""


def _parse_instant(name: str, text: str | None, default: datetime) -> datetime:
    """Return the query parameter ``name`` as a naive local time; it must be ISO 8601 with an offset."""
    if text is None or text == "":
        return default
    if len(text) > 40:
        raise BadRequest(f"'{name}' is too long to be an ISO 8601 date-time")
    # An unencoded "+08:00" in a query string arrives as " 08:00": put the plus back.
    text = _SPACE_OFFSET.sub(r"\1+\2", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"'{name}' is not an ISO 8601 date-time with a time zone, e.g. 2026-11-20T15:00:00+08:00")
    if value.tzinfo is None:
        raise BadRequest(f"'{name}' needs a time zone offset, e.g. 2026-11-20T15:00:00+08:00")
    # Before converting: year 1 or 9999 overflows across an offset, and before 1901 the zone's
    # offset has seconds (local mean time), which ISO 8601 cannot write back.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise BadRequest(f"'{name}' must lie between {FIRST_YEAR} and {LAST_YEAR}")
    return value.astimezone(context.current().settings.tz).replace(tzinfo=None)


def _window() -> tuple[datetime, datetime, datetime]:
    """Read ``as_of``, ``from`` and ``to`` (defaults: now, and the 30 days before ``to``)."""
    now = context.current().settings.now()
    args = flask.request.args
    as_of = _parse_instant("as_of", args.get("as_of"), now)
    until = _parse_instant("to", args.get("to"), as_of)
    since = _parse_instant("from", args.get("from"), until - data.DEFAULT_WINDOW)
    if since >= until:
        raise BadRequest("'from' must be earlier than 'to'")
    if until - since > MAX_WINDOW:
        raise BadRequest("the window from 'from' to 'to' may span at most 366 days")
    told = args.get("v")
    if told is not None:  # a live screen: an answer at least as new as the version it was told of will do
        if not (told.isascii() and told.isdigit() and len(told) <= 18):
            raise BadRequest("'v' must be a data version (a whole number, as /api/v1/live/stream announces it)")
        data.told({"v": int(told)})
    return as_of, since, until


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=context.current().settings.tz).isoformat()


def _check_code(code: str) -> None:
    if not code.isdigit() or not 6 <= len(code) <= MAX_CODE_LENGTH:
        raise BadRequest("an area code is 6 to 15 digits (a building's 18)")


def _figures_json(figures) -> dict:
    rate = figures.on_time_rate
    hours = figures.median_handling_hours
    return {
        "reported": figures.reported,
        "open": figures.open,
        "overdue": figures.overdue,
        "closed": figures.closed,
        "closed_on_time": figures.closed_on_time,
        "on_time_rate": None if rate is None else round(rate, 6),
        "median_handling_hours": None if hours is None else round(hours, 3),
    }


def _area_json(area) -> dict:
    (south, west), (north, east) = area.bounds
    return {"code": area.code, "name": area.name, "level": LEVEL_NAMES[area.level], "parent": area.parent_code,
            "households": area.households,
            # Where it is (WGS 84): enough for a sending system to check its points; the polygons are at /geo.
            "centroid": {"lat": area.centroid[0], "lon": area.centroid[1]},
            "bbox": {"south": south, "west": west, "north": north, "east": east}}


def _building_json(building) -> dict:
    return {"code": building.code, "name": building.name, "level": LEVEL_NAMES[BUILDING], "parent": building.grid_code,
            "households": building.households, "centroid": {"lat": building.lat, "lon": building.lon}}


def _window_json(as_of, since, until) -> dict:
    return {"as_of": _iso(as_of), "from": _iso(since), "to": _iso(until)}


def _one(scope, code, as_of, since, until) -> dict:
    if len(code) == MAX_CODE_LENGTH:  # a building: its figures are among its grid's children's
        house = data.building(scope, code)
        if house is None:
            flask.abort(404, description=f"no building with code {code} here")
        figures = {f.code: f for f in data.children_figures(scope, house.grid_code, as_of, since, until)}
        return {**_building_json(house), "figures": _figures_json(figures[code])}
    area = data.area(scope, code)
    if area is None:
        flask.abort(404, description=f"no area with code {code} here")
    return {**_area_json(area), "figures": _figures_json(data.area_figures(scope, code, as_of, since, until))}


@bp.get("/areas")
def list_areas():
    """Return the top-level area(s) the caller may see, with their figures."""
    as_of, since, until = _window()
    scope = data.request_scope()
    rows = [_one(scope, scope.area_code, as_of, since, until)]
    return flask.jsonify({**_window_json(as_of, since, until), "areas": rows})


@bp.get("/areas/<code>")
def get_area(code: str):
    """Return one area and its figures."""
    _check_code(code)
    as_of, since, until = _window()
    return flask.jsonify({**_window_json(as_of, since, until), "area": _one(data.request_scope(), code, as_of, since,
                                                                           until)})


@bp.get("/areas/<code>/children")
def get_children(code: str):
    """Return an area's children (a grid's buildings) with their figures, in code order."""
    _check_code(code)
    as_of, since, until = _window()
    scope = data.request_scope()
    area = data.area(scope, code)
    if area is None:
        flask.abort(404, description=f"no area with code {code} here")
    kids = data.grid_buildings(scope, code) if area.level == GRID else data.children(scope, code)
    figures = {f.code: f for f in data.children_figures(scope, code, as_of, since, until)}
    describe = _building_json if area.level == GRID else _area_json
    rows = [{**describe(k), "figures": _figures_json(figures[k.code])} for k in kids]
    return flask.jsonify({**_window_json(as_of, since, until), "area": _area_json(area), "children": rows})


@bp.get("/openapi.json")
def openapi():
    """Return the OpenAPI 3.1 document of this API."""
    return flask.jsonify(openapi_document())


@bp.get("/<path:rest>")
def unknown(rest: str):
    """Answer any other /api/v1 path with a JSON 404 (not the app's HTML page)."""
    flask.abort(404, description=f"no such API route: /api/v1/{rest}; see /api/v1/openapi.json")


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest):
    return flask.jsonify({"error": "bad_request", "message": str(error)}), 400


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return flask.jsonify({"error": error.name.lower().replace(" ", "_"), "message": error.description}), error.code


@bp.errorhandler(LookupError)
def _empty_store(error: LookupError):
    return flask.jsonify({"error": "unavailable", "message": str(error)}), 503


def init_app(server: flask.Flask) -> None:
    """Register the API on the Flask server."""
    server.register_blueprint(bp)

    # A wrong method on a path that only a catch-all matched is decided while routing, before any
    # blueprint handler: answer it in JSON here for API paths, and leave every other path alone.
    @server.errorhandler(405)
    def _method_not_allowed(error):
        if flask.request.path.startswith(bp.url_prefix + "/"):
            return flask.jsonify({"error": "method_not_allowed", "message": error.description}), 405
        return error
