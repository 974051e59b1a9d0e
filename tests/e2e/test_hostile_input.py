"""Hostile and mistaken input over HTTP: each gets a 4xx problem naming what is wrong, never a 500 or a stall."""
from __future__ import annotations

from pathlib import Path

from http_helpers import audit_rows, fire, report

YAML = (Path(__file__).resolve().parents[2] / "workflows.yaml").read_text(encoding="utf-8")
BOMB = "workflows:\n  finding:\n    a: &a [l, l, l, l, l, l, l, l, l, l]\n" + "".join(
    f"    {c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True))
# The shipped workflow with a billion laughs in a choice field's list of choices.
CHOICE_BOMB = "x: &a [l, l, l, l, l, l, l, l, l, l]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True)) + YAML.replace(
    "choices: [pass, fail]", "choices: *g", 1)
CHOICE_LINE = 6  # the first alias that alone expands past the limit: `f: &f [*e, ...]`


SLOW = """\
workflows:
  slow:
    label: {zh: 慢守卫, en: Slow guard}
    initial: open
    reporters: [inspector]
    roles:
      inspector: {label: {zh: 巡查员, en: Inspector}}
    states:
      open: {label: {zh: 待处理, en: Open}, due: 1 working day}
      done: {label: {zh: 已完成, en: Done}, final: true}
    transitions:
      - event: finish
        from: open
        to: done
        roles: [inspector]
        guard: "GUARD"
        fields:
          score: {type: number}
"""


def post_yaml(caller, path: str, text: str):
    return caller.post(path, data=text.encode("utf-8"), content_type="application/yaml")


def versions(as_) -> list[int]:
    return [v["version"] for v in as_("admin").get("/workflows/finding/versions").get_json()]


def test_lint_is_for_administrators_only(as_):
    for who in ("student", "inspector", "food", "auditor"):
        response = post_yaml(as_(who), "/workflows/lint", YAML)
        assert response.status_code == 403 and response.get_json()["roles_needed"] == ["admin"], who
    assert post_yaml(as_("admin"), "/workflows/lint", YAML).get_json()["ok"] is True


def test_alias_bombs_deep_and_oversized_yaml_are_refused_and_nothing_is_stored(as_):
    assert "choices: *g" in CHOICE_BOMB
    for text, line, words in ((CHOICE_BOMB, CHOICE_LINE, "aliases expand"), (BOMB, 8, "aliases expand"),
                              ("workflows:\n  finding: " + "[" * 2000 + "]" * 2000 + "\n", 2, "nested more than")):
        for path in ("/workflows", "/workflows/lint"):
            response = post_yaml(as_("admin"), path, text)
            problems = response.get_json()["errors" if path == "/workflows" else "problems"]
            assert response.status_code == (422 if path == "/workflows" else 200), response.get_json()
            assert [p["line"] for p in problems] == [line] and words in problems[0]["message"], problems
    huge = post_yaml(as_("admin"), "/workflows", "# " + "巡" * 30_000)
    assert huge.status_code == 413 and huge.mimetype == "application/problem+json"
    assert versions(as_) == [1]


def test_deeply_nested_json_is_a_400_problem(as_, campus):
    finding = report(as_("inspector"))
    deep = ('{"event": "assign", "payload": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}").encode()
    for path in ("/findings", f"/findings/{finding['id']}/transitions"):
        response = as_("inspector").post(path, data=deep, content_type="application/json")
        assert response.status_code == 400 and response.mimetype == "application/problem+json", path
        assert "nested too deeply" in response.get_json()["detail"]
    nested: list = [1]
    for _ in range(30):
        nested = [nested]
    moderately = fire(as_("inspector"), finding["id"], "assign", {"x": nested})
    assert moderately.status_code == 422 and "nested too deeply" in moderately.get_json()["detail"]
    assert audit_rows(campus, finding["id"]) == 1


def test_a_slow_guard_counts_as_false_and_a_deep_one_is_not_loaded(as_, campus):
    thirty = "[" + ", ".join(map(str, range(1, 31))) + "]"
    cubic = f"{thirty}.all(a, {thirty}.all(b, {thirty}.all(c, a + b + c > 0)))"  # 27,000 steps: about 30 s
    slow = SLOW.replace("GUARD", f"payload.score >= 60 && {cubic}")
    assert post_yaml(as_("admin"), "/workflows", slow).status_code == 201
    finding = report(as_("inspector"), workflow="slow")
    refused = fire(as_("inspector"), finding["id"], "finish", {"score": 90})
    assert refused.status_code == 422 and refused.get_json()["type"].endswith("guard-refused")
    assert audit_rows(campus, finding["id"]) == 1
    deep = SLOW.replace("GUARD", "(" * 300 + "payload.score >= 60" + ")" * 300)
    response = post_yaml(as_("admin"), "/workflows", deep)
    assert response.status_code == 422 and "nested too deeply" in response.get_json()["errors"][0]["message"]


def test_unknown_filter_values_name_the_known_ones(as_):
    report(as_("inspector"))
    state = as_("inspector").get("/findings?state=escalate")
    assert state.status_code == 422 and "'escalate'" in state.get_json()["errors"]["state"]
    assert "escalated" in state.get_json()["errors"]["state"]
    event = as_("auditor").get("/audit?event=nope")
    assert event.status_code == 422 and "'nope'" in event.get_json()["errors"]["event"]
    assert "assign" in event.get_json()["errors"]["event"]
    assert as_("inspector").get("/findings?state=escalated,reported").status_code == 200
    assert as_("auditor").get("/audit?event=report").status_code == 200
