"""Administrators' pages: the workflow editor checked by lint, versions and diffs, migration, users, units, days."""
from __future__ import annotations

from page_helpers import csrf, sign_in

from engine import queries

BROKEN = "version: 1\nworkflows:\n  finding:\n    initial: nowhere\n"


def test_a_workflow_with_an_error_is_shown_at_its_line_and_not_saved(browser, campus, app):
    client = browser("admin")
    text = client.get("/workflows/finding/edit").get_data(as_text=True)
    assert "巡查问题整改闭环" in text
    refused = client.post("/workflows/finding/edit", data={"csrf_token": csrf(client, "/"), "yaml": BROKEN})
    assert refused.status_code == 422
    assert "第 " in refused.get_data(as_text=True) and "未保存" in refused.get_data(as_text=True)
    with campus.store.uow(write=False) as uow:
        assert [v.number for v in queries.workflow_versions(uow, "finding")] == [1]


def test_saving_a_changed_workflow_makes_a_version_with_a_diff(browser, campus):
    client = browser("admin")
    with campus.store.uow(write=False) as uow:
        text = queries.workflow_version(uow, "finding").row.yaml_text
    changed = text.replace("整改中", "正在整改")
    saved = client.post("/workflows/finding/edit", data={"csrf_token": csrf(client, "/"), "yaml": changed},
                        follow_redirects=True)
    assert saved.status_code == 200 and "第 2 版" in saved.get_data(as_text=True)
    diff = client.get("/workflows/finding/diff?a=1&b=2").get_data(as_text=True)
    assert "正在整改" in diff and "整改中" in diff
    lint = client.post("/workflows/lint", data={"csrf_token": csrf(client, "/"), "yaml": BROKEN},
                       headers={"HX-Request": "true"})
    assert lint.status_code == 200 and 'id="lint-result"' in lint.get_data(as_text=True)


def test_administrator_creates_a_person_who_can_sign_in(app, browser):
    admin = browser("admin")
    made = admin.post("/admin/users", data={"csrf_token": csrf(admin, "/admin/users"), "name": "new.inspector",
                                            "display_name": "新巡查员", "roles": ["inspector"], "unit": "",
                                            "password": "起始密码12345"})
    assert made.status_code == 303
    assert sign_in(app.test_client(), "new.inspector", "起始密码12345").status_code == 302
    short = admin.post("/admin/users", data={"csrf_token": csrf(admin, "/admin/users"), "name": "x",
                                             "roles": ["inspector"], "password": "短"})
    assert short.status_code == 422 and "至少 8 个字符" in short.get_data(as_text=True)


def test_units_and_closed_days(browser):
    admin = browser("admin")
    made = admin.post("/admin/units", data={"csrf_token": csrf(admin, "/"), "code": "FOOD-C2", "name": "第二食堂",
                                            "parent": "FOOD"}, follow_redirects=True)
    assert "第二食堂" in made.get_data(as_text=True)
    admin.post("/admin/closed-days", data={"csrf_token": csrf(admin, "/"), "day": "2027-01-20", "note": "寒假"})
    assert "2027-01-20" in admin.get("/admin/closed-days").get_data(as_text=True)
    again = admin.post("/admin/closed-days", data={"csrf_token": csrf(admin, "/"), "day": "2027-01-20"})
    assert again.status_code == 422 and "已是闭校日" in again.get_data(as_text=True)


def test_audit_finds_a_findings_rows_and_checks_its_chain(browser, campus):
    from engine import services
    with campus.store.uow() as uow:
        fid = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="审计测试", category="卫生", location="东门", unit="FOOD")).id
        uow.commit()
    auditor = browser("auditor")
    page = auditor.get(f"/audit?finding={fid}").get_data(as_text=True)
    assert "上报" in page and f"#{fid}" in page
    checked = auditor.post("/audit/verify", data={"csrf_token": csrf(auditor, "/"), "finding": str(fid)},
                           headers={"HX-Request": "true"})
    assert "校验通过" in checked.get_data(as_text=True)
    export = auditor.get(f"/audit.csv?finding={fid}").get_data(as_text=True)
    assert export.startswith("\ufeff序号") and "report" in export
