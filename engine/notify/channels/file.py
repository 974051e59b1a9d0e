"""The catch-all channel: appends each message to a file (the demo's instance/outbox.log) or prints it."""
from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from engine.notify.channels import Outcome, Outgoing

_lock = threading.Lock()


class FileChannel:
    def __init__(self, spec: dict, base: Path):
        path = str(spec["path"])
        self.path = None if path == "-" else base / Path(path).expanduser()  # "-": the terminal

    def send(self, message: Outgoing) -> Outcome:
        text = (f"=== {datetime.now(UTC).isoformat(timespec='seconds')} {message.kind} → "
                f"{message.address or '(channel)'}  Message-ID: {message.message_id}\n"
                f"{message.subject}\n{message.body}\n\n")
        with _lock:
            if self.path is None:
                sys.stdout.write(text)
                sys.stdout.flush()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(text)
        return Outcome(True)
