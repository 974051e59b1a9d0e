"""Property-based checks of the live OpenAPI document: no 5xx, and every answer matches what it documents."""
from __future__ import annotations

import os

import schemathesis
from http_helpers import Caller, fire, report
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]
EXAMPLES = int(os.environ.get("XUNCHA_FUZZ_EXAMPLES", "30"))  # raise it for a deeper run


def seed(app, campus) -> None:
    """A few findings in different states, so generated ids sometimes hit real ones."""
    inspector, food = (Caller(app.test_client(), campus.tokens[name]) for name in ("inspector", "food"))
    for unit in ("FOOD", "PROP", "ENERGY"):
        finding = report(inspector, unit=unit)
        fire(inspector, finding["id"], "assign")
    fire(food, 1, "respond", {"plan": "立即处理"})


# On both databases: SQLite and PostgreSQL differ exactly where fuzzing bites (integer ranges, NUL bytes, LIKE).
# schemathesis' own pytest loader (from_fixture) does not run under this pytest, so each operation gets a
# hypothesis test of its own here; failures are gathered so one run names every broken operation.
def test_api_answers_match_the_openapi_document(app, campus):
    seed(app, campus)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {campus.tokens['admin']}"}
    failures, operations, statuses = [], 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                statuses.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

            try:
                check()
            except Unsatisfiable:  # no parameters to make invalid (GET /health has none)
                continue
            except Exception as exc:  # gather, so one run names every broken operation
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert operations >= 15 and {200, 404, 422} <= set(statuses)  # it reached real findings too
    assert not failures, "\n\n".join(failures)
