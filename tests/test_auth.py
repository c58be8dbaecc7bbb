"""Users, roles, scopes, passwords, lock-out and the audit of sign-ins (issue 4, first part), on the hand city."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard import auth, cli
from queries import users
from queries.schema import audit_log
from tests import handcity

NOW = handcity.NOW
PASSWORD = "correct horse battery"


@pytest.fixture
def conn(hand_engine):
    from dashboard.store import init_schema

    init_schema(hand_engine)
    with hand_engine.connect() as conn:
        users.add_user(conn, name="wang", display_name="王科长", password_hash=auth.hash_password(PASSWORD),
                       role="district_manager", scope_kind="area", scope_code="329902", now=NOW)
        conn.commit()
        yield conn


def audit_outcomes(conn) -> list[tuple[str, str, str]]:
    return [(r.actor, r.action, r.outcome) for r in users.audit_rows(conn, since=NOW - timedelta(days=1),
                                                                      until=NOW + timedelta(days=1))]


@pytest.mark.parametrize("role, code, ok", [
    ("city_leader", "329900", True),
    ("city_leader", "329902", False),  # a district is not the city
    ("district_manager", "329902", True),
    ("district_manager", "329902001", False),
    ("street_operator", "329902001", True),
    ("street_operator", "329902001001", True),  # a community center works at street level too
    ("street_operator", handcity.A1, False),  # grids are not a scope
    ("department_handler", "329902-01", True),
    ("department_handler", "329902", False),
    ("viewer", "329903001", True),
    ("admin", "329900", True),
    ("overlord", "329900", False),
    ("district_manager", "'; DROP TABLE users;--", False),
])
def test_auth001_a_role_takes_a_scope_of_its_own_level(conn, role, code, ok):
    if ok:
        assert auth.check_scope(conn, role, code).code == code
    else:
        with pytest.raises(ValueError):
            auth.check_scope(conn, role, code)


def test_auth002_passwords_are_argon2id_and_long_enough(conn):
    stored = users.password_hash(conn, name="wang")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(ValueError, match="at least 10"):
        auth.hash_password("short")


def test_auth003_a_sign_in_succeeds_and_is_audited(conn):
    user = auth.sign_in(conn, name="wang", password=PASSWORD, now=NOW, source="10.0.0.7")
    conn.commit()
    assert (user.name, user.role, user.scope_code) == ("wang", "district_manager", "329902")
    assert audit_outcomes(conn) == [("wang", "sign_in", "ok")]


def test_auth004_five_failures_lock_for_15_minutes_and_every_attempt_is_audited(conn):
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.SignInRefused, match="wrong name or password"):
            auth.sign_in(conn, name="wang", password="guess-guess-guess", now=NOW, source="10.0.0.9")
        conn.commit()
    # Locked now, even with the right password; 15 minutes later the right password works again.
    with pytest.raises(auth.SignInRefused) as refused:
        auth.sign_in(conn, name="wang", password=PASSWORD, now=NOW + timedelta(minutes=14), source="10.0.0.9")
    assert refused.value.locked and "15:15" in refused.value.reason
    conn.commit()
    assert auth.sign_in(conn, name="wang", password=PASSWORD, now=NOW + timedelta(minutes=15), source="x").name == "wang"
    conn.commit()
    outcomes = [o for _, _, o in audit_outcomes(conn)]
    assert outcomes == ["refused"] * 5 + ["locked", "ok"]
    assert users.get_user(conn, name="wang").failed_sign_ins == 0


@pytest.mark.parametrize("name, password", [
    ("nobody", PASSWORD), ("", PASSWORD), ("wang", ""), ("wang", None), ("x" * 500, PASSWORD),
    ("' OR 1=1 --", "' OR 1=1 --"),
])
def test_auth005_every_wrong_sign_in_says_the_same_and_changes_no_user(conn, name, password):
    with pytest.raises(auth.SignInRefused) as refused:
        auth.sign_in(conn, name=name, password=password, now=NOW, source="10.0.0.9")
    assert refused.value.reason == "wrong name or password"
    conn.commit()
    # The hand city has one user of each role; the refused sign-in added none and changed none.
    assert [u.name for u in users.list_users(conn)] == sorted([*handcity.USERS, "wang"])
    assert all(u.failed_sign_ins == 0 for u in users.list_users(conn) if u.name != "wang")


def test_auth006_a_disabled_user_cannot_sign_in(conn):
    users.set_disabled(conn, name="wang", disabled=True)
    with pytest.raises(auth.SignInRefused, match="wrong name or password"):
        auth.sign_in(conn, name="wang", password=PASSWORD, now=NOW, source="x")
    conn.commit()
    rows = users.audit_rows(conn, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1))
    assert [(r.outcome, r.detail) for r in rows] == [("refused", "disabled")]


def test_auth007_cli_adds_lists_and_disables_users_and_audits_it(hand_settings, monkeypatch, capsys):
    monkeypatch.setenv("GRIDCC_NOW", NOW.isoformat())
    store = hand_settings.store_url
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["user", "add", "li", "--role", "street_operator", "--scope", "329902001",
                     "--display-name", "李主任", "--password-stdin", "--store", store]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", "zhao", "--role", "viewer", "--scope", "329900", "--password-stdin",
                     "--store", store]) == 1  # too short: nothing added
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["user", "add", "qian", "--role", "city_leader", "--scope", "329902", "--password-stdin",
                     "--store", store]) == 1  # a city leader's scope is the city
    assert cli.main(["user", "disable", "li", "--store", store]) == 0
    assert cli.main(["user", "disable", "nobody", "--store", store]) == 1
    capsys.readouterr()
    assert cli.main(["user", "list", "--store", store]) == 0
    # The hand city's own users (one per role and level, all active) are listed with li, by name.
    hand = {name: f"{name}\t测试{name}\t{role}\t{'department' if role == 'department_handler' else 'area'}:{code}"
                  f"\tactive" for name, (role, code) in handcity.USERS.items()}
    hand["li"] = "li\t李主任\tstreet_operator\tarea:329902001\tdisabled"
    assert capsys.readouterr().out.splitlines() == [hand[name] for name in sorted(hand)]
    from dashboard.settings import Settings
    from dashboard.store import make_engine

    engine = make_engine(Settings(store_url=store))
    with engine.connect() as conn:
        actions = [(r.action, r.target, r.outcome) for r in users.audit_rows(
            conn, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1))]
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar() == 2
    engine.dispose()
    assert actions == [("user.add", "li", "ok"), ("user.disable", "li", "ok")]
    with pytest.raises(SystemExit):
        cli.main(["user", "add", "sun", "--store", store])  # no role or scope


@pytest.mark.parametrize("manager, role, code, allowed", [
    (("admin", "area", "329900"), "city_leader", "329900", True),
    (("admin", "area", "329900"), "admin", "329900", True),
    (("district_manager", "area", "329902"), "street_operator", "329902001", True),
    (("district_manager", "area", "329902"), "street_operator", "329902002001", True),  # a community
    (("district_manager", "area", "329902"), "viewer", "329902", True),
    (("district_manager", "area", "329902"), "department_handler", "329902-01", True),
    (("district_manager", "area", "329902"), "department_handler", "329903-01", False),  # another district's
    (("district_manager", "area", "329902"), "street_operator", "329903001", False),  # another district
    (("district_manager", "area", "329902"), "district_manager", "329902", False),  # their own level
    (("district_manager", "area", "329902"), "viewer", "329900", False),  # above them
    (("district_manager", "area", "329902"), "admin", "329900", False),
    (("street_operator", "area", "329902001"), "viewer", "329902001", False),
    (("city_leader", "area", "329900"), "viewer", "329902", False),
    (("viewer", "area", "329900"), "viewer", "329902", False),
])
def test_auth010_only_admins_and_district_managers_manage_users_below_them(conn, manager, role, code, allowed):
    manager_role, kind, scope_code = manager
    target = auth.Scope("department" if "-" in code else "area", code)
    assert auth.may_manage(conn, manager_role=manager_role, manager_scope=auth.Scope(kind, scope_code), role=role,
                           scope=target) is allowed


def test_auth011_a_lock_that_ran_out_counts_again_from_zero(conn):
    for minute in range(5):
        with pytest.raises(auth.SignInRefused):
            auth.sign_in(conn, name="wang", password="wrong password", now=NOW + timedelta(minutes=minute), source="x")
    later = NOW + timedelta(minutes=30)  # the 15-minute lock has run out
    with pytest.raises(auth.SignInRefused) as refused:
        auth.sign_in(conn, name="wang", password="wrong password", now=later, source="x")
    assert not refused.value.locked
    wang = users.get_user(conn, name="wang")
    assert (wang.failed_sign_ins, wang.locked_until) == (1, None)  # one slip, not another 15 minutes
    assert auth.sign_in(conn, name="wang", password=PASSWORD, now=later, source="x").name == "wang"
