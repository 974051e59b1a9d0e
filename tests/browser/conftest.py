"""Fixtures for browser tests: one live server per module on a fresh SQLite database, Debian's Chromium.

Skips, saying why, only when the system Chromium or the playwright package is missing; `.ci/run` installs both."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_helpers import CHROMIUM, DESKTOP, sign_in, start_live, stop_live


@pytest.fixture(scope="module")
def live(tmp_path_factory, sqlite_template):
    folder = tmp_path_factory.mktemp("live")
    shutil.copy(sqlite_template, folder / "live.db")
    live, server, thread = start_live(f"sqlite:///{folder / 'live.db'}", folder / "instance")
    yield live
    stop_live(live, server, thread)
    foreign = [u for u in live.requests if urlsplit(u).scheme not in ("data", "blob")
               and not u.startswith(live.base + "/")]
    assert not foreign, f"pages asked other hosts: {foreign[:5]}"


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no system Chromium at {CHROMIUM} (Debian: apt-get install chromium fonts-noto-cjk)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    playwright = sync_api.sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def open_page(chromium, live):
    """`open_page("food", PHONE)`: a page in a fresh browser context, signed in as that campus user."""
    contexts = []

    def make(name: str | None, viewport=DESKTOP):
        context = chromium.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                       base_url=live.base)
        contexts.append(context)
        context.on("request", lambda request: live.requests.append(request.url))
        page = context.new_page()
        page.on("console", lambda msg: msg.type == "error" and live.console_errors.append(msg.text))
        page.on("pageerror", lambda exc: live.console_errors.append(str(exc)))
        if name:
            sign_in(page, name)
        return page

    yield make
    for context in contexts:
        context.close()


