"""GeoJSON routes for the map: an area's children, sent once and then cached by the browser."""
from __future__ import annotations

import hashlib
import json
import re

import flask

from dashboard import data, maps
from queries.schema import GRID

bp = flask.Blueprint("geo", __name__, url_prefix="/geo")

CODE = re.compile(r"\d{1,18}")
MAX_AGE_S = 3600


def _error(status: int, message: str) -> flask.Response:
    response = flask.jsonify({"error": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/children/<code>.json")
def children(code: str) -> flask.Response:
    """Return the children of area ``code`` as GeoJSON (a grid's buildings as points)."""
    if not CODE.fullmatch(code):
        return _error(400, "an area code is 1 to 18 digits")
    scope = data.request_scope()
    area = data.area(scope, code)
    if area is None:
        return _error(404, f"no area {code} in your scope")
    if area.level == GRID:
        collection = maps.buildings_geojson(data.grid_buildings(scope, code))
    else:
        collection = maps.children_geojson(data.child_geometries(scope, code))
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    response = flask.Response(body, mimetype="application/geo+json")
    response.set_etag(hashlib.sha1(body).hexdigest())
    # Private: what an area holds depends on the caller's scope.
    response.headers["Cache-Control"] = f"private, max-age={MAX_AGE_S}"
    return response.make_conditional(flask.request)


def init_app(server: flask.Flask) -> None:
    """Register the GeoJSON routes on ``server``."""
    server.register_blueprint(bp)
