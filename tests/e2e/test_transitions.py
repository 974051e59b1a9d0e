"""Moving findings over HTTP: the loop, refusals by role, state, field and guard, If-Match and retries."""
from __future__ import annotations

import threading

import pytest
from http_helpers import Caller, audit_rows, fire, report

from engine import admin

STRICT = """\
version: 1
workflows:
  strict:
    label: {zh: 严格流程, en: Strict}
    initial: open
    reporters: [inspector]
    roles:
      inspector: {label: {zh: 巡查员, en: Inspector}}
    states:
      open: {label: {zh: 待处理, en: Open}, due: 1 working day}
      done: {label: {zh: 已完成, en: Done}, final: true}
    transitions:
      - event: finish
        label: {zh: 完成, en: Finish}
        from: open
        to: done
        roles: [inspector]
        guard: payload.score >= 60
        reason: {zh: 得分须不低于60分, en: The score must be at least 60}
        fields:
          score: {type: number, label: {zh: 得分, en: Score}}
"""


def test_the_closed_loop_over_http(as_, campus):
    finding = report(as_("inspector"))
    steps = [("inspector", "assign", {"note": "请当日处理"}), ("food", "respond", {"plan": "立即清理并放置警示牌"}),
             ("food", "rectify", {"note": "已清理"}), ("inspector", "verify", {"verdict": "fail"}),
             ("food", "rectify", {"note": "已加装防滑垫"}), ("inspector", "verify", {"verdict": "pass"})]
    for version, (who, event, payload) in enumerate(steps, start=2):
        response = fire(as_(who), finding["id"], event, payload)
        assert response.status_code == 200, response.get_json()
        assert response.headers["ETag"] == f'"{version}"' and response.get_json()["version"] == version
    closed = response.get_json()
    assert closed["state"]["name"] == "closed" and closed["state"]["closed"] is True
    assert closed["failed_verifications"] == 1 and closed["closed_at"]
    history = as_("food").get(f"/findings/{finding['id']}/history").get_json()
    assert [(h["seq"], h["event"], h["from"], h["to"]) for h in history][:3] == [
        (1, "report", None, "reported"), (2, "assign", "reported", "assigned"), (3, "respond", "assigned",
                                                                                 "rectifying")]
    assert history[2]["payload"] == {"plan": "立即清理并放置警示牌"} and history[2]["actor"] == "food"
    assert history[2]["role"] == "centre" and history[2]["prev_hash"] == history[1]["hash"]
    assert len(history) == audit_rows(campus, finding["id"]) == 7


def test_wrong_role_is_403_and_changes_nothing(as_, campus):
    finding = report(as_("inspector"))
    response = fire(as_("food"), finding["id"], "assign")
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert "inspector" in response.get_json()["detail"]
    assert fire(as_("auditor"), finding["id"], "escalate").status_code == 403
    assert audit_rows(campus, finding["id"]) == 1


def test_event_impossible_in_this_state_is_409_naming_state_and_allowed_events(as_):
    finding = report(as_("inspector"))
    response = fire(as_("inspector"), finding["id"], "verify", {"verdict": "pass"})
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["state"] == "reported" and set(problem["allowed"]) == {"assign", "dismiss", "escalate"}
    assert "reported" in problem["detail"]
    assert fire(as_("inspector"), finding["id"], "teleport").status_code == 409


def test_missing_and_invalid_payload_fields_are_422_naming_each(as_, campus):
    finding = report(as_("inspector"))
    missing = fire(as_("inspector"), finding["id"], "dismiss", {})
    assert missing.status_code == 422 and missing.get_json()["errors"] == {"reason": "required"}
    fire(as_("inspector"), finding["id"], "assign")
    fire(as_("food"), finding["id"], "respond", {"plan": "计划"})
    fire(as_("food"), finding["id"], "rectify", {"note": "done"})
    wrong = fire(as_("inspector"), finding["id"], "verify", {"verdict": "maybe", "mood": "good"})
    assert wrong.status_code == 422 and set(wrong.get_json()["errors"]) == {"verdict", "mood"}
    not_a_dict = as_("inspector").post(f"/findings/{finding['id']}/transitions",
                                       json={"event": "verify", "payload": ["pass"]})
    assert not_a_dict.status_code == 422 and "payload" in not_a_dict.get_json()["errors"]
    assert audit_rows(campus, finding["id"]) == 4  # report, assign, respond, rectify: no failed verify


def test_guard_refusal_is_422_with_the_workflows_reason(as_, campus):
    with campus.store.uow() as uow:
        admin.load_workflows(uow, STRICT, by="test")
        uow.commit()
    finding = report(as_("inspector"), workflow="strict")
    response = fire(as_("inspector"), finding["id"], "finish", {"score": 59})
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["reason"] == {"zh": "得分须不低于60分", "en": "The score must be at least 60"}
    assert problem["detail"] == "得分须不低于60分"
    assert fire(as_("inspector"), finding["id"], "finish", {"score": 60}).status_code == 200


def test_stale_if_match_is_412_and_changes_nothing(as_, campus):
    finding = report(as_("inspector"))
    fire(as_("inspector"), finding["id"], "assign")
    stale = fire(as_("food"), finding["id"], "respond", {"plan": "计划"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.get_json()["actual"] == 2
    assert audit_rows(campus, finding["id"]) == 2
    current = as_("food").get(f"/findings/{finding['id']}")
    assert current.get_json()["state"]["name"] == "assigned"
    fresh = fire(as_("food"), finding["id"], "respond", {"plan": "计划"},
                 headers={"If-Match": current.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"3"'
    for malformed in ("garbage", 'W/"3"', '"3", "4"', '"3'):  # a client's mistake, not a stale read
        refused = fire(as_("food"), finding["id"], "rectify", {"note": "n"}, headers={"If-Match": malformed})
        assert refused.status_code == 400 and "If-Match" in refused.get_json()["detail"], malformed
    assert audit_rows(campus, finding["id"]) == 3


def test_retry_with_the_same_idempotency_key_acts_once(as_, campus):
    finding = report(as_("inspector"))
    key = {"Idempotency-Key": "assign-7f3a"}
    first = fire(as_("inspector"), finding["id"], "assign", {"note": "尽快"}, headers=key)
    second = fire(as_("inspector"), finding["id"], "assign", {"note": "尽快"}, headers=key)
    assert first.status_code == second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert second.get_data() == first.get_data() and second.headers["ETag"] == first.headers["ETag"]
    assert audit_rows(campus, finding["id"]) == 2
    reused = fire(as_("inspector"), finding["id"], "escalate", {}, headers=key)
    assert reused.status_code == 422 and "Idempotency-Key" in reused.get_json()["errors"]
    assert audit_rows(campus, finding["id"]) == 2
    other_user = fire(as_("leader"), finding["id"], "escalate", {}, headers=key)  # keys belong to one user
    assert other_user.status_code == 200 and audit_rows(campus, finding["id"]) == 3


def test_retried_report_creates_one_finding(as_):
    body = {"title": "路灯不亮", "category": "照明", "location": "东门", "unit": "ENERGY"}
    first = as_("inspector").post("/findings", json=body, headers={"Idempotency-Key": "r-1"})
    second = as_("inspector").post("/findings", json=body, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == second.status_code == 201
    assert second.headers["Location"] == first.headers["Location"]
    assert len(as_("inspector").get("/findings").get_json()["items"]) == 1


def test_a_failed_request_keeps_no_answer_for_its_key(as_, campus):
    finding = report(as_("inspector"))
    key = {"Idempotency-Key": "k"}
    assert fire(as_("inspector"), finding["id"], "dismiss", {}, headers=key).status_code == 422
    assert fire(as_("inspector"), finding["id"], "dismiss", {"reason": "重复"}, headers=key).status_code == 200
    assert audit_rows(campus, finding["id"]) == 2


def test_concurrent_duplicates_act_once(app, campus):
    finding = report(Caller(app.test_client(), campus.tokens["inspector"]))
    barrier, answers = threading.Barrier(4), []

    def send():
        caller = Caller(app.test_client(), campus.tokens["inspector"])
        barrier.wait()
        answers.append(fire(caller, finding["id"], "assign", headers={"Idempotency-Key": "same"}))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.get_data() for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 3
    assert audit_rows(campus, finding["id"]) == 2


@pytest.mark.parametrize("key", ["", "x" * 201])
def test_bad_idempotency_key_is_422(as_, key):
    finding = report(as_("inspector"))
    response = fire(as_("inspector"), finding["id"], "assign", headers={"Idempotency-Key": key})
    assert response.status_code == 422
