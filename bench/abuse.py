"""A reader's latency while hostile requests arrive: does any request stall the service or answer 5xx?

    python bench/abuse.py [--db sqlite|postgresql|both] [--server gunicorn|serve] [--seconds 8] [--attackers 8]

One fresh database per backend with the shipped workflows, a small campus and two findings. The server (gunicorn,
2 gthread workers of 4 threads as in the README's production line, or `xuncha serve`) is started on a free local
port. A reader GETs one finding over a keep-alive connection for --seconds, first alone (the baseline), then
while --attackers threads each loop over the hostile requests from the field reports: workflow lint of a
maximal document by the public role and by an administrator, JSON nested 10^5 levels (report and transition),
YAML nested 3,000 levels and a billion-laughs alias bomb (load), and a transition whose guard nests three
comprehensions over 30-element lists. Printed: the reader's p50/p99 in both phases, the ratio of the p99s, and
the count of 5xx answers to anyone. Target: reader p99 under 200 ms under abuse, and no 5xx.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from advance import pg_database  # noqa: E402

from engine import admin, services  # noqa: E402
from engine.migrations import upgrade  # noqa: E402
from engine.unit_of_work import Store  # noqa: E402

TARGET_P99_MS = 200.0
MAX_REQUESTS = 200_000  # per client per phase: a bound on every loop whatever --seconds says
WORKFLOWS = (ROOT / "workflows.yaml").read_text(encoding="utf-8")
THIRTY = "[" + ", ".join(map(str, range(1, 31))) + "]"
SLOW = f"""\
workflows:
  slow:
    label: {{zh: 慢守卫, en: Slow guard}}
    initial: open
    reporters: [inspector]
    roles:
      inspector: {{label: {{zh: 巡查员, en: Inspector}}}}
    states:
      open: {{label: {{zh: 待处理, en: Open}}, due: 1 working day}}
      done: {{label: {{zh: 已完成, en: Done}}, final: true}}
    transitions:
      - event: finish
        from: open
        to: done
        roles: [inspector]
        guard: "{THIRTY}.all(a, {THIRTY}.all(b, {THIRTY}.all(c, a + b + c > 0)))"
"""


def big_workflow() -> str:
    """The largest document lint accepts the shape of: 200 transitions of one event, each with its own guard."""
    lines = ["workflows:", "  big:", "    label: big", "    initial: s0", "    reporters: [admin]",
             "    roles: {admin: {label: a}}", "    states:"]
    lines += [f"      s{i}: {{label: s{i}, due: 1d}}" for i in range(100)]
    lines += ["    transitions:"]
    lines += [f"      - {{event: go, from: s{i % 100}, to: s{(i + 1) % 100}, roles: [admin], "
              f"guard: 'payload.n == {i}'}}" for i in range(200)]
    return "\n".join(lines) + "\n"


def bomb() -> str:
    text = "workflows:\n  finding:\n    a: &a [l, l, l, l, l, l, l, l, l, l]\n"
    return text + "".join(f"    {c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh",
                                                                                         strict=True))


def setup(url: str, instance: Path) -> dict:
    """Migrate, load the workflows, make a campus; return the tokens and finding ids."""
    upgrade(url)
    store = Store(url, instance=instance)
    try:
        with store.uow() as uow:
            admin.load_workflows(uow, WORKFLOWS, by="bench")
            admin.load_workflows(uow, SLOW, by="bench")
            admin.create_unit(uow, "FOOD", "饮食服务中心")
            tokens = {name: admin.create_user(uow, name, [role])[1]
                      for name, role in (("admin", "admin"), ("inspector", "inspector"), ("student", "public"))}
            uow.commit()
        inspector = next(u for u in _actors(store) if u.name == "inspector")
        with store.uow() as uow:
            read = services.report_finding(uow, inspector, services.Report(
                title="一食堂地面湿滑", category="卫生", location="一食堂", unit="FOOD"))
            slow = services.report_finding(uow, inspector, services.Report(
                title="慢守卫", category="卫生", location="二食堂", unit="FOOD", workflow="slow"))
            uow.commit()
        return {"tokens": tokens, "read": read.id, "slow": slow.id}
    finally:
        store.dispose()


def _actors(store: Store):
    import sqlalchemy as sa

    from engine.actors import actor_for
    from engine.models import User

    with store.uow(write=False) as uow:
        return [actor_for(uow.session, u) for u in uow.session.scalars(sa.select(User))]


@contextmanager
def server(kind: str, url: str, instance: Path):
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {**os.environ, "XUNCHA_DATABASE_URL": url, "XUNCHA_INSTANCE": str(instance)}
        if kind == "gunicorn":
            argv = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
                    "-b", f"127.0.0.1:{port}", "web:create_app()"]
        else:
            argv = [sys.executable, "-c", "from web.cli import main; main()", "serve", "--port", str(port),
                    "--sweep-every", "0"]
        with open(Path(tmp) / "server.log", "wb") as log:
            process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                _wait(port)
                yield port
            finally:
                process.terminate()
                process.wait(timeout=20)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


class Tally:
    def __init__(self):
        self.lock, self.server_errors, self.answers = threading.Lock(), 0, {}

    def merge(self, other: tuple[dict, int]) -> None:
        answers, server_errors = other
        with self.lock:
            for name, counts in answers.items():
                for status, count in counts.items():
                    self.answers.setdefault(name, {}).setdefault(status, 0)
                    self.answers[name][status] += count
            self.server_errors += server_errors

    def add(self, name: str, status: int) -> None:
        with self.lock:
            self.answers.setdefault(name, {}).setdefault(status, 0)
            self.answers[name][status] += 1
            self.server_errors += status >= 500


def send(conn: http.client.HTTPConnection, method: str, path: str, token: str, body: bytes | None = None,
         content_type: str = "application/json", timeout: float = 60) -> int:
    conn.timeout = timeout
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def reader(port: int, token: str, finding_id: int, seconds: float, tally: Tally) -> list[float]:
    conn, latencies = http.client.HTTPConnection("127.0.0.1", port), []
    end = time.monotonic() + seconds
    for _ in range(MAX_REQUESTS):
        if time.monotonic() >= end:
            break
        started = time.perf_counter()
        tally.add("reader", send(conn, "GET", f"/api/v1/findings/{finding_id}", token))
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)  # a person clicking, not a flood
    conn.close()
    return latencies


def attacks(state: dict) -> list[tuple[str, str, str, str, bytes, str]]:
    """(name, who, method, path, body, content type) of each hostile request."""
    deep_json = ('{"event": "assign", "payload": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}").encode()
    deep_yaml = ("workflows:\n  finding: " + "[" * 3000 + "]" * 3000 + "\n").encode()
    yaml_type, big = "application/yaml", big_workflow().encode()
    return [
        ("lint by public", "student", "POST", "/api/v1/workflows/lint", big, yaml_type),
        ("lint by admin", "admin", "POST", "/api/v1/workflows/lint", big, yaml_type),
        ("deep JSON report", "inspector", "POST", "/api/v1/findings", deep_json, "application/json"),
        ("deep JSON transition", "inspector", "POST", f"/api/v1/findings/{state['read']}/transitions", deep_json,
         "application/json"),
        ("deep YAML", "admin", "POST", "/api/v1/workflows", deep_yaml, yaml_type),
        ("alias bomb", "admin", "POST", "/api/v1/workflows", bomb().encode(), yaml_type),
        ("slow guard", "inspector", "POST", f"/api/v1/findings/{state['slow']}/transitions",
         json.dumps({"event": "finish", "payload": {}}).encode(), "application/json"),
    ]


def attacker(port: int, state: dict, offset: int, stop: threading.Event, tally: Tally) -> None:
    conn, plan = http.client.HTTPConnection("127.0.0.1", port), attacks(state)
    for i in range(MAX_REQUESTS):
        if stop.is_set():
            break
        name, who, method, path, body, kind = plan[(i + offset) % len(plan)]
        try:
            tally.add(name, send(conn, method, path, state["tokens"][who], body, kind))
        except (OSError, http.client.HTTPException):
            tally.add(name, 599)  # a dropped connection counts as a server failure
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.close()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run(db: str, kind: str, seconds: float, attackers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="xuncha-abuse-") as tmp:
        context = pg_database("xuncha_abuse") if db == "postgresql" else _sqlite(tmp)
        with context as url:
            state = setup(url, Path(tmp))
            with server(kind, url, Path(tmp)) as port:
                calm = Tally()
                baseline = reader(port, state["tokens"]["inspector"], state["read"], seconds, calm)
                # The attackers run in a process of their own: their client-side Python work (building and
                # reading bodies) must not hold the reader's interpreter lock and be counted as server latency.
                spawn = multiprocessing.get_context("spawn")
                stop, answers = spawn.Event(), spawn.Queue()
                attack = spawn.Process(target=attack_process, args=(port, state, attackers, stop, answers))
                attack.start()
                time.sleep(1.5)  # let the attack get going (the child imports this module first)
                tally = Tally()
                abused = reader(port, state["tokens"]["inspector"], state["read"], seconds, tally)
                stop.set()
                tally.merge(answers.get(timeout=180))
                attack.join(timeout=30)
    return {"baseline": baseline, "abused": abused, "tally": tally, "calm": calm}


def attack_process(port: int, state: dict, attackers: int, stop, answers) -> None:
    tally, done = Tally(), threading.Event()
    threads = [threading.Thread(target=attacker, args=(port, state, i, done, tally)) for i in range(attackers)]
    for thread in threads:
        thread.start()
    stop.wait()
    done.set()
    for thread in threads:
        thread.join(timeout=120)
    answers.put((tally.answers, tally.server_errors))


@contextmanager
def _sqlite(tmp: str):
    yield f"sqlite:///{tmp}/abuse.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--server", choices=["gunicorn", "serve"], default="gunicorn")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--attackers", type=int, default=8)
    args = parser.parse_args()
    for db in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        result = run(db, args.server, args.seconds, args.attackers)
        calm, abused, tally = result["baseline"], result["abused"], result["tally"]
        p99_calm, p99_abused = percentile(calm, 99), percentile(abused, 99)
        print(f"{db} via {args.server}: reader alone p50 {percentile(calm, 50):.1f} ms, p99 {p99_calm:.1f} ms "
              f"({len(calm)} reads); under abuse p50 {percentile(abused, 50):.1f} ms, p99 {p99_abused:.1f} ms "
              f"({len(abused)} reads); p99 ratio {p99_abused / p99_calm:.2f}; "
              f"5xx: {tally.server_errors + result['calm'].server_errors}")
        for name, statuses in sorted(tally.answers.items()):
            print(f"    {name}: {dict(sorted(statuses.items()))}")
        verdict = "met" if p99_abused < TARGET_P99_MS and not tally.server_errors else "MISSED"
        print(f"    target (p99 < {TARGET_P99_MS:.0f} ms under abuse, no 5xx): {verdict}")


if __name__ == "__main__":
    main()
