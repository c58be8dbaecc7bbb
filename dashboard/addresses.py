"""What a page's address says, read safely, and what the page writes back into it (issue 8 §2; docs/live.md).

Every page keeps its whole state in its URL (mirrored with ``history.replaceState``), so a pasted link shows
the same view. The query comes from anyone: each value here is checked against what the page offers, cut to
a bound, and anything else falls back to the page's default — never an error page. Pure functions: the
layouts call them with the choices they offer; assets/gridcc-clientside.js writes the same keys back.
"""
from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from dashboard import views

MAX_VALUE = views.MAX_VALUE  # characters of one value a page reads (a longer one is ignored)
EARLIEST = views.EARLIEST


def text(value, limit: int = MAX_VALUE) -> str | None:
    """Return a URL value as a string, or None when it is missing, repeated (a list), too long or has control
    characters."""
    if not isinstance(value, str) or not value or len(value) > limit:
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        return None
    return value


def choice(value, allowed: Iterable[str], default: str | None = None) -> str | None:
    """Return ``value`` when it is one of ``allowed``, else ``default``."""
    value = text(value)
    return value if value is not None and value in set(allowed) else default


def flag(value) -> bool:
    """Return whether a URL switch is on ("1", "true", "on")."""
    return text(value) in ("1", "true", "on")


def frozen_at(value, now: datetime) -> datetime | None:
    """Return the URL's ``as_of`` as a naive local minute when it is sane (2000-01-01 … ``now``), else None (live).

    ``value`` is the raw URL value (a repeated key arrives as a list: live); an offset, a bad date, the far past
    or the future all mean live, as on the SLA page.
    """
    value = text(value, 32)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None or not EARLIEST <= moment <= now:
        return None
    return moment.replace(second=0, microsecond=0)


def frozen_label(moment: datetime) -> str:
    """Return a frozen minute as the top bar shows it: ``2026-11-20 15:00``."""
    return f"{moment:%Y-%m-%d %H:%M}"


def frozen_attrs(value, now: datetime) -> dict:
    """Return the page root's marks of a URL ``as_of`` the server took (data-frozen, data-frozen-at: the top bar's
    badge and assets/gridcc-live.js read them: no live stream, no ticks), else {} (the page is live)."""
    moment = frozen_at(value, now)
    return {} if moment is None else {"data-frozen": "1", "data-frozen-at": frozen_label(moment)}


def day(value) -> str | None:
    """Return a URL day ``YYYY-MM-DD`` (2000 … 9999) when it is one, else None."""
    value = text(value, 10)
    if value is None or len(value) != 10:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    return value if parsed.year >= EARLIEST.year else None


# -- the overview ---------------------------------------------------------------------------------------------
OVERVIEW_DEFAULTS = {"metric": "open", "heat": False, "heat_window": "24h", "heat_class": "all", "heat_source": "all",
                     "heat_urgent": False}


def overview_state(query: Mapping, *, metrics: Iterable[str], windows: Iterable[str], classes: Iterable[str],
                   sources: Iterable[str]) -> dict:
    """Return the overview's controls from its URL query: area and building as asked (the callbacks resolve them
    in scope), metric, heat on/off, its window and filters — each one offered, else its default."""
    area, building = text(query.get("area"), 32), text(query.get("building"), 32)
    return {
        "area": area, "building": building,
        "metric": choice(query.get("metric"), metrics, OVERVIEW_DEFAULTS["metric"]),
        "heat": flag(query.get("heat")),
        "heat_window": choice(query.get("heat_window"), windows, OVERVIEW_DEFAULTS["heat_window"]),
        "heat_class": choice(query.get("heat_class"), classes, "all"),
        "heat_source": choice(query.get("heat_source"), sources, "all"),
        "heat_urgent": flag(query.get("heat_urgent")),
    }


# -- the SLA page ----------------------------------------------------------------------------------------------
def sla_state(query: Mapping, *, periods, grains, split_bys, age_bys, handling_bys, exception_bys) -> dict:
    """Return the SLA page's controls from its URL: period (a custom one with its days), grain and every split."""
    period = choice(query.get("period"), periods, periods[1])
    start, end = day(query.get("start")), day(query.get("end"))
    if period == "custom" and (start is None or end is None or start > end):
        period, start, end = periods[1], None, None
    if period != "custom":
        start = end = None
    return {"period": period, "start": start, "end": end,
            "grain": choice(query.get("grain"), grains, grains[0]),
            "split_by": choice(query.get("split_by"), split_bys, split_bys[0]),
            "age_by": choice(query.get("age_by"), age_bys, age_bys[0]),
            "handling_by": choice(query.get("handling_by"), handling_bys, handling_bys[0]),
            "exceptions_by": choice(query.get("exceptions_by"), exception_bys, exception_bys[0])}


# -- the backlog desk ----------------------------------------------------------------------------------------
# ?quick=red,soon&q=水管&sort=deadline,-age&filter={"category":["contains","水"],"age":["inRange",1,5]}
DESK_KEYS = ("quick", "q", "sort", "filter")
DESK_COND_MAX = 2  # conditions a column's filter may have (as the grid offers)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _cond_to_grid(kind: str, cond) -> dict | None:
    """Return one compact condition ``[type, a, b]`` as AG Grid's (checked again by backlog.clean_filter_model)."""
    if not isinstance(cond, list) or not 1 <= len(cond) <= 3 or not isinstance(cond[0], str):
        return None
    op, args = cond[0], cond[1:]
    if kind == "text":
        item = {"filterType": "text", "type": op}
        if args:
            item["filter"] = args[0]
        return item
    if kind == "number":
        item = {"filterType": "number", "type": op}
        for key, value in zip(("filter", "filterTo"), args):
            if _number(value):
                item[key] = value
        return item
    item = {"filterType": "date", "type": op}
    for key, value in zip(("dateFrom", "dateTo"), args):
        found = day(value)
        if found:
            item[key] = f"{found} 00:00:00"
    return item


def _cond_from_grid(cond: Mapping) -> list:
    """Return a clean AG Grid condition as the compact ``[type, a, b]``."""
    kind, op = cond.get("filterType"), cond["type"]
    if kind == "text":
        return [op] if op in ("blank", "notBlank") else [op, cond.get("filter", "")]
    if kind == "number":
        values = [cond[k] for k in ("filter", "filterTo") if cond.get(k) is not None]
        return [op] + [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    return [op] + [str(cond[k])[:10] for k in ("dateFrom", "dateTo") if cond.get(k)]


def desk_filter_from_url(value) -> dict:
    """Return the AG Grid filter model of a URL's compact ``filter`` (JSON), cleaned; {} for anything bad."""
    from dashboard import backlog

    value = text(value)
    if value is None:
        return {}
    try:
        compact = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(compact, dict):
        return {}
    model = {}
    for col, spec in list(compact.items())[: len(backlog.COLUMNS)]:
        if col not in backlog.COLUMNS or not isinstance(spec, list) or not spec:
            continue
        kind = backlog.COLUMNS[col][0]
        if spec[0] in ("AND", "OR"):
            conds = [c for c in (_cond_to_grid(kind, c) for c in spec[1:1 + DESK_COND_MAX]) if c]
            if conds:
                model[col] = {"filterType": conds[0]["filterType"], "operator": spec[0], "conditions": conds}
        elif (cond := _cond_to_grid(kind, spec)) is not None:
            model[col] = cond
    return backlog.clean_filter_model(model)


def desk_filter_to_url(model) -> str | None:
    """Return the compact URL form of a filter model, at most MAX_VALUE characters (columns that do not fit are
    left out, the last ones first); None when nothing is filtered."""
    from dashboard import backlog

    clean = backlog.clean_filter_model(model)
    compact = {}
    for col, spec in clean.items():
        if "conditions" in spec:
            compact[col] = [spec["operator"], *[_cond_from_grid(c) for c in spec["conditions"]]]
        else:
            compact[col] = _cond_from_grid(spec)
    while compact:
        encoded = json.dumps(compact, ensure_ascii=False, separators=(",", ":"))
        if len(encoded) <= MAX_VALUE:
            return encoded
        compact.pop(next(reversed(compact)))
    return None


def desk_sort_from_url(value) -> tuple[tuple[str, str], ...]:
    """Return the (column, asc|desc) pairs of ``sort=deadline,-age``: known columns, each once."""
    from dashboard import backlog

    value = text(value)
    out, seen = [], set()
    for part in (value or "").split(",")[: len(backlog.COLUMNS)]:
        col, direction = (part[1:], "desc") if part.startswith("-") else (part, "asc")
        if col in backlog.COLUMNS and col not in seen:
            seen.add(col)
            out.append((col, direction))
    return tuple(out)


def desk_from_url(query: Mapping) -> dict | None:
    """Return the desk's view from its URL — {quick, search, sort, filter} — or None when the URL says nothing
    about it (the user's saved view then applies)."""
    from dashboard import backlog

    if not any(key in query for key in DESK_KEYS):
        return None
    quick = text(query.get("quick"))
    search = text(query.get("q"))
    return {"quick": list(backlog.parse_quick((quick or "").split(","))),
            "search": search[: backlog.MAX_SEARCH] if search else "",
            "sort": desk_sort_from_url(query.get("sort")),
            "filter": desk_filter_from_url(query.get("filter"))}


def desk_columns(columns: list[dict], sort: Iterable[tuple[str, str]]) -> list[dict]:
    """Return a full column state (every column, in the saved order) with the URL's sort in place of the saved one."""
    from dashboard import backlog

    order = {col: i for i, (col, _) in enumerate(sort)}
    directions = dict(sort)
    saved = {c["colId"]: c for c in columns}
    ids = [c["colId"] for c in columns] + [col for col in backlog.COLUMNS if col not in saved]
    out = []
    for col in ids:
        item = dict(saved.get(col, {"colId": col, "hide": False, "pinned": None}))
        item["sort"] = directions.get(col)
        item["sortIndex"] = order.get(col)
        out.append(item)
    return out


def desk_to_url(columns, filters, search, quick) -> dict:
    """Return the desk's URL keys for what the grid shows: {key: value or None (absent)}."""
    from dashboard import backlog

    sort = backlog.parse_sort(backlog.clean_columns(columns))
    query = {
        "quick": ",".join(backlog.parse_quick(quick)) or None,
        "q": (search.strip()[: backlog.MAX_SEARCH] or None) if isinstance(search, str) else None,
        "sort": ",".join(("-" if d == "desc" else "") + c for c, d in sort) or None,
        "filter": desk_filter_to_url(filters),
    }
    return query
