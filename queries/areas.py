"""The area hierarchy (city → district → street → community → grid) and the buildings in grids."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from queries.schema import COMMUNITY, areas, buildings, categories, departments
from queries.scope import Scope

MAX_CHILDREN = 2000


@dataclass(frozen=True)
class Area:
    """One area of the hierarchy, without its geometry."""

    code: str
    level: int
    name: str
    parent_code: str | None
    kind: str | None
    households: int
    population: int
    area_m2: float
    centroid: tuple[float, float]  # (lat, lon)
    bounds: tuple[tuple[float, float], tuple[float, float]]  # ((south, west), (north, east))


@dataclass(frozen=True)
class Building:
    """One building inside a grid."""

    code: str
    grid_code: str
    name: str
    lat: float
    lon: float
    households: int
    floors: int


_AREA_COLUMNS = (
    areas.c.code, areas.c.level, areas.c.name, areas.c.parent_code, areas.c.kind, areas.c.households,
    areas.c.population, areas.c.area_m2, areas.c.centroid_lat, areas.c.centroid_lon,
    areas.c.min_lat, areas.c.min_lon, areas.c.max_lat, areas.c.max_lon,
)
_BUILDING_COLUMNS = (
    buildings.c.code, buildings.c.grid_code, buildings.c.name, buildings.c.lat, buildings.c.lon,
    buildings.c.households, buildings.c.floors,
)


def _area(row) -> Area:
    return Area(
        code=row.code, level=int(row.level), name=row.name, parent_code=row.parent_code, kind=row.kind,
        households=int(row.households), population=int(row.population), area_m2=float(row.area_m2),
        centroid=(row.centroid_lat, row.centroid_lon),
        bounds=((row.min_lat, row.min_lon), (row.max_lat, row.max_lon)),
    )


def _building(row) -> Building:
    return Building(
        code=row.code, grid_code=row.grid_code, name=row.name, lat=row.lat, lon=row.lon,
        households=int(row.households), floors=int(row.floors),
    )


def get_area(conn: Connection, *, scope: Scope, code: str) -> Area | None:
    """Return the area ``code`` when it exists and lies in ``scope``, else None."""
    if not scope.covers(code):
        return None
    row = conn.execute(select(*_AREA_COLUMNS).where(areas.c.code == code)).first()
    return _area(row) if row else None


def child_areas(conn: Connection, *, scope: Scope, code: str, limit: int = MAX_CHILDREN) -> list[Area]:
    """Return the children of area ``code`` in code order (empty outside ``scope``)."""
    if not scope.covers(code):
        return []
    stmt = select(*_AREA_COLUMNS).where(areas.c.parent_code == code).order_by(areas.c.code).limit(limit)
    return [_area(r) for r in conn.execute(stmt)]


def lineage(conn: Connection, *, scope: Scope, code: str) -> list[Area]:
    """Return the areas from the scope's own area down to ``code`` (for a breadcrumb); [] outside scope."""
    chain: list[Area] = []
    current = get_area(conn, scope=scope, code=code)
    while current is not None:
        chain.append(current)
        if current.code == scope.area_code or current.parent_code is None:
            break
        current = get_area(conn, scope=scope, code=current.parent_code)
    chain.reverse()
    return chain if chain and chain[0].code == scope.area_code else []


def child_geometries(conn: Connection, *, scope: Scope, code: str, limit: int = MAX_CHILDREN) -> list[tuple[Area, str]]:
    """Return (area, GeoJSON geometry text) for each child of ``code`` in code order."""
    if not scope.covers(code):
        return []
    stmt = (
        select(*_AREA_COLUMNS, areas.c.geometry)
        .where(areas.c.parent_code == code)
        .order_by(areas.c.code)
        .limit(limit)
    )
    return [(_area(r), r.geometry) for r in conn.execute(stmt)]


def area_geometry(conn: Connection, *, scope: Scope, code: str) -> str | None:
    """Return the GeoJSON geometry text of area ``code`` (None outside scope)."""
    if not scope.covers(code):
        return None
    return conn.execute(select(areas.c.geometry).where(areas.c.code == code)).scalar()


def grid_buildings(conn: Connection, *, scope: Scope, grid_code: str, limit: int = MAX_CHILDREN) -> list[Building]:
    """Return the buildings of grid ``grid_code`` in code order."""
    if len(grid_code) != 15 or not scope.covers(grid_code):
        return []
    stmt = select(*_BUILDING_COLUMNS).where(buildings.c.grid_code == grid_code).order_by(buildings.c.code).limit(limit)
    return [_building(r) for r in conn.execute(stmt)]


def get_building(conn: Connection, *, scope: Scope, code: str) -> Building | None:
    """Return building ``code`` when it lies in ``scope``, else None."""
    if not scope.covers(code):
        return None
    row = conn.execute(select(*_BUILDING_COLUMNS).where(buildings.c.code == code)).first()
    return _building(row) if row else None



def root_area_codes(conn: Connection, *, limit: int = 100) -> list[str]:
    """Return the codes of the store's top-level areas (its cities): what a full scope is built from."""
    stmt = select(areas.c.code).where(areas.c.parent_code.is_(None)).order_by(areas.c.code).limit(limit)
    return list(conn.execute(stmt).scalars())


def scope_area_level(conn: Connection, *, code: str) -> int | None:
    """Return the level of the area ``code`` when it can be a user's or token's scope (city to community)."""
    return conn.execute(select(areas.c.level).where(areas.c.code == code, areas.c.level <= COMMUNITY)).scalar()


def department_exists(conn: Connection, *, code: str) -> bool:
    """Return True when there is a department ``code``."""
    return conn.execute(select(departments.c.code).where(departments.c.code == code)).first() is not None


def department_district(conn: Connection, *, code: str) -> str | None:
    """Return the district a department serves, or None for a city-level department (or none at all)."""
    return conn.execute(select(departments.c.district_code).where(departments.c.code == code)).scalar()


def department_name(conn: Connection, *, code: str) -> str | None:
    """Return a department's name, or None."""
    return conn.execute(select(departments.c.name).where(departments.c.code == code)).scalar()


def district_departments(conn: Connection, *, district_code: str, limit: int = 100) -> list[str]:
    """Return the codes of the departments serving ``district_code``, in code order."""
    stmt = (select(departments.c.code).where(departments.c.district_code == district_code)
            .order_by(departments.c.code).limit(limit))
    return list(conn.execute(stmt).scalars())


def category_classes(conn: Connection) -> list[tuple[str, str]]:
    """Return (class code, class name) of every category class, in code order."""
    stmt = select(categories.c.class_code, func.min(categories.c.class_name)).group_by(categories.c.class_code) \
        .order_by(categories.c.class_code)
    return [(code, name) for code, name in conn.execute(stmt).all()]
