"""工作台: what the signed-in person must act on now, what is due soon or overdue, what changed, counts per state."""
from __future__ import annotations

from flask import render_template

from engine import policy, queries, timers
from engine.queries import FindingFilters
from web.context import uow
from web.pages.common import current_actor, page_blueprint

bp = page_blueprint("home_page", __name__)
SHOWN = 8


@bp.route("/")
def index():
    actor, work = current_actor(), uow()
    workflows = {info.row.name: info.workflow for info in queries.active_workflows(work)}
    waiting = queries.waiting_states(work, actor)
    open_states = sorted({s.name for wf in workflows.values() for s in wf.states.values()
                          if s.due is not None and not (s.final or s.closed)})

    def some(filters: FindingFilters, sort: str):
        return queries.list_findings(work, actor, filters, sort=sort, page=1, per_page=SHOWN).items

    sections = [
        ("待我处理", "mine", some(FindingFilters(state=waiting), "due_at") if waiting else [],
         {"state": waiting, "sort": "due_at"}),
        ("即将到期", "soon", some(FindingFilters(state=open_states, overdue=False), "due_at"),
         {"state": open_states, "overdue": "0", "sort": "due_at"}),
        ("已超期", "late", some(FindingFilters(state=open_states, overdue=True), "due_at"),
         {"state": open_states, "overdue": "1", "sort": "due_at"}),
        ("最近变动", "recent", some(FindingFilters(), "-updated_at"), {"sort": "-updated_at"}),
    ]
    counts = queries.state_counts(work, actor)
    notices = timers.list_notifications(work, actor, limit=6) if policy.visible_units(work, actor) != frozenset() \
        else []
    return render_template("home/index.html", sections=sections, counts=counts, workflows=workflows,
                           notices=notices, waiting=waiting)
