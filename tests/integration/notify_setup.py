"""Shared set-up of the notification tests: a notifications file for the test campus, and outbox readers."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine import services
from engine.notify import routing
from engine.notify.models import DeliveryAttempt, OutboxMessage

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)  # a Tuesday; `reported` is due 1 working day later, reminded 14:30

CAMPUS_NOTIFICATIONS = """\
channels:
  food-wecom: {type: wecom, url: "URL/wecom?key=food"}
  leaders: {type: webhook, url: "URL/leaders", secret: leaders-key}
  personal: {type: file, path: outbox.log}
routes:
  - {unit: FOOD, role: centre, channel: food-wecom}
  - {role: leader, channel: leaders}
users:
  student: {channel: personal, address: lin@stu.example.edu.cn}
  food: {channel: personal, address: zhou@example.edu.cn, opt_out: [commendation, reminder]}
"""


def configure(store, url: str = "http://127.0.0.1:9", extra: str = "") -> routing.Config:
    config = routing.parse(CAMPUS_NOTIFICATIONS.replace("URL", url) + extra, base=store.instance)
    routing.use(store, config)
    return config


def report(campus, who="inspector", now=T0, **extra) -> int:
    fields = {"title": "二食堂窗口无健康证公示", "category": "证照", "location": "二食堂 3号窗口", "unit": "FOOD",
              **extra}
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor(who), services.Report(**fields), now=now)
        uow.commit()
        return f.id


def advance(campus, fid, event, who, payload=None, now=T0):
    with campus.store.uow() as uow:
        services.advance(uow, fid, event, campus.actor(who), payload or {}, now=now)
        uow.commit()


def outbox(store, **where) -> list[OutboxMessage]:
    with store.uow(write=False) as uow:
        query = sa.select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
        found = list(uow.session.scalars(query))
        uow.session.expunge_all()
        return found


def attempts(store, outbox_id) -> list[DeliveryAttempt]:
    with store.uow(write=False) as uow:
        found = list(uow.session.scalars(sa.select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == outbox_id)
                                         .order_by(DeliveryAttempt.id)))
        uow.session.expunge_all()
        return found
