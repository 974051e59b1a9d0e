"""Run the API on one machine (the embedded SQLite default), with the overdue sweep and the notification
deliverer running beside it."""
from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)
SWEEP_EVERY = 60.0  # seconds
DELIVER_EVERY = 10.0  # seconds between notification deliverer passes


class BackgroundSweep:
    """Calls engine.timers.sweep every `interval` seconds in a daemon thread until stopped.

    For the embedded default only: under gunicorn every worker would run one, so production runs
    `xuncha sweep` from cron or a systemd timer instead (see README). Two sweeps at once are safe anyway.
    """

    def __init__(self, app: Flask, interval: float = SWEEP_EVERY):
        self.store = app.extensions["xuncha.store"]
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="xuncha-sweep", daemon=True)

    def start(self) -> BackgroundSweep:
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopped.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        from engine import timers

        while not self.stopped.is_set():
            try:
                report = timers.sweep(self.store)
                if report.fired or report.reminders or report.overdue_notices or report.failed:
                    log.info("sweep: %s", report.summary())
            except Exception:  # a database outage must not end the loop; the next round tries again
                log.exception("sweep failed")
            self.stopped.wait(self.interval)


class BackgroundDeliverer(BackgroundSweep):
    """Runs the notification deliverer (engine.notify) every `interval` seconds in a daemon thread.

    Several at once (gunicorn workers, `xuncha notify` from cron) are safe: each message is claimed by one."""

    def __init__(self, app: Flask, interval: float = DELIVER_EVERY):
        super().__init__(app, interval)
        self.thread.name = "xuncha-notify"

    def _loop(self) -> None:
        from engine.notify.deliverer import Deliverer

        deliverer = Deliverer(self.store)
        while not self.stopped.is_set():
            try:
                report = deliverer.run_once()
                if report.sent or report.failed or report.dead or report.digests:
                    log.info("notify: %s", report.summary())
            except Exception:  # a database outage or a broken notifications file: logged, tried again
                log.exception("notification delivery failed")
            self.stopped.wait(self.interval)


def start_background(app: Flask, interval: float = SWEEP_EVERY) -> BackgroundSweep:
    """Start the overdue sweep beside the requests (the embedded server's only background job)."""
    return BackgroundSweep(app, interval).start()


def run(app: Flask, host: str = "127.0.0.1", port: int = 5000, sweep_every: float = SWEEP_EVERY,
        deliver_every: float = DELIVER_EVERY) -> None:
    """Werkzeug's threaded server: enough for one campus office; production runs gunicorn (see README)."""
    from werkzeug.serving import run_simple

    sweeper = start_background(app, sweep_every) if sweep_every > 0 else None
    deliverer = BackgroundDeliverer(app, deliver_every).start() if deliver_every > 0 else None
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        for job in (sweeper, deliverer):
            if job is not None:
                job.stop()
