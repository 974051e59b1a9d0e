"""A worker killed with SIGKILL mid-run leaves every finding equal to its audit log and every chain intact."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from replay import assert_consistent

from engine.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parent / "crash_worker.py"
GIVE_UP = 90  # seconds; a worker that has not reached the kill point by then is killed and the test fails


def child_env(db_url: str, tmp_path: Path) -> dict:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "XUNCHA_DATABASE_URL": db_url,
            "XUNCHA_INSTANCE": str(tmp_path / "instance")}


def run_and_kill(db_url: str, tmp_path: Path, lines_before_kill: int, seed: int) -> list[list[str]]:
    """Start the worker, let it commit at least `lines_before_kill` times, SIGKILL it; return every line it printed."""
    stderr = (tmp_path / "worker.err").open("w+")
    proc = subprocess.Popen([sys.executable, str(WORKER), db_url, "1000000", str(seed), "inspector,leader,admin,food"],
                            stdout=subprocess.PIPE, stderr=stderr, text=True, env=child_env(db_url, tmp_path),
                            cwd=tmp_path)
    watchdog = threading.Timer(GIVE_UP, proc.kill)
    watchdog.start()
    lines = []
    try:
        while len(lines) < lines_before_kill:
            line = proc.stdout.readline()
            if not line:
                stderr.seek(0)
                pytest.fail(f"worker stopped after {len(lines)} lines: {stderr.read()[-2000:]}")
            lines.append(line.split())
        # A little extra time, different each run, so the kill lands at a different point of a transaction.
        time.sleep(random.Random(seed).uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
    finally:
        watchdog.cancel()
        stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the worker finished or failed before it was killed"
    # Lines still in the pipe were printed after their commit too.
    return lines + [line.split() for line in rest.splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.parametrize(("lines_before_kill", "seed"), [(5, 1), (60, 2), (250, 3)])
def test_killed_worker_leaves_findings_equal_to_their_audit_logs(campus, db_url, tmp_path, lines_before_kill, seed):
    lines = run_and_kill(db_url, tmp_path, lines_before_kill, seed)
    committed = {(int(fid), int(seq)): event for _, fid, seq, event in (w for w in lines if len(w) == 4)}
    assert len(committed) >= lines_before_kill - sum(1 for w in lines if w[-1] == "refused")

    with campus.store.uow(write=False) as uow:
        rows = assert_consistent(uow.session)
        logged = {(r.finding_id, r.seq): r.event for r in uow.session.execute(
            sa.select(AuditEntry.finding_id, AuditEntry.seq, AuditEntry.event))}
    # Everything the worker announced is there (at most the one transaction cut short by the kill is missing).
    assert committed.items() <= logged.items()
    assert rows == len(logged) >= len(committed)

    cli = subprocess.run([sys.executable, "-c", "from web.cli import main; main()", "audit", "verify"],
                         capture_output=True, text=True, env=child_env(db_url, tmp_path), cwd=tmp_path, timeout=60)
    assert (cli.returncode, cli.stdout.strip()) == (0, f"ok {rows} rows"), cli.stderr
