"""schemathesis against a live `xuncha serve`, once per role: permissions are fuzzed too, over real sockets."""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from live import live_server
from schemathesis import GenerationMode
from test_schemathesis import CHECKS, seed

from web import create_app

EXAMPLES = int(os.environ.get("XUNCHA_LIVE_FUZZ_EXAMPLES", "3"))  # per operation and role: kept short for CI
ROLES = {"admin": "admin", "inspector": "inspector", "centre": "food", "auditor": "auditor", "public": "student"}


@pytest.mark.slow
def test_every_role_gets_documented_answers_and_no_5xx_from_a_live_server(campus, db_url, tmp_path):
    seed(create_app({"STORE": campus.store, "TESTING": True}), campus)
    with live_server(db_url, tmp_path) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        failures, statuses = [], {role: set() for role in ROLES}
        for role, user in ROLES.items():
            headers = {"Authorization": f"Bearer {campus.tokens[user]}"}
            for result in schema.get_all_operations():
                operation = result.ok()
                # Valid requests are what permissions decide on; invalid ones are fuzzed in-process at length.
                for mode in (GenerationMode.POSITIVE,):

                    @given(case=operation.as_strategy(generation_mode=mode))
                    @settings(max_examples=EXAMPLES, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck))
                    def check(case):  # called at once, inside this iteration: the loop variables are current
                        response = case.call_and_validate(base_url=base.removesuffix("/api/v1"),
                                                          headers=headers, checks=CHECKS, timeout=30)  # noqa: B023
                        statuses[role].add(response.status_code)  # noqa: B023

                    try:
                        check()
                    except Unsatisfiable:
                        continue
                    except Exception as exc:  # gather, so one run names every broken operation and role
                        failures.append(f"{role} {operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
    assert 403 in statuses["public"] and 403 in statuses["auditor"], statuses  # refusals were exercised
    assert all(200 in seen for seen in statuses.values()), statuses
