"""Child process for the deliverer crash test: delivers what is queued, pass after pass, until killed.

Usage: python notify_worker.py <db_url>; the notifications file is named by XUNCHA_NOTIFICATIONS."""
from __future__ import annotations

import sys
import time

from engine.notify.deliverer import Deliverer
from engine.unit_of_work import Store


def main(url: str) -> None:
    deliverer = Deliverer(Store(url), name="doomed")
    print("ready", flush=True)
    while True:
        if not deliverer.run_once().sent:
            time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1])
