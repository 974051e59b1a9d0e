"""/workflows: reading versions and diagrams, linting text, and loading a new version as administrator."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from http_helpers import report

from web import workflows as workflows_view

YAML = (Path(__file__).resolve().parents[2] / "workflows.yaml").read_text(encoding="utf-8")
V2 = YAML.replace("due: 5 working days", "due: 3 working days")
BROKEN = YAML.replace("to: verifying\n", "to: nowhere\n", 1)


def post_yaml(caller, path: str, text: str, content_type: str = "application/yaml"):
    return caller.post(path, data=text.encode("utf-8"), content_type=content_type)


def test_list_detail_and_versions(as_):
    listed = as_("food").get("/workflows").get_json()
    assert [(w["name"], w["version"]) for w in listed] == [("finding", 1)]
    assert listed[0]["label"] == {"zh": "巡查问题整改闭环", "en": "Inspection finding rectification loop"}
    detail = as_("food").get("/workflows/finding").get_json()
    stored = yaml.safe_load(detail["yaml"])["workflows"]["finding"]
    assert stored["initial"] == "reported" and {"verifying", "closed", "archived"} <= set(stored["states"])
    assert detail["version"] == 1 and len(detail["sha256"]) == 64
    states = {s["name"]: s for s in detail["states"]}
    assert states["rectifying"]["due"] == "5 working days" and states["archived"]["final"] is True
    verify = [t for t in detail["transitions"] if t["event"] == "verify"]
    assert [t["guard"] for t in verify] == ['payload.verdict == "pass"', 'payload.verdict == "fail"']
    assert verify[0]["from"] == ["verifying"] and verify[0]["to"] == "closed"
    assert verify[1]["reason"] == {"zh": "复查结论须为通过或不通过", "en": "The verdict must be pass or fail"}
    versions = as_("food").get("/workflows/finding/versions").get_json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, True)]
    assert as_("food").get("/workflows/nosuch").status_code == 404
    assert as_("food").get("/workflows/nosuch/versions").status_code == 404


def test_diagram_as_mermaid_and_svg(as_, monkeypatch):
    mermaid = as_("food").get("/workflows/finding/diagram?format=mermaid&lang=en")
    assert mermaid.status_code == 200 and mermaid.mimetype == "text/plain"
    assert mermaid.get_data(as_text=True).startswith("stateDiagram-v2") and "Reported" in mermaid.get_data(
        as_text=True)
    monkeypatch.setattr(workflows_view.diagram, "svg", lambda wf, lang: None)
    missing = as_("food").get("/workflows/finding/diagram?format=svg")
    assert missing.status_code == 501 and missing.mimetype == "application/problem+json"
    monkeypatch.setattr(workflows_view.diagram, "svg", lambda wf, lang: f"<svg>{wf.label.zh}</svg>")
    drawn = as_("food").get("/workflows/finding/diagram?format=svg")
    assert drawn.status_code == 200 and drawn.mimetype == "image/svg+xml"
    assert drawn.get_data(as_text=True) == "<svg>巡查问题整改闭环</svg>"
    assert as_("food").get("/workflows/finding/diagram?format=png").status_code == 422


@pytest.mark.parametrize("content_type", ["application/yaml", "text/plain", "application/x-yaml"])
def test_lint_lists_problems_by_line_and_stores_nothing(as_, content_type):
    response = post_yaml(as_("admin"), "/workflows/lint", BROKEN, content_type)
    assert response.status_code == 200
    result = response.get_json()
    assert result["ok"] is False and result["errors"] >= 1
    line = next(i for i, text in enumerate(BROKEN.splitlines(), 1) if "to: nowhere" in text)
    assert any(p["line"] == line and "nowhere" in p["message"] for p in result["problems"])
    clean = post_yaml(as_("admin"), "/workflows/lint", YAML, content_type).get_json()
    assert clean["ok"] is True and clean["errors"] == 0
    assert [v["version"] for v in as_("admin").get("/workflows/finding/versions").get_json()] == [1]


def test_lint_needs_a_token_and_yaml(as_):
    assert post_yaml(as_(None), "/workflows/lint", YAML).status_code == 401
    wrong = as_("admin").post("/workflows/lint", json={"yaml": YAML})
    assert wrong.status_code == 415 and wrong.mimetype == "application/problem+json"
    assert as_("admin").post("/workflows/lint", data=b"\xff\xfe", content_type="text/plain").status_code == 400


def test_admin_loads_a_new_version_and_old_findings_keep_theirs(as_):
    old = report(as_("inspector"))
    response = post_yaml(as_("admin"), "/workflows", V2)
    assert response.status_code == 201
    assert response.get_json() == {"loaded": [{"name": "finding", "version": 2, "created": True}]}
    assert response.headers["Location"].endswith("/api/v1/workflows/finding")
    versions = as_("admin").get("/workflows/finding/versions").get_json()
    assert [(v["version"], v["active"], v["created_by"]) for v in versions] == [(1, False, "setup"),
                                                                                (2, True, "admin")]
    current = yaml.safe_load(as_("admin").get("/workflows/finding").get_json()["yaml"])
    assert current["workflows"]["finding"]["states"]["rectifying"]["due"] == "3 working days"
    assert as_("admin").get(f"/findings/{old['id']}").get_json()["workflow"]["version"] == 1
    assert report(as_("inspector"))["workflow"]["version"] == 2
    same = post_yaml(as_("admin"), "/workflows", V2).get_json()
    assert same == {"loaded": [{"name": "finding", "version": 2, "created": False}]}


def test_rejected_text_is_422_with_lines_and_nothing_stored(as_):
    response = post_yaml(as_("admin"), "/workflows", BROKEN)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    problems = response.get_json()["errors"]
    assert problems and all({"line", "message"} <= set(p) for p in problems)
    assert any("nowhere" in p["message"] and p["line"] for p in problems)
    garbage = post_yaml(as_("admin"), "/workflows", "workflows: [unclosed")
    assert garbage.status_code == 422 and garbage.get_json()["errors"][0]["line"] == 1
    assert [v["version"] for v in as_("admin").get("/workflows/finding/versions").get_json()] == [1]


def test_only_admins_load_workflows(as_):
    for who in ("inspector", "leader", "auditor", "food"):
        assert post_yaml(as_(who), "/workflows", V2).status_code == 403
    assert [v["version"] for v in as_("admin").get("/workflows/finding/versions").get_json()] == [1]
