"""An alert rule's firing in headless Chromium: it reaches an open overview without a reload; 签收 clears it.

The hand city at 15:00 with the default rules: an urgent report (0401) at 14:40 has waited 20 minutes
undispatched, so undispatched_urgent (15 min) fires when the app's evaluator runs.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard import alert_rules as ar
from queries.schema import alert_firings
from tests.browser import test_live
from tests.browser.test_live import clean, expect, open_live, post, report

pytestmark = pytest.mark.browser
served, token, duty = test_live.served, test_live.token, test_live.duty  # the fixtures, shared


def test_rul_b001_a_firing_reaches_the_banner_and_signing_clears_it(duty, token, hand_app):
    page, watch, served = duty
    open_live(page, served.url)
    rule_row = page.locator("#overview-alerts .ovw-rule")
    expect()(rule_row).to_have_count(0)
    event_id, _ = post(served.url, token, report(1, category="0401", at="14:40:00"))
    evaluator = hand_app.server.extensions[ar.EXTENSION_KEY]
    result = evaluator.run_once()  # what the background thread does every 30 s and after a write
    assert [hit.key for _, hit in result.raised] == [str(event_id)]
    expect()(rule_row).to_have_count(1, timeout=10000)
    expect()(rule_row.locator(".ovw-alert-tag")).to_have_text("紧急告警")
    expect()(rule_row.locator(".ovw-alert-what")).to_have_text(f"紧急事件 #{event_id} 超 15 分钟未派遣：路面塌陷")
    expect()(rule_row.locator(".ovw-alert-where")).to_have_text("东街社区·东街第01网格")
    expect()(rule_row.locator(".ovw-alert-time")).to_have_text("15:00")
    rule_row.get_by_role("button", name="签收").click()
    expect()(rule_row).to_have_count(0, timeout=10000)
    engine = hand_app.server.extensions["gridcc"].engine
    with engine.connect() as conn:
        rows = conn.execute(select(alert_firings.c.key, alert_firings.c.acknowledged_by)).all()
    assert [tuple(r) for r in rows] == [(str(event_id), "dongcheng")]
    clean(watch)
