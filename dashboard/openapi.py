"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json."""
from __future__ import annotations

_INSTANT = {"type": "string", "format": "date-time", "example": "2026-11-20T15:00:00+08:00"}
_PARAMS = [
    {"name": "as_of", "in": "query", "schema": _INSTANT,
     "description": "Instant at which `open` and `overdue` are counted (ISO 8601 with offset). Default: now."},
    {"name": "from", "in": "query", "schema": _INSTANT,
     "description": "Start of the window (inclusive) for `reported`, `closed`, `closed_on_time`. Default: `to` − 30 days."},
    {"name": "to", "in": "query", "schema": _INSTANT,
     "description": "End of the window (exclusive). Default: `as_of`. At most 366 days after `from`."},
]
_CODE = {"name": "code", "in": "path", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9]{6,18}$"},
         "description": "Area code: city/district 6 digits, street 9, community 12, grid 15 (DOMAIN.md §1)."}
_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(schema: str) -> dict:
    return {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def openapi_document() -> dict:
    """Return the OpenAPI document as a dict."""
    figures = {
        "type": "object",
        "properties": {
            "reported": {"type": "integer", "description": "Events reported in [from, to), void ones included (上报数)."},
            "open": {"type": "integer", "description": "Events open at as_of: not closed, void or parked (在办)."},
            "overdue": {"type": "integer", "description": "Open, not handled, past the deadline at as_of (超期未处置)."},
            "closed": {"type": "integer", "description": "Events closed in [from, to) (结案数)."},
            "closed_on_time": {"type": "integer", "description": "Of those, handled by their deadline (按期结案数)."},
            "on_time_rate": {"type": ["number", "null"],
                             "description": "closed_on_time / (closed + overdue), 0–1; null when both are 0."},
            "median_handling_hours": {"type": ["number", "null"],
                                      "description": "Median clock hours from dispatch to handled, over `closed`."},
        },
    }
    area = {
        "type": "object",
        "properties": {
            "code": {"type": "string"}, "name": {"type": "string"},
            "level": {"type": "string", "enum": ["city", "district", "street", "community", "grid", "building"]},
            "parent": {"type": ["string", "null"]}, "households": {"type": "integer"},
            "figures": {"$ref": "#/components/schemas/Figures"},
        },
    }
    window = {"as_of": _INSTANT, "from": _INSTANT, "to": _INSTANT}
    return {
        "openapi": "3.1.0",
        "info": {"title": "gridcc API", "version": "1",
                 "description": "Figures of the areas of the grid hierarchy, the same numbers as the overview screen. "
                                "Times are ISO 8601 with an offset; the city's local zone is Asia/Shanghai (+08:00)."},
        "paths": {
            "/api/v1/areas": {"get": {"summary": "The top-level area(s) the caller may see", "parameters": _PARAMS,
                                      "responses": {"200": _ok("AreaList"), "400": _ERROR}}},
            "/api/v1/areas/{code}": {"get": {"summary": "One area and its figures", "parameters": [_CODE, *_PARAMS],
                                             "responses": {"200": _ok("AreaOne"), "400": _ERROR, "404": _ERROR}}},
            "/api/v1/areas/{code}/children": {"get": {
                "summary": "An area's children (a grid's buildings), in code order",
                "parameters": [_CODE, *_PARAMS],
                "responses": {"200": _ok("AreaChildren"), "400": _ERROR, "404": _ERROR}}},
        },
        "components": {"schemas": {
            "Figures": figures,
            "Area": area,
            "AreaList": {"type": "object", "properties": {**window, "areas": {"type": "array", "items": {"$ref": "#/components/schemas/Area"}}}},
            "AreaOne": {"type": "object", "properties": {**window, "area": {"$ref": "#/components/schemas/Area"}}},
            "AreaChildren": {"type": "object", "properties": {**window, "area": {"$ref": "#/components/schemas/Area"},
                                                              "children": {"type": "array", "items": {"$ref": "#/components/schemas/Area"}}}},
            "Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
        }},
    }
