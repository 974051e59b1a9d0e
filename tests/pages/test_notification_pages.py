"""通知 page: messages about what the person may see with their delivery state; the outbox and retry for admins."""
from __future__ import annotations

import sqlalchemy as sa
from page_helpers import csrf

from engine import services
from engine.notify import routing
from engine.notify.models import OutboxMessage

NOTIFICATIONS = """\
channels:
  food-wecom: {type: wecom, url: "http://127.0.0.1:9/wecom?key=food"}
  prop-wecom: {type: wecom, url: "http://127.0.0.1:9/wecom?key=prop"}
routes:
  - {unit: FOOD, role: centre, channel: food-wecom}
  - {unit: PROP, role: centre, channel: prop-wecom}
"""


def told(campus) -> tuple[int, int]:
    """A finding assigned to FOOD and one to PROP, each told to its centre; PROP's message has died."""
    routing.use(campus.store, routing.parse(NOTIFICATIONS, base=campus.store.instance))
    ids = []
    with campus.store.uow() as uow:
        for title, unit in (("饮食中心窗口价格未公示", "FOOD"), ("物业中心电梯困人", "PROP")):
            fid = services.report_finding(uow, campus.actor("inspector"), services.Report(
                title=title, category="服务", location="现场", unit=unit)).id
            services.advance(uow, fid, "assign", campus.actor("inspector"))
            ids.append(fid)
        uow.session.execute(sa.update(OutboxMessage).where(OutboxMessage.finding_id == ids[1])
                            .values(status="dead", attempts=8, last_error="HTTP 500 from the robot"))
        uow.commit()
    return ids[0], ids[1]


def test_a_centre_sees_its_own_messages_with_their_delivery_state(browser, campus):
    told(campus)
    page = browser("food").get("/notifications").get_data(as_text=True)
    assert "饮食中心窗口价格未公示" in page and "待发送" in page
    assert "物业中心电梯困人" not in page and "HTTP 500" not in page
    assert "http://127.0.0.1:9" not in page and "重新发送" not in page  # addresses are for administrators
    prop = browser("prop").get("/notifications?status=dead").get_data(as_text=True)
    assert "物业中心电梯困人" in prop and "发送失败" in prop and "饮食中心窗口价格未公示" not in prop
    assert "饮食中心窗口价格未公示" not in browser("student").get("/notifications").get_data(as_text=True)


def test_administrators_see_failures_and_send_one_again(browser, campus):
    _, prop_id = told(campus)
    admin = browser("admin")
    page = admin.get("/notifications?status=dead").get_data(as_text=True)
    assert "物业中心电梯困人" in page and "HTTP 500 from the robot" in page and "饮食中心窗口价格未公示" not in page
    with campus.store.uow(write=False) as uow:
        dead = uow.session.scalars(sa.select(OutboxMessage.id).where(OutboxMessage.finding_id == prop_id)).one()
    token = csrf(admin, "/notifications")
    assert admin.post(f"/notifications/{dead}/retry").status_code == 400
    assert admin.post(f"/notifications/{dead}/retry", data={"csrf_token": token}).status_code == 303
    with campus.store.uow(write=False) as uow:
        row = uow.session.get(OutboxMessage, dead)
        assert (row.status, row.attempts) == ("pending", 0)
    for who in ("food", "inspector"):
        client = browser(who)
        assert client.post(f"/notifications/{dead}/retry", data={"csrf_token": csrf(client, "/")}).status_code == 403
    assert admin.post("/notifications/999999/retry", data={"csrf_token": token}).status_code == 404


def test_only_mine_keeps_the_messages_addressed_to_the_person(browser, campus):
    config = NOTIFICATIONS + "users:\n  food: {channel: food-wecom, address: zhou@food.example.edu.cn}\n"
    told(campus)
    routing.use(campus.store, routing.parse(config, base=campus.store.instance))
    with campus.store.uow() as uow:
        fid = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="饮食中心后厨灭火器过期", category="安全", location="后厨", unit="FOOD")).id
        services.advance(uow, fid, "assign", campus.actor("inspector"))
        uow.commit()
    food = browser("food")
    everything = food.get("/notifications").get_data(as_text=True)
    assert "饮食中心窗口价格未公示" in everything and "饮食中心后厨灭火器过期" in everything
    mine = food.get("/notifications?mine=1").get_data(as_text=True)
    assert "饮食中心后厨灭火器过期" in mine and "饮食中心窗口价格未公示" not in mine
    assert "zhou@food.example.edu.cn" not in mine  # addresses stay with administrators
