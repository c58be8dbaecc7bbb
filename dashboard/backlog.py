"""The backlog desk's rows: the cached frame of open cases → one page for AG Grid's infinite row model. Pure.

``table(frame, lang)`` adds the text a person reads and searches (place, stage, flags), once per data
version and language. ``view(...)`` applies the quick filters, the search, the grid's filter model and
its sort model to every case in scope; ``page(...)`` cuts the rows AG Grid asked for and lights them.
Everything a browser sends (sort and filter models, search text, row numbers) is untrusted: unknown
columns and operators are ignored, texts are cut to a length, row numbers are clamped.
Times are naive local wall-clock times; countdowns and ages are wall-clock minutes to/from ``as_of``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from dashboard.i18n import CATALOGUE, normalise, status_name, t
from dashboard.lights import lights, used_shares
from queries.schema import STATUSES

PAGE_MAX = 500  # rows one request may ask for (AG Grid asks for a block of 100)
MAX_SEARCH = 100  # characters of the search box that count
MAX_FILTER_TEXT = 100
SOON_MINUTES = 120  # 2小时内超期
QUICK = ("red", "soon", "supervised", "extension", "whistled")

# column id → (filter kind, what it sorts by). Every column the grid shows; nothing else is accepted.
COLUMNS: dict[str, tuple[str, str]] = {
    "id": ("number", "id"),
    "category": ("text", "category_rank"),
    "place": ("text", "place_rank"),
    "department": ("text", "department_rank"),
    "stage": ("text", "stage_order"),
    "reported": ("date", "reported_at"),
    "deadline": ("date", "deadline_at"),
    "countdown": ("number", "deadline_at"),
    "light": ("text", "share"),
    "age": ("number", "age_order"),
    "flags": ("text", "flags_rank"),
}
# Text columns sort by a rank worked out once per frame (code-point order), not by comparing strings per request.
RANKED = {"category_rank": "category_text", "place_rank": "place", "department_rank": "department_text",
          "flags_rank": "flags"}
DEFAULT_VISIBLE = tuple(COLUMNS)
TEXT_OPS = ("contains", "notContains", "equals", "notEqual", "startsWith", "endsWith", "blank", "notBlank")
NUMBER_OPS = ("equals", "notEqual", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "inRange",
              "blank", "notBlank")


def _text(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str)


def _flag_texts(frame: pd.DataFrame, lang: str) -> list[str]:
    """Return each case's flags as the desk reads them ("催办×2 · 督办 11-21 09:00"), "" for none.

    Only the cases with a mark are formatted one by one (a few in ten); the columns are read once.
    """
    n = len(frame)
    urged = frame["urge_count"].to_numpy()
    supervised = frame["supervised_until"].dt.strftime("%m-%d %H:%M").to_numpy(dtype=object)
    asked_at = frame["extension_requested_at"].notna().to_numpy()
    asked = frame["extension_requested_until"].dt.strftime("%m-%d %H:%M").to_numpy(dtype=object)
    whistled = frame["whistled_at"].notna().to_numpy()
    rework = frame["rework_count"].to_numpy()
    extended = frame["extension_count"].to_numpy()
    returned = frame["return_count"].to_numpy()
    has_supervision = frame["supervised_until"].notna().to_numpy()
    marked = (urged > 0) | has_supervision | asked_at | whistled | (rework > 0) | (extended > 0) | (returned > 0)
    out = [""] * n
    labels = {key: _label(key, lang) for key in (
        "desk.flag.urged", "desk.flag.supervised", "desk.flag.extension_asked", "desk.flag.whistled",
        "desk.flag.rework", "desk.flag.extended", "desk.flag.returned")}
    for i in np.flatnonzero(marked):
        parts = []
        if urged[i]:
            parts.append(labels["desk.flag.urged"].format(n=urged[i]))
        if has_supervision[i]:
            parts.append(labels["desk.flag.supervised"].format(until=supervised[i]))
        if asked_at[i]:
            parts.append(labels["desk.flag.extension_asked"].format(until=asked[i] if isinstance(asked[i], str) else ""))
        if whistled[i]:
            parts.append(labels["desk.flag.whistled"])
        if rework[i]:
            parts.append(labels["desk.flag.rework"].format(n=rework[i]))
        if extended[i]:
            parts.append(labels["desk.flag.extended"].format(n=extended[i]))
        if returned[i]:
            parts.append(labels["desk.flag.returned"].format(n=returned[i]))
        out[i] = " · ".join(parts)
    return out


def _label(key: str, lang: str) -> str:
    """Return the label ``key`` in ``lang`` unfilled (its {fields} are filled per case)."""
    zh, en = CATALOGUE[key]
    return en if normalise(lang) == "en" else zh


def table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return ``frame`` (queries.backlog.open_cases) with the texts the desk shows and searches, in ``lang``."""
    out = frame.copy()
    out["category_text"] = _text(out["category"]).where(out["category"].notna(), out["category_code"])
    out["place"] = _text(out["community"]) + " / " + _text(out["grid"])
    out["department_text"] = _text(out["department"]).where(out["department"].notna(), _text(out["department_code"]))
    order = {status: i for i, status in enumerate(STATUSES)}
    out["stage_order"] = out["status"].map(order).fillna(len(STATUSES)).astype(int)
    stages = {status: status_name(status, lang) for status in out["status"].unique()}
    out["stage"] = out["status"].map(stages)
    out["flags"] = _flag_texts(out, lang)
    out["haystack"] = (out["id"].astype(str) + " " + out["category_text"] + " " + out["place"] + " "
                       + out["department_text"] + " " + out["stage"] + " " + out["flags"]).str.lower()
    # Kept in the default order (the deadline, most overdue first; none last; then id), so the usual
    # request — no sort chosen — is cut from it without sorting.
    return _default_order(out)


def _default_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` in the default order with its text ranks worked out."""
    frame = frame.sort_values(["deadline_at", "id"], na_position="last", kind="mergesort").reset_index(drop=True)
    for rank, column in RANKED.items():
        frame[rank] = pd.factorize(frame[column].to_numpy(dtype=object), sort=True)[0] if len(frame) else 0
    return frame


def replace_grids(prepared: pd.DataFrame, fresh: pd.DataFrame, grids) -> pd.DataFrame:
    """Return ``prepared`` with the rows of ``grids`` replaced by ``fresh`` (both from ``table``), in the default order."""
    kept = prepared[~prepared["grid_code"].isin(list(grids))]
    if not len(fresh):
        return kept.reset_index(drop=True)
    return _default_order(pd.concat([kept, fresh], ignore_index=True))


@dataclass(frozen=True)
class Request:
    """What AG Grid asked for, made safe: rows [start, end), its sort and filter models."""

    start: int = 0
    end: int = 100
    sort: tuple[tuple[str, str], ...] = ()
    filters: tuple[tuple[str, dict], ...] = ()


def _int(value, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return default
    return int(value)


def parse_sort(model) -> tuple[tuple[str, str], ...]:
    """Return (column, asc|desc) pairs of an AG Grid sort model (or column state), known columns only."""
    if not isinstance(model, list):
        return ()
    ranked = []
    for i, item in enumerate(model[: len(COLUMNS)]):
        if not isinstance(item, dict):
            continue
        col = item.get("colId")
        direction = item.get("sort")
        if col in COLUMNS and direction in ("asc", "desc"):
            index = item.get("sortIndex")
            ranked.append((_int(index, i), col, direction))
    ranked.sort(key=lambda r: r[0])
    seen, out = set(), []
    for _, col, direction in ranked:
        if col not in seen:
            seen.add(col)
            out.append((col, direction))
    return tuple(out)


def _clean_condition(kind: str, cond) -> dict | None:
    if not isinstance(cond, dict):
        return None
    op = cond.get("type")
    if kind == "text":
        value = cond.get("filter")
        if op not in TEXT_OPS or (op not in ("blank", "notBlank") and not isinstance(value, str)):
            return None
        return {"type": op, "filter": (value or "")[:MAX_FILTER_TEXT]}
    if kind == "number":
        if op not in NUMBER_OPS:
            return None
        a, b = cond.get("filter"), cond.get("filterTo")
        ok = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)  # noqa: E731
        if op in ("blank", "notBlank"):
            return {"type": op}
        if not ok(a) or (op == "inRange" and not ok(b)):
            return None
        return {"type": op, "filter": float(a), "filterTo": float(b) if ok(b) else None}
    # date: AG Grid sends "YYYY-MM-DD hh:mm:ss"
    if op not in ("equals", "notEqual", "lessThan", "greaterThan", "inRange", "blank", "notBlank"):
        return None
    if op in ("blank", "notBlank"):
        return {"type": op}
    days = []
    for key in ("dateFrom", "dateTo") if op == "inRange" else ("dateFrom",):
        value = cond.get(key)
        if not isinstance(value, str) or len(value) > 32:
            return None
        try:
            days.append(pd.Timestamp(datetime.fromisoformat(value)).normalize())
        except ValueError:
            return None
    return {"type": op, "days": days}


def parse_filters(model) -> tuple[tuple[str, dict], ...]:
    """Return (column, clean model) of an AG Grid filter model: known columns, known operators, cut texts."""
    if not isinstance(model, dict):
        return ()
    out = []
    for col, spec in list(model.items())[: len(COLUMNS)]:
        if col not in COLUMNS or not isinstance(spec, dict):
            continue
        kind = COLUMNS[col][0]
        if isinstance(spec.get("conditions"), list):
            conds = [c for c in (_clean_condition(kind, c) for c in spec["conditions"][:2]) if c]
            if conds:
                out.append((col, {"operator": "OR" if spec.get("operator") == "OR" else "AND", "conditions": conds}))
            continue
        cond = _clean_condition(kind, spec)
        if cond:
            out.append((col, {"operator": "AND", "conditions": [cond]}))
    return tuple(out)


def parse_request(request) -> Request:
    """Return AG Grid's getRowsRequest made safe: 0 ≤ start, start < end ≤ start + PAGE_MAX."""
    request = request if isinstance(request, dict) else {}
    start = max(0, _int(request.get("startRow"), 0))
    end = _int(request.get("endRow"), start + 100)
    end = min(max(end, start + 1), start + PAGE_MAX)
    return Request(start, end, parse_sort(request.get("sortModel")), parse_filters(request.get("filterModel")))


def parse_quick(values) -> tuple[str, ...]:
    """Return the known quick filters of a (forgeable) checklist value."""
    return tuple(q for q in QUICK if isinstance(values, list) and q in values)


def parse_search(text) -> str:
    """Return the search text, stripped, lower-case and at most MAX_SEARCH characters ("" when not text)."""
    return text.strip()[:MAX_SEARCH].lower() if isinstance(text, str) else ""


# -- time-dependent columns -----------------------------------------------------------------------------
def _started(frame: pd.DataFrame) -> pd.Series:
    """Return when each case's clock started: the limit's start, else the dispatch (as dashboard.lights)."""
    return frame["clock_started_at"].fillna(frame["dispatched_at"])


def _running(frame: pd.DataFrame) -> pd.Series:
    """Return which cases' clocks still run: started, with a deadline, not handled, not parked."""
    return _started(frame).notna() & frame["deadline_at"].notna() & frame["handled_at"].isna() & ~frame["is_parked"]


def _late(frame: pd.DataFrame, as_of: datetime) -> np.ndarray:
    """Return which cases are red at ``as_of``: a running clock whose end (handled or now) is past the deadline."""
    now = pd.Timestamp(as_of)
    until = frame["handled_at"].where(frame["handled_at"].notna() & (frame["handled_at"] <= now), now)
    lit = _started(frame).notna() & frame["deadline_at"].notna() & ~frame["is_parked"]
    return (lit & (until > frame["deadline_at"])).to_numpy()


def shares(frame: pd.DataFrame, calendar, as_of: datetime) -> np.ndarray:
    """Return the share of the time allowed each case has used at ``as_of`` (NaN without a clock)."""
    return used_shares(calendar, started=_started(frame), deadline=frame["deadline_at"],
                       handled=frame["handled_at"], unit=frame["limit_unit"].fillna("hours"), as_of=as_of,
                       parked=frame["is_parked"])


def _minutes_left(frame: pd.DataFrame, as_of: datetime) -> pd.Series:
    return (frame["deadline_at"] - pd.Timestamp(as_of)) / pd.Timedelta(minutes=1)


def _quick_mask(frame: pd.DataFrame, quick: Sequence[str], as_of: datetime) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    if "red" in quick:
        mask &= _late(frame, as_of)
    if "soon" in quick:
        left = _minutes_left(frame, as_of)
        mask &= (_running(frame) & (left > 0) & (left <= SOON_MINUTES)).to_numpy()
    if "supervised" in quick:
        mask &= frame["supervised_until"].notna().to_numpy()
    if "extension" in quick:
        mask &= frame["extension_requested_at"].notna().to_numpy()
    if "whistled" in quick:
        mask &= frame["whistled_at"].notna().to_numpy()
    return mask


def _text_match(values: pd.Series, cond: dict) -> np.ndarray:
    # Tested once per distinct value (a desk's text columns hold tens to thousands of distinct values over
    # tens of thousands of cases), in plain Python: pandas' .str methods were the slow part at 67,000 rows.
    needle = cond.get("filter", "").lower()
    cased = needle != needle.upper()  # only a needle with letters needs the values lower-cased
    codes, distinct = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    texts = [(v.lower() if cased else v) if isinstance(v, str) else "" for v in distinct]
    test = {"blank": lambda v: v == "", "notBlank": lambda v: v != "", "contains": lambda v: needle in v,
            "notContains": lambda v: needle not in v, "equals": lambda v: v == needle,
            "notEqual": lambda v: v != needle, "startsWith": lambda v: v.startswith(needle),
            "endsWith": lambda v: v.endswith(needle)}[cond["type"]]
    hits = np.fromiter((test(v) for v in texts), dtype=bool, count=len(texts))
    return hits[codes] if len(codes) else np.zeros(0, dtype=bool)


def _number_match(values: pd.Series, cond: dict) -> np.ndarray:
    op, a, b = cond["type"], cond.get("filter"), cond.get("filterTo")
    if op == "blank":
        return values.isna().to_numpy()
    if op == "notBlank":
        return values.notna().to_numpy()
    compare = {"equals": values == a, "notEqual": values != a, "lessThan": values < a,
               "lessThanOrEqual": values <= a, "greaterThan": values > a, "greaterThanOrEqual": values >= a}
    result = compare.get(op)
    if result is None:  # inRange, both ends included
        result = (values >= min(a, b)) & (values <= max(a, b))
    return result.fillna(False).to_numpy(dtype=bool)


def _date_match(values: pd.Series, cond: dict) -> np.ndarray:
    op = cond["type"]
    if op == "blank":
        return values.isna().to_numpy()
    if op == "notBlank":
        return values.notna().to_numpy()
    day = values.dt.normalize()
    first = cond["days"][0]
    result = {"equals": day == first, "notEqual": day != first, "lessThan": day < first,
              "greaterThan": day > first}.get(op)
    if result is None:
        low, high = sorted(cond["days"])
        result = (day >= low) & (day <= high)
    return result.fillna(False).to_numpy(dtype=bool) if hasattr(result, "fillna") else np.asarray(result, dtype=bool)


def _filter_values(frame: pd.DataFrame, col: str, as_of: datetime, lit: pd.Series | None, lang: str) -> pd.Series:
    """Return the values column ``col`` filters on (what the person sees, as numbers where it is a number)."""
    if col == "id":
        return frame["id"].astype(float)
    if col == "countdown":  # as the screen shows it: only while the clock runs
        return _minutes_left(frame, as_of).where(_running(frame))
    if col == "age":
        return (pd.Timestamp(as_of) - frame["reported_at"]) / pd.Timedelta(hours=1)
    if col == "reported":
        return frame["reported_at"]
    if col == "deadline":
        return frame["deadline_at"]
    if col == "light":
        return lit.map({light: light_label(light, lang) for light in ("green", "yellow", "red")}).fillna("—")
    return frame[{"category": "category_text", "department": "department_text"}.get(col, col)]


def _sort_key(values: np.ndarray, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return (value, missing) lexsort keys for one column: missing values last either way."""
    if np.issubdtype(values.dtype, np.datetime64):
        missing = np.isnat(values)
        numbers = values.astype("datetime64[m]").astype(np.int64).astype(np.float64)
    else:
        numbers = values.astype(np.float64)
        missing = np.isnan(numbers)
    numbers = np.where(missing, 0.0, -numbers if descending else numbers)
    return numbers, missing


def select_rows(prepared: pd.DataFrame, *, as_of: datetime, calendar, sort: Sequence[tuple[str, str]] = (),
                filters: Sequence[tuple[str, dict]] = (), search: str = "", quick: Sequence[str] = (),
                lang: str = "zh", shares_of=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (the positions in ``prepared`` of the view's rows in order, each row's share or None).

    ``shares_of``, when given, returns the share of every row of ``prepared`` at ``as_of`` (a cache:
    scrolling a view sorted by the light asks for the same shares block after block).

    Every condition is one boolean mask over the whole frame; the frame itself is never copied. The
    default order is the frame's own (the deadline, most overdue first, none last; ties by id). The share
    (the light) is computed — for the rows still in the view — only when the light is filtered or sorted on.
    """
    n = len(prepared)
    mask = prepared["reported_at"].to_numpy() <= np.datetime64(pd.Timestamp(as_of))
    if quick and n:
        mask &= _quick_mask(prepared, quick, as_of)
    if search and n:
        hay = prepared["haystack"].to_numpy(dtype=object)
        mask &= np.fromiter((search in h for h in hay), dtype=bool, count=n)
    share = None
    if n and (any(col == "light" for col, _ in filters) or any(col == "light" for col, _ in sort)):
        if shares_of is not None:
            share = shares_of()
        else:
            share = np.full(n, np.nan)
            idx = np.flatnonzero(mask)
            share[idx] = shares(prepared.iloc[idx], calendar, as_of)
    for col, spec in filters:
        if not n:
            break
        lit = pd.Series(lights(share), index=prepared.index) if col == "light" else None
        values = _filter_values(prepared, col, as_of, lit, lang)
        match = {"text": _text_match, "number": _number_match, "date": _date_match}[COLUMNS[col][0]]
        masks = [match(values, cond) for cond in spec["conditions"]]
        mask &= np.logical_or.reduce(masks) if spec["operator"] == "OR" else np.logical_and.reduce(masks)
    idx = np.flatnonzero(mask)
    if not sort or not len(idx):
        return idx, share
    keys = [prepared["id"].to_numpy()[idx]]  # the last tie-break, least significant
    for col, direction in reversed(sort):
        by = COLUMNS[col][1]
        descending = direction == "desc"
        if by == "age_order":  # the youngest first is the latest report first
            by, descending = "reported_at", not descending
        values = share[idx] if by == "share" else prepared[by].to_numpy()[idx]
        numbers, missing = _sort_key(values, descending)
        keys += [numbers, missing]
    return idx[np.lexsort(keys)], share


def view(prepared: pd.DataFrame, *, as_of: datetime, calendar, sort: Sequence[tuple[str, str]] = (),
         filters: Sequence[tuple[str, dict]] = (), search: str = "", quick: Sequence[str] = (),
         lang: str = "zh") -> pd.DataFrame:
    """Return every case of the view (see select_rows) in order, with its share when it was computed."""
    positions, share = select_rows(prepared, as_of=as_of, calendar=calendar, sort=sort, filters=filters,
                                   search=search, quick=quick, lang=lang)
    found = prepared.iloc[positions]
    return found.assign(share=share[positions]) if share is not None else found


# -- one page of rows ---------------------------------------------------------------------------------------
def light_label(light: str | None, lang: str) -> str:
    """Return a light's word (正常 / 临期 / 超时), "—" for a case without a running clock."""
    return t(f"light.{light}", lang) if isinstance(light, str) and light else "—"


def duration_text(minutes: float, lang: str) -> str:
    """Return a span of minutes as "12天" (ten days or more), "1天3时" (a day or more), "2时13分" (less), "0分" at most."""
    minutes = max(0, int(minutes))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days >= 10:
        return t("desk.dur.long_days", lang, d=days)
    if days:
        return t("desk.dur.days", lang, d=days, h=hours)
    if hours:
        return t("desk.dur.hours", lang, h=hours, m=mins)
    return t("desk.dur.minutes", lang, m=mins)


def countdown_text(minutes_left: float | None, lang: str) -> str:
    """Return "剩余 2时13分" / "已超期 1天3时" for wall-clock minutes to the deadline, "" without one."""
    if minutes_left is None or (isinstance(minutes_left, float) and math.isnan(minutes_left)):
        return ""
    if minutes_left >= 0:
        return t("desk.left", lang, span=duration_text(math.floor(minutes_left), lang))
    return t("desk.over", lang, span=duration_text(math.ceil(-minutes_left), lang))


def _iso(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def _stamp(value) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def rows(frame: pd.DataFrame, *, as_of: datetime, calendar, lang: str) -> list[dict]:
    """Return the grid's rows for ``frame`` (a page): texts in ``lang``, the light and countdown at ``as_of``."""
    if not len(frame):
        return []
    lit = lights(frame["share"].to_numpy() if "share" in frame else shares(frame, calendar, as_of))
    running = _running(frame).to_numpy()
    left = _minutes_left(frame, as_of).where(_running(frame)).to_numpy()
    age = ((pd.Timestamp(as_of) - frame["reported_at"]) / pd.Timedelta(minutes=1)).to_numpy()
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        minutes = None if math.isnan(left[i]) else float(left[i])
        out.append({
            "id": int(row.id), "category": row.category_text, "place": row.place, "department": row.department_text,
            "stage": row.stage, "status": row.status, "reported": _stamp(row.reported_at),
            "deadline": _stamp(row.deadline_at), "deadline_iso": _iso(row.deadline_at),
            "countdown": countdown_text(minutes, lang), "minutes_left": None if minutes is None else round(minutes),
            "running": bool(running[i]),
            "light": lit[i], "light_label": light_label(lit[i], lang),
            "age": duration_text(age[i], lang), "flags": row.flags,
            "urge_count": int(row.urge_count), "extension_until": _stamp(row.extension_requested_until),
            "department_code": row.department_code,
        })
    return out


def page(prepared: pd.DataFrame, request: Request, *, as_of: datetime, calendar, search: str = "",
         quick: Sequence[str] = (), lang: str = "zh", shares_of=None) -> tuple[list[dict], int]:
    """Return (the rows of [start, end) of the view, how many rows the view has)."""
    positions, share = select_rows(prepared, as_of=as_of, calendar=calendar, sort=request.sort,
                                   filters=request.filters, search=search, quick=quick, lang=lang,
                                   shares_of=shares_of)
    wanted = positions[request.start:request.end]
    found = prepared.iloc[wanted]
    if share is not None:
        found = found.assign(share=share[wanted])
    return rows(found, as_of=as_of, calendar=calendar, lang=lang), len(positions)


# -- what a person keeps: the desk's preferences ----------------------------------------------------------
PREFS_KEY = "backlog.view"
MAX_PREFS_BYTES = 32_000


def clean_columns(state) -> list[dict]:
    """Return a grid column state with known columns only: width, hidden, sort, sort order, pinned."""
    if not isinstance(state, list):
        return []
    out, seen = [], set()
    for item in state[: len(COLUMNS) + 4]:
        if not isinstance(item, dict) or item.get("colId") not in COLUMNS or item["colId"] in seen:
            continue
        seen.add(item["colId"])
        clean = {"colId": item["colId"], "hide": item.get("hide") is True}
        width = item.get("width")
        if isinstance(width, (int, float)) and not isinstance(width, bool) and math.isfinite(width):
            clean["width"] = int(min(max(width, 40), 1200))
        clean["sort"] = item.get("sort") if item.get("sort") in ("asc", "desc") else None
        index = item.get("sortIndex")
        clean["sortIndex"] = int(index) if isinstance(index, int) and not isinstance(index, bool) and \
            0 <= index < len(COLUMNS) and clean["sort"] else None
        clean["pinned"] = item.get("pinned") if item.get("pinned") in ("left", "right") else None
        out.append(clean)
    return out


def clean_filter_model(model) -> dict:
    """Return the parts of an AG Grid filter model the desk understands, in AG Grid's own shape."""
    out = {}
    for col, spec in parse_filters(model):
        kind = COLUMNS[col][0]
        conditions = []
        for cond in spec["conditions"]:
            if kind == "text":
                conditions.append({"filterType": "text", "type": cond["type"], "filter": cond["filter"]})
            elif kind == "number":
                item = {"filterType": "number", "type": cond["type"]}
                if "filter" in cond:
                    item["filter"] = cond["filter"]
                if cond.get("filterTo") is not None:
                    item["filterTo"] = cond["filterTo"]
                conditions.append(item)
            else:
                item = {"filterType": "date", "type": cond["type"]}
                for key, day in zip(("dateFrom", "dateTo"), cond.get("days", [])):
                    item[key] = f"{day:%Y-%m-%d %H:%M:%S}"
                conditions.append(item)
        if len(conditions) == 1:
            out[col] = conditions[0]
        else:
            out[col] = {"filterType": conditions[0]["filterType"], "operator": spec["operator"],
                        "conditions": conditions}
    return out


def clean_prefs(value) -> dict:
    """Return stored or sent preferences made safe: {columns, filter, search, quick}; defaults for anything bad."""
    value = value if isinstance(value, Mapping) else {}
    search = value.get("search")
    return {"columns": clean_columns(value.get("columns")), "filter": clean_filter_model(value.get("filter")),
            "search": search[:MAX_SEARCH] if isinstance(search, str) else "",
            "quick": list(parse_quick(value.get("quick")))}


def visible_columns(columns: Sequence[dict]) -> list[str]:
    """Return the visible column ids in the order of a (clean) column state; every column when it is empty."""
    if not columns:
        return list(DEFAULT_VISIBLE)
    shown = [c["colId"] for c in columns if not c.get("hide")]
    missing = [c for c in COLUMNS if c not in {x["colId"] for x in columns}]
    return shown + missing
