"""Helpers for browser tests: a live server on a small campus, signing in through the form, screenshots."""
from __future__ import annotations

import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from shipped_workflows import QUIET_WORKFLOWS

from engine import accounts, admin
from engine.unit_of_work import Store

CHROMIUM = os.environ.get("XUNCHA_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "巡查-browser-1"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
SHOTS = Path(os.environ.get("XUNCHA_SCREENSHOTS", Path(__file__).resolve().parents[2] / "screenshots"))
UNITS = [("GAD", "总务部", None), ("PROP", "物业服务中心", "GAD"), ("FOOD", "饮食服务中心", "GAD"),
         ("FOOD-C1", "第一食堂", "FOOD"), ("ENERGY", "能源服务中心", "GAD")]
USERS = [("wang.jun", "王军（巡查员）", "inspector", None), ("li.na", "李娜（巡查员）", "inspector", None),
         ("food.zhou", "周强（饮食服务中心）", "centre", "FOOD"),
         ("prop.zhang", "张伟（物业服务中心）", "centre", "PROP"),
         ("chen.ming", "陈明（部门领导）", "leader", None), ("gad.admin", "系统管理员", "admin", None),
         ("sun.li", "孙丽（审计）", "auditor", None)]


def png(width: int = 64, height: int = 48, rgb=(200, 60, 40)) -> bytes:
    """A real (decodable) PNG of one colour, for uploads the page shows as a thumbnail."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@dataclass
class Live:
    base: str
    store: Store
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def _serve(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def start_live(url: str, instance: Path) -> tuple[Live, object, object]:
    from web import create_app
    store = Store(url, instance=instance)
    with store.uow() as uow:
        admin.load_workflows(uow, QUIET_WORKFLOWS, file="workflows.yaml", by="setup")
        uow.commit()
    with store.uow() as uow:
        for code, name, parent in UNITS:
            admin.create_unit(uow, code, name, parent=parent)
        for name, display, role, unit in USERS:
            admin.create_user(uow, name, [role], unit=unit, display_name=display)
            accounts.set_password(uow, None, name, PASSWORD)
        uow.commit()
    app = create_app({"STORE": store, "SECRET_KEY": "browser-test-secret"})
    server, thread = _serve(app)
    return Live(f"http://127.0.0.1:{server.server_port}", store), server, thread


def stop_live(live: Live, server, thread) -> None:
    server.shutdown()
    thread.join(10)
    server.server_close()
    live.store.dispose()


def sign_in(page, name: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


def shoot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
