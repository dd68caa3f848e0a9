"""Schema-driven fuzzing (schemathesis) of every route in the OpenAPI schema, as admin: any
generated request gets a 2xx or a 4xx, never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.service.conftest import Plant
from tests.service.test_api import ROUTES

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")


def test_no_server_errors_on_any_route(plant: Plant) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", plant.client.app)
    fuzzed = set()
    calls = []
    for result in schema.get_all_operations():
        op = result.ok()

        @given(case=op.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            if case.path == "/api/v1/stream":
                case.query = {**(case.query or {}), "once": "true"}  # else it never ends
            response = case.call(headers=plant.auth("admin"))
            calls.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        run()
        fuzzed.add((op.method.upper(), op.path))
    assert fuzzed == set(ROUTES)
    assert len(calls) >= len(ROUTES)  # every route got generated requests
    print(f"{len(calls)} fuzzed requests, status codes {sorted(set(calls))}")
