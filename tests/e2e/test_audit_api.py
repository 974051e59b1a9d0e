"""The audit log over HTTP: who may read it, filters, pages, the CSV export and the chain check."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from http_helpers import fire, report

from engine.models import AuditEntry


def make_history(as_) -> tuple[dict, dict]:
    food = report(as_("inspector"), title="食堂=SUM(A1)", unit="FOOD")
    dorm = report(as_("inspector"), title="宿舍", unit="PROP-DORM")
    fire(as_("inspector"), food["id"], "assign", {"note": "请处理，谢谢"})
    fire(as_("food"), food["id"], "respond", {"plan": "更换地垫"})
    fire(as_("leader"), dorm["id"], "escalate", {"reason": "屡查屡犯"})
    return food, dorm


def test_only_auditors_and_admins_read_the_log(as_):
    make_history(as_)
    for who in ("auditor", "admin"):
        assert len(as_(who).get("/audit").get_json()["items"]) == 5
        assert as_(who).get("/audit/verify").status_code == 200
    for who in ("inspector", "food", "student"):
        assert as_(who).get("/audit").status_code == 403
        assert as_(who).get("/audit?format=csv").status_code == 403
        assert as_(who).get("/audit/verify").status_code == 403
    assert as_(None).get("/audit").status_code == 401


def test_filters(as_):
    food, dorm = make_history(as_)

    def events(query: str) -> list[tuple[int, str]]:
        response = as_("auditor").get(f"/audit?{query}")
        assert response.status_code == 200, response.get_json()
        return [(row["finding_id"], row["event"]) for row in response.get_json()["items"]]

    assert events("actor=food") == [(food["id"], "respond")]
    assert events("unit=PROP") == [(dorm["id"], "report"), (dorm["id"], "escalate")]
    assert events("event=assign") == [(food["id"], "assign")]
    assert events("workflow=finding&event=report") == [(food["id"], "report"), (dorm["id"], "report")]
    assert events("workflow=other") == []
    assert events("since=2999-01-01") == [] and len(events("until=2999-01-01")) == 5
    assert events(f"finding={dorm['id']}") == [(dorm["id"], "report"), (dorm["id"], "escalate")]
    assert as_("auditor").get("/audit?unit=NOWHERE").status_code == 422
    assert as_("auditor").get("/audit?since=yesterday").status_code == 422


def test_pages_follow_the_log_without_gaps(as_):
    make_history(as_)
    seen, url = [], "/audit?per_page=2"
    while url:
        body = as_("admin").get(url).get_json()
        seen.extend(row["id"] for row in body["items"])
        url = body["next"] and body["next"].removeprefix("/api/v1")
    assert len(seen) == 5 and seen == sorted(set(seen))


def test_csv_export_streams_every_row_with_a_bom_and_chinese_intact(as_):
    food, _ = make_history(as_)
    response = as_("auditor").get(f"/audit?format=csv&finding={food['id']}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed and "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["event"] for r in rows] == ["report", "assign", "respond"]
    assert rows[1]["payload"] == '{"note": "请处理，谢谢"}' and rows[2]["actor"] == "food"
    assert rows[0]["unit"] == "FOOD" and len(rows[0]["hash"]) == 64


def test_csv_neutralises_spreadsheet_formulas(as_):
    finding = report(as_("inspector"))
    fire(as_("inspector"), finding["id"], "dismiss", {"reason": "=HYPERLINK(\"http://x\")"})
    text = as_("auditor").get("/audit?format=csv&event=dismiss").get_data().decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    assert not row["payload"].startswith("=")


def test_verify_reports_a_break(as_, campus):
    food, _ = make_history(as_)
    answer = as_("auditor").get("/audit/verify").get_json()
    assert (answer["ok"], answer["rows_checked"], answer["scope"]) == (True, 5, "all")
    store = campus.store
    with store.engine.begin() as conn:  # tamper past the append-only triggers, as a DBA could
        if store.dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.execute(sa.update(AuditEntry).where(AuditEntry.finding_id == food["id"], AuditEntry.seq == 2)
                     .values(comment="改过了"))
        if store.dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    report_ = as_("auditor").get("/audit/verify").get_json()
    assert report_["ok"] is False and report_["finding_id"] == food["id"] and report_["seq"] == 2


def test_history_lists_rows_in_order_for_those_who_see_the_finding(as_):
    food, _ = make_history(as_)
    history = as_("food").get(f"/findings/{food['id']}/history").get_json()
    assert [h["seq"] for h in history] == [1, 2, 3]
    assert set(history[0]) >= {"seq", "event", "from", "to", "actor", "role", "at", "payload", "comment", "hash"}
    assert as_("prop").get(f"/findings/{food['id']}/history").status_code == 404


def test_verify_checks_a_finding_or_a_range_and_large_logs_answer_with_the_last_full_run(as_, campus,
                                                                                          monkeypatch):
    food, dorm = make_history(as_)
    one = as_("auditor").get(f"/audit/verify?finding={food['id']}").get_json()
    assert (one["ok"], one["rows_checked"], one["scope"]) == (True, 3, "finding")
    both = as_("auditor").get(f"/audit/verify?first={food['id']}&last={dorm['id']}").get_json()
    assert (both["ok"], both["rows_checked"], both["scope"]) == (True, 5, "range")
    assert as_("auditor").get("/audit/verify?first=1").status_code == 422
    assert as_("auditor").get("/audit/verify?first=5&last=1").status_code == 422
    from engine.audit import runs
    from web import audit as audit_api

    monkeypatch.setattr(audit_api, "INLINE_ROWS", 0)  # as if the log were too large for a request
    none = as_("auditor").get("/audit/verify").get_json()
    assert (none["ok"], none["scope"]) == (False, "none") and "xuncha audit verify" in none["problem"]
    runs.check(campus.store, save=True)  # what the nightly `xuncha audit verify` does
    last = as_("auditor").get("/audit/verify").get_json()
    assert (last["ok"], last["rows_checked"], last["scope"]) == (True, 5, "last_full_run") and last["checked_at"]
