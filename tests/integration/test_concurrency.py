"""Many threads advancing findings at once: one winner per version, no lost update, no deadlock, chains intact."""
from __future__ import annotations

import itertools
import threading
from collections import Counter

import pytest
from replay import assert_consistent, log_of

from engine import services
from engine.errors import InvalidEvent, VersionConflict
from engine.models import Finding

THREADS = 8
JOIN_TIMEOUT = 60  # a thread still running after this is taken as a deadlock

# Moves that are valid from each non-final state, so racing threads can pick different ones and any may win.
MOVES = {
    "reported": [("assign", "inspector", {}), ("escalate", "leader", {"reason": "未及时交办"})],
    "assigned": [("respond", "food", {"plan": "本周内整改"}), ("rectify", "food", {"note": "已当场整改"}),
                 ("escalate", "inspector", {}), ("refer", "food", {"reason": "需基建处配合"})],
    "rectifying": [("rectify", "food", {"note": "已整改"}), ("escalate", "admin", {}),
                   ("refer", "inspector", {"reason": "涉及多个部门"})],
    "verifying": [("verify", "inspector", {"verdict": "pass"}), ("verify", "admin", {"verdict": "fail"}),
                  ("escalate", "leader", {})],
    "escalated": [("sanction", "leader", {"kind": "warning", "decision": "通报批评"}),
                  ("rectify", "food", {"note": "督办后整改"}), ("refer", "admin", {"reason": "需协调"})],
    "coordinating": [("resolve", "leader", {"decision": "由饮食中心牵头"}), ("close", "admin", {"decision": "已解决"})],
    "closed": [("reopen", "inspector", {"reason": "问题复发"})],
}


BUILDINGS = itertools.count(1)  # a building a finding: links between repeats are not what these tests are about


def report(store, campus, title="三食堂后厨排水不畅") -> int:
    with store.uow() as uow:
        finding = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title=title, category="卫生", location=f"{next(BUILDINGS)}号楼", unit="FOOD"))  # no repeats among them
        uow.commit()
        return finding.id


def current(store, finding_id) -> Finding:
    with store.uow(write=False) as uow:
        finding = uow.session.get(Finding, finding_id)
        uow.session.expunge(finding)
        return finding


def race(jobs) -> list:
    """Run each job in its own thread, all released at once; each result is the job's return or its exception."""
    barrier = threading.Barrier(len(jobs), timeout=JOIN_TIMEOUT)
    results: list = [None] * len(jobs)

    def run(i, job):
        try:
            results[i] = job(barrier)
        except Exception as exc:  # the test inspects every outcome, expected or not
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "threads still running: deadlock or lock wait that never ends"
    return results


def advance_job(store, campus, finding_id, move, *, read_version: bool):
    event, who, payload = move

    def job(barrier):
        expected = None
        if read_version:
            with store.uow(write=False) as uow:
                expected = uow.session.get(Finding, finding_id).version
        # The barrier is outside the write UoW: on SQLite entering it takes the write lock.
        barrier.wait()
        with store.uow() as uow:
            finding = services.advance(uow, finding_id, event, campus.actor(who), payload,
                                       expected_version=expected)
            uow.commit()
            return (move, finding.version, finding.state)

    return job


def winners_and_losers(results):
    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if not isinstance(r, tuple)]
    return won, lost


def test_racing_on_one_finding_with_expected_version_lets_exactly_one_win_each_round(campus):
    store = campus.store
    fid = report(store, campus)
    winners = []
    for round_no in range(12):
        before = current(store, fid)
        moves = MOVES[before.state]
        results = race([advance_job(store, campus, fid, moves[i % len(moves)], read_version=True)
                        for i in range(THREADS)])
        won, lost = winners_and_losers(results)
        assert len(won) == 1, f"round {round_no}: {len(won)} winners from {before.state}: {results}"
        assert all(isinstance(e, VersionConflict) for e in lost), f"round {round_no}: {lost!r}"
        assert all((e.expected, e.actual) == (before.version, before.version + 1) for e in lost)
        move, version, state = won[0]
        assert version == before.version + 1
        assert current(store, fid).state == state
        winners.append(move)
    with store.uow(write=False) as uow:
        assert assert_consistent(uow.session, fid) == 13
        log = [(r.event, r.actor, r.payload) for r in log_of(uow.session, fid)[1:]]
    # The log holds the winners' changes, in order, and nothing from the losers.
    assert log == winners


def test_threads_on_different_findings_all_succeed_without_deadlock(campus):
    store = campus.store
    lifecycle = [("assign", "inspector", {}), ("respond", "food", {"plan": "更换"}),
                 ("rectify", "food", {"note": "已换"}), ("verify", "inspector", {"verdict": "fail"}),
                 ("escalate", "leader", {}), ("sanction", "admin", {"kind": "deduction", "decision": "扣分"}),
                 ("rectify", "food", {"note": "再换"}), ("verify", "admin", {"verdict": "pass"}),
                 ("reopen", "inspector", {"reason": "复发"}), ("refer", "food", {"reason": "难点"}),
                 ("close", "leader", {"decision": "协调销号"})]

    def job_for(i):
        def job(barrier):
            barrier.wait()
            fid = report(store, campus, title=f"第{i}号问题")
            for event, who, payload in lifecycle:
                with store.uow() as uow:
                    services.advance(uow, fid, event, campus.actor(who), payload)
                    uow.commit()
            return (fid,)
        return job

    results = race([job_for(i) for i in range(THREADS)])
    assert all(isinstance(r, tuple) for r in results), results
    ids = sorted(r[0] for r in results)
    assert len(set(ids)) == THREADS
    with store.uow(write=False) as uow:
        assert assert_consistent(uow.session) == THREADS * (1 + len(lifecycle))
        for fid in ids:
            finding = uow.session.get(Finding, fid)
            assert (finding.state, finding.failed_verifications, finding.reopenings) == ("closed", 1, 1)


ONE_WAY = [("assign", "inspector", {}), ("respond", "food", {"plan": "p"}), ("rectify", "food", {"note": "n"}),
           ("verify", "inspector", {"verdict": "pass"}), ("reopen", "admin", {"reason": "r"}),
           ("escalate", "leader", {}), ("refer", "admin", {"reason": "r"}), ("close", "leader", {"decision": "d"}),
           ("archive", "admin", {})]  # no event here can fire again from the state it leads to


def test_same_event_without_expected_version_moves_the_finding_once(campus):
    store = campus.store
    fid = report(store, campus)
    for step, move in enumerate(ONE_WAY, start=2):
        before = current(store, fid)
        results = race([advance_job(store, campus, fid, move, read_version=False) for _ in range(THREADS)])
        won, lost = winners_and_losers(results)
        assert len(won) == 1, f"{move[0]} from {before.state}: {results}"
        assert all(isinstance(e, InvalidEvent) for e in lost), lost
        # Each loser was told the state the winner left, not the one it started from.
        assert Counter(e.state for e in lost) == Counter({won[0][2]: THREADS - 1})
        with store.uow(write=False) as uow:
            assert assert_consistent(uow.session, fid) == step
    assert current(store, fid).state == "archived"


def test_advance_works_on_the_row_it_locked_not_on_what_its_session_read_before(campus):
    store = campus.store
    if store.dialect == "sqlite":
        pytest.skip("SQLite write UoWs lock at BEGIN: no other writer can commit while one is open")
    fid = report(store, campus)
    with store.uow() as uow:
        # Read first and keep it, as a recurrence rule holds the earlier findings it fires an event on.
        seen = uow.session.get(Finding, fid)
        assert seen.state == "reported"
        with store.uow() as other:  # another request moves the finding meanwhile
            services.advance(other, fid, "assign", campus.actor("inspector"), {})
            other.commit()
        with pytest.raises(VersionConflict) as stale:
            services.advance(uow, fid, "escalate", campus.actor("leader"), {}, expected_version=1)
        assert (stale.value.expected, stale.value.actual) == (1, 2)
        finding = services.advance(uow, fid, "escalate", campus.actor("leader"), {})
        uow.commit()
        assert finding is seen and (finding.state, finding.version) == ("escalated", 3)
    with store.uow(write=False) as uow:
        assert assert_consistent(uow.session, fid) == 3
        assert [r.from_state for r in log_of(uow.session, fid)] == [None, "reported", "assigned"]
