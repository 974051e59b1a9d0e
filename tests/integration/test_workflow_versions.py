"""Workflow versions: a changed file makes a new version, old findings keep their rules until migrated."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from shipped_workflows import QUIET_WORKFLOWS

from engine import admin, audit, services
from engine.actors import Actor
from engine.errors import InvalidEvent, InvalidInput, NotFound, WorkflowRejected
from engine.models import AuditEntry, Finding, WorkflowVersion
from workflows.durations import parse_duration

V1 = QUIET_WORKFLOWS  # what the `store` fixture loaded as v1
SHIPPED = (Path(__file__).resolve().parents[2] / "workflows.yaml").read_text(encoding="utf-8")


def _drop_block(text: str, start: str) -> str:
    """`text` without the line `start` and the more indented lines under it."""
    lines = text.split("\n")
    i = lines.index(start)
    depth = len(start) - len(start.lstrip())
    j = i + 1
    while j < len(lines) and len(lines[j]) - len(lines[j].lstrip()) > depth:
        j += 1
    return "\n".join(lines[:i] + lines[j:])


# v2 drops the `archive` event and its `archived` state.
V2 = _drop_block(_drop_block(V1, "      archived:"), "    - event: archive")
ADMIN = Actor("admin", ("admin",))
CLOSE = [("assign", "inspector", {}), ("respond", "centre", {"plan": "清理"}), ("rectify", "centre", {"note": "已清"}),
         ("verify", "inspector", {"verdict": "pass"})]


def load(store, text, file="workflows.yaml"):
    with store.uow() as uow:
        loaded = admin.load_workflows(uow, text, file=file, by="tester")
        uow.commit()
    return loaded


def versions(store):
    with store.uow(write=False) as uow:
        return [(v.name, v.number, v.active) for v in uow.session.scalars(
            sa.select(WorkflowVersion).order_by(WorkflowVersion.name, WorkflowVersion.number))]


def report(campus, unit="FOOD") -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="楼道堆放杂物", category="消防", location="3号楼", unit=unit))
        uow.commit()
        return f.id


def fire(campus, fid, event, who, payload=None):
    with campus.store.uow() as uow:
        services.advance(uow, fid, event, campus.actor(who), payload or {})
        uow.commit()


def finding(store, fid):
    with store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        rows = uow.session.execute(sa.select(AuditEntry.seq, AuditEntry.event, AuditEntry.from_state,
                                             AuditEntry.to_state, AuditEntry.workflow_version, AuditEntry.payload)
                                   .where(AuditEntry.finding_id == fid).order_by(AuditEntry.seq)).all()
        return {"state": f.state, "workflow_version": f.workflow_version, "version": f.version,
                "due_at": f.due_at, "rows": [tuple(r) for r in rows]}


def migrate(store, mapping, to_version=2):
    with store.uow() as uow:
        moved = admin.migrate_findings(uow, "finding", to_version, mapping, ADMIN, comment="规则修订")
        uow.commit()
    return moved


def test_v2_really_drops_archive():
    assert "event: archive" not in V2 and "archived:" not in V2
    assert "event: reopen" in V2 and "dismissed:" in V2 and "rules:" in V2


def test_unchanged_file_creates_no_version(store):
    assert load(store, V1) == [admin.Loaded("finding", 1, False)]
    assert load(store, "# 仅修改注释\n" + V1) == [admin.Loaded("finding", 1, False)]
    assert versions(store) == [("finding", 1, True)]


def test_changed_file_creates_v2_and_old_findings_keep_v1(campus):
    old = report(campus)
    assert load(campus.store, V2) == [admin.Loaded("finding", 2, True)]
    assert versions(campus.store) == [("finding", 1, False), ("finding", 2, True)]
    new = report(campus, unit="PROP")
    assert finding(campus.store, old)["workflow_version"] == 1
    assert finding(campus.store, new)["workflow_version"] == 2
    for fid, centre in ((old, "food"), (new, "prop")):
        for event, who, payload in CLOSE:
            fire(campus, fid, event, centre if who == "centre" else who, payload)
    fire(campus, old, "archive", "admin")  # gone from v2, still fine on v1
    assert finding(campus.store, old)["state"] == "archived"
    with pytest.raises(InvalidEvent) as caught:
        fire(campus, new, "archive", "admin")
    assert caught.value.allowed == ["reopen"]
    assert finding(campus.store, new)["state"] == "closed"


def test_reloading_v1_text_after_v2_makes_v3(store):
    load(store, V2)
    assert load(store, V1) == [admin.Loaded("finding", 3, True)]
    assert [v[1:] for v in versions(store)] == [(1, False), (2, False), (3, True)]


def test_file_with_errors_is_refused_with_lines_and_nothing_stored(campus):
    broken = SHIPPED.replace("        to: verifying\n", "        to: verified\n", 1).replace(
        "reporters: [inspector, centre, admin, public]", "reporters: [inspector, dean]")
    with pytest.raises(WorkflowRejected) as caught:
        load(campus.store, broken, file="broken.yaml")
    problems = caught.value.problems
    lines = broken.splitlines()
    assert len(problems) == 2
    for problem, needle in zip(problems, ("'verified'", "'dean'"), strict=True):
        assert problem.file == "broken.yaml" and needle in problem.message
        assert needle.strip("'") in lines[problem.line - 1]
    assert "broken.yaml:" in str(caught.value)
    assert versions(campus.store) == [("finding", 1, True)]
    assert finding(campus.store, report(campus))["workflow_version"] == 1


def test_file_with_lint_errors_is_refused(store):
    unreachable = V1.replace("      archived:\n", "      limbo: {label: 悬空, final: true}\n      archived:\n")
    with pytest.raises(WorkflowRejected) as caught:
        load(store, unreachable)
    assert [p.code for p in caught.value.problems] == ["unreachable"]
    assert "limbo" in unreachable.splitlines()[caught.value.problems[0].line - 1]
    assert versions(store) == [("finding", 1, True)]


def test_warnings_alone_do_not_stop_a_load(store):
    warned = V1.replace("        due: 2 working days on office\n        remind_before: 4 working hours\n", "", 1)
    assert warned != V1
    assert load(store, warned) == [admin.Loaded("finding", 2, True)]


# --- migrating open findings -------------------------------------------------------------------------------------

@pytest.fixture
def on_v1(campus):
    """Findings on v1 in reported, assigned and dismissed (final), then v2 loaded."""
    ids = {"reported": report(campus), "assigned": report(campus), "dismissed": report(campus)}
    fire(campus, ids["assigned"], "assign", "inspector")
    fire(campus, ids["dismissed"], "dismiss", "inspector", {"reason": "不属实"})
    load(campus.store, V2)
    return campus, ids


def test_mapping_leaving_a_state_unmapped_is_refused_and_changes_nothing(on_v1):
    campus, ids = on_v1
    before = {k: finding(campus.store, fid) for k, fid in ids.items()}
    with pytest.raises(InvalidInput) as caught:
        migrate(campus.store, {"reported": "reported"})
    assert "assigned" in str(caught.value)
    assert "reported" not in str(caught.value).split(":", 1)[1]
    assert {k: finding(campus.store, fid) for k, fid in ids.items()} == before


def test_mapping_to_a_state_the_target_lacks_is_refused(on_v1):
    campus, ids = on_v1
    before = finding(campus.store, ids["reported"])
    with pytest.raises(InvalidInput, match="archived"):
        migrate(campus.store, {"reported": "archived", "assigned": "assigned"})
    assert finding(campus.store, ids["reported"]) == before


def test_migrating_to_a_missing_version(on_v1):
    campus, _ = on_v1
    with pytest.raises(NotFound):
        migrate(campus.store, {"reported": "reported", "assigned": "assigned"}, to_version=9)


def test_migrate_moves_open_findings_with_one_audit_row_each(on_v1):
    campus, ids = on_v1
    before = {k: finding(campus.store, fid) for k, fid in ids.items()}
    assert migrate(campus.store, {"reported": "reported", "assigned": "rectifying"}) == 2

    reported, assigned = finding(campus.store, ids["reported"]), finding(campus.store, ids["assigned"])
    assert (reported["state"], reported["workflow_version"]) == ("reported", 2)
    assert (assigned["state"], assigned["workflow_version"]) == ("rectifying", 2)
    for key, now in (("reported", reported), ("assigned", assigned)):
        assert now["rows"][:-1] == before[key]["rows"]
        assert now["version"] == before[key]["version"] + 1
        seq, event, from_state, to_state, wf_version, payload = now["rows"][-1]
        assert (seq, event, from_state, to_state, wf_version) == (len(now["rows"]), "migrate", key, now["state"], 2)
        assert payload["from_version"] == 1 and payload["to_version"] == 2
    assert assigned["due_at"] != before["assigned"]["due_at"]  # the clock of the new state started

    assert finding(campus.store, ids["dismissed"]) == before["dismissed"]  # final: left alone on v1
    with campus.store.uow(write=False) as uow:
        result = audit.verify(uow.session)
    assert result.ok and result.rows_checked == sum(len(f["rows"]) for f in before.values()) + 2


def test_migrated_findings_follow_the_new_rules(on_v1):
    campus, ids = on_v1
    migrate(campus.store, {"reported": "closed", "assigned": "assigned"})
    with pytest.raises(InvalidEvent):
        fire(campus, ids["reported"], "archive", "admin")  # v1 allowed it from closed; v2 does not
    fire(campus, ids["assigned"], "respond", "food", {"plan": "清理杂物"})
    assert finding(campus.store, ids["assigned"])["state"] == "rectifying"


def test_second_migration_finds_nothing_to_move(on_v1):
    campus, _ = on_v1
    assert migrate(campus.store, {"reported": "reported", "assigned": "assigned"}) == 2
    assert migrate(campus.store, {}) == 0


def test_parse_mapping():
    assert admin.parse_mapping(["assigned = rectifying", "reported=reported"]) == {
        "assigned": "rectifying", "reported": "reported"}
    with pytest.raises(InvalidInput, match="'assigned'"):
        admin.parse_mapping(["assigned"])
    with pytest.raises(InvalidInput):
        admin.parse_mapping(["=rectifying"])


def test_migrating_a_closed_finding_keeps_when_and_how_it_was_closed(campus):
    from datetime import UTC, datetime, timedelta

    fid = report(campus)
    long_ago = datetime.now(UTC) - timedelta(days=30)
    steps = [("assign", "inspector", {}), ("respond", "food", {"plan": "清理"}), ("rectify", "food", {"note": "已清"}),
             ("verify", "inspector", {"verdict": "pass"})]
    for i, (event, who, payload) in enumerate(steps):
        with campus.store.uow() as uow:  # each step a week apart: the verification came after its deadline
            services.advance(uow, fid, event, campus.actor(who), payload, now=long_ago + timedelta(days=7 * i))
            uow.commit()
    with campus.store.uow(write=False) as uow:
        before = uow.session.get(Finding, fid)
        closed = (before.state, before.closed_at, before.closed_on_time, before.state_entered_at)
    assert closed[0] == "closed" and closed[2] is False
    load(campus.store, V2)
    assert migrate(campus.store, {"closed": "closed"}) == 1
    with campus.store.uow(write=False) as uow:
        after = uow.session.get(Finding, fid)
        assert (after.state, after.closed_at, after.closed_on_time, after.state_entered_at) == closed
        assert after.workflow_version == 2


def _rectifying_since(campus, days_ago: int) -> int:
    from datetime import UTC, datetime, timedelta

    fid = report(campus)
    start = datetime.now(UTC) - timedelta(days=days_ago)
    for i, (event, who, payload) in enumerate([("assign", "inspector", {}), ("respond", "food", {"plan": "清理"})]):
        with campus.store.uow() as uow:
            services.advance(uow, fid, event, campus.actor(who), payload, now=start + timedelta(hours=i))
            uow.commit()
    return fid


def test_an_overdue_finding_stays_overdue_after_migration_and_closes_late(campus):
    from datetime import UTC, datetime

    from engine import timers

    fid = _rectifying_since(campus, 30)
    with campus.store.uow(write=False) as uow:
        due = uow.session.get(Finding, fid).due_at
    assert due < datetime.now(UTC)  # past its deadline; the sweep has not come round yet
    load(campus.store, V2)  # rectifying keeps its due rule in v2
    assert migrate(campus.store, {"rectifying": "rectifying"}) == 1
    assert finding(campus.store, fid)["due_at"] == due
    assert timers.sweep(campus.store).fired == 1  # 查而不改: escalated, counted
    for event, who, payload in [("rectify", "food", {"note": "已清"}), ("verify", "inspector", {"verdict": "pass"})]:
        fire(campus, fid, event, who, payload)
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert (f.state, f.overdue_count, f.closed_on_time) == ("closed", 1, False)


def test_a_changed_due_rule_counts_from_when_the_finding_entered_its_state(campus):
    fid = _rectifying_since(campus, 30)
    with campus.store.uow(write=False) as uow:
        entered = uow.session.get(Finding, fid).state_entered_at
        expected = uow.calendar.add(entered, parse_duration("10 working days"))
    assert "due: 5 working days\n" in V2
    load(campus.store, V2.replace("due: 5 working days\n", "due: 10 working days\n"))
    migrate(campus.store, {"rectifying": "rectifying"})
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert (f.due_at, f.state_entered_at) == (expected, entered)
