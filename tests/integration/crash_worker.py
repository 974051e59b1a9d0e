"""Child process for the crash test: many small report/advance transactions, one progress line per commit.

Usage: python crash_worker.py <db_url> <count> [seed] [inspector,leader,admin,centre user names]
The database must hold the loaded workflows, a unit FOOD and those users (the centre one a centre of FOOD).
Each line printed is `<step> <finding id> <seq> <event>` and is printed only after its transaction committed,
so the test can check that everything the worker announced survived the kill.
"""
from __future__ import annotations

import random
import sys

import sqlalchemy as sa

from engine import services
from engine.actors import actor_for
from engine.errors import DomainError
from engine.models import User
from engine.unit_of_work import Store

MOVES = {
    "reported": [("assign", "inspector", {}), ("escalate", "leader", {}), ("dismiss", "admin", {"reason": "重复"})],
    "assigned": [("respond", "centre", {"plan": "整改计划"}), ("rectify", "centre", {"note": "已整改"}),
                 ("refer", "centre", {"reason": "需协调"})],
    "rectifying": [("rectify", "centre", {"note": "已整改"}), ("escalate", "inspector", {"reason": "逾期"})],
    "verifying": [("verify", "inspector", {"verdict": "pass"}), ("verify", "admin", {"verdict": "fail"})],
    "escalated": [("sanction", "leader", {"kind": "warning", "decision": "通报"}),
                  ("rectify", "centre", {"note": "督办后整改"})],
    "coordinating": [("resolve", "leader", {"decision": "牵头"}), ("close", "admin", {"decision": "销号"})],
    "closed": [("reopen", "inspector", {"reason": "复发"}), ("archive", "admin", {})],
}
ROLES = ("inspector", "leader", "admin", "centre")


def main(url: str, count: int, seed: int, names: list[str]) -> None:
    rng = random.Random(seed)
    store = Store(url)
    with store.uow(write=False) as uow:
        users = {u.name: u for u in uow.session.scalars(sa.select(User).where(User.name.in_(names)))}
        actors = {role: actor_for(uow.session, users[name]) for role, name in zip(ROLES, names, strict=True)}
    open_findings: dict[int, str] = {}  # id -> state, for findings not yet in a final state

    def say(step, finding, event):
        print(step, finding.id, finding.audit_seq, event, flush=True)

    for step in range(count):
        roll = rng.random()
        if len(open_findings) < 4 or roll < 0.08:
            with store.uow() as uow:
                finding = services.report_finding(uow, actors["inspector"], services.Report(
                    title=f"巡查问题{step}", category="卫生", location=f"{step}号楼", unit="FOOD"))
                uow.commit()
            open_findings[finding.id] = finding.state
            say(step, finding, "report")
            continue
        if roll < 0.15:
            # Nonsense from someone not allowed: refused, nothing may change.
            fid = rng.choice(list(open_findings))
            try:
                with store.uow() as uow:
                    services.advance(uow, fid, "archive", actors["centre"], {})
                    uow.commit()
            except DomainError:
                print(step, fid, "refused", flush=True)
                continue
            raise SystemExit(f"a centre archived finding {fid}")
        # One transaction moves one or (sometimes) two findings: after a kill, both or neither must show.
        picked = rng.sample(list(open_findings), 2 if roll < 0.3 else 1)
        moved = []
        with store.uow() as uow:
            for fid in picked:
                event, who, payload = rng.choice(MOVES[open_findings[fid]])
                moved.append((services.advance(uow, fid, event, actors[who], payload), event))
            uow.commit()
        for finding, event in moved:
            open_findings[finding.id] = finding.state
            if finding.state in ("dismissed", "archived"):
                del open_findings[finding.id]
            say(step, finding, event)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0,
         (sys.argv[4] if len(sys.argv) > 4 else "inspector,leader,admin,food").split(","))
