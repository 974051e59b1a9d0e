"""Helpers for briefing and import tests: small PNG photos, findings played through the loop at given times."""
from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

from engine import attachments, services

SH = ZoneInfo("Asia/Shanghai")


def png(seed: int, size: int = 24) -> bytes:
    """A small PNG whose colour (and so its bytes) follows `seed`."""
    colour = bytes(((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    raw = b"".join(b"\x00" + colour * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def report(campus, title: str, unit: str, at: datetime, location: str | None = None) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title=title, category="卫生", location=location or f"{title}处", unit=unit), now=at)
        uow.commit()
        return f.id


def photo(campus, finding_id: int, who: str, seed: int) -> int:
    with campus.store.uow() as uow:
        a = attachments.add_attachment(uow, finding_id, campus.actor(who), name=f"p{seed}.png",
                                       content_type="image/png", stream=io.BytesIO(png(seed)))
        uow.commit()
        return a.id


def close(campus, finding_id: int, centre: str, at: datetime, photos: list[int] = (), note: str = "已整改完毕"):
    steps = [("assign", "inspector", {}), ("respond", centre, {"plan": "立即整改"}),
             ("rectify", centre, {"note": note, **({"photos": list(photos)} if photos else {})}),
             ("verify", "inspector", {"verdict": "pass"})]
    for event, who, payload in steps:
        with campus.store.uow() as uow:
            services.advance(uow, finding_id, event, campus.actor(who), payload, now=at)
            uow.commit()
