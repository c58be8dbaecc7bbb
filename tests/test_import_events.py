"""gridcc import-events and gridcc token, run through the command line on the hand city and an empty store."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard import cli
from dashboard.settings import Settings
from dashboard.store import make_engine
from queries.schema import event_log, events
from tests import handcity

FIXTURES = Path(__file__).parent / "fixtures" / "areas"
COLUMNS = ["id", "source", "category", "reported_at", "accepted_at", "registered_at", "dispatched_at", "lat", "lon",
           "description", "reporter"]
# A point in grid A1 (lon 120.0–120.05, lat 31.0–31.2) of the hand city.
A1_LAT, A1_LON = 31.1, 120.02


@pytest.fixture
def store(hand_settings, monkeypatch) -> str:
    """Return the URL of a fresh hand city, with the command line's now frozen at handcity.NOW."""
    monkeypatch.setenv("GRIDCC_NOW", handcity.NOW.isoformat())
    return hand_settings.store_url


def _count(url: str, table=events, where=None) -> int:
    engine = make_engine(Settings(store_url=url))
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(table)
            return conn.execute(query if where is None else query.where(where)).scalar()
    finally:
        engine.dispose()


def _csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _row(i: int, **changes) -> dict:
    row = dict(id=f"GD{i:04d}", source="hotline", category="0505", reported_at="2026-11-20 10:00:00",
               accepted_at="", registered_at="", dispatched_at="", lat=A1_LAT, lon=A1_LON,
               description="店外经营 <b>占道</b>'; DROP TABLE events;--", reporter="李四 13912345678")
    row.update(changes)
    return row


def test_imp001_csv_imports_every_row_with_local_times(store, tmp_path, capsys):
    path = _csv(tmp_path / "ok.csv", [_row(1), _row(2, accepted_at="2026-11-20 10:05", registered_at="2026-11-20 10:06",
                                                    dispatched_at="2026-11-20 10:07")])
    before = _count(store)
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 0
    assert "imported 2 event(s)" in capsys.readouterr().out
    assert _count(store) == before + 2
    engine = make_engine(Settings(store_url=store))
    with engine.connect() as conn:
        row = conn.execute(select(events).where(events.c.external_id == "GD0002")).one()
    engine.dispose()
    # Naive times are the city's local time; grid found from the point; 2 work hours from 10:07 -> 12:00
    # is 113 minutes, 7 more from 13:30 -> 13:37.
    assert (row.grid_code, row.status, str(row.dispatched_at), str(row.deadline_at)) == (
        handcity.A1, "dispatched", "2026-11-20 10:07:00", "2026-11-20 13:37:00")
    assert row.description == "店外经营 <b>占道</b>'; DROP TABLE events;--"
    assert row.department_code == "329902-01"  # the category's department in the event's district


def test_imp002_again_stores_nothing_new(store, tmp_path, capsys):
    path = _csv(tmp_path / "ok.csv", [_row(1), _row(2)])
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 0
    count = _count(store)
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 0
    assert "imported 0 event(s) from ok.csv; 2 were stored before" in capsys.readouterr().out
    assert _count(store) == count


def test_imp003_bad_rows_are_listed_by_line_and_nothing_is_stored(store, tmp_path, capsys):
    rows = [_row(1), _row(2, lat="abc"), _row(3, category="9999"), _row(4, lat=10, lon=10),
            _row(5, reported_at="2026-11-21 10:00:00"), _row(1),
            _row(6, accepted_at="2026-11-20 09:00")]
    path = _csv(tmp_path / "bad.csv", rows)
    before, log_before = _count(store), _count(store, event_log)
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 1
    err = capsys.readouterr().err
    # The header is line 1, so rows 1…7 are lines 2…8.
    assert "bad.csv:3: lat: must be a number" in err
    assert "bad.csv:4: category: unknown category '9999'" in err
    assert "bad.csv:5: lat: (10.0, 10.0) lies outside every grid" in err
    assert "bad.csv:6: reported_at: 2026-11-21T10:00:00 is in the future" in err
    assert "bad.csv:7: id: the same (source, id) as line 2" in err
    assert "bad.csv:8: accepted_at: is earlier than reported_at" in err
    assert "nothing imported: 6 problem(s) in bad.csv" in err
    assert (_count(store), _count(store, event_log)) == (before, log_before)


def test_imp004_a_problem_in_a_later_chunk_stores_nothing_of_the_earlier_ones(store, tmp_path, monkeypatch):
    from dashboard import events_import

    monkeypatch.setattr(events_import, "CHUNK", 2)
    path = _csv(tmp_path / "late.csv", [_row(i) for i in range(1, 6)] + [_row(9, category="x")])
    before = _count(store)
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 1
    assert _count(store) == before


def test_imp005_excel_with_numeric_category_and_date_cells(store, tmp_path):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "source", "category", "reported_at", "lat", "lon"])
    sheet.append([1001, "citizen", 505, datetime(2026, 11, 20, 11, 0), A1_LAT, A1_LON])  # Excel drops the 0
    sheet.append([None, None, None, None, None, None])  # a blank row is skipped
    path = tmp_path / "events.xlsx"
    book.save(path)
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 0
    assert _count(store, where=(events.c.external_id == "1001") & (events.c.category_code == "0505")) == 1


def test_imp006_json_lines_with_a_broken_line(store, tmp_path, capsys):
    good = {"id": "J1", "source": "iot", "category": "0401", "reported_at": "2026-11-20T09:00:00+08:00",
            "lat": A1_LAT, "lon": A1_LON}
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(good) + "\n\n{not json\n" + json.dumps([1]) + "\n", encoding="utf-8")
    before = _count(store)
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "events.jsonl:3: -: not valid JSON" in err
    assert "events.jsonl:4: -: each event must be a JSON object" in err
    assert _count(store) == before
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 0
    assert _count(store) == before + 1


@pytest.mark.parametrize("name, content, message", [
    ("events.txt", b"id\n1\n", "unknown format .txt"),
    ("latin.csv", "id,source\n1,caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("fake.xlsx", b"this is not a workbook", "not an Excel workbook"),
])
def test_imp007_unreadable_files_exit_2(store, tmp_path, name, content, message, caplog):
    path = tmp_path / name
    path.write_bytes(content)
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 2
    assert message in caplog.text


def test_imp008_empty_store_takes_areas_then_events(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDCC_NOW", handcity.NOW.isoformat())
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    assert cli.main(["import-areas", str(FIXTURES / "valid.geojson"), "--store", url, "--city-code", "339900",
                     "--city-name", "测试市"]) == 0
    # 东街第01网格 covers lon 121.0–121.05, lat 30.0–30.1.
    path = _csv(tmp_path / "e.csv", [_row(1, lat=30.05, lon=121.02)])
    assert cli.main(["import-events", str(path), "--store", url, "--quiet"]) == 0
    assert _count(url, where=events.c.grid_code == "339902001001001") == 1


def test_imp009_token_create_prints_the_token_last_and_stores_only_its_hash(store, capsys):
    assert cli.main(["token", "create", "hotline-12345", "--store", store]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("gcc_") and len(token) > 40
    engine = make_engine(Settings(store_url=store))
    with engine.connect() as conn:
        stored = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM api_tokens").fetchall()]
    engine.dispose()
    assert not any(token in map(str, row) for row in stored)
    assert cli.main(["token", "create", "hotline-12345", "--store", store]) == 1  # names are unique
    assert cli.main(["token", "list", "--store", store]) == 0
    assert "hotline-12345" in capsys.readouterr().out
    assert cli.main(["token", "revoke", "hotline-12345", "--store", store]) == 0
    assert cli.main(["token", "revoke", "hotline-12345", "--store", store]) == 1
    with pytest.raises(SystemExit):
        cli.main(["token", "create", "--store", store])  # no name


def test_imp010_an_unknown_column_is_said_once_on_the_header(store, tmp_path, capsys):
    path = tmp_path / "typo.csv"
    path.write_text("id,source,category,reportedAt,lat,lon\nA,hotline,0505,2026-11-20 10:00,31.1,120.02\n"
                    "B,hotline,0505,2026-11-20 10:00,31.1,120.02\n", encoding="utf-8")
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("unknown column(s) reportedAt") == 1 and "typo.csv:1:" in err
    assert "typo.csv:2: reported_at: is required" in err  # the rows are still checked, without the column
    path.write_text("id;source;category\nA;hotline;0505\n", encoding="utf-8")
    assert cli.main(["import-events", str(path), "--store", store, "--quiet"]) == 1
    assert "separated by ';'" in capsys.readouterr().err
