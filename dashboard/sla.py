"""The SLA page's pure helpers: traffic lights on query rows, stage limits, and the selectors behind figures.

A selector names the cases behind one figure (docs/sla.md): it arrives from a click or a URL as a mapping of
strings, and ``parse_selector`` turns it into a ``queries.sla.Selector`` or refuses it with a reason.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import numpy as np

from dashboard.lights import lights as lights_of
from dashboard.lights import used_shares
from dashboard.timeline import STAGE_LIMITS
from queries.sla import (
    AGE_BUCKETS, AGE_SPLITS, CLOSE_PARTS, EXCEPTION_SPLITS, FUNNEL_STAGES, GRAINS, HANDLE_PARTS, HANDLING_SPLITS,
    HOUR_BIN_KEYS, LIGHT_KEYS, SPLITS, CASE_PAGE_LIMIT, CaseRow, Selector, bucket_start,
)

FIGURES = ("handle", "close", "overdue_open", "age", "light", "funnel", "handling", "extension", "return",
           "rework", "void")
SELECTOR_FIELDS = ("figure", "part", "grain", "bucket", "by", "key", "stage", "bin")
MAX_FIELD = 40
# What a rate's parts are called in a selector besides their own names.
_ALIASES = {"numerator": "on_time", "denominator": "all"}


def stage_limits() -> dict[str, tuple[float, str]]:
    """Return the funnel's stage limits as (value, unit), from dashboard/timeline.STAGE_LIMITS."""
    return {key: (limit.value, limit.unit) for key, limit in STAGE_LIMITS.items()}


def clock_lights(calendar, clocks: Mapping[str, list], as_of: datetime) -> np.ndarray:
    """Return each open case's light (green / yellow / red, None: no clock yet) from ``queries.sla.open_clocks``."""
    if not clocks["id"]:
        return np.array([], dtype=object)
    shares = used_shares(calendar, started=clocks["started"], deadline=clocks["deadline"], handled=clocks["handled"],
                         unit=clocks["unit"], as_of=as_of)
    return lights_of(shares)


MAX_OFFSET = 1_000_000


def check_page(offset, limit) -> None:
    """Refuse a page that is not whole numbers, 0 ≤ offset ≤ MAX_OFFSET and 1 ≤ limit ≤ CASE_PAGE_LIMIT."""
    for name, value, low, high in (("offset", offset, 0, MAX_OFFSET), ("limit", limit, 1, CASE_PAGE_LIMIT)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"'{name}' must be a whole number from {low} to {high}")


def case_rows(calendar, rows, as_of: datetime) -> tuple[CaseRow, ...]:
    """Return CaseRows of ``queries.sla.case_rows`` rows, the open ones lit at ``as_of`` (closed: no light)."""
    if not rows:
        return ()
    open_ = [r for r in rows if not r.closed and r.status not in ("closed", "void")]
    lit = dict(zip((r.id for r in open_), clock_lights(calendar, {
        "id": [r.id for r in open_], "started": [r.started for r in open_], "deadline": [r.deadline_at for r in open_],
        "handled": [r.handled_at if r.handled_at is not None and r.handled_at <= as_of else None for r in open_],
        "unit": [r.unit or "hours" for r in open_]}, as_of))) if open_ else {}
    return tuple(CaseRow(id=int(r.id), category=r.category or "", place=" · ".join(p for p in (r.community, r.grid) if p),
                         department=r.department, status=r.status, reported_at=r.reported_at,
                         deadline_at=r.deadline_at, light=lit.get(r.id)) for r in rows)


def _text(selector: Mapping, name: str) -> str | None:
    value = selector.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"selector field '{name}' must be a string")
    if len(value) > MAX_FIELD:
        raise ValueError(f"selector field '{name}' is too long")
    return value


def _one_of(name: str, value: str | None, allowed, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ValueError(f"this selector needs '{name}' (one of {', '.join(allowed)})")
        return None
    if value not in allowed:
        raise ValueError(f"selector field '{name}' must be one of {', '.join(allowed)}, not {value!r}")
    return value


def parse_selector(selector: Mapping) -> Selector:
    """Return the Selector of a mapping of strings (a click's or a URL's), or raise ValueError saying what is wrong."""
    if not isinstance(selector, Mapping):
        raise ValueError("a selector is an object of fields: figure, part, grain, bucket, by, key, stage, bin")
    unknown = sorted(str(k)[:MAX_FIELD] for k in selector if k not in SELECTOR_FIELDS)
    if unknown:
        raise ValueError(f"unknown selector field(s): {', '.join(unknown)}")
    figure = _one_of("figure", _text(selector, "figure"), FIGURES, required=True)
    part, grain, by, key = (_text(selector, n) for n in ("part", "grain", "by", "key"))
    stage, bin_, bucket_text = _text(selector, "stage"), _text(selector, "bin"), _text(selector, "bucket")
    if key is not None and not (key.replace("-", "").replace("_", "").isalnum() and key.isascii()):
        raise ValueError("selector field 'key' must be a code (letters, digits, '-' and '_')")
    if key is not None and by is None and figure != "light":
        raise ValueError("selector field 'key' needs 'by'")
    bucket = None
    if figure in ("handle", "close"):
        part = _one_of("part", _ALIASES.get(part, part) or "all",
                       HANDLE_PARTS if figure == "handle" else CLOSE_PARTS)
        by = _one_of("by", by, SPLITS)
        grain = _one_of("grain", grain, GRAINS)
        if (grain is None) != (bucket_text is None):
            raise ValueError("selector fields 'grain' and 'bucket' go together")
        if bucket_text is not None:
            try:
                bucket = date.fromisoformat(bucket_text)
            except ValueError:
                raise ValueError("selector field 'bucket' must be a date, e.g. 2026-11-03") from None
            if bucket_start(bucket, grain) != bucket:
                raise ValueError(f"selector field 'bucket' must be the first day of a {grain}")
        return Selector(figure, part, grain, bucket, by, key)
    if grain is not None:
        raise ValueError(f"the {figure} figure takes no 'grain'")
    if bucket_text is not None:  # an age bucket or an hour bin may come as 'bucket' too
        if bin_ is not None or figure not in ("age", "handling"):
            raise ValueError(f"the {figure} figure takes no 'bucket'" if bin_ is None else "give 'bin' or 'bucket', not both")
        bin_ = bucket_text
    if figure == "overdue_open":
        return Selector(figure, "all", by=_one_of("by", by, SPLITS), key=key)
    if figure == "age":
        return Selector(figure, "all", by=_one_of("by", by, AGE_SPLITS), key=key,
                        bin=_one_of("bin", bin_, AGE_BUCKETS))
    if figure == "light":
        return Selector(figure, "all", key=_one_of("key", key, LIGHT_KEYS, required=True))
    if figure == "funnel":
        return Selector(figure, _one_of("part", part or "reached", ("reached", "over_limit")),
                        stage=_one_of("stage", stage, FUNNEL_STAGES, required=True))
    if figure == "handling":
        return Selector(figure, "all", by=_one_of("by", by, HANDLING_SPLITS), key=key,
                        bin=_one_of("bin", bin_, HOUR_BIN_KEYS))
    part = _one_of("part", part or "denominator", ("numerator", "denominator"))
    if figure == "void":
        return Selector(figure, part, by=_one_of("by", by, ("area",)), key=key)
    return Selector(figure, part, by=_one_of("by", by, EXCEPTION_SPLITS), key=key)


def selector_dict(selector: Selector) -> dict[str, str]:
    """Return a selector as the mapping of strings ``parse_selector`` reads (empty fields left out)."""
    out = {}
    for name in SELECTOR_FIELDS:
        value = getattr(selector, name)
        if value is not None and not (name == "part" and value == "all"):
            out[name] = value.isoformat() if isinstance(value, date) else str(value)
    return out


__all__ = ["FIGURES", "SELECTOR_FIELDS", "case_rows", "check_page", "clock_lights", "parse_selector", "selector_dict",
           "stage_limits"]
