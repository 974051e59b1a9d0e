"""Guards: CEL over finding, payload and actor; anything odd counts as 'no', and nothing runs as Python."""
from __future__ import annotations

import pytest

from workflows.guards import GuardSyntaxError, compile_guard, equality_test

FINDING = {"id": 7, "severity": "high", "failed_verifications": 2, "category": "卫生"}
ACTOR = {"name": "inspector", "role": "inspector", "roles": ["inspector"]}


def allows(source: str, payload: dict | None = None, finding: dict | None = None, actor: dict | None = None):
    return compile_guard(source).allows(finding or FINDING, payload or {}, actor or ACTOR)


def test_payload_equality():
    assert allows('payload.verdict == "pass"', {"verdict": "pass"})
    assert not allows('payload.verdict == "pass"', {"verdict": "fail"})


def test_finding_and_actor_are_readable():
    assert allows("finding.failed_verifications >= 2 && finding.severity == 'high'")
    assert not allows("finding.failed_verifications >= 3")
    assert allows("actor.role == 'inspector' && 'inspector' in actor.roles")
    assert not allows("actor.role == 'leader'")


def test_chinese_text_compares():
    assert allows("finding.category == '卫生'")
    assert not allows("finding.category == '安全'")


def test_missing_field_evaluates_false_not_error():
    assert not allows('payload.verdict == "pass"', {})
    assert not allows("payload.points > 10", {"other": 1})
    assert not allows("finding.nothing.deeper == 1")


def test_has_tells_present_from_missing():
    assert allows("has(payload.photos)", {"photos": [1]})
    assert not allows("has(payload.photos)", {})
    assert allows("!has(payload.photos) || size(payload.photos) > 0", {})


def test_non_boolean_result_is_false():
    assert not allows("payload.n", {"n": 1})
    assert not allows("'yes'")


def test_type_mismatch_is_false():
    assert not allows("payload.n > 3", {"n": "many"})


@pytest.mark.parametrize("source", [
    "__import__('os').system('echo pwned')",
    "open('/etc/passwd')",
    "eval('1')",
    "lambda: 1",
    "import os",
])
def test_python_is_never_evaluated(source):
    """Python snippets either fail to parse as CEL or are refused when compiled."""
    with pytest.raises(GuardSyntaxError):
        compile_guard(source)


def test_python_attributes_are_just_missing_fields():
    assert not allows("payload.__class__ == payload.__class__", {"x": 1})
    assert not allows("has(payload.__dict__)", {"x": 1})


def test_unknown_root_variable_refused():
    with pytest.raises(GuardSyntaxError, match="request"):
        compile_guard("request.remote_addr == '1.2.3.4'")


def test_names_inside_strings_are_not_variables():
    assert allows("payload.note == 'request.x'", {"note": "request.x"})


@pytest.mark.parametrize("source", ["", "   ", None, 3])
def test_empty_or_non_text_guard_refused(source):
    with pytest.raises(GuardSyntaxError):
        compile_guard(source)


def test_compiled_guard_is_reused_across_calls():
    guard = compile_guard("payload.n == 1")
    assert [guard.allows({}, {"n": n}, {}) for n in (1, 2, 1)] == [True, False, True]


def test_equality_test_recognises_only_plain_comparisons():
    assert equality_test('payload.verdict == "pass"') == ("payload.verdict", "pass")
    assert equality_test("payload.n == 3") == ("payload.n", "3")
    assert equality_test('payload.verdict == "pass" || true') is None
    assert equality_test("payload.n > 3") is None


@pytest.mark.parametrize("payload", [
    {"verdict": "pass"}, {"verdict": "fail"}, {}, {"verdict": 1}, {"verdict": None}, {"verdict": ["pass"]},
    {"verdict": {"pass": 1}}, {"verdict": "pass "}, {"verdict": "PASS"},
])
def test_plain_equality_answers_like_full_cel(payload):
    """`payload.verdict == "pass"` may be answered without CEL; it must agree with CEL on every input."""
    plain = compile_guard('payload.verdict == "pass"')
    full = compile_guard('"pass" == payload.verdict && true')
    assert plain.allows(FINDING, payload, ACTOR) == full.allows(FINDING, payload, ACTOR)


def test_nested_equality():
    guard = compile_guard("payload.check.result == '合格'")
    assert guard.allows({}, {"check": {"result": "合格"}}, {})
    assert not guard.allows({}, {"check": "合格"}, {})


def test_comprehension_variables_are_not_taken_for_unknown_roots():
    guard = compile_guard("payload.items.exists(i, i.ok)")
    assert guard.allows({}, {"items": [{"ok": False}, {"ok": True}]}, {})
    assert not guard.allows({}, {"items": [{"ok": False}]}, {})
    with pytest.raises(GuardSyntaxError, match="uses j"):
        compile_guard("payload.items.exists(i, j.ok)")


def test_whole_numbers_compare_the_same_however_the_client_wrote_them():
    guard = compile_guard("payload.points == 3")
    assert guard.allows({}, {"points": 3}, {})
    assert guard.allows({}, {"points": 3.0}, {})
    assert not guard.allows({}, {"points": 3.5}, {})
    limit = compile_guard("double(payload.amount) <= 1000.0")
    assert limit.allows({}, {"amount": 300}, {})
    assert limit.allows({}, {"amount": 999.5}, {})
    assert not limit.allows({}, {"amount": 1000.5}, {})


def test_a_guard_nested_too_deeply_is_refused_when_compiled_not_when_fired():
    with pytest.raises(GuardSyntaxError, match="nested too deeply"):
        compile_guard("(" * 300 + "payload.x == 1" + ")" * 300)
    with pytest.raises(GuardSyntaxError, match="at most 2000"):
        compile_guard("(" * 3000 + "payload.x == 1" + ")" * 3000)
    assert allows("(" * 10 + "payload.x == 1" + ")" * 10, {"x": 1})


def test_a_guard_past_its_step_budget_counts_as_false():
    cubic = "payload.l.all(a, payload.l.all(b, payload.l.all(c, a + b + c >= 0)))"
    assert not allows(cubic, {"l": list(range(30))})  # 27,000 inner evaluations: stopped, not run for 30 s
    assert allows(cubic, {"l": [1, 2]})
    assert allows("payload.l.all(a, a >= 0)", {"l": list(range(50))})
