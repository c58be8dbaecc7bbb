"""The gridcc command line: help for every command, clear refusals, a small seed end to end."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, func, select

from dashboard import cli
from queries.schema import areas, events, open_events


@pytest.mark.parametrize("command", ["seed", "serve", "demo", "bench"])
def test_cli001_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    assert "usage: gridcc " + command in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["seed", "--events", "-5"], ["seed", "--events", "lots"], ["serve", "--port", "x"],
                                  ["nonsense"], []])
def test_cli002_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 2
    assert "error" in capsys.readouterr().err


def test_cli003_seed_small_city(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path / 'small.duckdb'}"
    monkeypatch.setenv("GRIDCC_NOW", "2026-11-20T15:00:00")
    assert cli.main(["seed", "--small", "--events", "2000", "--seed", "7", "--quiet", "--store", url]) == 0
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar() == 2000
        assert conn.execute(select(func.count()).select_from(areas).where(areas.c.level == 4)).scalar() == 40
        assert conn.execute(select(func.count()).select_from(open_events)).scalar() > 0
    engine.dispose()


def test_cli004_python_m_dashboard_is_the_same_command():
    done = subprocess.run([sys.executable, "-m", "dashboard", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "usage: gridcc" in done.stdout
