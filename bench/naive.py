"""The baseline the issue asks for: the same overview figures from a pandas DataFrame filtered in
the callback — how Dash apps are usually written (load everything at start, filter per request)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, select

from queries.schema import areas, categories, events

COLUMNS = ["district_code", "street_code", "community_code", "grid_code", "building_code", "category_code",
           "reported_at", "dispatched_at", "handled_at", "closed_at", "deadline_at", "is_void", "is_parked"]
LEVEL_COLUMN = {0: "district_code", 1: "district_code", 2: "street_code", 3: "community_code", 4: "grid_code"}
CHILD_COLUMN = {0: "district_code", 1: "street_code", 2: "community_code", 3: "grid_code", 4: "building_code"}


class NaiveOverview:
    """Every event in memory; every figure a fresh filter of the whole frame."""

    def __init__(self, engine: Engine):
        with engine.connect() as conn:
            self.events = pd.read_sql(select(*(events.c[c] for c in COLUMNS)), conn)
            self.areas = pd.read_sql(select(areas.c.code, areas.c.level, areas.c.households), conn).set_index("code")
            self.categories = pd.read_sql(select(categories.c.code, categories.c.name), conn).set_index("code")
        for name in ("district_code", "street_code", "community_code", "grid_code", "building_code", "category_code"):
            self.events[name] = self.events[name].astype("category")

    def _in_area(self, code: str) -> pd.DataFrame:
        level = int(self.areas.loc[code, "level"])
        if level == 0:
            return self.events
        return self.events[self.events[LEVEL_COLUMN[level]] == code]

    def _open(self, frame: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
        return frame[(frame.reported_at <= as_of) & ~frame.is_void & ~frame.is_parked
                     & (frame.closed_at.isna() | (frame.closed_at > as_of))]

    def map_values(self, code: str, metric: str, as_of: datetime, since: datetime, until: datetime) -> dict:
        """Return {child code: value} for the map's metric."""
        level = int(self.areas.loc[code, "level"])
        frame = self._in_area(code)
        key = CHILD_COLUMN[level]
        opened = self._open(frame, as_of)
        if metric == "open":
            return opened.groupby(key, observed=True).size().to_dict()
        overdue = opened[(opened.deadline_at < as_of) & (opened.handled_at.isna() | (opened.handled_at > as_of))]
        if metric == "overdue":
            return overdue.groupby(key, observed=True).size().to_dict()
        if metric == "per_1000_households":
            window = frame[(frame.reported_at >= since) & (frame.reported_at < until)]
            counts = window.groupby(key, observed=True).size()
            return {k: v / max(self.areas.loc[k, "households"], 1) * 1000 for k, v in counts.items()}
        closed = frame[(frame.closed_at >= since) & (frame.closed_at < until) & ~frame.is_void]
        on_time = closed[closed.handled_at <= closed.deadline_at].groupby(key, observed=True).size()
        denominator = closed.groupby(key, observed=True).size().add(overdue.groupby(key, observed=True).size(), fill_value=0)
        return (on_time.reindex(denominator.index, fill_value=0) / denominator).to_dict()

    def kpis(self, code: str, as_of: datetime, since: datetime, until: datetime) -> dict:
        """Return the KPI tiles of an area."""
        frame = self._in_area(code)
        opened = self._open(frame, as_of)
        overdue = opened[(opened.deadline_at < as_of) & (opened.handled_at.isna() | (opened.handled_at > as_of))]
        closed = frame[(frame.closed_at >= since) & (frame.closed_at < until) & ~frame.is_void]
        midnight = as_of.replace(hour=0, minute=0, second=0)
        hours = (closed.handled_at - closed.dispatched_at).dt.total_seconds() / 3600
        return {
            "reported": int(((frame.reported_at >= since) & (frame.reported_at < until)).sum()),
            "reported_today": int(((frame.reported_at >= midnight) & (frame.reported_at <= as_of)).sum()),
            "open": len(opened), "overdue": len(overdue), "closed": len(closed),
            "closed_on_time": int((closed.handled_at <= closed.deadline_at).sum()),
            "median_handling_hours": float(hours.median()) if len(hours) else None,
        }

    def top_categories(self, code: str, since: datetime, until: datetime, limit: int = 10) -> list:
        """Return the most reported categories."""
        frame = self._in_area(code)
        window = frame[(frame.reported_at >= since) & (frame.reported_at < until)]
        counts = window.groupby("category_code", observed=True).size().sort_values(ascending=False).head(limit)
        return [(c, self.categories.loc[c, "name"], int(n)) for c, n in counts.items()]

    def trend(self, code: str, since: datetime, until: datetime) -> pd.DataFrame:
        """Return reported and closed per day."""
        frame = self._in_area(code)
        reported = frame[(frame.reported_at >= since) & (frame.reported_at < until)].reported_at.dt.floor("D")
        closed = frame[(frame.closed_at >= since) & (frame.closed_at < until)].closed_at.dt.floor("D")
        return pd.DataFrame({"reported": reported.value_counts(), "closed": closed.value_counts()}).fillna(0)
