"""gridcc import-areas: a hand-made hierarchy in, exact rows out; every bad input refused with nothing written.

tests/fixtures/areas/valid.geojson (no city feature, so the city 339900 is made from its districts):
  东区 339902 (lon 121.00–121.10, lat 30.00–30.10) → 东街街道 339902001 → 东街社区 339902001001
      → grids 001 (121.00–121.05, 300 households, 800 people) and 002 (121.05–121.10, 250, 600)
  西区 339903 (121.10–121.20) → 西山镇 339903101 → 西山村 339903101201 → grid 001 (the whole village, 120, 300)
Households and population are given on grids only, so every parent sums its children's.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import math
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import shapefile
import shapely
from sqlalchemy import create_engine, func, select

from dashboard.areas_import import (
    cmd_import_areas, import_areas, parse_level, parse_mapping, register_cli,
)
from dashboard.seed import SMALL, seed_store
from dashboard.settings import Settings
from dashboard.store import make_engine
from queries.meta import get_meta
from queries.schema import areas, metadata

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "areas"
VALID = FIXTURES / "valid.geojson"
NOW = datetime(2026, 11, 20, 15, 0)
G1, G2, G3 = "339902001001001", "339902001001002", "339903101201001"
COMMUNITY = "339902001001"
M_PER_DEG = 6_371_008.8 * math.pi / 180.0
CGCS2000_PRJ = ('GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",'
                '6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]')
GK_PRJ = ('PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 40",GEOGCS["China Geodetic Coordinate System 2000",'
          'DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]]],PROJECTION["Transverse_Mercator"]]')


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridcc")
    register_cli(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(argv: list[str]) -> tuple[int, str]:
    """Run the command as the gridcc CLI would; return (exit code, report)."""
    args = _parser().parse_args(argv)
    out = io.StringIO()
    return args.func(args, out), out.getvalue()


def _url(path: Path) -> str:
    return f"duckdb:///{path}"


def _snapshot(url: str) -> dict:
    """Return every table's row count and a checksum of its rows (ordered by primary key)."""
    engine = create_engine(url)
    state = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            state[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    engine.dispose()
    return state


def _areas(url: str) -> dict[str, dict]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {r.code: r._asdict() for r in conn.execute(select(areas).order_by(areas.c.code))}
        meta = (get_meta(conn, "areas_version"), get_meta(conn, "data_version"))
    engine.dispose()
    return rows | {"_meta": meta}


def _features() -> list[dict]:
    return json.loads(VALID.read_text(encoding="utf-8"))["features"]


def _write(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def _rect(w, s, e, n) -> dict:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    """A SMALL demo store (云州市 329900, 40 grids, a few hundred events), built once."""
    path = tmp_path_factory.mktemp("import-areas") / "seeded.duckdb"
    engine = make_engine(Settings(store_url=_url(path)))
    seed_store(engine, events=300, seed=7, now=NOW, spec=SMALL, days=30)
    engine.dispose()
    return path


@pytest.fixture
def seeded_url(tmp_path, seeded_template) -> str:
    shutil.copy(seeded_template, tmp_path / "store.duckdb")
    return _url(tmp_path / "store.duckdb")


# ------------------------------------------------------------------------------------------ valid


def test_imp001_valid_file_into_an_empty_store(tmp_path):
    url = _url(tmp_path / "empty.duckdb")
    code, report = _run(["import-areas", str(VALID), "--store", url, "--city-name", "海州市"])
    assert code == 0, report
    assert "imported 10 areas (10 new, 0 updated, created city 339900); areas_version 1" in report
    rows = _areas(url)
    assert rows.pop("_meta") == ("1", "1")
    assert sorted(rows) == ["339900", "339902", "339902001", COMMUNITY, G1, G2,
                            "339903", "339903101", "339903101201", G3]
    got = {c: (r["level"], r["name"], r["parent_code"], r["kind"], r["households"], r["population"])
           for c, r in rows.items()}
    assert got == {
        "339900": (0, "海州市", None, "市", 670, 1700),
        "339902": (1, "东区", "339900", "区", 550, 1400),
        "339902001": (2, "东街街道", "339902", "街道", 550, 1400),
        COMMUNITY: (3, "东街社区", "339902001", "居委会", 550, 1400),
        G1: (4, "东街第01网格", COMMUNITY, "网格", 300, 800),
        G2: (4, "东街第02网格", COMMUNITY, "网格", 250, 600),
        "339903": (1, "西区", "339900", "区", 120, 300),
        "339903101": (2, "西山镇", "339903", "镇", 120, 300),  # street segment 100–199 = 镇
        "339903101201": (3, "西山村", "339903101", "村委会", 120, 300),  # community 200–399 = 村委会
        G3: (4, "西山第01网格", "339903101201", "网格", 120, 300),
    }
    # 0.05° × 0.10° at latitude 30.05°: 5,559.7 m × 11,119.5 m × cos(30.05°) = 53,512,192.9 m².
    grid_m2 = 0.05 * M_PER_DEG * 0.10 * M_PER_DEG * math.cos(math.radians(30.05))
    assert rows[G1]["area_m2"] == pytest.approx(grid_m2, abs=0.1) == pytest.approx(53_512_192.9, abs=0.1)
    assert rows["339900"]["area_m2"] == pytest.approx(4 * grid_m2, abs=0.5)
    assert (rows[G1]["min_lon"], rows[G1]["min_lat"], rows[G1]["max_lon"], rows[G1]["max_lat"]) == (121.0, 30.0, 121.05, 30.1)
    assert (rows[G1]["centroid_lon"], rows[G1]["centroid_lat"]) == (121.025, 30.05)
    # The union of the two districts, counter-clockwise, keeping the vertices where they meet.
    assert json.loads(rows["339900"]["geometry"]) == {"type": "Polygon", "coordinates": [[
        [121.0, 30.0], [121.1, 30.0], [121.2, 30.0], [121.2, 30.1], [121.1, 30.1], [121.0, 30.1], [121.0, 30.0]]]}


def test_imp002_second_import_updates_in_place_and_bumps_versions(tmp_path):
    url = _url(tmp_path / "s.duckdb")
    assert _run(["import-areas", str(VALID), "--store", url])[0] == 0
    features = _features()
    features[6]["properties"]["households"] = 310
    code, report = _run(["import-areas", str(_write(tmp_path / "v2.geojson", features)), "--store", url])
    assert code == 0, report
    assert "(0 new, 9 updated)" in report  # the city is not in the file: kept as it was
    rows = _areas(url)
    assert rows["_meta"] == ("2", "2")
    assert rows[G1]["households"] == 310 and rows[COMMUNITY]["households"] == 560
    assert rows["339900"]["name"] == "339900市"  # the default name; its households stay as first summed
    assert rows["339900"]["households"] == 670


def test_imp003_valid_file_into_the_seeded_demo_leaves_the_demo_alone(seeded_url):
    before = _areas(seeded_url)
    code, report = _run(["import-areas", str(VALID), "--store", seeded_url, "--city-code", "339900"])
    assert code == 0, report
    after = _areas(seeded_url)
    assert {c: r for c, r in after.items() if c in before and c != "_meta"} == \
        {c: r for c, r in before.items() if c != "_meta"}
    assert len(after) - len(before) == 10
    assert after["_meta"] == ("1", str(int(before["_meta"][1]) + 1))


def test_imp004_update_a_demo_grid_with_a_hostile_name_stored_exactly(seeded_url, tmp_path):
    engine = create_engine(seeded_url)
    with engine.connect() as conn:
        grid = conn.execute(select(areas).where(areas.c.level == 4).order_by(areas.c.code).limit(1)).one()
        n_before = conn.execute(select(func.count()).select_from(areas)).scalar()
    engine.dispose()
    hostile = "x'); DROP TABLE areas; -- <script>alert(1)</script>\"&"
    feature = {"type": "Feature", "geometry": json.loads(grid.geometry),
               "properties": {"code": grid.code, "name": hostile, "level": "网格", "parent_code": grid.parent_code,
                              "households": 7}}
    code, report = _run(["import-areas", str(_write(tmp_path / "one.geojson", [feature])), "--store", seeded_url])
    assert code == 0, report
    rows = _areas(seeded_url)
    assert len(rows) - 1 == n_before
    assert rows[grid.code]["name"] == hostile
    assert rows[grid.code]["households"] == 7
    assert rows[grid.code]["population"] == grid.population  # not given, no children: kept
    assert shapely.from_geojson(rows[grid.code]["geometry"]).equals(shapely.from_geojson(grid.geometry))


# -------------------------------------------------------------------------------------------- bad

def _set(index, **props):
    def change(features):
        features[index]["properties"].update(props)
    return change


def _geometry(index, geometry):
    def change(features):
        features[index]["geometry"] = geometry
    return change


def _drop(index, *names):
    def change(features):
        for name in names:
            features[index]["properties"].pop(name)
    return change


def _append_copy(index):
    def change(features):
        features.append(copy.deepcopy(features[index]))
    return change


def _replace(index, item):
    def change(features):
        features[index] = item
    return change


BOWTIE = {"type": "Polygon", "coordinates": [[[121.05, 30.0], [121.1, 30.1], [121.1, 30.0], [121.05, 30.1], [121.05, 30.0]]]}

# (test id, change to valid.geojson, expected problems as (kind, feature index, code), words in the report)
BAD = [
    ("short-code", _set(7, code="33990200100102"), {("code", 7, "33990200100102")}, "has 15 digits, this one has 14"),
    ("letters-in-code", _set(7, code="33990200100100A"), {("code", 7, "33990200100100A")}, "digits only"),
    ("not-under-parent", _set(7, code="339902001002002"), {("parent", 7, "339902001002002")},
     "does not start with its parent's code 339902001001"),
    ("unknown-parent", _set(7, code="339902001009002", parent_code="339902001009"),
     {("parent", 7, "339902001009002")}, "unknown parent 339902001009"),
    ("parent-level", _set(7, code="339902001002", level="community", parent_code="339902001001"),
     {("parent", 7, "339902001002"), ("overlap", 7, "339902001002")}, "a community's parent is a street"),
    # The street under 339903 has lost its parent too: that is reported as well.
    ("district-prefix", _set(1, code="339803"), {("parent", 1, "339803"), ("parent", 3, "339903101")},
     "starts with its city's 3399"),
    ("duplicate", _append_copy(6), {("duplicate", 9, G1)}, "duplicate code: feature 6 has it too"),
    ("self-intersecting", _geometry(7, BOWTIE), {("geometry", 7, G2)}, "invalid Polygon: Self-intersection"),
    ("point", _geometry(7, {"type": "Point", "coordinates": [121.07, 30.05]}), {("geometry", 7, G2)},
     "a Point is not an area"),
    ("no-geometry", _geometry(7, None), {("geometry", 7, G2)}, "no geometry"),
    ("ring-too-short", _geometry(7, {"type": "Polygon", "coordinates": [[[121.05, 30.0], [121.1, 30.0]]]}),
     {("geometry", 7, G2)}, "malformed Polygon"),
    ("outside-parent", _geometry(7, _rect(121.05, 30.10, 121.10, 30.20)), {("outside", 7, G2)},
     "100.0% (53,4"),
    ("overlapping-grids", _geometry(7, _rect(121.04, 30.0, 121.10, 30.1)), {("overlap", 7, G2)},
     f"overlaps grid {G1} (feature 6) by 10,70"),
    ("projected", _geometry(7, _rect(40505000.0, 3320000.0, 40510000.0, 3331000.0)), {("projected", 7, G2)},
     "x=40505000, y=3320000"),
    ("missing-name-level", _drop(7, "name", "level"), {("missing", 7, G2)}, "missing properties name, level"),
    ("missing-parent", _drop(7, "parent_code"), {("missing", 7, G2)}, "missing property parent_code"),
    ("unknown-level", _set(7, level="片区"), {("level", 7, G2)}, "unknown level '片区'"),
    ("level-code-mismatch", _set(7, level="community"), {("code", 7, G2)}, "a community code has 12 digits"),
    ("negative-households", _set(7, households=-5), {("value", 7, G2)}, "households -5 is not a whole number"),
    ("zero-segment", _set(7, code="339902001001000"), {("code", 7, "339902001001000")}, "segment is 000"),
    ("not-a-feature", _replace(7, "339902001001002"), {("file", 7, None)}, "not a GeoJSON Feature"),
    ("two-at-once", lambda f: (_set(7, code="3399020010010")(f), _geometry(8, BOWTIE)(f)),
     {("code", 7, "3399020010010"), ("geometry", 8, G3)}, "2 problem(s); nothing was written"),
]


@pytest.mark.parametrize("change, expected, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_imp010_bad_input_is_reported_and_nothing_is_written(change, expected, words, seeded_url, tmp_path):
    features = _features()
    change(features)
    path = _write(tmp_path / "bad.geojson", features)
    before = _snapshot(seeded_url)
    args = _parser().parse_args(["import-areas", str(path), "--store", seeded_url, "--city-code", "339900"])
    out = io.StringIO()
    assert cmd_import_areas(args, out) == 1
    report = out.getvalue()
    assert words in report
    result = import_areas(create_engine(seeded_url), path, city_code="339900")
    assert {(p.kind, p.index, p.code) for p in result.problems} == expected, report
    assert _snapshot(seeded_url) == before


@pytest.mark.parametrize("name, words", [
    ("malformed.geojson", "not valid JSON: Expecting ',' delimiter at line 2, column 53"),
    ("projected.geojson", "coordinates outside longitude/latitude ranges (x=40500000, y=3320000)"),
    ("missing.geojson", "no such file"),
])
def test_imp011_unreadable_files_are_refused(name, words, seeded_url):
    before = _snapshot(seeded_url)
    code, report = _run(["import-areas", str(FIXTURES / name), "--store", seeded_url])
    assert code == 1 and words in report and "nothing was written" in report
    assert _snapshot(seeded_url) == before


@pytest.mark.parametrize("doc, words", [
    ({"type": "Feature", "properties": {}, "geometry": None}, "not a GeoJSON FeatureCollection"),
    ({"type": "FeatureCollection", "features": []}, "the file holds no features"),
    ({"type": "FeatureCollection", "features": _features(),
      "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}}}, "crs is 'urn:ogc:def:crs:EPSG::4549'"),
])
def test_imp012_file_level_problems(doc, words, tmp_path):
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    url = _url(tmp_path / "s.duckdb")
    code, report = _run(["import-areas", str(path), "--store", url])
    assert code == 1 and words in report


def test_imp013_cgcs2000_crs_member_is_accepted(tmp_path):
    doc = {"type": "FeatureCollection", "features": _features(),
           "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}}
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert _run(["import-areas", str(path), "--store", _url(tmp_path / "s.duckdb")])[0] == 0


# ------------------------------------------------------------------------------------------ gaps


def test_imp020_a_gap_is_a_warning_and_a_problem_with_strict(tmp_path):
    features = _features()
    features[7]["geometry"] = _rect(121.05, 30.0, 121.09, 30.1)  # leaves 121.09–121.10 of the community bare
    path = _write(tmp_path / "gap.geojson", features)
    url = _url(tmp_path / "s.duckdb")
    before = _snapshot(url) if (tmp_path / "s.duckdb").exists() else None
    code, report = _run(["import-areas", str(path), "--store", url, "--strict"])
    assert code == 1
    assert f"problem: feature 4, code {COMMUNITY}" in report and "10.0% (10,70" in report and "[gap]" in report
    assert before is None and _areas(url) == {"_meta": (None, None)}  # schema made, nothing written
    code, report = _run(["import-areas", str(path), "--store", url])
    assert code == 0 and f"warning: feature 4, code {COMMUNITY}" in report and "events there have no grid" in report


# ------------------------------------------------------------------------------------ shapefile


def _shapefile(folder: Path, *, prj: str | None = CGCS2000_PRJ, encoding: str = "utf-8", cpg: bool = True) -> Path:
    """Write valid.geojson as a Shapefile with a city's own column names (QHDM, MC, JB, SJDM, HS, RK)."""
    path = folder / "grids.shp"
    with shapefile.Writer(str(path), shapeType=shapefile.POLYGON, encoding=encoding) as w:
        for name, size in (("QHDM", 15), ("MC", 40), ("JB", 10), ("SJDM", 15)):
            w.field(name, "C", size)
        w.field("HS", "N", 8, 0)
        w.field("RK", "N", 8, 0)
        for f in _features():
            p = f["properties"]
            ring = f["geometry"]["coordinates"][0]
            w.poly([ring[::-1]])  # shapefile outer rings run clockwise
            w.record(p["code"], p["name"], str(p["level"]), p["parent_code"], p.get("households"),
                     p.get("population"))
    if prj is not None:
        path.with_suffix(".prj").write_text(prj, encoding="ascii")
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


MAP = ["--map", "code=QHDM", "--map", "name=MC", "--map", "level=JB", "--map", "parent_code=SJDM",
       "--map", "households=HS", "--map", "population=RK"]


def test_imp030_shapefile_with_mapped_columns(tmp_path):
    url = _url(tmp_path / "s.duckdb")
    code, report = _run(["import-areas", str(_shapefile(tmp_path)), "--store", url, *MAP])
    assert code == 0, report
    rows = _areas(url)
    assert rows[G3]["name"] == "西山第01网格" and rows[G3]["households"] == 120
    assert rows["339902"]["population"] == 1400
    stored = shapely.from_geojson(rows[G1]["geometry"])
    assert stored.equals(shapely.box(121.0, 30.0, 121.05, 30.1)) and stored.exterior.is_ccw


def test_imp031_gbk_shapefile_without_cpg_is_read_with_a_warning(tmp_path):
    url = _url(tmp_path / "s.duckdb")
    code, report = _run(["import-areas", str(_shapefile(tmp_path, encoding="gbk", cpg=False)), "--store", url, *MAP])
    assert code == 0, report
    assert "read them as gb18030" in report
    assert _areas(url)["339902"]["name"] == "东区"


@pytest.mark.parametrize("prj, words", [
    (GK_PRJ, "projected CRS (CGCS2000 / 3-degree Gauss-Kruger zone 40)"),
    ('GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954"]]', "names the datum GCS_Beijing_1954"),
])
def test_imp032_shapefile_in_another_crs_is_refused(prj, words, tmp_path):
    url = _url(tmp_path / "s.duckdb")
    code, report = _run(["import-areas", str(_shapefile(tmp_path, prj=prj)), "--store", url, *MAP])
    assert code == 1 and words in report


def test_imp033_shapefile_without_dbf_is_refused(tmp_path):
    path = _shapefile(tmp_path)
    path.with_suffix(".dbf").unlink()
    code, report = _run(["import-areas", str(path), "--store", _url(tmp_path / "s.duckdb")])
    assert code == 1 and "has no .dbf beside it" in report


def test_imp034_mapping_to_a_missing_column_is_reported(tmp_path):
    code, report = _run(["import-areas", str(VALID), "--store", _url(tmp_path / "s.duckdb"), "--map", "code=QHDM"])
    assert code == 1 and "--map code=QHDM: no column 'QHDM'" in report


# ----------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("value, level", [
    ("city", 0), ("市", 0), (0, 0), ("1", 1), ("District", 1), ("区", 1), ("街道", 2), ("镇", 2), (3.0, 3),
    ("社区", 3), ("村", 3), ("grid", 4), ("网格", 4), (5, None), ("片区", None), (True, None), (None, None), (2.5, None),
])
def test_imp040_levels(value, level):
    assert parse_level(value) == level


@pytest.mark.parametrize("items, error", [
    (["code"], "PROPERTY=COLUMN"), (["colour=YS"], "'colour' is not one of"), (["name="], "PROPERTY=COLUMN"),
])
def test_imp041_bad_mapping_exits_2(items, error, tmp_path):
    assert pytest.raises(ValueError, parse_mapping, items).match(error)
    argv = ["import-areas", str(VALID), "--store", _url(tmp_path / "s.duckdb")]
    for item in items:
        argv += ["--map", item]
    code, report = _run(argv)
    assert code == 2 and error in report


def test_imp042_help(capsys):
    with pytest.raises(SystemExit) as done:
        _parser().parse_args(["import-areas", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: gridcc import-areas" in out and "--map PROPERTY=COLUMN" in out and "--city-code" in out


def test_imp043_check_validates_without_writing(tmp_path):
    url = _url(tmp_path / "s.duckdb")
    code, report = _run(["import-areas", str(VALID), "--store", url, "--check"])
    assert code == 0 and "no problems; nothing was written (--check)" in report
    assert _areas(url) == {"_meta": (None, None)}
