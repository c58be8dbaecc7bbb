"""The demo city: an outline, Voronoi grids, and communities, streets and districts clustered from them.

Geometry is built in a local metric frame (kilometres east and north of the city centre, an
equirectangular projection at the city's latitude), then moved to lon/lat and snapped to a 1e-5°
grid before any union, so neighbours share their edges exactly and every level nests without gaps
or overlaps. Codes follow DOMAIN.md §1 (GB/T 2260 + 统计用区划代码 + DB11 grid numbering).
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from dashboard.seed import names
from queries.schema import CITY, COMMUNITY, DISTRICT, GRID, STREET

CITY_CODE = "329900"
CITY_NAME = names.CITY_NAME
LAT0, LON0 = 31.30, 120.60
EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
PRECISION = 1e-5  # degrees, about 1 m: the grid every stored coordinate sits on
HALF_AXES_KM = (12.5, 10.0)  # the outline is an irregular ellipse of about 25 × 20 km

DEPARTMENT_KINDS = (
    "城管执法局", "住建局", "市场监管局", "生态环境分局", "交通运输局",
    "水务局", "园林绿化局", "公安分局", "应急管理局", "民政局",
)


@dataclass
class City:
    """The seeded city: table frames plus per-grid lookup arrays for the event generator."""

    areas: pd.DataFrame
    buildings: pd.DataFrame
    workers: pd.DataFrame
    departments: pd.DataFrame
    grid_codes: np.ndarray  # object, in grid order (the order of every grid_* array below)
    grid_community: np.ndarray  # index into community_codes
    grid_street: np.ndarray
    grid_district: np.ndarray
    community_codes: np.ndarray
    street_codes: np.ndarray
    district_codes: np.ndarray
    grid_weight: np.ndarray  # relative event intensity of each grid
    building_first: np.ndarray  # buildings of grid g are rows [first, first + count)
    building_count: np.ndarray
    building_clearance_m: np.ndarray  # distance from each building to its grid's edge
    worker_first: np.ndarray  # workers of grid g are rows [first, first + count), full-time first
    worker_count: np.ndarray
    department_index: np.ndarray  # [district, kind] -> row of departments


def to_metres(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat degrees to metres east/north of the city centre (equirectangular)."""
    return (np.asarray(lon) - LON0) * M_PER_DEG_LON, (np.asarray(lat) - LAT0) * M_PER_DEG_LAT


def area_m2(geoms) -> np.ndarray:
    """Return the area in square metres of lon/lat geometries, in the local metric projection."""
    scaled = shapely.transform(geoms, lambda c: np.column_stack(to_metres(c[:, 0], c[:, 1])))
    return shapely.area(scaled)


def reading_order(x: np.ndarray, y: np.ndarray, band: float) -> np.ndarray:
    """Return indices in DB11 reading order: rows ``band`` high from north to south, west→east in a row.

    ``x`` and ``y`` are metres east and north; row r holds points ``r*band <= max(y) - y < (r+1)*band``.
    """
    row = np.floor((np.max(y) - y) / band)
    return np.lexsort((x, row))


def _km_to_lonlat(c: np.ndarray) -> np.ndarray:
    return np.column_stack((LON0 + c[:, 0] * 1000.0 / M_PER_DEG_LON, LAT0 + c[:, 1] * 1000.0 / M_PER_DEG_LAT))


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    """Draw an irregular ellipse: a few low harmonics keep bays wide, so Voronoi cells rarely split."""
    theta = np.linspace(0.0, 2.0 * np.pi, 256, endpoint=False)
    a, b = HALF_AXES_KM
    r = a * b / np.sqrt((b * np.cos(theta)) ** 2 + (a * np.sin(theta)) ** 2)
    wobble = np.ones_like(theta)
    for k in range(2, 7):
        wobble += rng.uniform(0.01, 0.05) / (k - 1) ** 0.5 * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return shapely.Polygon(np.column_stack((r * wobble * np.cos(theta), r * wobble * np.sin(theta))))


def _seed_points(rng: np.random.Generator, outline: shapely.Polygon, count: int) -> np.ndarray:
    """Draw grid seed points, about six times denser in the old town than at the edge."""
    x0, y0, x1, y1 = outline.bounds
    out = np.empty((0, 2))
    while len(out) < count:
        cand = np.column_stack((rng.uniform(x0, x1, 4 * count), rng.uniform(y0, y1, 4 * count)))
        d = np.hypot(cand[:, 0] + 1.0, cand[:, 1] - 0.5) / 4.0  # centre a little off the middle
        keep = rng.random(len(cand)) < 0.15 + 0.85 * np.exp(-d * d)
        keep &= shapely.contains_xy(outline, cand[:, 0], cand[:, 1])
        out = np.vstack((out, cand[keep]))
    return out[:count]


def _voronoi(points: np.ndarray, outline: shapely.Polygon) -> np.ndarray:
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=outline.buffer(5.0), ordered=True)
    )
    shapely.prepare(outline)
    edge = ~shapely.contains_properly(outline, cells)  # only cells that cross the outline need clipping
    cells[edge] = shapely.intersection(cells[edge], outline)
    return cells


def _grid_cells(rng: np.random.Generator, outline: shapely.Polygon, count: int) -> np.ndarray:
    """Return ``count`` Voronoi cells (km) that tile ``outline``, each a single polygon."""
    points = _seed_points(rng, outline, count)
    # Half Lloyd steps remove sliver cells but keep most of the density gradient (the centre's grids
    # stay about five times smaller than the edge's).
    for _ in range(6):
        # GEOS sometimes leaves the FPU's "invalid" flag set on valid input; numpy would warn.
        with np.errstate(invalid="ignore"):
            centroids = shapely.get_coordinates(shapely.centroid(_voronoi(points, outline)))
        moved = 0.5 * (points + centroids)
        # The outline is not convex: a step that would leave it is not taken.
        inside = shapely.contains_xy(outline, moved[:, 0], moved[:, 1])
        points = np.where(inside[:, None], moved, points)
    cells = _voronoi(points, outline)
    return _merge_fragments(cells)


def _merge_fragments(cells: np.ndarray) -> np.ndarray:
    """Give every stray piece of a cell split by the outline to the neighbour it shares most edge with."""
    cells = cells.copy()
    for i in np.flatnonzero(shapely.get_num_geometries(cells) > 1):
        parts = shapely.get_parts(cells[i])
        parts = parts[np.argsort(-shapely.area(parts))]
        cells[i] = parts[0]
        for piece in parts[1:]:
            shared = shapely.length(shapely.intersection(shapely.boundary(cells), piece.boundary))
            shared[i] = -1.0
            j = int(np.argmax(shared))
            cells[j] = shapely.union(cells[j], piece)
    return cells


def _fill_slivers(cells: np.ndarray) -> np.ndarray:
    """Give each sliver that snapping left between cells to the neighbour that borders it most.

    Snapping every cell to the 1 m grid on its own can open a hairline gap where a vertex of one cell
    lay on the edge of another; the union of the cells then has a hole that no grid covers.
    """
    cells = cells.copy()
    whole = shapely.coverage_union_all(cells)
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(whole) for ring in part.interiors]
    tree = shapely.STRtree(cells)
    for hole in holes:
        near = tree.query(hole, predicate="intersects")
        shared = shapely.length(shapely.intersection(shapely.boundary(cells[near]), hole.boundary))
        j = int(near[int(np.argmax(shared))])
        merged = shapely.set_precision(shapely.union(cells[j], hole), PRECISION)
        if shapely.get_type_id(merged) == 3:  # still one polygon
            cells[j] = merged
    return cells


def _adjacent_pairs(polys: np.ndarray) -> np.ndarray:
    """Return the (m, 2) pairs i < j of snapped polygons that share at least one edge segment."""
    coords, owner = shapely.get_coordinates(shapely.boundary(polys), return_index=True)
    same = owner[1:] == owner[:-1]  # consecutive vertices of one boundary form a segment
    a, b = coords[:-1][same], coords[1:][same]
    seg_owner = owner[:-1][same]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
    keys = np.round(np.column_stack((lo, hi)) / PRECISION).astype(np.int64)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    inv, own = inverse.ravel()[order], seg_owner[order]
    twin = inv[1:] == inv[:-1]  # a shared segment appears once in each of its two polygons
    pairs = np.sort(np.column_stack((own[:-1][twin], own[1:][twin])), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0)


def _cluster(rng: np.random.Generator, xy: np.ndarray, k: int, pairs: np.ndarray) -> np.ndarray:
    """Split n adjacent units into k contiguous clusters: k-means seeds, then graph-Voronoi growth.

    Growing each cluster along shared edges (Dijkstra from its seed) guarantees contiguity, which
    plain k-means labels do not.
    """
    n = len(xy)
    if k > n:
        raise ValueError(f"cannot make {k} clusters from {n} units")
    centres = np.empty((k, 2))
    centres[0] = xy[rng.integers(n)]
    d2 = ((xy - centres[0]) ** 2).sum(axis=1)
    for j in range(1, k):  # k-means++
        total = d2.sum()
        idx = rng.integers(n) if total <= 0 else rng.choice(n, p=d2 / total)
        centres[j] = xy[idx]
        d2 = np.minimum(d2, ((xy - centres[j]) ** 2).sum(axis=1))
    sq = (xy ** 2).sum(axis=1)
    for _ in range(10):
        labels = (sq[:, None] - 2.0 * xy @ centres.T + (centres ** 2).sum(axis=1)[None, :]).argmin(axis=1)
        counts = np.bincount(labels, minlength=k)
        full = counts > 0
        for dim in range(2):
            centres[full, dim] = np.bincount(labels, weights=xy[:, dim], minlength=k)[full] / counts[full]
    dist = (centres ** 2).sum(axis=1)[:, None] - 2.0 * centres @ xy.T + sq[None, :]
    seeds = np.empty(k, dtype=np.int64)
    taken = np.zeros(n, dtype=bool)
    for j in range(k):
        for idx in np.argsort(dist[j]):
            if not taken[idx]:
                seeds[j] = idx
                taken[idx] = True
                break
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in pairs:
        neighbours[a].append(b)
        neighbours[b].append(a)
    labels = np.full(n, -1, dtype=np.int64)
    best = np.full(n, np.inf)
    heap = [(0.0, int(s), j) for j, s in enumerate(seeds)]
    for _, s, _ in heap:
        best[s] = 0.0
    heapq.heapify(heap)
    while heap:
        d, node, label = heapq.heappop(heap)
        if labels[node] >= 0:
            continue
        labels[node] = label
        for nb in neighbours[node]:
            if labels[nb] < 0:
                nd = d + float(np.hypot(*(xy[nb] - xy[node])))
                if nd < best[nb]:
                    best[nb] = nd
                    heapq.heappush(heap, (nd, nb, label))
    if (labels < 0).any():
        raise RuntimeError("adjacency graph is not connected")
    return labels


def _parent_pairs(pairs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Lift child adjacency to the parents' level."""
    lifted = np.sort(labels[pairs], axis=1)
    lifted = lifted[lifted[:, 0] != lifted[:, 1]]
    return np.unique(lifted, axis=0)


def _union(polys: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Dissolve the children of each label; they form an exact coverage, so no snapping is needed."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    return np.array([shapely.coverage_union_all(polys[order[bounds[j]:bounds[j + 1]]]) for j in range(k)],
                    dtype=object)


def _rep_points(geoms: np.ndarray) -> np.ndarray:
    """Return (lon, lat) of a point inside each geometry, to 6 decimals."""
    return np.round(shapely.get_coordinates(shapely.point_on_surface(geoms)), 6)


def _number(groups: np.ndarray, rep: np.ndarray, classes: np.ndarray, starts: dict[int, int],
            band: np.ndarray) -> np.ndarray:
    """Number units within each group in reading order, each class from its own start (街道 1, 镇 100)."""
    seq = np.zeros(len(groups), dtype=np.int64)
    x, y = to_metres(rep[:, 0], rep[:, 1])
    for g in np.unique(groups):
        for cls, start in starts.items():
            members = np.flatnonzero((groups == g) & (classes == cls))
            if len(members):
                seq[members[reading_order(x[members], y[members], band[g])]] = start + np.arange(len(members))
    return seq


def build_city(rng: np.random.Generator, spec) -> City:
    """Build the city for ``spec`` (a CitySpec): areas, buildings, workers and departments."""
    if not spec.grids >= spec.communities >= spec.streets >= spec.districts >= 1:
        raise ValueError("a CitySpec needs grids >= communities >= streets >= districts >= 1")
    if spec.workers < spec.grids:
        raise ValueError("every grid needs a full-time worker: workers must be >= grids")
    if spec.departments < len(DEPARTMENT_KINDS) * spec.districts:
        raise ValueError(f"departments must be >= {len(DEPARTMENT_KINDS)} per district")
    if spec.buildings < spec.grids:
        raise ValueError("every grid needs a building: buildings must be >= grids")
    outline = _outline(rng)
    cells_km = _grid_cells(rng, outline, spec.grids)
    with np.errstate(invalid="ignore"):  # see _grid_cells
        grid_xy = shapely.get_coordinates(shapely.centroid(cells_km))
    cells = shapely.transform(cells_km, _km_to_lonlat)
    cells = _fill_slivers(shapely.set_precision(cells, PRECISION))
    if (shapely.get_type_id(cells) != 3).any():
        raise RuntimeError("a grid cell is not a single polygon after snapping")
    grid_pairs = _adjacent_pairs(cells)

    # Bottom-up: communities from grids, streets from communities, districts from streets.
    comm_of_grid = _cluster(rng, grid_xy, spec.communities, grid_pairs)
    comm_pairs = _parent_pairs(grid_pairs, comm_of_grid)
    comm_xy = np.array([grid_xy[comm_of_grid == c].mean(axis=0) for c in range(spec.communities)])
    street_of_comm = _cluster(rng, comm_xy, spec.streets, comm_pairs)
    street_pairs = _parent_pairs(comm_pairs, street_of_comm)
    street_xy = np.array([comm_xy[street_of_comm == s].mean(axis=0) for s in range(spec.streets)])
    district_of_street = _cluster(rng, street_xy, spec.districts, street_pairs)

    comm_geom = _union(cells, comm_of_grid, spec.communities)
    street_geom = _union(comm_geom, street_of_comm, spec.streets)
    district_geom = _union(street_geom, district_of_street, spec.districts)
    city_geom = shapely.union_all(district_geom, grid_size=PRECISION)

    grid_rep, comm_rep = _rep_points(cells), _rep_points(comm_geom)
    street_rep, district_rep = _rep_points(street_geom), _rep_points(district_geom)
    grid_area, comm_area = np.round(area_m2(cells), 1), np.round(area_m2(comm_geom), 1)
    street_area, district_area = np.round(area_m2(street_geom), 1), np.round(area_m2(district_geom), 1)

    # Districts: the old town first (codes 02, 03 …); the outer half are suburban and have towns.
    dist_r = np.hypot(*to_metres(district_rep[:, 0], district_rep[:, 1]))
    d_order = np.argsort(dist_r, kind="stable")
    d_rank = np.empty(spec.districts, dtype=np.int64)
    d_rank[d_order] = np.arange(spec.districts)
    suburban = d_rank >= math.ceil(spec.districts / 2)

    # Streets: in a suburban district the ones nearest the city are 街道, the rest 镇.
    street_r = np.hypot(*to_metres(street_rep[:, 0], street_rep[:, 1]))
    is_town = np.zeros(spec.streets, dtype=bool)
    for d in np.flatnonzero(suburban):
        members = np.flatnonzero(district_of_street == d)
        members = members[np.argsort(street_r[members], kind="stable")]
        is_town[members[max(1, round(0.4 * len(members))):]] = True
    street_band = np.sqrt(district_area / np.bincount(district_of_street, minlength=spec.districts))
    street_seq = _number(district_of_street, street_rep, is_town.astype(int), {0: 1, 1: 100}, street_band)

    # Communities: in a town the nearest three in ten to the city are 居委会 (社区), the rest 村委会 (村).
    comm_r = np.hypot(*to_metres(comm_rep[:, 0], comm_rep[:, 1]))
    is_village = np.zeros(spec.communities, dtype=bool)
    for s in np.flatnonzero(is_town):
        members = np.flatnonzero(street_of_comm == s)
        members = members[np.argsort(comm_r[members], kind="stable")]
        is_village[members[int(0.3 * len(members)):]] = True
    comm_band = np.sqrt(street_area / np.bincount(street_of_comm, minlength=spec.streets))
    comm_seq = _number(street_of_comm, comm_rep, is_village.astype(int), {0: 1, 1: 200}, comm_band)

    # Grids: DB11 numbering within the community, rows as high as a typical grid is wide.
    grids_per_comm = np.bincount(comm_of_grid, minlength=spec.communities)
    grid_band = np.sqrt(comm_area / grids_per_comm)
    grid_seq = _number(comm_of_grid, grid_rep, np.zeros(spec.grids, dtype=int), {0: 1}, grid_band)
    if street_seq.max() > 199 or comm_seq.max() > 399 or grid_seq.max() > 999:
        raise ValueError("too many units under one parent for the code segments")

    district_codes = np.array([f"{CITY_CODE[:4]}{r + 2:02d}" for r in d_rank], dtype=object)
    street_codes = np.array(
        [f"{district_codes[d]}{q:03d}" for d, q in zip(district_of_street, street_seq)], dtype=object)
    comm_codes = np.array([f"{street_codes[s]}{q:03d}" for s, q in zip(street_of_comm, comm_seq)], dtype=object)
    grid_codes = np.array([f"{comm_codes[c]}{q:03d}" for c, q in zip(comm_of_grid, grid_seq)], dtype=object)

    bases = names.place_bases(rng, spec.districts + spec.streets + spec.communities)
    district_names = [f"{b}区" for b in bases[: spec.districts]]
    street_names = [
        f"{b}{'镇' if town else '街道'}"
        for b, town in zip(bases[spec.districts: spec.districts + spec.streets], is_town)
    ]
    comm_names = names.community_names(rng, bases[spec.districts + spec.streets:], is_village)
    grid_names = [f"{names.short_name(comm_names[c])}第{q:02d}网格" for c, q in zip(comm_of_grid, grid_seq)]

    # Social-governance grids hold about 300 households; village grids are smaller.
    base = np.where(is_village[comm_of_grid], 220.0, 300.0)
    grid_hh = np.clip(np.round(base * rng.lognormal(0.0, 0.22, spec.grids)), 80, 900).astype(np.int64)
    grid_pop = np.round(grid_hh * rng.uniform(2.3, 2.9, spec.grids)).astype(np.int64)
    comm_hh = np.bincount(comm_of_grid, weights=grid_hh, minlength=spec.communities).astype(np.int64)
    comm_pop = np.bincount(comm_of_grid, weights=grid_pop, minlength=spec.communities).astype(np.int64)
    street_hh = np.bincount(street_of_comm, weights=comm_hh, minlength=spec.streets).astype(np.int64)
    street_pop = np.bincount(street_of_comm, weights=comm_pop, minlength=spec.streets).astype(np.int64)
    district_hh = np.bincount(district_of_street, weights=street_hh, minlength=spec.districts).astype(np.int64)
    district_pop = np.bincount(district_of_street, weights=street_pop, minlength=spec.districts).astype(np.int64)

    areas = pd.concat([
        _area_frame(np.array([CITY_CODE], dtype=object), CITY, [CITY_NAME], [None], ["市"],
                    [int(district_hh.sum())], [int(district_pop.sum())], np.array([city_geom], dtype=object)),
        _area_frame(district_codes, DISTRICT, district_names, [CITY_CODE] * spec.districts,
                    ["区"] * spec.districts, district_hh, district_pop, district_geom, district_rep, district_area),
        _area_frame(street_codes, STREET, street_names, district_codes[district_of_street],
                    np.where(is_town, "镇", "街道"), street_hh, street_pop, street_geom, street_rep, street_area),
        _area_frame(comm_codes, COMMUNITY, comm_names, street_codes[street_of_comm],
                    np.where(is_village, "村委会", "居委会"), comm_hh, comm_pop, comm_geom, comm_rep, comm_area),
        _area_frame(grid_codes, GRID, grid_names, comm_codes[comm_of_grid], ["网格"] * spec.grids,
                    grid_hh, grid_pop, cells, grid_rep, grid_area),
    ], ignore_index=True).sort_values(["level", "code"], ignore_index=True)

    # Order every grid-level array by grid code, so lookups and tables agree.
    g_order = np.argsort(grid_codes, kind="stable")
    grid_codes, comm_of_grid, cells = grid_codes[g_order], comm_of_grid[g_order], cells[g_order]
    grid_hh, grid_rep = grid_hh[g_order], grid_rep[g_order]
    grid_r = np.hypot(*to_metres(grid_rep[:, 0], grid_rep[:, 1])) / 1000.0
    village_grid = is_village[comm_of_grid]

    buildings, b_first, b_count, b_clearance = _buildings(rng, spec, cells, grid_codes, comm_of_grid, grid_hh, grid_r,
                                             village_grid)
    workers, w_first, w_count = _workers(rng, spec, grid_codes, grid_hh)
    departments, dept_index = _departments(district_codes, district_names, spec.departments)
    # District rows of dept_index follow district code order; remap the street → district labels.
    d_row = np.argsort(np.argsort(district_codes, kind="stable"), kind="stable")

    # Busy grids: heavy-tailed, and the old town busier than the villages.
    weight = rng.lognormal(0.0, 0.9, spec.grids) * grid_hh * (0.6 + 1.4 * np.exp(-grid_r / 6.0))
    return City(
        areas=areas,
        buildings=buildings,
        workers=workers,
        departments=departments,
        grid_codes=grid_codes,
        grid_community=comm_of_grid,
        grid_street=street_of_comm[comm_of_grid],
        grid_district=d_row[district_of_street[street_of_comm[comm_of_grid]]],
        community_codes=comm_codes,
        street_codes=street_codes,
        district_codes=np.sort(district_codes),
        grid_weight=weight / weight.sum(),
        building_first=b_first,
        building_count=b_count,
        building_clearance_m=b_clearance,
        worker_first=w_first,
        worker_count=w_count,
        department_index=dept_index,
    )


def _area_frame(codes, level, area_names, parents, kinds, households, population, geoms,
                rep=None, area=None) -> pd.DataFrame:
    geoms = shapely.orient_polygons(np.asarray(geoms, dtype=object), exterior_cw=False)
    if rep is None:
        rep = _rep_points(geoms)
    if area is None:
        area = np.round(area_m2(geoms), 1)
    bounds = shapely.bounds(geoms)
    return pd.DataFrame({
        "code": codes,
        "level": level,
        "name": list(area_names),
        "parent_code": list(parents),
        "kind": list(kinds),
        "households": np.asarray(households, dtype=np.int64),
        "population": np.asarray(population, dtype=np.int64),
        "area_m2": area,
        "centroid_lat": rep[:, 1],
        "centroid_lon": rep[:, 0],
        "min_lat": bounds[:, 1],
        "min_lon": bounds[:, 0],
        "max_lat": bounds[:, 3],
        "max_lon": bounds[:, 2],
        "geometry": shapely.to_geojson(geoms),
    })


def _buildings(rng, spec, cells, grid_codes, comm_of_grid, grid_hh, grid_r, village_grid):
    """Place buildings strictly inside their grids (at least ~10 m from the edge)."""
    n_grids = len(cells)
    counts = 1 + rng.multinomial(spec.buildings - n_grids, grid_hh / grid_hh.sum())
    if counts.max() > 999:
        raise ValueError("more than 999 buildings in one grid")
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    grid_of = np.repeat(np.arange(n_grids), counts)
    # Keep about 10 m from the edge where the grid is big enough, less in the rare small ones.
    inner = shapely.buffer(cells, -1e-4)
    for margin in (-3e-5, -5e-6):
        small = shapely.is_empty(inner) | (shapely.area(inner) < 0.05 * shapely.area(cells))
        inner = np.where(small, shapely.buffer(cells, margin), inner)
    bounds = shapely.bounds(inner)
    lon = np.full(len(grid_of), np.nan)
    lat = np.full(len(grid_of), np.nan)
    todo = np.arange(len(grid_of))
    for _ in range(200):
        if len(todo) == 0:
            break
        b = bounds[grid_of[todo]]
        x = rng.uniform(b[:, 0], b[:, 2])
        y = rng.uniform(b[:, 1], b[:, 3])
        ok = shapely.contains_xy(inner[grid_of[todo]], x, y)
        lon[todo[ok]], lat[todo[ok]] = x[ok], y[ok]
        todo = todo[~ok]
    if len(todo):
        raise RuntimeError("could not place every building inside its grid")

    # Old-town grids are high-rise, suburbs mid-rise, villages two to four storeys.
    r = grid_r[grid_of]
    floors = np.where(
        village_grid[grid_of],
        rng.integers(2, 5, len(grid_of)),
        np.round(rng.lognormal(np.log(6.0 + 12.0 * np.exp(-r / 5.0)), 0.45)),
    )
    floors = np.clip(floors, 2, 33).astype(np.int64)
    households = np.empty(len(grid_of), dtype=np.int64)
    for g in range(n_grids):  # one short multinomial per grid: 5,000 calls, well under a second
        rows = slice(first[g], first[g] + counts[g])
        w = floors[rows].astype(float)
        households[rows] = 1 + rng.multinomial(max(int(grid_hh[g]) - counts[g], 0), w / w.sum())
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    # How far each building is from its grid's edge, so event jitter never leaves the grid.
    edges_m = shapely.transform(shapely.boundary(cells), lambda c: np.column_stack(to_metres(c[:, 0], c[:, 1])))
    clearance = shapely.distance(shapely.points(np.column_stack(to_metres(lon, lat))), edges_m[grid_of])
    seq_in_grid = np.arange(len(grid_of)) - first[grid_of] + 1
    # Building numbers run through the community, so 12号楼 is unique within it.
    comm = comm_of_grid[grid_of]
    order = np.argsort(comm, kind="stable")
    number = np.empty(len(grid_of), dtype=np.int64)
    number[order] = np.arange(len(grid_of)) - np.searchsorted(comm[order], comm[order]) + 1
    style_zhuang = rng.random(comm_of_grid.max() + 1) < 0.4
    suffix = np.where(village_grid[grid_of] | style_zhuang[comm], "幢", "号楼")
    frame = pd.DataFrame({
        "code": [f"{grid_codes[g]}{q:03d}" for g, q in zip(grid_of, seq_in_grid)],
        "grid_code": grid_codes[grid_of],
        "name": [f"{n}{s}" for n, s in zip(number, suffix)],
        "lat": lat,
        "lon": lon,
        "households": households,
        "floors": floors,
    })
    return frame, first, counts, clearance


def _workers(rng, spec, grid_codes, grid_hh):
    """One full-time worker per grid; the rest part-time, more of them in bigger grids."""
    n_grids = len(grid_codes)
    part = np.bincount(rng.choice(n_grids, spec.workers - n_grids, p=grid_hh / grid_hh.sum()),
                       minlength=n_grids) if spec.workers > n_grids else np.zeros(n_grids, dtype=np.int64)
    counts = 1 + part
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    grid_of = np.repeat(np.arange(n_grids), counts)
    kind = np.where(np.arange(len(grid_of)) == first[grid_of], "full_time", "part_time")
    frame = pd.DataFrame({
        "id": np.arange(1, len(grid_of) + 1, dtype=np.int64),
        "name": names.person_names(rng, len(grid_of)),
        "phone": names.phone_numbers(rng, len(grid_of)),
        "kind": kind,
        "grid_code": grid_codes[grid_of],
    })
    return frame, first, counts


def _departments(district_codes, district_names, total: int):
    """Each district gets every department kind; any extra departments are city-level."""
    order = np.argsort(district_codes, kind="stable")
    rows = []
    index = np.zeros((len(district_codes), len(DEPARTMENT_KINDS)), dtype=np.int64)
    for d_row, d in enumerate(order):
        for k, kind in enumerate(DEPARTMENT_KINDS):
            index[d_row, k] = len(rows)
            rows.append((f"{district_codes[d]}-{k + 1:02d}", f"{district_names[d]}{kind}", kind, district_codes[d]))
    for j in range(total - len(rows)):
        kind = DEPARTMENT_KINDS[j % len(DEPARTMENT_KINDS)]
        rows.append((f"{CITY_CODE}-{j + 1:02d}", f"{CITY_NAME}{kind}", kind, None))
    return pd.DataFrame(rows, columns=["code", "name", "kind", "district_code"]), index
