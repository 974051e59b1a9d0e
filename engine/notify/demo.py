"""The demo's notifications file: every notice to a catch-all file in the instance folder, no mail server."""
from __future__ import annotations

from pathlib import Path

DEMO_NOTIFICATIONS = """\
# Written by `xuncha demo`: every notification goes to outbox.log beside this file. Replace the catch-all
# with email, WeCom, DingTalk or webhook channels for real use (see README, Notifications).
channels:
  catch-all: {type: file, path: outbox.log}
routes:
  - {unit: "*", role: centre, channel: catch-all}
  - {role: leader, channel: catch-all}
users:
  student.2023001: {channel: catch-all, address: student.2023001@stu.example.edu.cn}
  staff.huang: {channel: catch-all, address: huang@example.edu.cn, opt_out: [receipt]}
digest: {at: "08:30", min_items: 5}
"""


def write_config(instance: Path) -> Path | None:
    """Write instance/notifications.yaml unless one is there already (an administrator's is never replaced)."""
    path = Path(instance) / "notifications.yaml"
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEMO_NOTIFICATIONS, encoding="utf-8")
    return path
