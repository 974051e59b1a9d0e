"""The finding's page shows who was told what about it, and when (the outbox's history)."""
from __future__ import annotations

from engine import services
from engine.notify import routing

NOTIFICATIONS = """\
channels:
  food-wecom: {type: wecom, url: "http://127.0.0.1:9/wecom?key=food"}
routes:
  - {unit: FOOD, role: centre, channel: food-wecom}
"""


def test_the_detail_page_lists_the_notifications_about_the_finding(browser, campus):
    routing.use(campus.store, routing.parse(NOTIFICATIONS, base=campus.store.instance))
    with campus.store.uow() as uow:
        fid = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="二食堂窗口无健康证公示", category="证照", location="二食堂 3号窗口", unit="FOOD")).id
        services.advance(uow, fid, "assign", campus.actor("inspector"))
        uow.commit()
    page = browser("food").get(f"/findings/{fid}").get_data(as_text=True)
    assert "通知记录" in page and "二食堂窗口无健康证公示" in page and "待发送" in page
    quiet = browser("food").get(f"/findings/{fid}")  # still one list, nothing sent twice by reading it
    assert quiet.get_data(as_text=True).count("通知记录") == 1
