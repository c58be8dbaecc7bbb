"""The event catalogue (dashboard/catalog/event-categories.csv), who handles each category, and the mix
of categories each report source produces."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.seed.city import DEPARTMENT_KINDS
from queries.schema import SOURCES

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "catalog" / "event-categories.csv"

# The department kind a category is dispatched to (责任单位). Sanitation sits with 城管 here, as in
# many cities; a category not listed goes to its class's default.
CLASS_DEPARTMENT = {
    "01": "城管执法局", "02": "城管执法局", "03": "住建局", "04": "应急管理局", "05": "城管执法局", "06": "民政局",
}
CATEGORY_DEPARTMENT = {
    "0105": "水务局", "0106": "园林绿化局", "0107": "公安分局", "0109": "园林绿化局", "0110": "住建局",
    "0111": "水务局", "0113": "住建局", "0115": "生态环境分局", "0116": "生态环境分局",
    "0301": "生态环境分局", "0304": "交通运输局", "0305": "城管执法局",
    "0401": "住建局", "0402": "水务局", "0404": "水务局", "0405": "住建局", "0406": "水务局",
    "0407": "城管执法局", "0409": "公安分局",
    "0502": "民政局", "0505": "公安分局", "0508": "生态环境分局", "0509": "交通运输局", "0512": "市场监管局",
    "0602": "应急管理局", "0603": "应急管理局", "0604": "应急管理局", "0607": "公安分局", "0608": "公安分局",
    # Consumer complaints are the largest share of 12345 tickets.
    "0609": "市场监管局",
}

# Share of reports by source (DOMAIN.md §4): patrols first, then the hotline.
SOURCE_SHARE = {"grid_worker": 0.46, "hotline": 0.20, "citizen": 0.12, "iot": 0.05, "video_ai": 0.12, "other": 0.05}
# Class mix per source: 街面秩序 and 市容环境 dominate, 突发事件 is rare, the hotline is mostly 12345 tickets.
CLASS_MIX = {
    "grid_worker": {"01": 0.36, "02": 0.10, "03": 0.05, "04": 0.006, "05": 0.33, "06": 0.154},
    "hotline": {"01": 0.14, "02": 0.02, "03": 0.10, "04": 0.015, "05": 0.12, "06": 0.605},
    "citizen": {"01": 0.35, "02": 0.05, "03": 0.08, "04": 0.02, "05": 0.35, "06": 0.15},
    "iot": {"01": 0.45, "04": 0.25, "06": 0.30},
    "video_ai": {"01": 0.30, "02": 0.05, "05": 0.65},
    "other": {"01": 0.30, "02": 0.05, "03": 0.10, "04": 0.02, "05": 0.28, "06": 0.25},
}
# Subcategory weights within a class (default 1; xx99 "other" 0.5). A source listed here draws only
# the subcategories it names in that class: sensors and cameras see a few things only.
COMMON = {
    "0102": 6, "0103": 2, "0104": 4, "0101": 1.5, "0201": 5, "0501": 3, "0504": 5, "0505": 4, "0506": 5,
    "0507": 3, "0510": 1.5, "0601": 2, "0605": 2, "0602": 1.5, "0609": 0,
}
SOURCE_ONLY = {
    "hotline": {"06": {"0609": 12, "0601": 1.5, "0605": 2, "0606": 0.5, "0602": 0.5, "0699": 0.5},
                "03": {"0301": 5, "0302": 2, "0305": 0.5}},
    "iot": {"01": {"0102": 1}, "04": {"0404": 3, "0406": 3, "0402": 2, "0403": 1, "0408": 0.5},
            "06": {"0602": 3, "0603": 2}},
    "video_ai": {"01": {"0102": 3, "0104": 2, "0112": 1}, "02": {"0201": 1},
                 "05": {"0504": 4, "0505": 4, "0506": 4, "0501": 3, "0507": 2, "0510": 1}},
}


def load_categories(path: str | Path = CATALOGUE_PATH) -> pd.DataFrame:
    """Read the catalogue CSV into rows of the categories table (with department_kind)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = pd.DataFrame({
        "code": raw["code"],
        "class_code": raw["class_code"],
        "class_name": raw["class_name"],
        "name": raw["name"],
        "limit_value": raw["limit"].astype(float),
        "limit_unit": raw["unit"],
        "urgent": raw["urgent"].str.lower().isin(["true", "1", "yes"]),
        "department_kind": [CATEGORY_DEPARTMENT.get(c, CLASS_DEPARTMENT.get(k, DEPARTMENT_KINDS[0]))
                            for c, k in zip(raw["code"], raw["class_code"])],
        "source_of_limit": raw["source_of_limit"].replace("", None),
    })
    return frame.sort_values("code", ignore_index=True)


def category_mix(categories: pd.DataFrame) -> np.ndarray:
    """Return P[source, category]: the chance that a report from each source is of each category."""
    codes = categories["code"].to_numpy()
    classes = categories["class_code"].to_numpy()
    mix = np.zeros((len(SOURCES), len(codes)))
    for s, source in enumerate(SOURCES):
        for cls, share in CLASS_MIX[source].items():
            members = np.flatnonzero(classes == cls)
            only = SOURCE_ONLY.get(source, {}).get(cls)
            if only is not None:
                w = np.array([only.get(c, 0.0) for c in codes[members]])
            else:
                w = np.array([COMMON.get(c, 0.5 if c.endswith("99") else 1.0) for c in codes[members]])
            if w.sum() > 0:
                mix[s, members] = share * w / w.sum()
        mix[s] /= mix[s].sum()
    return mix
