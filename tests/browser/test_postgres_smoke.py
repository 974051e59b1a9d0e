"""The workplace on PostgreSQL: sign in, report from a phone, act on it, as on SQLite."""
from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa
from browser_helpers import PHONE, start_live, stop_live

from engine.models import Base

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(os.environ.get("XUNCHA_SKIP_PG") == "1", reason="XUNCHA_SKIP_PG=1: no PostgreSQL")]


@pytest.fixture(scope="module")
def live(pg_database, tmp_path_factory):
    engine = sa.create_engine(pg_database)
    with engine.begin() as conn:  # the log refuses TRUNCATE through a trigger: start clean with triggers off
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                             + " RESTART IDENTITY CASCADE")
    engine.dispose()
    live, server, thread = start_live(pg_database, tmp_path_factory.mktemp("live-pg"))
    yield live
    stop_live(live, server, thread)


def test_report_and_assign_on_postgresql(open_page):
    page = open_page("wang.jun", PHONE)
    page.goto("/report")
    page.get_by_label(re.compile("^问题标题")).fill("学生公寓9号楼热水不足")
    page.get_by_label(re.compile("^地点")).fill("学生公寓9号楼 3层")
    page.get_by_label(re.compile("^责任单位")).select_option(label="物业服务中心")
    page.get_by_label(re.compile("^类别")).fill("设施设备")
    page.get_by_role("button", name="上报").click()
    sync_api.expect(page.locator("#current-state")).to_have_text("已上报")
    page.locator("summary", has_text="交办").click()
    page.get_by_role("button", name="提交").click()
    sync_api.expect(page.locator("#current-state")).to_have_text("已交办")
