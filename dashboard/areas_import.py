"""``gridcc import-areas FILE``: load a city's own grid map (GeoJSON or ESRI Shapefile) into the store.

Every feature is checked first — properties, codes (DOMAIN.md §1), parents, geometry, nesting,
overlaps and gaps — and every problem is reported with its feature. Only a file without problems is
written, in one transaction, so a store is never left half-imported. See docs/imports.md.

Coordinates are longitude/latitude in WGS 84 (EPSG:4326) or CGCS2000 (EPSG:4490). The two are taken
as identical: CGCS2000's ellipsoid differs from WGS 84's only in flattening (the difference is about
0.1 mm in latitude) and their frames agree to a few centimetres, far below the 1e-5° (about 1 m)
precision every stored coordinate is snapped to.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import struct
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import shapely
import shapely.geometry
from shapely.errors import GEOSException

from queries.schema import CITY, CODE_LENGTHS, COMMUNITY, DISTRICT, GRID, LEVEL_NAMES, STREET

PROPERTIES = ("code", "name", "level", "parent_code", "households", "population")
REQUIRED = ("code", "name", "level")
NAME_MAX = 64  # areas.name is VARCHAR(64)
PRECISION = 1e-5  # degrees, about 1 m: stored coordinates sit on this grid, like the demo's
TOLERANCE = 0.01  # share of an area that may lie outside its parent / overlap a neighbour / stay uncovered
EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0

LEVEL_WORDS = {
    "city": CITY, "市": CITY, "地级市": CITY,
    "district": DISTRICT, "county": DISTRICT, "区": DISTRICT, "县": DISTRICT, "区县": DISTRICT,
    "县级市": DISTRICT,
    "street": STREET, "town": STREET, "township": STREET, "街道": STREET, "镇": STREET, "乡": STREET,
    "乡镇": STREET, "乡镇街道": STREET,
    "community": COMMUNITY, "village": COMMUNITY, "社区": COMMUNITY, "村": COMMUNITY, "居委会": COMMUNITY,
    "村委会": COMMUNITY, "社区村": COMMUNITY,
    "grid": GRID, "网格": GRID,
}
# Lon/lat CRSs taken as-is (see the module docstring): WGS 84, CRS84, CGCS2000.
GEOGRAPHIC_EPSG = {"4326", "4490"}
GEOGRAPHIC_WKT_NAMES = ("WGS_1984", "WGS 84", "WGS84", "CHINA_GEODETIC_COORDINATE_SYSTEM_2000", "CGCS2000",
                        "CGCS_2000")
CPG_ENCODINGS = {"936": "gbk", "cp936": "gbk", "gbk": "gbk", "gb2312": "gb18030", "gb18030": "gb18030",
                 "utf8": "utf-8", "utf_8": "utf-8", "65001": "utf-8"}


@dataclass(frozen=True)
class Problem:
    """One finding, tied to a feature (its 0-based index in the file) or to the file (index None).

    ``kind`` is a short stable key (code, parent, overlap …); a warning does not stop the import.
    """

    kind: str
    reason: str
    index: int | None = None
    code: str | None = None
    name: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"feature {self.index}")
        if self.code:
            where.append(f"code {self.code}")
        if self.name is not None:
            # json quoting: a name holding newlines or escape codes cannot forge report lines.
            where.append(f"name {json.dumps(self.name, ensure_ascii=False)}")
        head = ", ".join(where) if where else "file"
        return f"{'warning' if self.warning else 'problem'}: {head}: {self.reason} [{self.kind}]"


@dataclass
class RawFeature:
    """A feature as read: its properties (renamed by the mapping) and its GeoJSON geometry dict."""

    index: int
    properties: dict
    geometry: dict | None


@dataclass
class Feature:
    """A feature whose properties parsed; ``geometry`` is None when it is unusable."""

    index: int
    code: str
    name: str
    level: int
    parent_code: str | None
    households: int | None
    population: int | None
    geometry: shapely.Geometry | None


@dataclass
class ImportResult:
    """What an import found and did."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    areas_version: int | None = None
    city_created: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Node:
    """An area as it will be after the import: from the file (index set) or kept from the store."""

    code: str
    level: int
    name: str
    parent_code: str | None
    geometry: shapely.Geometry | None
    index: int | None = None
    households: int | None = None
    population: int | None = None


# ---------------------------------------------------------------------------------------------- reading


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """Parse ``--map target=SOURCE`` items into {our property: the file's column}."""
    mapping: dict[str, str] = {}
    for item in items or []:
        target, sep, source = item.partition("=")
        target, source = target.strip(), source.strip()
        if not sep or not source:
            raise ValueError(f"--map {item!r}: write it as PROPERTY=COLUMN, e.g. code=QHDM")
        if target not in PROPERTIES:
            raise ValueError(f"--map {item!r}: {target!r} is not one of {', '.join(PROPERTIES)}")
        mapping[target] = source
    return mapping


def read_features(path: Path, mapping: dict[str, str] | None = None) -> tuple[list[RawFeature], list[Problem]]:
    """Read a GeoJSON FeatureCollection or an ESRI Shapefile; return its features and file-level findings."""
    path = Path(path)
    if not path.is_file():
        return [], [Problem("file", f"no such file: {path}")]
    if path.suffix.lower() == ".shp":
        raw, problems = _read_shapefile(path)
    else:
        raw, problems = _read_geojson(path)
    return _apply_mapping(raw, mapping or {}, problems)


def _read_geojson(path: Path) -> tuple[list[RawFeature], list[Problem]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem("file", f"not UTF-8 text (GeoJSON is UTF-8, RFC 7946): byte {exc.start}")]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem("file", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        return [], [Problem("file", "not a GeoJSON FeatureCollection (an object with \"type\": "
                                    "\"FeatureCollection\" and a \"features\" list)")]
    problems = []
    crs = doc.get("crs")
    if crs is not None:
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else str(crs)
        epsg = re.search(r"(\d{4,6})\s*$", name)
        if not (name.upper().endswith("CRS84") or (epsg and epsg.group(1) in GEOGRAPHIC_EPSG)):
            problems.append(Problem("crs", f"the file's crs is {name!r}: gridcc takes longitude/latitude in "
                                           "WGS 84 or CGCS2000 (EPSG:4326 / EPSG:4490); reproject first, e.g. "
                                           "ogr2ogr -t_srs EPSG:4490 out.geojson in.geojson"))
    raw = []
    for i, item in enumerate(doc["features"]):
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raw.append(RawFeature(i, {"__not_a_feature__": True}, None))
            continue
        props = item.get("properties")
        raw.append(RawFeature(i, props if isinstance(props, dict) else {}, item.get("geometry")))
    return raw, problems


def _read_shapefile(path: Path) -> tuple[list[RawFeature], list[Problem]]:
    import shapefile  # pyshp

    def sibling(ext: str) -> Path | None:
        for candidate in (path.with_suffix(ext), path.with_suffix(ext.upper())):
            if candidate.is_file():
                return candidate
        return None

    dbf, shx, prj, cpg = sibling(".dbf"), sibling(".shx"), sibling(".prj"), sibling(".cpg")
    if dbf is None:
        return [], [Problem("file", f"{path.name} has no .dbf beside it: the attributes (code, name …) live there")]
    problems = []
    if prj is None:
        problems.append(Problem("crs", "no .prj beside the .shp: coordinates taken as longitude/latitude "
                                       "(CGCS2000 / WGS 84)", warning=True))
    else:
        problems += _check_prj(prj.read_text(encoding="utf-8", errors="replace"))
    encodings = ["utf-8", "gb18030"]
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip().lower().replace("-", "_")
        encodings = [CPG_ENCODINGS.get(declared, declared)]
    for encoding in encodings:
        # Open the parts ourselves: pyshp would also fetch URLs and zip members given a name.
        opened = [open(p, "rb") for p in (path, dbf, shx) if p is not None]
        try:
            reader = shapefile.Reader(shp=opened[0], dbf=opened[1], shx=opened[2] if shx else None,
                                      encoding=encoding)
            raw = []
            for i, record in enumerate(reader.iterShapeRecords()):
                shape = record.shape
                geometry = None if shape.shapeType == shapefile.NULL else shape.__geo_interface__
                raw.append(RawFeature(i, record.record.as_dict(), geometry))
            if encoding != encodings[0]:
                problems.append(Problem("file", f"no .cpg and the attributes are not UTF-8: read them as {encoding}",
                                        warning=True))
            return raw, problems
        except (UnicodeDecodeError, LookupError, shapefile.dbfFileException) as exc:
            last = exc  # pyshp wraps a text it cannot decode in dbfFileException: try the next encoding
        except (shapefile.ShapefileException, OSError, ValueError, struct.error) as exc:
            return [], problems + [Problem("file", f"cannot read the shapefile: {exc}")]
        finally:
            for f in opened:
                f.close()
    return [], problems + [Problem("file", f"cannot decode the attributes ({', '.join(encodings)}): {last}")]


def _check_prj(wkt: str) -> list[Problem]:
    upper = wkt.upper()
    if "PROJCS" in upper or "PROJCRS" in upper:
        name = re.search(r'PROJ(?:CS|CRS)\s*\[\s*"([^"]*)"', wkt, re.IGNORECASE)
        return [Problem("crs", f"the .prj is a projected CRS ({name.group(1) if name else 'metres'}): gridcc takes "
                               "longitude/latitude in CGCS2000 or WGS 84; reproject first, e.g. "
                               "ogr2ogr -t_srs EPSG:4490 out.shp in.shp")]
    if not any(n in upper for n in GEOGRAPHIC_WKT_NAMES):
        name = re.search(r'GEOG(?:CS|CRS)\s*\[\s*"([^"]*)"', wkt, re.IGNORECASE)
        return [Problem("crs", f"the .prj names the datum {name.group(1) if name else '(unknown)'}: only CGCS2000 "
                               "and WGS 84 are taken as they are (Beijing 1954 and Xi'an 1980 differ from them by "
                               "tens of metres or more, wider than a grid's edge errors); reproject to EPSG:4490")]
    return []


def _apply_mapping(raw: list[RawFeature], mapping: dict[str, str],
                   problems: list[Problem]) -> tuple[list[RawFeature], list[Problem]]:
    """Rename the file's columns to ours: mapped names first, then our own names in any case."""
    seen = {k for r in raw for k in r.properties}
    for target, source in mapping.items():
        if raw and source not in seen and source.lower() not in {k.lower() for k in seen}:
            problems.append(Problem("file", f"--map {target}={source}: no column {source!r} in the file "
                                            f"(it has: {', '.join(sorted(seen)) or 'none'})"))
    out = []
    for r in raw:
        lower = {k.lower(): k for k in r.properties}
        props = {}
        for name in PROPERTIES:
            source = mapping.get(name, name)
            key = source if source in r.properties else lower.get(source.lower())
            if key is not None:
                props[name] = r.properties[key]
        if r.properties.get("__not_a_feature__"):
            props["__not_a_feature__"] = True
        out.append(RawFeature(r.index, props, r.geometry))
    return out, problems


# ------------------------------------------------------------------------------------------- features


def parse_level(value) -> int | None:
    """Return the level 0–4 for city/district/street/community/grid, 0–4 or 市/区/街道/社区/网格; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() and CITY <= value <= GRID else None
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text) if CITY <= int(text) <= GRID else None
    return LEVEL_WORDS.get(text)


def _code_text(value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def _count(value) -> tuple[int | None, bool]:
    """Parse a households/population value: (number or None when absent, well-formed)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    if isinstance(value, bool):
        return None, False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, False
    if not math.isfinite(number) or not number.is_integer() or number < 0:
        return None, False
    return int(number), True


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_features(raw: list[RawFeature]) -> tuple[list[Feature], list[Problem]]:
    """Check each feature on its own: properties, code shape, geometry; return the usable ones and the problems.

    A feature with a usable code and level is returned even if its geometry is unusable (geometry None),
    so its children still find it as their parent instead of reporting a cascade of unknown parents.
    """
    features, problems = [], []
    for r in raw:
        p = r.properties
        code = _code_text(p.get("code"))
        name = p.get("name")
        name = None if name is None else str(name)

        def problem(kind: str, reason: str) -> None:
            problems.append(Problem(kind, reason, r.index, code, name))

        if p.get("__not_a_feature__"):
            problem("file", "not a GeoJSON Feature object")
            continue
        missing = [k for k in REQUIRED if _is_blank(p.get(k))]
        level = parse_level(p.get("level"))
        if level is not None and level != CITY and _is_blank(p.get("parent_code")):
            missing.append("parent_code")
        if missing:
            problem("missing", f"missing propert{'ies' if len(missing) > 1 else 'y'} {', '.join(missing)}")
        if not _is_blank(p.get("level")) and level is None:
            problem("level", f"unknown level {p.get('level')!r}: use city/district/street/community/grid, 0–4, "
                             "or 市/区/街道/社区/网格")
        if name is not None and len(name) > NAME_MAX:
            problem("value", f"name longer than {NAME_MAX} characters")
        counts = {}
        for key in ("households", "population"):
            counts[key], ok = _count(p.get(key))
            if not ok:
                problem("value", f"{key} {p.get(key)!r} is not a whole number >= 0")
        code_ok = code is not None and _check_code(code, level, problem)
        parent = _code_text(p.get("parent_code"))
        if parent is not None and not parent.isdigit():
            problem("parent", f"parent_code {parent!r} is not digits only")
        geometry = _check_geometry(r.geometry, problem)
        if code_ok and level is not None and name is not None:
            features.append(Feature(r.index, code, name, level, None if level == CITY else parent,
                                    counts["households"], counts["population"], geometry))
    return features, problems


def _check_code(code: str, level: int | None, problem) -> bool:
    """Check the code's digits, its length for the level and its last segment; report and return whether usable."""
    if not code.isdigit():
        problem("code", "code must be digits only")
        return False
    if level is None:
        return False
    want = CODE_LENGTHS[level]
    if len(code) != want:
        problem("code", f"a {LEVEL_NAMES[level]} code has {want} digits, this one has {len(code)}")
        return False
    if level == DISTRICT and code.endswith("00"):
        problem("code", "a district (county) code does not end in 00: xxxx00 is the city itself (GB/T 2260)")
    elif level > DISTRICT and code.endswith("000"):
        problem("code", f"the {LEVEL_NAMES[level]}'s own 3-digit segment is 000: numbering starts at 001")
    return True


def _check_geometry(geometry, problem) -> shapely.Geometry | None:
    """Return the geometry snapped to 1e-5° and oriented counter-clockwise, or None after reporting why not."""
    if not isinstance(geometry, dict) or not geometry.get("type"):
        problem("geometry", "no geometry")
        return None
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        problem("geometry", f"a {kind} is not an area: only Polygon and MultiPolygon are")
        return None
    try:
        geom = shapely.force_2d(shapely.geometry.shape(geometry))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, GEOSException) as exc:
        problem("geometry", f"malformed {kind} coordinates: {exc}")
        return None
    if geom.is_empty:
        problem("geometry", f"empty {kind}")
        return None
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        problem("geometry", "coordinates that are not numbers (NaN or infinity)")
        return None
    outside = (np.abs(xy[:, 0]) > 180.0) | (np.abs(xy[:, 1]) > 90.0)
    if outside.any():
        x, y = xy[np.argmax(outside)]
        problem("projected", f"coordinates outside longitude/latitude ranges (x={x:.10g}, y={y:.10g}): "
                             "projected coordinates in metres? Reproject to CGCS2000 (EPSG:4490) or WGS 84 "
                             "(EPSG:4326) longitude/latitude first")
        return None
    if not geom.is_valid:
        problem("geometry", f"invalid {kind}: {shapely.is_valid_reason(geom)}")
        return None
    snapped = shapely.set_precision(geom, PRECISION)
    if snapped.is_empty or shapely.get_type_id(snapped) not in (3, 6):
        problem("geometry", "collapses to nothing at 1e-5° (about 1 m) precision: far too small for an area")
        return None
    return shapely.orient_polygons(snapped, exterior_cw=False)


# ------------------------------------------------------------------------------------------ hierarchy


def district_prefix(city_code: str) -> str:
    """Return the prefix a city's district codes share: 2 digits under a municipality (xx0000), else 4."""
    return city_code[:2] if city_code.endswith("0000") else city_code[:4]


def area_kind(code: str, level: int) -> str | None:
    """Return the kind the code's own segment implies (DOMAIN.md §1; GB/T 2260 for districts)."""
    if level == CITY:
        return "市"
    if level == DISTRICT:
        seq = int(code[4:6])
        return "区" if seq <= 20 else "县" if seq <= 80 else "县级市"
    if level == GRID:
        return "网格"
    seq = int(code[-3:])
    if level == STREET:
        return "街道" if seq <= 99 else "镇" if seq <= 199 else "乡" if seq <= 399 else None
    return "居委会" if seq <= 199 else "村委会" if seq <= 399 else None


def area_m2(geoms) -> np.ndarray:
    """Return areas in m² of lon/lat geometries, each in an equirectangular projection at its own centre's latitude."""
    geoms = np.asarray(geoms, dtype=object)
    with np.errstate(invalid="ignore"):
        lat = shapely.get_coordinates(shapely.centroid(geoms))[:, 1]
    return shapely.area(geoms) * M_PER_DEG * M_PER_DEG * np.cos(np.radians(lat))


def validate(features: list[Feature], stored: list, *, city_code: str | None = None,
             city_name: str | None = None, strict: bool = False) -> tuple[list[Problem], list[Problem], dict | None]:
    """Check the features against each other and the store; return (problems, warnings, city to create or None).

    ``stored`` holds the store's areas (queries.area_writes.StoredArea). Gaps are warnings unless ``strict``.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []

    def report(kind, reason, f: Feature | _Node | None, warning=False):
        target = warnings if warning else problems
        if f is None:
            target.append(Problem(kind, reason, warning=warning))
        else:
            target.append(Problem(kind, reason, f.index, f.code, f.name, warning))

    nodes: dict[str, _Node] = {}
    for s in stored:
        geom = _parse_stored(s.geometry)
        nodes[s.code] = _Node(s.code, s.level, s.name, s.parent_code, geom, None, s.households, s.population)
    stored_codes = set(nodes)
    first: dict[str, Feature] = {}
    unique: list[Feature] = []
    for f in features:
        if f.code in first:
            report("duplicate", f"duplicate code: feature {first[f.code].index} has it too", f)
            continue
        first[f.code] = f
        unique.append(f)
        if f.code in stored_codes and nodes[f.code].level != f.level:
            report("level", f"the store holds {f.code} as a {LEVEL_NAMES[nodes[f.code].level]}, "
                            f"not a {LEVEL_NAMES[f.level]}", f)
    for f in unique:
        nodes[f.code] = _Node(f.code, f.level, f.name, f.parent_code, f.geometry, f.index, f.households, f.population)

    city = _city_to_create(unique, nodes, stored_codes, city_code, city_name, report)
    if city is not None:
        nodes[city["code"]] = _Node(city["code"], CITY, city["name"], None, city["geometry"], None)

    for f in unique:
        if f.level == CITY:
            continue
        parent = f.parent_code
        if parent is None:
            continue
        if f.level == DISTRICT:
            prefix = district_prefix(parent)
            if not f.code.startswith(prefix):
                report("parent", f"a district's code starts with its city's {prefix} (city {parent})", f)
        elif f.code[:-3] != parent:
            report("parent", f"code does not start with its parent's code {parent} "
                             f"(a {LEVEL_NAMES[f.level]} code is the {LEVEL_NAMES[f.level - 1]}'s code + 3 digits)", f)
        node = nodes.get(parent)
        if node is None:
            report("parent", f"unknown parent {parent}: not in the file nor in the store", f)
        elif node.level != f.level - 1:
            report("parent", f"parent {parent} is a {LEVEL_NAMES[node.level]}, a {LEVEL_NAMES[f.level]}'s parent "
                             f"is a {LEVEL_NAMES[f.level - 1]}", f)

    _check_geometry_relations(nodes, report, strict)
    return problems, warnings, city


def _parse_stored(text: str | None) -> shapely.Geometry | None:
    try:
        geom = shapely.from_geojson(text) if text else None
    except (GEOSException, ValueError, TypeError):
        return None
    return geom if geom is not None and shapely.is_valid(geom) and not geom.is_empty else None


def _city_to_create(features, nodes, stored_codes, city_code, city_name, report) -> dict | None:
    """Decide whether the import creates the city row (from the union of its districts); return it or None."""
    if any(f.level == CITY for f in features):
        cities = [f for f in features if f.level == CITY]
        for extra in cities[1:]:
            report("city", f"a second city in the file (the first is {cities[0].code}): import one city at a time",
                   extra)
        return None
    store_has_city = any(nodes[c].level == CITY for c in stored_codes)
    if city_code is None and store_has_city:
        return None
    districts = [f for f in features if f.level == DISTRICT]
    if city_code is None:
        prefixes = sorted({f.code[:4] for f in districts})
        if not prefixes:
            return None  # nothing to hang a new city on; children report their unknown parents
        if len(prefixes) > 1:
            report("city", f"the districts have different 4-digit prefixes ({', '.join(prefixes)}): "
                           "give the city with --city-code", None)
            return None
        city_code = prefixes[0] + "00"
    if city_code in nodes:
        return None  # already in the store
    if not (city_code.isdigit() and len(city_code) == CODE_LENGTHS[CITY]):
        report("city", f"--city-code {city_code!r}: a city code has 6 digits", None)
        return None
    members = [f for f in districts if f.parent_code == city_code]
    geoms = [f.geometry for f in members if f.geometry is not None]
    if not members:
        report("city", f"cannot create city {city_code}: no district in the file has it as parent_code", None)
        return None
    if not geoms:
        return {"code": city_code, "name": city_name or f"{city_code}市", "geometry": None}
    # A district with an unusable geometry is reported already (the import stops); the others still
    # outline the city, so its districts are not also reported as orphans.
    outline = shapely.set_precision(shapely.union_all(geoms, grid_size=PRECISION), PRECISION)
    return {"code": city_code, "name": city_name or f"{city_code}市",
            "geometry": shapely.orient_polygons(outline, exterior_cw=False)}


def _check_geometry_relations(nodes: dict[str, _Node], report, strict: bool) -> None:
    """Report children outside their parents, overlapping neighbours and uncovered parts of parents.

    Only relations that involve at least one feature of the file are checked: the rest of the store
    was checked (or seeded) before. Shares are of the smaller area; TOLERANCE absorbs digitising slivers.
    """
    usable = [n for n in nodes.values() if n.geometry is not None]
    children: dict[str, list[_Node]] = defaultdict(list)
    for n in usable:
        if n.parent_code:
            children[n.parent_code].append(n)

    # Children outside their parents.
    pairs = [(c, nodes[c.parent_code]) for c in usable
             if c.parent_code in nodes and nodes[c.parent_code].geometry is not None
             and nodes[c.parent_code].level == c.level - 1 and (c.index is not None or nodes[c.parent_code].index is not None)]
    if pairs:
        child_g = np.array([c.geometry for c, _ in pairs], dtype=object)
        parent_g = np.array([p.geometry for _, p in pairs], dtype=object)
        check = ~shapely.covers(parent_g, child_g)
        out_area = np.zeros(len(pairs))
        out_area[check] = shapely.area(shapely.difference(child_g[check], parent_g[check]))
        share = out_area / shapely.area(child_g)
        m2 = out_area * _m2_per_deg2(child_g)
        for k in np.flatnonzero(share > TOLERANCE):
            child, parent = pairs[k]
            if child.index is not None:
                report("outside", f"{share[k]:.1%} ({m2[k]:,.0f} m²) lies outside its parent {parent.code}", child)
            else:
                report("outside", f"child {child.code} (in the store) lies {share[k]:.1%} ({m2[k]:,.0f} m²) "
                                  "outside this area", parent)

    # Overlapping areas of one level (siblings and cousins alike: either way an event would sit in two).
    by_level: dict[int, list[_Node]] = defaultdict(list)
    for n in usable:
        by_level[n.level].append(n)
    for level, members in sorted(by_level.items()):
        geoms = np.array([n.geometry for n in members], dtype=object)
        in_file = np.array([n.index is not None for n in members])
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        keep = (left < right) & (in_file[left] | in_file[right])
        left, right = left[keep], right[keep]
        if not len(left):
            continue
        inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
        areas = shapely.area(geoms)
        share = inter / np.minimum(areas[left], areas[right])
        m2 = inter * _m2_per_deg2(geoms[left])
        for k in np.flatnonzero(share > TOLERANCE):
            a, b = members[left[k]], members[right[k]]
            if a.index is None or (b.index is not None and b.index > a.index):
                a, b = b, a  # report on the later feature of the file
            where = f"feature {b.index}" if b.index is not None else "in the store"
            report("overlap", f"overlaps {LEVEL_NAMES[level]} {b.code} ({where}) by {m2[k]:,.0f} m² "
                              f"({share[k]:.1%} of the smaller)", a)

    # Gaps: parts of a parent no child covers (events there would have no grid).
    for code, kids in sorted(children.items()):
        parent = nodes.get(code)
        if parent is None or parent.geometry is None or parent.level >= GRID:
            continue
        kids = [k for k in kids if k.level == parent.level + 1]
        if not kids or (parent.index is None and all(k.index is None for k in kids)):
            continue
        uncovered = shapely.difference(parent.geometry, shapely.union_all([k.geometry for k in kids]))
        share = uncovered.area / parent.geometry.area
        if share > TOLERANCE:
            m2 = float(area_m2([uncovered])[0])
            x, y = uncovered.representative_point().coords[0]
            report("gap", f"{share:.1%} ({m2:,.0f} m²) is covered by none of its {len(kids)} "
                          f"{LEVEL_NAMES[parent.level + 1]}s (e.g. at {x:.5f}, {y:.5f}): events there have no "
                          f"{LEVEL_NAMES[parent.level + 1]}", parent, warning=not strict)


def _m2_per_deg2(geoms: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        lat = shapely.get_coordinates(shapely.centroid(geoms))[:, 1]
    return M_PER_DEG * M_PER_DEG * np.cos(np.radians(lat))


# --------------------------------------------------------------------------------------------- rows


def area_rows(features: list[Feature], stored: list, city: dict | None) -> list[dict]:
    """Return the areas rows to upsert; missing households/population are summed from the children."""
    values: dict[str, tuple[int, int]] = {s.code: (s.households, s.population) for s in stored}
    parent_of = {s.code: s.parent_code for s in stored}
    level_of = {s.code: s.level for s in stored}
    seen, mine = set(), []
    for f in features:
        if f.code not in seen:
            seen.add(f.code)
            mine.append(f)
    for f in mine:
        parent_of[f.code], level_of[f.code] = f.parent_code, f.level
    if city is not None:
        parent_of[city["code"]], level_of[city["code"]] = None, CITY
    kids: dict[str, list[str]] = defaultdict(list)
    for code, parent in parent_of.items():
        if parent is not None:
            kids[parent].append(code)
    rows = []
    entries = [(f.code, f.level, f.name, f.parent_code, f.households, f.population, f.geometry) for f in mine]
    if city is not None:
        entries.append((city["code"], CITY, city["name"], None, None, None, city["geometry"]))
    for code, level, name, parent, hh, pop, geom in sorted(entries, key=lambda e: -e[1]):
        summed = [values.get(k, (0, 0)) for k in kids[code] if level_of.get(k) == level + 1]
        # Not given: the children's sum, or, for an area without children, what the store holds.
        kept = values.get(code, (0, 0))
        hh = hh if hh is not None else sum(v[0] for v in summed) if summed else kept[0]
        pop = pop if pop is not None else sum(v[1] for v in summed) if summed else kept[1]
        values[code] = (hh, pop)
        rows.append((code, level, name, parent, hh, pop, geom))
    geoms = np.array([r[6] for r in rows], dtype=object)
    rep = np.round(shapely.get_coordinates(shapely.point_on_surface(geoms)), 6)
    bounds = shapely.bounds(geoms)
    sizes = np.round(area_m2(geoms), 1)
    text = shapely.to_geojson(geoms)
    return [
        {"code": code, "level": level, "name": name, "parent_code": parent, "kind": area_kind(code, level),
         "households": int(hh), "population": int(pop), "area_m2": float(sizes[i]),
         "centroid_lat": float(rep[i, 1]), "centroid_lon": float(rep[i, 0]),
         "min_lat": float(bounds[i, 1]), "min_lon": float(bounds[i, 0]),
         "max_lat": float(bounds[i, 3]), "max_lon": float(bounds[i, 2]), "geometry": str(text[i])}
        for i, (code, level, name, parent, hh, pop, _) in enumerate(rows)
    ]


# ------------------------------------------------------------------------------------------- import


def import_areas(engine, path: Path, *, mapping: dict[str, str] | None = None, city_code: str | None = None,
                 city_name: str | None = None, strict: bool = False, check_only: bool = False) -> ImportResult:
    """Validate the file against the store and, when nothing is wrong, upsert its areas in one transaction."""
    from dashboard.store import init_schema
    from queries.area_writes import mark_areas_changed, stored_areas, upsert_areas

    result = ImportResult()
    raw, file_findings = read_features(Path(path), mapping)
    for p in file_findings:
        (result.warnings if p.warning else result.problems).append(p)
    if not raw and not result.problems:
        result.problems.append(Problem("file", "the file holds no features"))
    if not raw:
        return result
    features, problems = parse_features(raw)
    result.problems += problems
    init_schema(engine)
    with engine.begin() as conn:
        stored = stored_areas(conn)
        problems, warnings, city = validate(features, stored, city_code=city_code, city_name=city_name,
                                            strict=strict)
        result.problems += problems
        result.warnings += warnings
        if result.problems or check_only:
            return result
        rows = area_rows(features, stored, city)
        result.inserted, result.updated = upsert_areas(conn, rows)
        result.areas_version = mark_areas_changed(conn)
        result.city_created = city["code"] if city else None
    return result


def _order(p: Problem) -> tuple:
    return (p.index is not None, p.index or 0, p.kind)


def write_report(result: ImportResult, path, out: TextIO) -> None:
    """Write every problem and warning, one a line, then a one-line summary, to ``out``."""
    for p in sorted(result.problems + result.warnings, key=_order):
        out.write(f"{p}\n")
    if result.problems:
        out.write(f"{path}: {len(result.problems)} problem(s); nothing was written\n")
    elif result.areas_version is None:
        out.write(f"{path}: no problems; nothing was written (--check)\n")
    else:
        created = f", created city {result.city_created}" if result.city_created else ""
        out.write(f"{path}: imported {result.inserted + result.updated} areas ({result.inserted} new, "
                  f"{result.updated} updated{created}); areas_version {result.areas_version}\n")


def cmd_import_areas(args, out: TextIO | None = None) -> int:
    """Import a city's districts, streets, communities and grids from GeoJSON or an ESRI Shapefile."""
    from dashboard.settings import from_env
    from dashboard.store import make_engine

    out = out or sys.stdout
    try:
        mapping = parse_mapping(args.map)
    except ValueError as exc:
        out.write(f"problem: {exc}\n")
        return 2
    settings = from_env()
    if args.store:
        settings = settings.with_(store_url=args.store)
    engine = make_engine(settings)
    try:
        result = import_areas(engine, Path(args.file), mapping=mapping, city_code=args.city_code,
                              city_name=args.city_name, strict=args.strict, check_only=args.check)
    finally:
        engine.dispose()
    write_report(result, args.file, out)
    return 0 if result.ok else 1


def register_cli(subparsers) -> argparse.ArgumentParser:
    """Add the ``import-areas`` command to the ``gridcc`` subparsers and return its parser."""
    p = subparsers.add_parser(
        "import-areas", help=cmd_import_areas.__doc__,
        description=cmd_import_areas.__doc__ + " Nothing is written unless every feature passes; see docs/imports.md.",
    )
    p.add_argument("file", help="a GeoJSON FeatureCollection (.geojson/.json) or a Shapefile (.shp with .dbf, .prj)")
    p.add_argument("--store", help="SQLAlchemy URL of the store (default: $GRIDCC_STORE or a DuckDB file in ./data)")
    p.add_argument("--map", action="append", metavar="PROPERTY=COLUMN",
                   help="read PROPERTY (code, name, level, parent_code, households, population) from the file's "
                        "COLUMN; repeat it, e.g. --map code=QHDM --map name=MC")
    p.add_argument("--city-code", help="the city's 6-digit code when the file has no city feature "
                                       "(default: the districts' first 4 digits + 00)")
    p.add_argument("--city-name", help="the city's name when it is created from its districts")
    p.add_argument("--strict", action="store_true", help="treat gaps (parts of a parent no child covers) as problems")
    p.add_argument("--check", action="store_true", help="validate and report only; write nothing")
    p.set_defaults(func=cmd_import_areas)
    return p
