"""One visibility policy: the Python predicate and the SQL condition agree, for every actor and version."""
from __future__ import annotations

import sqlalchemy as sa
from shipped_workflows import QUIET_WORKFLOWS

from engine import admin, policy, services
from engine.models import Finding


def report(campus, unit, who="inspector", **extra) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor(who), services.Report(
            title="灯不亮", category="照明", location=f"{unit}楼道", unit=unit, **extra))
        uow.commit()
        return f.id


def test_predicate_and_sql_agree_for_every_actor_across_versions(campus):
    for unit in ("FOOD", "PROP", "PROP-DORM"):
        report(campus, unit)
    report(campus, "FOOD", who="student", source="public")
    with campus.store.uow() as uow:  # v2: centres see everything, the public nothing of their own
        admin.load_workflows(uow, QUIET_WORKFLOWS.replace("scope: unit", "scope: all")
                             .replace("scope: own", "scope: unit"), by="test")
        uow.commit()
    for unit in ("FOOD", "PROP-DORM"):
        report(campus, unit)
    with campus.store.uow(write=False) as uow:
        findings = list(uow.session.scalars(sa.select(Finding)))
        for name, actor in campus.actors.items():
            by_predicate = {f.id for f in findings if policy.may_see(
                uow.registry.get(uow.session, f.workflow_name, f.workflow_version), actor, f)}
            by_sql = set(uow.session.scalars(sa.select(Finding.id).where(policy.visible(uow, actor))))
            assert by_predicate == by_sql, name
        student = campus.actor("student")
        seen = set(uow.session.scalars(sa.select(Finding.id).where(policy.visible(uow, student))))
        assert len(seen) == 1  # its own v1 report; on v2 the public role reaches no unit
