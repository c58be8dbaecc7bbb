"""Open311 GeoReport v2 on the hand city: the spec's shapes, hand-checked requests, refused input."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select, update

from dashboard import open311
from queries import tokens
from queries.schema import events
from tests.handcity import A1, B1, NOW

BASE = "/open311/v2"
# Every hand event reported by NOW, newest first (11 is reported after NOW, outside the default window).
ALL_BY_NOW = [10, 4, 8, 1, 5, 2, 6, 3, 7, 9]
HOSTILE = "<script>alert('x')</script> '; DROP TABLE events; -- & \"q\" ]]>"


@pytest.fixture
def app(hand_app):
    if "open311" not in hand_app.server.blueprints:
        open311.init_app(hand_app.server)
    return hand_app


@pytest.fixture
def client(app):
    return app.server.test_client()


@pytest.fixture
def engine(app):
    return app.server.extensions["gridcc"].engine


@pytest.fixture
def api_key(engine) -> str:
    with engine.begin() as conn:
        return tokens.create_token(conn, name="citizen-app", now=NOW)


@pytest.fixture
def reader(app, api_key):
    """Return a client that reads service requests as a system with an API token does (they are not public)."""
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {api_key}"
    return client


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [int(r["service_request_id"]) for r in response.get_json()]


def xml_of(response) -> ET.Element:
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert response.content_type == "text/xml; charset=utf-8"
    return ET.fromstring(body)


def assert_error(response, status: int, words: str = "") -> None:
    assert response.status_code == status
    if response.content_type.startswith("text/xml"):
        (error,) = xml_of(response).iter("error")
        code, description = int(error.findtext("code")), error.findtext("description")
    else:
        (body,) = response.get_json()
        code, description = body["code"], body["description"]
    assert code == status and words in description


# ---- services ------------------------------------------------------------------------------------


def test_o311001_services_json_is_the_catalogue(client):
    services = client.get(f"{BASE}/services.json").get_json()
    assert len(services) == 63  # the rows of dashboard/catalog/event-categories.csv
    assert [s["service_code"] for s in services] == sorted(s["service_code"] for s in services)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["0505"] == {
        "service_code": "0505", "service_name": "机动车乱停放",
        "description": "街面秩序 · 机动车乱停放，处置时限 2 工作小时", "metadata": False, "type": "realtime",
        "keywords": "街面秩序,机动车乱停放", "group": "街面秩序"}
    assert by_code["0401"]["keywords"].endswith(",紧急") and by_code["0401"]["group"] == "突发事件"


def test_o311002_services_xml(client):
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root) == 63
    first = root[0]
    assert first.tag == "service"
    assert [child.tag for child in first] == ["service_code", "service_name", "description", "metadata", "type",
                                              "keywords", "group"]
    assert (first.findtext("service_code"), first.findtext("service_name"), first.findtext("metadata"),
            first.findtext("group")) == ("0101", "私搭乱建", "false", "市容环境")


def test_o311003_service_definition(client):
    assert client.get(f"{BASE}/services/0505.json").get_json() == {"service_code": "0505", "attributes": []}
    root = xml_of(client.get(f"{BASE}/services/0505.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "0505"
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0
    assert_error(client.get(f"{BASE}/services/9999.json"), 404, "9999")
    assert_error(client.get(f"{BASE}/services/9999.xml"), 404, "9999")
    assert_error(client.get(f"{BASE}/services/x'1.json"), 404, "service_code")


# ---- reading requests ----------------------------------------------------------------------------


def test_o311004_one_request_mapped_field_by_field(reader):
    (body,) = reader.get(f"{BASE}/requests/6.json").get_json()
    assert body == {
        "service_request_id": "6", "status": "open", "status_notes": "已核查 checked",
        "service_name": "路面塌陷", "service_code": "0401", "description": "手工事件 6",
        "agency_responsible": "东城区城管执法局", "service_notice": None,
        "requested_datetime": "2026-11-18T10:00:00+08:00",
        "updated_datetime": "2026-11-18T12:00:00+08:00",  # checked at 12:00, its latest step
        "expected_datetime": "2026-11-18T12:10:00+08:00",
        "address": "东城区 南苑街道 南苑社区 南苑第01网格", "address_id": B1, "zipcode": None,
        "lat": 31.1, "long": 120.0, "media_url": None}


@pytest.mark.parametrize(
    "event_id, status, notes, expected",
    [
        (1, "closed", "已结案 closed", "2026-11-20T11:10:00+08:00"),
        (5, "closed", "作废 void: invalid report", None),
        (8, "open", "挂账 parked: cannot be handled this season", "2026-11-20T12:10:00+08:00"),
        (10, "open", "已上报 reported", None),
        (3, "open", "已派遣 dispatched", "2026-11-17T09:30:00+08:00"),
    ],
)
def test_o311005_status_and_notes(reader, event_id, status, notes, expected):
    (body,) = reader.get(f"{BASE}/requests/{event_id}.json").get_json()
    assert (body["status"], body["status_notes"], body["expected_datetime"]) == (status, notes, expected)
    assert "extended_attributes" not in body


def test_o311006_extensions_carry_the_chinese_lifecycle(reader):
    (body,) = reader.get(f"{BASE}/requests/8.json?extensions=true").get_json()
    assert body["extended_attributes"] == {"stage": "parked", "stage_name": "挂账", "source": "grid_worker",
                                           "extension_count": 0, "return_count": 0, "rework_count": 0,
                                           "parked": True}
    (request,) = xml_of(reader.get(f"{BASE}/requests/8.xml?extensions=true"))
    extended = request.find("extended_attributes")
    assert extended.findtext("stage") == "parked" and extended.findtext("parked") == "true"


def test_o311007_request_xml(reader):
    root = xml_of(reader.get(f"{BASE}/requests/4.xml"))
    assert root.tag == "service_requests"
    (request,) = root
    assert request.tag == "request"
    assert request.findtext("service_request_id") == "4" and request.findtext("status") == "open"
    assert request.findtext("address_id") == "329902001001002"
    assert request.findtext("expected_datetime") == "2026-11-20T16:05:00+08:00"
    assert request.find("zipcode") is not None and request.find("zipcode").text is None  # an empty element


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ALL_BY_NOW),  # the 90 days up to NOW: 09-01 (event 9) is inside, 11 is after NOW
        ("status=open", [10, 4, 8, 6, 3, 9]),
        ("status=closed", [1, 5, 2, 7]),
        ("status=open,closed", ALL_BY_NOW),
        ("service_code=0505", [4, 8, 1, 5]),
        ("service_code=0505,0102&status=closed", [1, 5, 2, 7]),
        ("start_date=2026-11-19T00:00:00%2B08:00&end_date=2026-11-20T12:00:00%2B08:00", [8, 1, 5, 2]),
        ("start_date=2026-11-18T16:00:00Z&end_date=2026-11-20T04:00:00Z", [8, 1, 5, 2]),  # the same, in UTC
        ("start_date=2026-11-20T09:00:00+08:00&end_date=2026-11-20T14:00:00+08:00", [4, 8, 1]),  # both ends in
        ("start_date=2026-11-20T00:00:00%2B08:00", [11, 10, 4, 8, 1, 5]),  # up to start + 90 days
        ("end_date=2026-10-01T10:00:00%2B08:00", [7, 9]),  # from end − 90 days
        ("limit=3", [10, 4, 8]),
        ("page_size=3&page=2", [1, 5, 2]),
        ("page_size=3&page=4", [9]),
        ("page_size=3&page=5", []),
        ("service_request_id=7,3,999", [3, 7]),
        ("service_request_id=1&status=open&service_code=0102", [1]),  # ids override every other filter
        ("service_request_id=11", [11]),
        ("jurisdiction_id=yunzhou", ALL_BY_NOW),  # accepted and ignored: one jurisdiction per server
    ],
)
def test_o311008_request_filters(reader, query, expected):
    assert ids(reader.get(f"{BASE}/requests.json?{query}")) == expected


def test_o311009_request_list_xml_matches_json(reader):
    root = xml_of(reader.get(f"{BASE}/requests.xml?status=closed"))
    assert [int(r.findtext("service_request_id")) for r in root.iter("request")] == [1, 5, 2, 7]


def test_o311010_descriptions_come_back_exactly_as_stored(reader, engine):
    stored = HOSTILE + "\x07 bell"
    with engine.begin() as conn:
        conn.execute(update(events).where(events.c.id == 3).values(description=stored))
    (body,) = reader.get(f"{BASE}/requests/3.json").get_json()
    assert body["description"] == stored
    response = reader.get(f"{BASE}/requests/3.xml")
    assert b"&lt;script&gt;" in response.get_data() and b"<script>" not in response.get_data()
    # XML 1.0 cannot carry a BEL even escaped: it alone is replaced, the rest is exact.
    assert xml_of(response)[0].findtext("description") == HOSTILE + "\ufffd bell"
    with engine.connect() as conn:
        assert conn.execute(select(events.c.id).order_by(events.c.id)).scalars().all() == list(range(1, 12))


# ---- refused input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, status, words",
    [
        ("/services.csv", 404, ".csv"),
        ("/requests.yaml", 404, ".yaml"),
        ("/requests/4.html", 404, ".html"),
        ("/requests", 404, "no such"),
        ("/nothing.json", 404, "no such"),
        ("/requests/abc.json", 400, "whole number"),
        ("/requests/-1.json", 400, "whole number"),
        ("/requests/" + "9" * 19 + ".json", 400, "18 digits"),
        ("/requests/999.json", 404, "999"),
        ("/requests/999.xml", 404, "999"),
        ("/requests.json?start_date=yesterday", 400, "ISO 8601"),
        ("/requests.xml?start_date=2026-11-20T00:00:00", 400, "time zone"),
        ("/requests.json?end_date=" + "2" * 500, 400, "too long"),
        ("/requests.json?start_date=2026-11-20T00:00:00%2B08:00&end_date=2026-11-19T00:00:00%2B08:00", 400, "later"),
        ("/requests.json?start_date=2026-01-01T00:00:00%2B08:00&end_date=2026-11-20T00:00:00%2B08:00", 400,
         "90 days"),
        ("/requests.json?status=pending", 400, "'pending'"),
        ("/requests.json?status=open%27%20OR%201=1", 400, "unknown status"),
        ("/requests.json?service_request_id=1,2,abc", 400, "whole number"),
        ("/requests.json?service_request_id=" + ",".join(map(str, range(101))), 400, "at most 100"),
        ("/requests.json?service_code=05%27--", 400, "4 digits"),
        ("/requests.json?limit=0", 400, "limit"),
        ("/requests.json?limit=1001", 400, "limit"),
        ("/requests.json?page_size=abc", 400, "page_size"),
        ("/requests.json?page=0", 400, "page"),
    ],
)
def test_o311011_bad_input_gets_the_spec_error_format(reader, url, status, words):
    assert_error(reader.get(BASE + url), status, words)


@pytest.mark.parametrize(
    "method, url, allowed",
    [
        ("post", "/services.json", "GET"),
        ("delete", "/services.json", "GET"),
        ("put", "/requests.json", "GET, POST"),
        ("post", "/requests/4.json", "GET"),
        ("patch", "/services/0505.xml", "GET"),
    ],
)
def test_o311012_wrong_method_is_405(reader, method, url, allowed):
    response = getattr(reader, method)(BASE + url)
    assert_error(response, 405, method.upper())
    assert response.headers["Allow"] == allowed


# ---- creating requests ---------------------------------------------------------------------------

FORM = {"service_code": "0505", "lat": "31.1", "long": "120.02", "description": "车辆占用盲道",
        "first_name": "三", "last_name": "张", "phone": "13812345678", "email": "a@b.cn", "device_id": "dev-1",
        "media_url": "https://example.org/p.jpg"}


def test_o311013_post_form_goes_through_ingest(client, reader, engine, api_key):
    response = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key})
    assert response.status_code == 200, response.get_data(as_text=True)
    (receipt,) = response.get_json()
    assert set(receipt) == {"service_request_id", "service_notice", "account_id"}
    assert receipt["account_id"] is None and "机动车乱停放" in receipt["service_notice"]
    new_id = int(receipt["service_request_id"])
    with engine.connect() as conn:
        row = conn.execute(select(events).where(events.c.id == new_id)).one()
    assert (row.source, row.category_code, row.grid_code, row.reported_at) == ("citizen", "0505", A1, NOW)
    assert row.external_id.startswith("o311-") and len(row.external_id) <= 64
    assert row.reporter == "张三 13812345678 a@b.cn"
    (body,) = reader.get(f"{BASE}/requests/{new_id}.json").get_json()
    assert (body["status"], body["status_notes"], body["description"]) == ("open", "已上报 reported", "车辆占用盲道")
    assert body["requested_datetime"] == "2026-11-20T15:00:00+08:00"
    assert body["address"] == "东城区 东街街道 东街社区 东街第01网格" and "13812345678" not in str(body)


def test_o311014_post_json_with_bearer_and_xml_answer(client, reader, engine, api_key):
    response = client.post(f"{BASE}/requests.xml", json={"service_code": "0102", "lat": 31.05, "long": 120.25,
                                                           "description": HOSTILE},
                           headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    (request,) = xml_of(response)
    new_id = request.findtext("service_request_id")
    (body,) = reader.get(f"{BASE}/requests/{new_id}.json").get_json()
    assert body["description"] == HOSTILE and body["address_id"] == "329903001001001"


@pytest.mark.parametrize(
    "fields, headers, status, words",
    [
        ({**FORM}, {}, 403, "api_key"),
        ({**FORM, "api_key": "gcc_not-a-token"}, {}, 403, "api_key"),
        ({**FORM}, {"Authorization": "Bearer wrong"}, 403, "api_key"),
        ({**FORM, "service_code": ""}, None, 400, "service_code was not provided"),
        ({**FORM, "service_code": "9999"}, None, 400, "9999"),
        ({**FORM, "service_code": "05; DROP"}, None, 400, "not found"),
        ({**FORM, "lat": "", "long": "", "address_string": "东街 1 号"}, None, 400, "cannot geocode"),
        ({**FORM, "lat": "", "long": ""}, None, 400, "lat and long"),
        ({**FORM, "lat": "north"}, None, 400, "'lat' must be a number"),
        ({**FORM, "long": "nan"}, None, 400, "'long' must lie between"),
        ({**FORM, "lat": "39.9", "long": "116.4"}, None, 400, "outside every grid"),
        ({**FORM, "description": "长" * 4001}, None, 400, "description"),
    ],
)
def test_o311015_post_refusals(client, engine, api_key, fields, headers, status, words):
    if headers is None:
        fields = {**fields, "api_key": api_key}
    response = client.post(f"{BASE}/requests.json", data=fields, headers=headers or {})
    assert_error(response, status, words)
    with engine.connect() as conn:
        assert conn.execute(select(events.c.id).where(events.c.source == "citizen")).first() is None


def test_o311016_post_refusal_in_xml(client, api_key):
    response = client.post(f"{BASE}/requests.xml", data={**FORM, "api_key": api_key, "service_code": "9999"})
    assert_error(response, 400, "9999")


def test_o311017_a_generic_open311_client_flow(client, api_key):
    """Discover a service, post a report as a form, and read it back: what any GeoReport client does."""
    services = client.get(f"{BASE}/services.json").get_json()
    code = next(s["service_code"] for s in services if s["service_name"] == "暴露垃圾")
    created = client.post(f"{BASE}/requests.json", data={
        "api_key": api_key, "service_code": code, "lat": "31.1", "long": "120.12", "description": "路边垃圾堆积"})
    assert created.status_code == 200
    request_id = created.get_json()[0]["service_request_id"]
    # A GeoReport client sends its api_key as a query parameter when it reads too (requests are not public).
    (request,) = client.get(f"{BASE}/requests/{request_id}.json?api_key={api_key}").get_json()
    assert (request["service_request_id"], request["status"], request["service_code"]) == (request_id, "open", code)
    assert request["address_id"] == B1
    assert request_id in [r["service_request_id"] for r in
                          client.get(f"{BASE}/requests.json?status=open&service_code={code}&api_key={api_key}")
                          .get_json()]


# -- found by trying the API as an integrator -----------------------------------------------------------

def test_o311_hostile_deep_json_non_text_values_and_other_charsets_are_400(hand_app):
    with hand_app.server.extensions["gridcc"].engine.begin() as conn:
        key = tokens.create_token(conn, name="citizen-app", now=NOW)
    client = hand_app.server.test_client()
    url = "/open311/v2/requests.json"
    deep = client.post(url, data="[" * 100_000 + "]" * 100_000, content_type="application/json",
                       headers={"Authorization": f"Bearer {key}"})
    assert deep.status_code == 400 and deep.get_json()[0]["code"] == 400
    good = {"api_key": key, "service_code": "0505", "lat": 31.1, "long": 120.01}
    for name, value in (("description", {"a": 1}), ("phone", ["1"])):
        response = client.post(url, json={**good, name: value})
        assert response.status_code == 400 and f"'{name}' must be text" in response.get_json()[0]["description"]
    gbk = client.post(url, data="api_key=x&description=%B3%B5", content_type="application/x-www-form-urlencoded; charset=GBK")
    assert gbk.status_code == 400 and "send it as UTF-8" in gbk.get_json()[0]["description"]
