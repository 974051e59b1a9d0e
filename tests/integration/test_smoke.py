"""The loop end to end through the service layer, on both databases."""
from engine import audit, services


def test_finding_travels_the_closed_loop(campus):
    store = campus.store
    with store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="一食堂地面湿滑", category="卫生", location="一食堂一楼", unit="FOOD"))
        uow.commit()
    steps = [("assign", "inspector", {}), ("respond", "food", {"plan": "立即清理"}),
             ("rectify", "food", {"note": "已清理"}), ("verify", "inspector", {"verdict": "pass"})]
    for event, who, payload in steps:
        with store.uow() as uow:
            services.advance(uow, f.id, event, campus.actor(who), payload)
            uow.commit()
    with store.uow(write=False) as uow:
        report = audit.verify(uow.session)
        assert report.ok and report.rows_checked == 5
