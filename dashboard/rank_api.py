"""The rankings as JSON (issue 7 §3): ``GET /api/v1/rankings`` and the cases behind any count,
``GET /api/v1/rankings/cases``. docs/rankings.md and docs/api.md describe them; docs/metrics.md every count.

The same query (``level``, ``scheme``, ``period``, ``area``, ``as_of``, ``compare``) drives the page, this API, the
Excel export and the print view: ``parse_query`` reads it once for all four. A bad value is a 400 naming it; an area
outside the caller's scope (or unknown) a 404 — the same answer, so a code's existence does not leak.
"""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from urllib.parse import urlencode

import flask

from dashboard import context, data, rank_figures, rank_service
from dashboard.api import BadRequest, _iso, _parse_instant, bp
from dashboard.rankings import INDICATORS, period_label

PARAMS = ("level", "scheme", "period", "area", "as_of", "compare")
MAX_TEXT = 40
MAX_NUMBER_TEXT = 9
CASE_LIMIT = 200
LEVELS = rank_figures.LEVELS


@dataclasses.dataclass(frozen=True)
class Query:
    """One ranking request: what the page's URL, the API, the export and the print view carry."""

    level: str
    scheme: str | None
    period: str
    area: str | None
    as_of: datetime | None  # naive local; None: now
    compare: str | None

    def args(self) -> dict:
        """Return the keyword arguments of rank_service.ranking."""
        return {"level": self.level, "scheme": self.scheme, "area": self.area, "period": self.period,
                "as_of": self.as_of}

    def url_args(self) -> dict:
        """Return the query as URL parameters (as_of with the city's offset), empty values left out."""
        out = {"level": self.level, "scheme": self.scheme, "period": self.period, "area": self.area,
               "as_of": None if self.as_of is None else _iso(self.as_of), "compare": self.compare}
        return {k: v for k, v in out.items() if v}


def _text(args, name: str) -> str | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_TEXT:
        raise BadRequest(f"'{name}' is too long ({len(value)} characters; at most {MAX_TEXT})")
    if not value.isprintable() or not value.isascii():
        raise BadRequest(f"'{name}' holds characters it never has")
    return value


def default_level(scope) -> str | None:
    """Return the level a ranking shows first: the highest the scope may rank (city: districts)."""
    from queries.rankings import levels_for

    allowed = levels_for(scope)
    return next((lv for lv in LEVELS if lv in allowed), None)


def parse_query(args, scope, today: date | None = None) -> Query:
    """Return the ranking query of request ``args``; BadRequest naming the parameter at fault.

    Defaults: ``level`` the highest the caller may rank, ``period`` last month, ``area`` the caller's own,
    ``as_of`` now. Whether level and scheme fit the scope and the period parses is rank_service's to say (400).
    """
    level = _text(args, "level") or default_level(scope)
    if level is None:
        raise BadRequest("your scope has no level to rank")
    if level not in LEVELS:
        raise BadRequest(f"'level' must be one of {', '.join(LEVELS)}")
    area = _text(args, "area")
    if area is not None and not (area.isdigit() and 6 <= len(area) <= 15):
        raise BadRequest("'area' is an area's code: 6 to 15 digits")
    as_of = _parse_instant("as_of", args.get("as_of"), None) if args.get("as_of") else None
    now = context.current().settings.now()
    if as_of is not None and as_of > now:
        raise BadRequest("'as_of' lies in the future")
    day = (as_of or now).date() if today is None else today
    return Query(level=level, scheme=_text(args, "scheme"), period=_text(args, "period") or
                 rank_figures.default_period("month", day), area=area, as_of=as_of, compare=_text(args, "compare"))


def fetch(scope, query: Query):
    """Return (ranking, other ranking or None) of ``query``; ValueError (400) or LookupError (404) from the service."""
    if query.compare:
        return rank_service.compare(scope, **query.args(), other=query.compare)
    return rank_service.ranking(scope, **query.args()), None


def _num(value):
    return None if value is None else round(value, 6)


def _period_json(p) -> dict:
    return {"key": p.key, "kind": p.kind, "label": period_label(p, "zh"), "label_en": period_label(p, "en"),
            "from": _iso(p.since), "to": _iso(p.until)}


def _row_json(row) -> dict:
    return {
        "code": row.code, "name": row.name, "parent_code": row.parent_code, "parent_name": row.parent_name,
        "households": row.households, "grids": row.grids, "volume": row.volume,
        "score": _num(row.score), "grade": row.grade, "rank": row.rank, "apart": row.apart,
        "prev_rank": row.prev_rank, "change": row.change, "spark": [_num(v) for v in row.spark],
        "counts": {k: int(v) for k, v in row.counts.items()},
        "indicators": {c.indicator: {"numerator": c.numerator, "denominator": c.denominator, "value": _num(c.value),
                                     "weight": c.weight, "points": _num(c.points), "lost": _num(c.lost)}
                       for c in row.cells},
    }


MAX_ROWS = 10_000  # a page of rows (a city's 5,000 grid workers fit in one; ``offset`` and ``limit`` page them)


def ranking_json(r, *, offset: int = 0, limit: int = MAX_ROWS) -> dict:
    """Return a ranking as the API sends it: header, items and weights, and rows[offset:offset + limit] in display
    order with every count; ``total_rows`` says how many there are."""
    return {
        "level": r.level, "scheme": r.scheme,
        "area": {"code": r.area.code, "name": r.area.name},
        "period": _period_json(r.period), "as_of": _iso(r.as_of), "cutoff": _iso(r.cutoff),
        "provisional": r.provisional, "config_version": r.config_label, "min_volume": r.min_volume,
        "items": [{"indicator": i.indicator, "weight": i.weight,
                   "numerator": [{"count": n, "factor": f} for n, f in INDICATORS[i.indicator].numerator],
                   "denominator": INDICATORS[i.indicator].denominator,
                   "lower_is_better": INDICATORS[i.indicator].lower_is_better} for i in r.items],
        "history": [p.key for p in getattr(r, "history", ())],
        "total_rows": len(r.rows), "offset": offset,
        "rows": [_row_json(row) for row in r.rows[offset:offset + limit]],
    }


def _compare_json(a, b) -> dict:
    pairs = rank_figures.compare_rows(a.rows, b.rows, "en")
    return {"period": _period_json(b.period), "cutoff": _iso(b.cutoff), "provisional": b.provisional,
            "config_version": b.config_label,
            "rows": [{"code": x.code, "score": _num(x.score), "rank": x.rank, "apart": x.apart, "volume": x.volume}
                     for x in b.rows],
            # Δ of this period against the other: score A − B; rank B − A (positive: moved up).
            "delta": [{"code": p["code"], "score": p["delta_value"], "rank": p["move_value"]} for p in pairs]}


def _not_found(error: LookupError):
    flask.abort(404, description=str(error).strip("'\"") or "no such area here")


@bp.get("/rankings")
def rankings():
    """Return one ranked table (and, with ``compare``, the other period beside it)."""
    scope = data.request_scope()
    query = parse_query(flask.request.args, scope)
    offset = _whole("offset", 0, 1_000_000)
    limit = _whole("limit", MAX_ROWS, MAX_ROWS)
    if limit < 1:
        raise BadRequest("'limit' must be at least 1")
    try:
        a, b = fetch(scope, query)
    except LookupError as error:
        _not_found(error)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    body = ranking_json(a, offset=offset, limit=limit)
    args = {k: v for k, v in query.url_args().items() if k != "compare"}
    body["cases_url"] = flask.url_for("api.ranking_cases") + "?" + urlencode(args)
    if b is not None:
        body["compare"] = _compare_json(a, b)
    response = flask.jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _whole(name: str, default: int, most: int) -> int:
    text = flask.request.args.get(name)
    if text is None or text == "":
        return default
    if len(text) > MAX_NUMBER_TEXT or not (text.isascii() and text.isdigit()):
        raise BadRequest(f"'{name}' must be a whole number")
    value = int(text)
    if value > most:
        raise BadRequest(f"'{name}' may be at most {most}")
    return value


def case_json(row) -> dict:
    """Return a case (or a patrol / visit row) with its times in ISO 8601 with the city's offset."""
    found = dataclasses.asdict(row) if dataclasses.is_dataclass(row) else dict(row._mapping)
    return {k: _iso(v) if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v
            for k, v in found.items()}


@bp.get("/rankings/cases")
def ranking_cases():
    """Return one page of the cases (or field rows) behind one count of one unit."""
    scope = data.request_scope()
    query = parse_query(flask.request.args, scope)
    unit, count = _text(flask.request.args, "unit"), _text(flask.request.args, "count")
    if unit is None or count is None:
        raise BadRequest("'unit' (a unit's code) and 'count' (e.g. overdue_open) are required")
    offset, limit = _whole("offset", 0, 10 ** 8), _whole("limit", 50, CASE_LIMIT)
    if limit < 1:
        raise BadRequest("'limit' must be at least 1")
    try:
        total, rows = rank_service.case_page(scope, **query.args(), unit=unit, count=count, offset=offset,
                                             limit=limit)
    except LookupError as error:
        _not_found(error)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    from queries.rankings import COUNT_SOURCES

    response = flask.jsonify({"level": query.level, "period": query.period, "unit": unit, "count": count,
                              "source": COUNT_SOURCES.get(count), "offset": offset, "limit": limit, "total": total,
                              "cases": [case_json(r) for r in rows]})
    response.headers["Cache-Control"] = "no-store"
    return response


def openapi_paths() -> dict:
    """Return the OpenAPI description of the two routes (dashboard/openapi.py includes it)."""
    text = {"type": "string", "maxLength": MAX_TEXT}
    query = [
        {"name": "level", "in": "query", "schema": {"type": "string", "enum": list(LEVELS)},
         "description": "What to rank. Default: the highest level the caller may rank (a city: districts). A scope "
                        "ranks only levels below its own; a department only departments (itself)."},
        {"name": "scheme", "in": "query", "schema": {"type": "string", "enum": ["worker", "handling", "area",
                                                                                "hotline"]},
         "description": "The assessment scheme (考核方案). Default: the level's (district area, street handling, …)."},
        {"name": "period", "in": "query", "schema": {**text, "examples": ["2026-10", "2026-Q4", "2026",
                                                                          "2026-10-01..2026-10-15"]},
         "description": "A month, quarter, year or inclusive range of at most 366 days. Default: last month."},
        {"name": "area", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{6,15}$"},
         "description": "Rank the units inside this area. Default: the caller's own area."},
        {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date-time", "maxLength": 40},
         "description": "Count as of this instant (ISO 8601 with an offset; not in the future). Default: now. A "
                        "frozen month answers from its frozen counts once as_of is past its freezing."},
    ]
    rows_page = [
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
         "description": "Rows to skip, in display order (default 0); the answer's total_rows says how many there are."},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
         "description": f"Rows to send (default and most {MAX_ROWS:,})."},
    ]
    cell = {"type": "object", "properties": {
        "numerator": {"type": "number"}, "denominator": {"type": "integer"},
        "value": {"type": ["number", "null"], "description": "numerator / denominator (0–1); null when 0/0"},
        "weight": {"type": "number"},
        "points": {"type": ["number", "null"], "description": "points contributed (they sum to the score); null: "
                                                               "not counted (weight 0 or nothing to count)"},
        "lost": {"type": ["number", "null"]}}}
    row = {"type": "object", "properties": {
        "code": {"type": "string", "description": "area or department code; a grid worker's id"},
        "name": {"type": "string"}, "parent_code": {"type": ["string", "null"]},
        "parent_name": {"type": ["string", "null"]}, "households": {"type": "integer"}, "grids": {"type": "integer"},
        "volume": {"type": "integer"}, "score": {"type": ["number", "null"], "description": "0–100, 2 decimals"},
        "grade": {"type": ["string", "null"]}, "rank": {"type": ["integer", "null"]},
        "apart": {"type": "boolean", "description": "below the minimum volume: ranked in its own sequence"},
        "prev_rank": {"type": ["integer", "null"]},
        "change": {"type": ["integer", "null"], "description": "previous rank − rank (positive: moved up)"},
        "spark": {"type": "array", "items": {"type": ["number", "null"]},
                  "description": "scores of the 12 periods ending with this one, oldest first (`history`)"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                   "description": "every count of docs/metrics.md for the unit and period"},
        "indicators": {"type": "object", "additionalProperties": cell}}}
    errors = {"400": {"description": "A bad parameter, named in the message", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}},
              "401": {"description": "No valid API token or session"},
              "404": {"description": "No such area (or unit) in the caller's scope", "content": {"application/json": {
                  "schema": {"$ref": "#/components/schemas/Error"}}}}}
    return {
        "/api/v1/rankings": {"get": {
            "tags": ["rankings"], "summary": "One ranked table: every unit's counts, indicators, points, score, rank",
            "description": "docs/rankings.md; every count and indicator is defined in docs/metrics.md. Ties: the "
                           "score to 2 decimals, then volume (more first), then code. `provisional`: a month of the "
                           "period is not frozen yet (暂定). With `compare`, `compare` holds the other period's "
                           "scores and ranks and the Δ per unit.",
            "parameters": [*query, *rows_page, {"name": "compare", "in": "query", "schema": text,
                                    "description": "Another period to set beside this one."}],
            "security": [{"bearerAuth": []}, {"sessionCookie": []}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["level", "scheme", "area", "period", "as_of", "cutoff", "provisional", "config_version",
                             "min_volume", "items", "rows"],
                "properties": {
                    "level": {"type": "string"}, "scheme": {"type": "string"},
                    "area": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
                    "period": {"type": "object", "properties": {
                        "key": {"type": "string"}, "kind": {"type": "string"}, "label": {"type": "string"},
                        "label_en": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"}}},
                    "as_of": {"type": "string"},
                    "cutoff": {"type": "string", "description": "what the counts are as of (数据截至)"},
                    "provisional": {"type": "boolean"}, "config_version": {"type": "string"},
                    "min_volume": {"type": "integer"},
                    "items": {"type": "array", "items": {"type": "object", "properties": {
                        "indicator": {"type": "string"}, "weight": {"type": "number"},
                        "numerator": {"type": "array", "items": {"type": "object"}},
                        "denominator": {"type": "string"}, "lower_is_better": {"type": "boolean"}}}},
                    "history": {"type": "array", "items": {"type": "string"}},
                    "total_rows": {"type": "integer", "description": "rows in the whole ranking"},
                    "offset": {"type": "integer"},
                    "rows": {"type": "array", "items": row},
                    "cases_url": {"type": "string", "description": "add unit= and count= to list the cases"},
                    "compare": {"type": "object"}}}}}}, **errors}}},
        "/api/v1/rankings/cases": {"get": {
            "tags": ["rankings"], "summary": "The cases (or patrol / visit rows) behind one count of one unit",
            "description": "Oldest first, no personal data; the events as /api/v1/sla/cases lists them, or for "
                           "patrol_days, buildings_visited and visits the field rows.",
            "parameters": [*query,
                           {"name": "unit", "in": "query", "required": True, "schema": text},
                           {"name": "count", "in": "query", "required": True, "schema": text,
                            "description": "a count of docs/metrics.md, e.g. overdue_open"},
                           {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                        "default": 0}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                       "maximum": CASE_LIMIT, "default": 50}}],
            "security": [{"bearerAuth": []}, {"sessionCookie": []}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "required": ["total", "cases"], "properties": {
                    "unit": {"type": "string"}, "count": {"type": "string"}, "source": {"type": "string"},
                    "offset": {"type": "integer"}, "limit": {"type": "integer"}, "total": {"type": "integer"},
                    "cases": {"type": "array", "items": {"type": "object"}}}}}}}, **errors}}},
    }
