"""Writes of the area hierarchy from an import: read what the store holds, upsert, mark the change."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update

from queries.meta import bump_data_version, get_meta, set_meta
from queries.schema import GRID, areas

AREAS_VERSION = "areas_version"
MAX_AREAS = 200_000  # far above any city (Shanghai has about 40,000 unit grids)
_IN_CHUNK = 1_000

# Every column an import writes; the primary key ``code`` is matched, never changed.
AREA_COLUMNS = (
    "code", "level", "name", "parent_code", "kind", "households", "population", "area_m2",
    "centroid_lat", "centroid_lon", "min_lat", "min_lon", "max_lat", "max_lon", "geometry",
)


@dataclass(frozen=True)
class StoredArea:
    """An area already in the store, with its GeoJSON geometry text (lon/lat)."""

    code: str
    level: int
    name: str
    parent_code: str | None
    households: int
    population: int
    geometry: str


def stored_areas(conn: Connection, *, limit: int = MAX_AREAS) -> list[StoredArea]:
    """Return the store's areas from city to grid, ordered by code (buildings are not areas here)."""
    stmt = (
        select(areas.c.code, areas.c.level, areas.c.name, areas.c.parent_code, areas.c.households,
               areas.c.population, areas.c.geometry)
        .where(areas.c.level <= GRID)
        .order_by(areas.c.code)
        .limit(limit)
    )
    return [
        StoredArea(code=r.code, level=int(r.level), name=r.name, parent_code=r.parent_code,
                   households=int(r.households or 0), population=int(r.population or 0), geometry=r.geometry)
        for r in conn.execute(stmt)
    ]


def existing_area_codes(conn: Connection, codes: list[str]) -> set[str]:
    """Return which of ``codes`` the areas table already holds."""
    found: set[str] = set()
    stmt = select(areas.c.code).where(areas.c.code.in_(bindparam("codes", expanding=True))).order_by(areas.c.code)
    for start in range(0, len(codes), _IN_CHUNK):
        found.update(conn.execute(stmt, {"codes": codes[start:start + _IN_CHUNK]}).scalars())
    return found


def upsert_areas(conn: Connection, rows: list[dict]) -> tuple[int, int]:
    """Insert the rows whose code is new and update the others in place; return (inserted, updated).

    Each row is a dict with every name in ``AREA_COLUMNS``. The caller owns the transaction.
    """
    existing = existing_area_codes(conn, [r["code"] for r in rows])
    new = [{c: r[c] for c in AREA_COLUMNS} for r in rows if r["code"] not in existing]
    # Bound names differ from the column names: SQLAlchemy reserves those for the SET clause.
    changed = [{f"b_{c}": r[c] for c in AREA_COLUMNS} for r in rows if r["code"] in existing]
    if new:
        conn.execute(insert(areas), new)
    if changed:
        stmt = (
            update(areas)
            .where(areas.c.code == bindparam("b_code"))
            .values({c: bindparam(f"b_{c}") for c in AREA_COLUMNS if c != "code"})
        )
        conn.execute(stmt, changed)
    return len(new), len(changed)


def mark_areas_changed(conn: Connection) -> int:
    """Bump the data version and store_meta 'areas_version' so caches and grid indexes reload; return the latter."""
    bump_data_version(conn)
    version = int(get_meta(conn, AREAS_VERSION) or 0) + 1
    set_meta(conn, AREAS_VERSION, str(version))
    return version
