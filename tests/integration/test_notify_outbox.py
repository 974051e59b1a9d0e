"""The outbox: notices are queued in the transaction of the change that causes them, routed by configuration."""
from __future__ import annotations

from datetime import datetime

import pytest
from notify_setup import SH, T0, advance, configure, outbox, report

from engine import records, timers
from engine.errors import InvalidInput
from engine.notify import digest, routing
from engine.notify.deliverer import Deliverer


def test_assignment_reaches_the_units_route_and_its_people_in_the_same_transaction(campus):
    configure(campus.store)
    fid = report(campus)
    assert outbox(campus.store) == []  # an inspector's report tells nobody yet
    advance(campus, fid, "assign", "inspector", {"note": "三日内整改"})
    sent = outbox(campus.store, kind="assigned")
    assert {(m.channel, m.address) for m in sent} == {("food-wecom", None), ("personal", "zhou@example.edu.cn")}
    message = sent[0]
    assert message.finding_id == fid and message.status == "pending" and message.essential
    assert message.subject == f"【巡查交办】#{fid} 二食堂窗口无健康证公示"
    assert "交办意见：三日内整改" in message.body and "饮食服务中心" in message.body
    assert message.data["finding"]["unit"] == "FOOD" and message.data["message_id"] == message.message_id
    assert len({m.message_id for m in sent}) == 2


def test_a_change_that_rolls_back_leaves_nothing_in_the_outbox(campus):
    configure(campus.store)
    fid = report(campus)
    with campus.store.uow() as uow:
        from engine import services

        services.advance(uow, fid, "assign", campus.actor("inspector"), {}, now=T0)
        assert len(outbox_in(uow)) == 2  # queued inside the transaction ...
        uow.rollback()
    assert outbox(campus.store) == []  # ... and gone with it
    with pytest.raises(RuntimeError):
        with campus.store.uow() as uow:
            records.record_commendation(uow, campus.actor("inspector"), records.CommendationInput(
                unit="FOOD", location="二食堂", text="后厨整洁", points=2))
            raise RuntimeError("the request failed after the commendation was recorded")
    assert outbox(campus.store) == []


def outbox_in(uow):
    import sqlalchemy as sa

    from engine.notify.models import OutboxMessage

    return list(uow.session.scalars(sa.select(OutboxMessage)))


def test_without_a_notifications_file_nothing_is_queued(campus):
    routing.use(campus.store, None)  # and the instance folder has no notifications.yaml
    advance(campus, report(campus), "assign", "inspector")
    assert outbox(campus.store) == []


def test_a_public_reporter_gets_receipts_the_unit_never_does(campus):
    configure(campus.store)
    fid = report(campus, who="student", source="public")
    advance(campus, fid, "assign", "inspector")
    receipts = outbox(campus.store, kind="receipt")
    assert [(m.recipient, m.channel, m.address) for m in receipts] == [
        ("user student", "personal", "lin@stu.example.edu.cn")] * 2
    assert "已受理" in receipts[0].body and "处理进度：已交办" in receipts[1].body
    assert all(m.kind != "receipt" for m in outbox(campus.store, channel="food-wecom"))


def test_a_person_may_opt_out_of_commendations_but_not_of_sanctions(campus):
    configure(campus.store)
    with campus.store.uow() as uow:
        records.record_commendation(uow, campus.actor("inspector"), records.CommendationInput(
            unit="FOOD", location="二食堂后厨", text="生熟分开，标识清楚", points=2))
        uow.commit()
    assert [m.channel for m in outbox(campus.store, kind="commendation")] == ["food-wecom"]
    fid = report(campus)
    advance(campus, fid, "escalate", "inspector", {"reason": "多次提醒未改"})
    with campus.store.uow() as uow:
        records.record_sanction(uow, campus.actor("leader"), records.SanctionDecision(
            kind="warning", finding_ids=(fid,), decision="书面警告一次"))
        uow.commit()
    told = {(m.channel, m.address) for m in outbox(campus.store, kind="sanction")}
    assert told == {("food-wecom", None), ("personal", "zhou@example.edu.cn"), ("leaders", None)}
    escalation = outbox(campus.store, kind="escalated", channel="leaders")[0]
    assert "由inspector督办：多次提醒未改" in escalation.body


def test_opting_out_of_an_essential_kind_is_refused_naming_the_field():
    with pytest.raises(InvalidInput, match=r"users.li.opt_out: overdue cannot be turned off"):
        routing.parse("channels: {m: {type: file, path: x.log}}\nusers: {li: {channel: m, opt_out: [overdue]}}")
    with pytest.raises(InvalidInput, match=r"routes\[0\].channel: no channel named 'nope'"):
        routing.parse("channels: {}\nroutes: [{role: centre, channel: nope}]")
    with pytest.raises(InvalidInput, match=r"digest.at: '8点' is not a campus time"):
        routing.parse("digest: {at: 8点}")


def test_sweep_reminders_and_overdue_escalations_are_told(campus):
    configure(campus.store)
    fid = report(campus)
    timers.sweep(campus.store, datetime(2026, 3, 3, 15, 0, tzinfo=SH))  # past the 14:30 reminder
    reminders = outbox(campus.store, kind="reminder")
    assert [m.channel for m in reminders] == ["food-wecom"]  # the centre's own person opted out of reminders
    assert "已上报期限将至：2026-03-04 09:00" in reminders[0].body
    timers.sweep(campus.store, datetime(2026, 3, 4, 10, 0, tzinfo=SH))  # past due: escalated automatically
    escalated = outbox(campus.store, kind="escalated")
    assert {m.channel for m in escalated} == {"food-wecom", "personal", "leaders"}
    assert "已超过已上报期限，系统自动督办" in escalated[0].body
    assert outbox(campus.store, kind="overdue") == []  # told once, as the escalation
    assert all(m.finding_id == fid for m in outbox(campus.store))


def test_many_reminders_fold_into_one_daily_digest_per_unit(campus):
    configure(campus.store, extra='digest: {at: "08:30", min_items: 3}\n')
    ids = [report(campus, title=f"二食堂问题{i}", location=f"二食堂 {i}号窗口") for i in range(3)]
    timers.sweep(campus.store, datetime(2026, 3, 3, 15, 0, tzinfo=SH))
    assert {m.status for m in outbox(campus.store, kind="reminder")} == {"folded"}
    store = campus.store
    assert digest.send_digests(store, datetime(2026, 3, 4, 8, 29, tzinfo=SH)) == 0  # before the campus time
    assert digest.send_digests(store, datetime(2026, 3, 4, 8, 31, tzinfo=SH)) == 2  # the route and the person
    assert digest.send_digests(store, datetime(2026, 3, 4, 16, 0, tzinfo=SH)) == 0  # once a day
    sent, personal = outbox(store, kind="digest")
    assert (sent.channel, personal.address) == ("food-wecom", "zhou@example.edu.cn")
    assert sent.subject == "【每日待办】饮食服务中心 2026-03-04"
    assert "待处理 3 件，今日到期 3 件，已超期 0 件" in sent.body
    assert all(f"#{i} 二食堂问题" in sent.body for i in ids)
    assert digest.send_digests(store, datetime(2026, 3, 5, 8, 31, tzinfo=SH)) == 2  # the next day's


def test_the_deliverer_sends_through_the_catch_all_file_and_records_the_attempt(campus):
    config = routing.parse("channels: {log: {type: file, path: outbox.log}}\n"
                           "routes: [{role: centre, channel: log}]", base=campus.store.instance)
    routing.use(campus.store, config)
    fid = report(campus)
    advance(campus, fid, "assign", "inspector")
    report_ = Deliverer(campus.store).run_once()
    assert (report_.sent, report_.failed) == (1, 0)
    text = (campus.store.instance / "outbox.log").read_text(encoding="utf-8")
    assert f"【巡查交办】#{fid} 二食堂窗口无健康证公示" in text
    [message] = outbox(campus.store)
    assert message.status == "sent" and message.message_id in text
    assert Deliverer(campus.store).run_once().sent == 0


def test_a_broken_edit_of_the_notifications_file_keeps_the_previous_one(tmp_path, monkeypatch):
    import os
    from types import SimpleNamespace

    path = tmp_path / "notifications.yaml"
    path.write_text("channels: {log: {type: file, path: a.log}}\nroutes: [{role: centre, channel: log}]\n",
                    encoding="utf-8")
    monkeypatch.setenv("XUNCHA_NOTIFICATIONS", str(path))
    store = SimpleNamespace(instance=None)
    assert routing.config_for(store).routes[0].channel == "log"
    path.write_text("routes: [{role: centre, channel: gone}]\n", encoding="utf-8")
    os.utime(path, (1, 1))  # a different modification time, however fast the test runs
    assert routing.config_for(store).routes[0].channel == "log"
    routing._cache.clear()  # a new process has no previous file: it is told what is wrong
    with pytest.raises(InvalidInput, match=r"notifications.yaml: routes\[0\].channel: no channel named 'gone'"):
        routing.config_for(store)


def test_notify_names_what_is_wrong_in_the_notifications_file(db_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from web.cli import main

    path = tmp_path / "broken.yaml"
    path.write_text("channels:\n  mail: {type: email, host: smtp.example.edu.cn}\n", encoding="utf-8")
    monkeypatch.setenv("XUNCHA_DATABASE_URL", db_url)
    monkeypatch.setenv("XUNCHA_NOTIFICATIONS", str(path))
    result = CliRunner().invoke(main, ["notify"])
    assert result.exit_code == 1
    assert f"{path}: channels.mail.from: required" in result.output


def test_a_published_briefing_is_told_to_the_units_it_names(campus):
    import sqlalchemy as sa

    from engine import messagebus
    from engine.events import BriefingPublished
    from engine.models import Unit

    configure(campus.store)
    with campus.store.uow() as uow:
        food_id = uow.session.scalar(sa.select(Unit.id).where(Unit.code == "FOOD"))
        messagebus.publish(uow, BriefingPublished("2026年第12期", "三月上旬巡查情况", (food_id,),
                                                  campus.actor("admin"), T0))
        uow.commit()
    told = {(m.channel, m.subject) for m in outbox(campus.store, kind="briefing")}
    assert ("food-wecom", "【巡查简报】2026年第12期 三月上旬巡查情况") in told
    assert {m.channel for m in outbox(campus.store, kind="briefing")} == {"food-wecom", "personal", "leaders"}
