"""Webhooks against a local receiver (http.server on 127.0.0.1 in a thread): bodies, signing, retries, give-ups.

Nothing here leaves the machine: every target is the receiver, and the opener uses no proxy.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from dashboard import webhook as wh
from dashboard.webhook import ConfigError, Message, Target

MESSAGE = Message("东街街道：2小时内将有6件案件超期", "### 【警告】东街街道：2小时内将有6件案件超期\n- [在指挥中心查看](/?area=329902001)")
TIMESTAMP = 1_763_600_000_000


class Receiver:
    """A robot on 127.0.0.1: answers each POST from ``answers`` in turn (status, body), the last one forever.

    An answer of ``None`` never answers (the connection hangs until the client gives up).
    """

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests: list[tuple[str, dict]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length).decode())
                receiver.requests.append((self.path, body))
                answer = receiver.answers[min(len(receiver.requests) - 1, len(receiver.answers) - 1)]
                if answer is None:
                    receiver.release.wait(10)
                    return
                status, reply = answer
                data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot/send?access_token=TOKEN123"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request):
    made = []

    def make(*answers):
        r = Receiver(answers or [(200, {"errcode": 0, "errmsg": "ok"})])
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def run(target, tries=6, **kw):
    """Deliver MESSAGE to ``target``; return (outcome, attempt rows, sleeps asked for)."""
    rows, sleeps = [], []
    outcome = wh.deliver(target, MESSAGE, tries=tries, sleep=sleeps.append, clock_ms=lambda: TIMESTAMP,
                         record=lambda attempt, outcome, result: rows.append((attempt, outcome, result.status,
                                                                             result.error)), **kw)
    return outcome, rows, sleeps


# -- bodies and signing -----------------------------------------------------------------------------------------
def test_hook001_dingtalk_body_exactly(receiver):
    r = receiver()
    outcome, rows, sleeps = run(Target("duty", "dingtalk", r.url))
    assert (outcome, rows, sleeps) == ("delivered", [(1, "delivered", 200, None)], [])
    (path, body), = r.requests
    assert path == "/robot/send?access_token=TOKEN123"
    assert body == {"msgtype": "markdown", "markdown": {"title": MESSAGE.title, "text": MESSAGE.text}}


def test_hook002_wecom_body_exactly(receiver):
    r = receiver()
    assert run(Target("wx", "wecom", r.url))[0] == "delivered"
    assert r.requests[0][1] == {"msgtype": "markdown", "markdown": {"content": MESSAGE.text}}


def test_hook003_dingtalk_signing(receiver):
    r = receiver()
    run(Target("duty", "dingtalk", r.url, secret="SEC-abc+/="))
    path, _ = r.requests[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    # Worked by hand with the standard library: HMAC-SHA256 of "timestamp\nsecret" keyed by the secret, base64.
    expected = base64.b64encode(hmac.new(b"SEC-abc+/=", f"{TIMESTAMP}\nSEC-abc+/=".encode(), hashlib.sha256).digest())
    assert query == {"access_token": ["TOKEN123"], "timestamp": [str(TIMESTAMP)], "sign": [expected.decode()]}
    assert wh.dingtalk_sign("SEC-abc+/=", TIMESTAMP) == expected.decode()
    # A known vector: the same computation DingTalk documents, for secret "s" at timestamp 0.
    assert wh.dingtalk_sign("s", 0) == base64.b64encode(hmac.new(b"s", b"0\ns", hashlib.sha256).digest()).decode()


def test_hook004_an_unsigned_url_without_a_query_gets_one():
    url, _ = wh.request_for(Target("d", "dingtalk", "http://10.0.0.1/send", "k"), MESSAGE, timestamp_ms=5)
    assert url.startswith("http://10.0.0.1/send?timestamp=5&sign=")


# -- retries ----------------------------------------------------------------------------------------------------
def test_hook010_fails_twice_then_succeeds(receiver):
    r = receiver((500, "busy"), (502, "bad gateway"), (200, {"errcode": 0}))
    outcome, rows, sleeps = run(Target("duty", "dingtalk", r.url))
    assert outcome == "delivered"
    assert rows == [(1, "failed", 500, "HTTP 500 Internal Server Error"), (2, "failed", 502, "HTTP 502 Bad Gateway"),
                    (3, "delivered", 200, None)]
    assert sleeps == [1, 2] and len(r.requests) == 3


def test_hook011_an_errcode_is_a_failure_and_the_backoff_doubles(receiver):
    r = receiver((200, {"errcode": 310000, "errmsg": "keywords not in content"}))
    outcome, rows, sleeps = run(Target("duty", "dingtalk", r.url), tries=6)
    assert outcome == "gave_up" and sleeps == [1, 2, 4, 8, 16]
    assert [row[:3] for row in rows] == [(i, "failed", 200) for i in range(1, 6)] + [(6, "gave_up", 200)]
    assert rows[0][3] == "errcode 310000: keywords not in content"


def test_hook012_a_receiver_that_never_answers_is_given_up(receiver):
    r = receiver(None)
    outcome, rows, sleeps = run(Target("duty", "wecom", r.url), tries=3, timeout=0.2)
    assert outcome == "gave_up" and sleeps == [1, 2]
    assert [row[:3] for row in rows] == [(1, "failed", None), (2, "failed", None), (3, "gave_up", None)]
    assert "timed out" in rows[0][3] and "TOKEN123" not in rows[0][3]


def test_hook013_nobody_listening_and_a_redirect_are_failures(receiver):
    outcome, rows, _ = run(Target("gone", "wecom", "http://127.0.0.1:9/robot?key=TOKEN123"), tries=1)
    assert outcome == "gave_up" and rows[0][2] is None and "TOKEN123" not in rows[0][3]
    r = receiver((302, {"errcode": 0}))
    outcome, rows, _ = run(Target("moved", "wecom", r.url), tries=1)
    assert outcome == "gave_up" and rows[0][2] == 302


def test_hook014_a_plain_2xx_and_errcode_zero_as_text_are_delivered(receiver):
    r = receiver((200, "ok"))
    assert run(Target("relay", "wecom", r.url))[0] == "delivered"
    r = receiver((204, ""))
    assert run(Target("relay", "wecom", r.url))[0] == "delivered"


def test_hook015_the_backoff_is_capped():
    assert [wh.backoff(a) for a in (1, 2, 3, 4, 5, 9, 10, 20)] == [1, 2, 4, 8, 16, 256, 300, 300]


# -- configuration -------------------------------------------------------------------------------------------
def test_hook020_targets_inline_and_from_a_file(tmp_path):
    text = json.dumps([{"name": "duty", "kind": "dingtalk", "url": "https://10.1.2.3/robot/send?access_token=t",
                        "secret": "SEC1"},
                       {"name": "wx", "kind": "wecom", "url": "http://10.1.2.4/cgi-bin/webhook/send?key=k"}])
    inline = wh.load_targets(text)
    path = tmp_path / "hooks.json"
    path.write_text(json.dumps({"webhooks": json.loads(text)}), encoding="utf-8")
    assert wh.load_targets(str(path)) == inline
    assert [(t.name, t.kind, t.secret) for t in inline] == [("duty", "dingtalk", "SEC1"), ("wx", "wecom", None)]
    assert "access_token" not in repr(inline) and "SEC1" not in repr(inline)
    assert wh.load_targets("") == () and wh.load_targets("  ") == ()


@pytest.mark.parametrize("hooks, problem", [
    ([{"name": "a", "kind": "dingtalk", "url": "ftp://10.0.0.1/x"}], "webhooks[0].url: must start with http"),
    ([{"name": "a", "kind": "dingtalk", "url": "file:///etc/passwd"}], "webhooks[0].url: must start with http"),
    ([{"name": "a", "kind": "dingtalk", "url": "javascript:alert(1)"}], "webhooks[0].url: must start with http"),
    ([{"name": "a", "kind": "dingtalk", "url": "http://"}], "webhooks[0].url: must start with http"),
    ([{"name": "a", "kind": "dingtalk", "url": "http://10.0.0.1/a b"}], "webhooks[0].url: contains spaces"),
    ([{"name": "a", "kind": "dingtalk", "url": "http://h/" + "x" * 3000}], "webhooks[0].url: longer than 2048"),
    ([{"name": "a", "kind": "dingtalk", "url": 5}], "webhooks[0].url: must be the robot's http(s) address"),
    ([{"name": "a", "kind": "slack", "url": "http://h/"}], "webhooks[0].kind: must be one of dingtalk, wecom"),
    ([{"name": "a", "kind": "wecom", "url": "http://h/", "secret": "s"}], "webhooks[0].secret: only DingTalk"),
    ([{"name": "a", "kind": "dingtalk", "url": "http://h/", "secret": ""}], "webhooks[0].secret: must be"),
    ([{"name": "a/b", "kind": "wecom", "url": "http://h/"}], "webhooks[0].name: must be 1-64"),
    ([{"name": "a", "kind": "wecom", "url": "http://h/"}] * 2, "webhooks[1].name: 'a' is used twice"),
    ([{"name": "a", "kind": "wecom", "url": "http://h/", "token": "x"}], "webhooks[0]: unknown key(s) ['token']"),
    ({"hooks": []}, "unknown key(s) ['hooks']"),
    ([{"name": f"h{i}", "kind": "wecom", "url": "http://h/"} for i in range(51)], "51 webhooks, more than 50"),
])
def test_hook021_a_bad_target_is_refused_naming_the_key(hooks, problem):
    with pytest.raises(ConfigError) as error:
        wh.load_targets(json.dumps(hooks))
    assert "GRIDCC_WEBHOOKS (inline JSON)" in str(error.value) and problem in str(error.value), str(error.value)
    assert "etc/passwd" not in str(error.value) and "alert(1)" not in str(error.value)  # the URL is never echoed


def test_hook022_oversized_inline_or_file_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="GRIDCC_WEBHOOKS \\(inline JSON\\): larger than 1,000,000 bytes"):
        wh.load_targets("[" + " " * (10 * 1024 * 1024) + "]")
    path = tmp_path / "hooks.json"
    path.write_bytes(b"[" + b" " * (10 * 1024 * 1024) + b"]")
    with pytest.raises(ConfigError, match=f"GRIDCC_WEBHOOKS={path}: the file is 10,485,762 bytes"):
        wh.load_targets(str(path))


# -- the worker thread and the store ---------------------------------------------------------------------------
def test_hook030_the_deliverer_records_each_attempt_in_the_store(receiver, hand_engine):
    from queries import alert_rules as q
    from queries.schema import webhook_deliveries

    r = receiver((503, "down"), (200, {"errcode": 40035, "errmsg": "bad"}), (200, {"errcode": 0}))
    ok = receiver()
    slept = []
    lock = threading.Lock()
    at = datetime(2026, 11, 20, 15, 0)

    def record(firing_id, target, attempt, outcome, result):
        with lock, hand_engine.begin() as conn:
            q.record_attempt(conn, firing_id=firing_id, target=target.name, attempt=attempt, at=at, outcome=outcome,
                             http_status=result.status, error=result.error)

    deliverer = wh.Deliverer((Target("duty", "dingtalk", r.url, "S"), Target("wx", "wecom", ok.url)), tries=6,
                             record=record, sleep=slept.append)
    try:
        assert deliverer.submit(7, MESSAGE, ["duty", "wx", "unknown"]) == ["duty", "wx"]
        assert deliverer.join(10)
    finally:
        deliverer.stop()
    with hand_engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(
            select(webhook_deliveries.c.firing_id, webhook_deliveries.c.target, webhook_deliveries.c.attempt,
                   webhook_deliveries.c.outcome, webhook_deliveries.c.http_status, webhook_deliveries.c.error)
            .order_by(webhook_deliveries.c.target, webhook_deliveries.c.attempt))]
        stored = " ".join(str(v) for row in conn.execute(select(webhook_deliveries)) for v in row)
    assert rows == [(7, "duty", 1, "failed", 503, "HTTP 503 Service Unavailable"),
                    (7, "duty", 2, "failed", 200, "errcode 40035: bad"),
                    (7, "duty", 3, "delivered", 200, None),
                    (7, "wx", 1, "delivered", 200, None)]
    assert sorted(slept) == [1, 2]
    assert "TOKEN123" not in stored and "127.0.0.1" not in stored


def test_hook031_an_error_quoting_the_url_is_scrubbed():
    target = Target("duty", "dingtalk", "http://10.0.0.1/robot/send?access_token=TOKEN123", "SECRET-42")
    text = wh._scrub("failed http://10.0.0.1/robot/send?access_token=TOKEN123&sign=x with SECRET-42", target)
    assert "TOKEN123" not in text and "SECRET-42" not in text and text.startswith("failed")


# -- from a firing to the robot, in an app ------------------------------------------------------------------
def deliveries(app) -> list[tuple]:
    from queries.schema import webhook_deliveries

    with app.server.extensions["gridcc"].engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(webhook_deliveries.c.firing_id, webhook_deliveries.c.target, webhook_deliveries.c.attempt,
                   webhook_deliveries.c.outcome).order_by(webhook_deliveries.c.firing_id))]


def app_with(hand_settings, hooks: list[dict], rules: str):
    from dashboard.app import create_app
    from dashboard.store import make_engine
    from tests.queries.test_alerts import add_events
    from tests.test_alert_rules import add_due

    engine = make_engine(hand_settings)
    with engine.begin() as conn:
        add_due(conn)
        add_events(conn)
    engine.dispose()
    return create_app(hand_settings.with_(webhooks=json.dumps(hooks), alert_rules=rules,
                                          alert_link_base="http://10.8.0.2:8050"))


def test_hook040_one_firing_reaches_a_wecom_robot(receiver, hand_settings):
    from dashboard import alert_rules as ar

    r = receiver()
    app = app_with(hand_settings, [{"name": "wx", "kind": "wecom", "url": r.url}],
                   '[{"id": "red", "kind": "red_within", "params": {"n": 2}, "webhooks": ["wx"]}]')
    evaluator = app.server.extensions[ar.EXTENSION_KEY]
    try:
        (firing_id, hit), = evaluator.run_once().raised
        assert evaluator.deliverer.join(10)
    finally:
        evaluator.stop()
        app.server.extensions["gridcc_live"].stop()
    assert r.requests[0][1] == {"msgtype": "markdown", "markdown": {"content": (
        "### 【警告】南苑街道：2小时内将有3件案件超期\n- 规则：red（超过2件即告警）\n- 时间：2026-11-20 15:00\n"
        "- [在指挥中心查看](http://10.8.0.2:8050/?area=329902002)")}}
    assert deliveries(app) == [(firing_id, "wx", 1, "delivered")]
    app.server.extensions["gridcc"].engine.dispose()


def test_hook041_many_firings_go_as_one_summary_each_recorded(receiver, hand_settings):
    from dashboard import alert_rules as ar

    r = receiver()
    app = app_with(hand_settings, [{"name": "duty", "kind": "dingtalk", "url": r.url, "secret": "SEC-1"}],
                   '[{"id": "red", "kind": "red_within", "params": {"n": 2}}, {"id": "late", '
                   '"kind": "undispatched_urgent"}]')
    evaluator = app.server.extensions[ar.EXTENSION_KEY]
    try:
        raised = evaluator.run_once().raised
        assert evaluator.deliverer.join(10)
    finally:
        evaluator.stop()
        app.server.extensions["gridcc_live"].stop()
    assert len(raised) == 4 and len(r.requests) == 1  # 南苑街道's count, and cases 15, 12, 13
    path, body = r.requests[0]
    assert "timestamp=" in path and "sign=" in path
    assert body["markdown"]["title"] == "新增告警4条（15:00）"
    assert body["markdown"]["text"].startswith("### 【紧急】新增告警4条（15:00）\n- 南苑街道：2小时内将有3件案件超期\n")
    assert body["markdown"]["text"].count("紧急事件超15分钟未派遣") == 3
    assert deliveries(app) == [(firing_id, "duty", 1, "delivered") for firing_id, _ in raised]
    app.server.extensions["gridcc"].engine.dispose()


def test_hook042_nothing_is_sent_without_webhooks(hand_settings):
    from dashboard import alert_rules as ar
    from dashboard.app import create_app

    app = create_app(hand_settings)
    assert app.server.extensions[ar.EXTENSION_KEY].deliverer is None
    app.server.extensions["gridcc_live"].stop()
    app.server.extensions["gridcc"].engine.dispose()
