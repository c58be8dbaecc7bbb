"""A schema-driven fuzz run of the whole API (schemathesis, from /api/v1/openapi.json) on the hand city.

Every documented operation gets generated requests, valid (positive) and invalid (negative); each
response must not be a 5xx and must match the document: a documented status code, content type and
body schema. A bearer token is sent on every request, so the POST routes are exercised past
authentication. Bounded and deterministic: derandomized, 20 examples per operation and mode
(GRIDCC_FUZZ_EXAMPLES=150 for a deeper, slower run).
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from dashboard import open311
from dashboard.openapi import openapi_document
from queries import tokens
from tests.handcity import NOW

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("GRIDCC_FUZZ_EXAMPLES", "20"))
# (method, path, mode): negative mode needs something to negate (a parameter or a body).
OPERATIONS = [(method.upper(), path, mode) for path, operations in openapi_document()["paths"].items()
              for method, operation in operations.items()
              for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
              if mode is GenerationMode.POSITIVE or operation.get("parameters") or operation.get("requestBody")]


@pytest.fixture
def fuzz_app(hand_app, monkeypatch):
    from dashboard import live

    # The live stream is endless by design (it ends after 10 minutes); a fuzz run reads each response
    # whole, so here each stream says hello, beats, and ends within a third of a second.
    monkeypatch.setattr(live, "STREAM_S", 0.3)
    monkeypatch.setattr(live, "BEAT_S", 0.1)
    if "open311" not in hand_app.server.blueprints:
        open311.init_app(hand_app.server)
    return hand_app


@pytest.fixture
def bearer(fuzz_app) -> dict:
    with fuzz_app.server.extensions["gridcc"].engine.begin() as conn:
        return {"Authorization": "Bearer " + tokens.create_token(conn, name="fuzz", now=NOW)}


@pytest.mark.parametrize("method, path, mode", OPERATIONS, ids=[f"{m} {p} {mode}" for m, p, mode in OPERATIONS])
def test_fuzz001_no_server_error_and_responses_match_the_document(fuzz_app, bearer, method, path, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app.server)  # the served document
    operation = schema[path][method]

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        case.call_and_validate(headers=bearer, checks=CHECKS)

    fuzz()
