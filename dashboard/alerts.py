"""Signing for an urgent event's alert: recorded, audited, and told to every open screen at once."""
from __future__ import annotations

from dashboard import access, context, live
from queries import alerts as alert_queries
from queries import users as user_queries
from queries.meta import bump_data_version, live_marks


def acknowledge(event_id: int) -> str:
    """Acknowledge urgent event ``event_id`` for the caller; return 'ok', 'already' or 'unknown'.

    One transaction: the acknowledgement, its audit row and a new data version (every screen's banner
    drops the alert on its next refresh, which the live hub triggers at once).
    """
    principal = access.current()
    if principal is None:
        raise PermissionError("no signed-in caller for this request")
    ctx = context.current()
    now = ctx.settings.now()
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        outcome, grid = alert_queries.acknowledge(conn, scope=principal.scope, event_id=event_id, user_name=principal.name,
                                            at=now)
        user_queries.audit(conn, at=now, actor=principal.name, action="alert.ack",
                           outcome="ok" if outcome == "ok" else "refused", target=str(event_id),
                           source=access.source(), detail=outcome)
        version = bump_data_version(conn) if outcome == "ok" else None
        at = live_marks(conn)[1] if version is not None else None
    if version is not None:
        live.hub().publish(live.Change(version, at, (grid,)))
    return outcome
