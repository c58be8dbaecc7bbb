"""Signing for an alert — an urgent event's, or an alert rule's firing: recorded, audited, told to every screen.

Only a role with the "act" right may sign (a leader or a viewer watches; the duty operator answers).
A refusal is audited like a success.
"""
from __future__ import annotations

from dashboard import access, context, live
from queries import alert_rules as rule_queries
from queries import alerts as alert_queries
from queries import users as user_queries
from queries.meta import bump_data_version, live_marks


def _sign(action: str, target: int, write) -> str:
    """Run ``write(conn, principal, now)`` -> (outcome, area code) with its audit row; publish when it signed."""
    principal = access.current()
    if principal is None:
        raise PermissionError("no signed-in caller for this request")
    if not principal.may("act"):
        access.audit(action, "refused", target=str(target), detail="role may not act")
        return "refused"
    ctx = context.current()
    now = ctx.settings.now()
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        outcome, area = write(conn, principal, now)
        user_queries.audit(conn, at=now, actor=principal.name, action=action,
                           outcome="ok" if outcome == "ok" else "refused", target=str(target),
                           source=access.source(), detail=outcome)
        version = bump_data_version(conn) if outcome == "ok" else None
        at = live_marks(conn)[1] if version is not None else None
    if version is not None:
        live.hub().publish(live.Change(version, at, (area,)))
    return outcome


def acknowledge(event_id: int) -> str:
    """Acknowledge urgent event ``event_id`` for the caller; return 'ok', 'already', 'unknown' or 'refused'.

    One transaction: the acknowledgement, its audit row and a new data version (every screen's banner
    drops the alert on its next refresh, which the live hub triggers at once).
    """
    return _sign("alert.ack", event_id, lambda conn, who, now: alert_queries.acknowledge(
        conn, scope=who.scope, event_id=event_id, user_name=who.name, at=now))


def acknowledge_firing(firing_id: int) -> str:
    """Sign for alert-rule firing ``firing_id`` (签收); return 'ok', 'already', 'unknown' or 'refused'."""
    return _sign("rule.ack", firing_id, lambda conn, who, now: rule_queries.acknowledge_firing(
        conn, scope=who.scope, firing_id=firing_id, user_name=who.name, at=now))
