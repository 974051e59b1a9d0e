"""Notifications over HTTP: the administrators' outbox, and who was told what about a finding."""
from __future__ import annotations

from http_helpers import report

from engine.notify import routing
from engine.notify.deliverer import Deliverer

CONFIG = """\
channels:
  log: {type: file, path: outbox.log}
  broken: {type: webhook, url: "http://127.0.0.1:9/nothing-listens", secret: k}
routes:
  - {unit: FOOD, role: centre, channel: log}
  - {role: leader, channel: broken}
users:
  student: {channel: log, address: lin@stu.example.edu.cn}
deliver: {max_attempts: 1, timeout: 2}
"""


def test_who_was_told_what_about_a_finding(as_, campus):
    routing.use(campus.store, routing.parse(CONFIG, base=campus.store.instance))
    finding = report(as_("student"), source="public")
    fid = finding["id"]
    assert as_("inspector").post(f"/findings/{fid}/transitions", json={"event": "escalate"},
                                 headers={"If-Match": f'"{finding["version"]}"'}).status_code == 200
    Deliverer(campus.store).run_once()

    told = as_("food").get(f"/findings/{fid}/notifications")
    assert told.status_code == 200
    rows = told.get_json()
    by = {(m["kind"], m["channel"]): m for m in rows}
    assert set(by) == {("receipt", "log"), ("escalated", "log"), ("escalated", "broken")}
    receipt = by[("receipt", "log")]
    # The unit sees that the reporter got a receipt, never who the reporter is or how to reach them.
    assert (receipt["recipient"], receipt["address"], receipt["status"]) == ("reporter", None, "sent")
    assert receipt["deliveries"][0]["outcome"] == "sent"
    dead = by[("escalated", "broken")]
    assert (dead["status"], dead["attempts"], dead["deliveries"][0]["outcome"]) == ("dead", 1, "failed")
    assert "ConnectionError" in dead["last_error"]
    assert "【督办】" in by[("escalated", "log")]["subject"]

    as_admin = as_("admin").get(f"/findings/{fid}/notifications").get_json()
    assert {m["address"] for m in as_admin if m["kind"] == "receipt"} == {"lin@stu.example.edu.cn"}
    assert as_("dorm").get(f"/findings/{fid}/notifications").status_code == 404  # not its unit's finding

    assert as_("food").get("/notifications/outbox?status=dead").status_code == 403
    listed = as_("admin").get("/notifications/outbox?status=dead")
    assert [m["id"] for m in listed.get_json()] == [dead["id"]]
    assert as_("admin").get("/notifications/outbox?status=lost").status_code == 422
    revived = as_("admin").post(f"/notifications/outbox/{dead['id']}/retry")
    assert revived.status_code == 200 and revived.get_json()["status"] == "pending"
    assert as_("admin").get("/notifications/outbox?status=dead").get_json() == []
    again = as_("admin").post(f"/notifications/outbox/{by[('receipt', 'log')]['id']}/retry")
    assert again.status_code == 422 and "not resent" in again.get_json()["detail"]
    # The unit's reminders list answers as before.
    assert as_("food").get("/notifications").status_code == 200


def test_serve_delivers_in_the_background(app, as_, campus):
    import time

    from web.serve import BackgroundDeliverer

    routing.use(campus.store, routing.parse(CONFIG, base=campus.store.instance))
    fid = report(as_("student"), source="public")["id"]
    job = BackgroundDeliverer(app, 0.05).start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            told = as_("admin").get(f"/findings/{fid}/notifications").get_json()
            if told and told[0]["status"] == "sent":
                break
            time.sleep(0.05)
    finally:
        job.stop()
    assert told[0]["status"] == "sent"
    assert "已受理" in (campus.store.instance / "outbox.log").read_text(encoding="utf-8")
