"""The deliverer: retries with backoff, dead letters and `notify retry`, racing deliverers, a killed deliverer."""
from __future__ import annotations

import collections
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from notify_setup import attempts, outbox
from receiver import Receiver
from test_crash import child_env

from engine.db import utcnow
from engine.notify import history, routing
from engine.notify.deliverer import Deliverer
from engine.notify.models import OutboxMessage
from engine.notify.outbox import Notice, enqueue
from engine.unit_of_work import Store
from web.cli import main

WORKER = __file__.replace("test_notify_deliver.py", "notify_worker.py")


def hook_config(url: str, **deliver) -> str:
    settings = {"max_attempts": 3, "backoff": 1, "max_backoff": 1, "batch": 20, **deliver}
    return (f"channels: {{hook: {{type: webhook, url: '{url}/hook', secret: k}}}}\n"
            f"routes: [{{role: centre, channel: hook}}]\n"
            f"deliver: {{{', '.join(f'{k}: {v}' for k, v in settings.items())}}}\n")


def queue(store: Store, count: int, start: int = 0) -> None:
    with store.uow() as uow:
        for i in range(start, start + count):
            enqueue(uow, Notice("commendation", f"test:{i}", f"【表扬】第{i}条", f"正文{i}", (("role", "centre"),)))
        uow.commit()


def test_a_server_answering_500_then_200_gets_one_success_after_a_retry(campus):
    store = campus.store
    with Receiver(answers=[500]) as server:
        routing.use(store, routing.parse(hook_config(server.url)))
        queue(store, 1)
        deliverer = Deliverer(store)
        first = deliverer.run_once()
        assert (first.sent, first.failed) == (0, 1)
        [row] = outbox(store)
        assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > utcnow()
        assert deliverer.run_once().sent == 0  # not due again yet: backing off
        assert deliverer.run_once(utcnow() + timedelta(seconds=2)).sent == 1
    [row] = outbox(store)
    assert (row.status, row.attempts) == ("sent", 2)
    tries = attempts(store, row.id)
    assert [(a.outcome, a.response_code, a.channel) for a in tries] == [("failed", 500, "hook"), ("sent", 200, "hook")]
    assert server.ids() == [row.message_id, row.message_id]  # the same id both times: receivers can drop repeats


def test_always_failing_ends_dead_after_n_and_notify_retry_revives_it(campus, db_url, tmp_path, monkeypatch):
    store = campus.store
    with Receiver(reply={"error": "上游网关错误"}) as server:
        server.always = 502
        config = tmp_path / "notifications.yaml"
        config.write_text(hook_config(server.url), encoding="utf-8")
        routing.use(store, routing.load(config))
        queue(store, 1)
        deliverer, at = Deliverer(store), utcnow()
        for _ in range(3):
            report = deliverer.run_once(at)
            at += timedelta(seconds=2)
        assert report.dead == 1
        [row] = outbox(store)
        assert (row.status, row.attempts, row.last_error) == ("dead", 3, '{"error": "上游网关错误"}')
        assert deliverer.run_once(at + timedelta(hours=1)).sent == 0  # dead stays dead
        with store.uow(write=False) as uow:
            dead = history.list_outbox(uow, campus.actor("admin"), "dead")
            assert [t.message.id for t in dead] == [row.id] and len(dead[0].attempts) == 3

        server.always = None
        monkeypatch.setenv("XUNCHA_DATABASE_URL", db_url)
        monkeypatch.setenv("XUNCHA_NOTIFICATIONS", str(config))
        runner = CliRunner()
        result = runner.invoke(main, ["notify", "retry", str(row.id)])
        assert result.exit_code == 0, result.output
        result = runner.invoke(main, ["notify"])
        assert result.exit_code == 0 and "sent 1," in result.output, result.output
        assert runner.invoke(main, ["notify", "retry", str(row.id)]).exit_code == 1  # sent: not sent again
        assert runner.invoke(main, ["notify", "retry", "999999"]).output.strip().endswith("not found")
    assert outbox(store)[0].status == "sent" and len(server.ids()) == 4


@pytest.mark.slow
def test_two_deliverers_racing_over_1000_notifications_send_each_exactly_once(campus, db_url):
    with Receiver() as server:
        config = routing.parse(hook_config(server.url, batch=25))
        routing.use(campus.store, config)
        queue(campus.store, 1000)
        stores = [Store(db_url), Store(db_url)]
        reports = []

        def run(store):
            reports.append(Deliverer(store, config).run_once())

        threads = [threading.Thread(target=run, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for s in stores:
            s.dispose()
    counts = collections.Counter(server.ids())
    assert len(counts) == 1000 and set(counts.values()) == {1}
    assert sum(r.sent for r in reports) == 1000 and all(r.sent for r in reports)  # both took part
    assert {m.status for m in outbox(campus.store)} == {"sent"}


@pytest.mark.slow
def test_a_killed_deliverer_restarted_sends_everything_and_repeats_only_what_was_in_flight(
        campus, db_url, tmp_path):
    store = campus.store
    with Receiver() as server:
        config = tmp_path / "notifications.yaml"
        config.write_text(hook_config(server.url, batch=20, lease=30), encoding="utf-8")
        routing.use(store, routing.load(config))
        queue(store, 300)
        env = {**child_env(db_url, tmp_path), "XUNCHA_NOTIFICATIONS": str(config)}
        proc = subprocess.Popen([sys.executable, WORKER, db_url], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        try:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
            deadline = time.monotonic() + 60
            while len(server.ids()) < 90 and time.monotonic() < deadline:
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            proc.kill()
            proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        before = collections.Counter(server.ids())
        assert 90 <= sum(before.values()) < 300, "the worker was not killed mid-run"
        with store.uow(write=False) as uow:
            in_flight = set(uow.session.scalars(sa.select(OutboxMessage.message_id).where(
                OutboxMessage.status == "pending", OutboxMessage.claimed_by == "doomed")))
        assert len(in_flight) <= 20  # one batch at most was claimed and not yet recorded

        recorded = sum(1 for m in outbox(store) if m.status == "sent")
        restarted = Deliverer(store)
        # The dead worker's claims wait for its lease to run out ...
        assert restarted.run_once().sent == 300 - len(in_flight) - recorded
        restarted.run_once(utcnow() + timedelta(seconds=31))  # ... then are sent again
    counts = collections.Counter(server.ids())
    assert len(counts) == 300  # every notification went out at least once
    repeated = {mid for mid, n in counts.items() if n > 1}
    assert repeated <= in_flight and all(n <= 2 for n in counts.values())
    assert {m.status for m in outbox(store)} == {"sent"}
