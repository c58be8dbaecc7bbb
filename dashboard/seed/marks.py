"""The backlog desk's marks on the demo's open cases (docs/desk.md): some urged, supervised, with a
pending extension request, or whistled to the district's departments (some of which reported back).

Deterministic in (seed, the events written, now). Each mark is logged as the desk logs it — after the
case's last step and no later than ``now`` — so the demo's timelines and the desk agree.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from queries import desk as q

ACTOR = "seed:街道指挥中心"
SHARE_URGED = 0.10  # of the cases a department holds (dispatched)
SHARE_SUPERVISED = 0.05  # of the open cases (registered, dispatched, handled)
SHARE_REQUESTED = 0.04  # of the dispatched cases with a deadline: a request pending
SHARE_WHISTLED = 0.03  # of the registered and dispatched cases
SHARE_ANSWERED = 0.5  # of the departments called
NOTES = {
    "urge": ("已超期，请尽快处置", "居民多次来电，请加快办理", "请今日内反馈处置进度"),
    "supervise": ("挂牌督办，跟进处置进度", "重点关注，按期回访", "列入周例会督办事项"),
    "ask_extension": ("需协调产权单位，申请延期", "需采购材料，申请延期", "涉及多方协调，申请延期"),
    "whistle": ("涉及多个部门，街道吹哨", "需多部门联合执法", "问题复杂，请求区级部门报到"),
    "report_back": ("已派员到场，正在处置", "已到场核实，协同处置中", "已报到，明日完成整改"),
}


def add_marks(conn, *, seed: int, now: datetime, first_log_id: int) -> int:
    """Mark some open cases as the desk would and log each mark (ids from ``first_log_id``); return the log rows."""
    cases = q.open_cases(conn, now=now)
    if cases.empty:
        return 0
    departments = q.department_codes(conn)
    rng = np.random.default_rng([seed, 6])
    marks: dict[int, dict] = {}
    log: list[dict] = []
    calls: list[dict] = []
    latest = dict(zip(cases.id, cases.updated_at))

    def when(event_id: int) -> datetime:
        """Return a minute after the case's last step (within the last 3 days) and not after now."""
        start = max(latest[event_id], now - timedelta(days=3))
        span = max(int((now - start).total_seconds() // 60), 0)
        at = start + timedelta(minutes=int(rng.integers(0, span + 1)))
        at = min(at.replace(second=0) + timedelta(minutes=1), now) if at.second else at
        latest[event_id] = at
        return at

    def logged(event_id: int, status: str, action: str, at: datetime, **more) -> None:
        note = NOTES[action][int(rng.integers(len(NOTES[action])))]
        log.append({"event_id": event_id, "occurred_at": at, "action": action, "from_status": status,
                    "to_status": status, "actor": more.pop("actor", ACTOR), "note": more.pop("note", note),
                    "department_code": more.get("department_code"), "deadline_at": more.get("deadline_at")})

    dispatched = cases[cases.status == "dispatched"]
    for r in dispatched[rng.random(len(dispatched)) < SHARE_URGED].itertuples():
        times = [when(r.id) for _ in range(int(rng.integers(1, 4)))]
        for at in times:
            logged(r.id, r.status, "urge", at)
        marks.setdefault(r.id, {}).update(urge_count=len(times), last_urged_at=times[-1])
    for r in cases[rng.random(len(cases)) < SHARE_SUPERVISED].itertuples():
        at = when(r.id)
        until = (now + timedelta(days=int(rng.integers(1, 8)))).replace(minute=0, second=0, hour=9)
        logged(r.id, r.status, "supervise", at, deadline_at=until)
        marks.setdefault(r.id, {}).update(supervised_until=until)
    asking = dispatched[dispatched.deadline_at.notna()]
    for r in asking[rng.random(len(asking)) < SHARE_REQUESTED].itertuples():
        at = when(r.id)
        until = (max(r.deadline_at, now) + timedelta(days=int(rng.integers(2, 8)))).replace(hour=17, minute=30,
                                                                                          second=0)
        logged(r.id, r.status, "ask_extension", at, deadline_at=until, actor=f"dept:{r.department_code}")
        marks.setdefault(r.id, {}).update(extension_requested_at=at, extension_requested_until=until)
    open_ = cases[cases.status.isin(["registered", "dispatched"])]
    for r in open_[rng.random(len(open_)) < SHARE_WHISTLED].itertuples():
        serving = [code for code, district in departments if district in (r.district_code, None)
                   and code != r.department_code]
        if len(serving) < 2:
            continue
        called = sorted(rng.choice(serving, size=min(len(serving), int(rng.integers(2, 4))), replace=False))
        at = when(r.id)
        logged(r.id, r.status, "whistle", at)
        marks.setdefault(r.id, {}).update(whistled_at=at)
        for code in called:
            call = {"event_id": r.id, "department_code": str(code), "called_at": at, "called_by": ACTOR,
                    "answered_at": None, "answer": None}
            if rng.random() < SHARE_ANSWERED:
                answered = when(r.id)
                answer = NOTES["report_back"][int(rng.integers(3))]
                call.update(answered_at=answered, answer=answer)
                logged(r.id, r.status, "report_back", answered, department_code=str(code), note=answer,
                       actor=f"dept:{code}")
            calls.append(call)
    columns = ("urge_count", "last_urged_at", "supervised_until", "extension_requested_at",
               "extension_requested_until", "whistled_at")
    updates = [{"id": int(event_id), **{c: marks[event_id].get(c) for c in columns},
                "updated_at": latest[event_id]} for event_id in sorted(marks)]
    q.set_marks(conn, updates)
    log.sort(key=lambda row: (row["occurred_at"], row["event_id"]))
    q.insert_log(conn, [dict(row, id=first_log_id + i) for i, row in enumerate(log)])
    q.insert_calls(conn, calls)
    return len(log)


__all__ = ["add_marks"]
