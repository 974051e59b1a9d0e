"""流程管理: workflow versions, their diagram, a YAML editor checked by the same lint, diffs and migration."""
from __future__ import annotations

import difflib

from flask import flash, redirect, render_template, request, url_for

from engine import admin, checking, queries
from engine.errors import InvalidInput, WorkflowRejected
from web.context import uow
from web.pages.common import current_actor, page_blueprint, require_roles
from workflows import diagram

bp = page_blueprint("workflows_page", __name__, url_prefix="/workflows")
EDITOR_FILE = "流程定义"


bp.before_request(require_roles("admin")(lambda: None))


@bp.route("")
def index():
    work = uow()
    infos = queries.active_workflows(work)
    return render_template("workflows/index.html", infos=infos,
                           versions={i.row.name: queries.workflow_versions(work, i.row.name) for i in infos})


@bp.route("/<string(maxlength=64):name>")
def show(name: str):
    work = uow()
    info = queries.workflow_version(work, name, request.args.get("v", type=int))
    return render_template("workflows/show.html", info=info, wf=info.workflow,
                           versions=queries.workflow_versions(work, name), svg=diagram.svg(info.workflow),
                           mermaid=diagram.mermaid(info.workflow))


def _annotated(text: str, problems) -> list[tuple[int, str, list]]:
    by_line: dict[int, list] = {}
    for p in problems:
        by_line.setdefault(p.line or 1, []).append(p)
    return [(n, line, by_line.get(n, [])) for n, line in enumerate(text.splitlines() or [""], 1)]


@bp.route("/lint", methods=["POST"])
def lint():
    """Lint the editor's text; htmx shows the answer beside the editor."""
    text = request.form.get("yaml", "")
    problems = checking.lint_apart(text, EDITOR_FILE)
    template = "workflows/_lint.html" if request.headers.get("HX-Request") else "workflows/edit.html"
    return render_template(template, problems=problems, lines=_annotated(text, problems), text=text,
                           name=request.form.get("name", ""), checked=True)


@bp.route("/<string(maxlength=64):name>/edit", methods=["GET", "POST"])
def edit(name: str):
    work, actor = uow(), current_actor()
    if request.method == "GET":
        info = queries.workflow_version(work, name)
        return render_template("workflows/edit.html", text=info.row.yaml_text, name=name, problems=[], lines=[],
                               checked=False)
    text = request.form.get("yaml", "")
    try:
        loaded = admin.load_workflows(work, text, file=EDITOR_FILE, by=actor.name)
    except WorkflowRejected as exc:
        work.rollback()
        problems = checking.lint_apart(text, EDITOR_FILE)  # errors and warnings, as the lint button shows them
        return render_template("workflows/edit.html", text=text, name=name, problems=problems or exc.problems,
                               lines=_annotated(text, problems or exc.problems), checked=True,
                               rejected=True), 422
    work.commit()
    created = [item for item in loaded if item.created]
    if created:
        flash("已保存为新版本：" + "，".join(f"{item.name} 第 {item.number} 版" for item in created))
    else:
        flash("内容没有变化，未创建新版本。")
    return redirect(url_for(".show", name=name), 303)


@bp.route("/<string(maxlength=64):name>/diff")
def diff(name: str):
    work = uow()
    versions = queries.workflow_versions(work, name)
    numbers = [v.number for v in versions]
    a = request.args.get("a", type=int) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    b = request.args.get("b", type=int) or numbers[-1]
    old, new = queries.workflow_version(work, name, a).row, queries.workflow_version(work, name, b).row
    lines = list(difflib.unified_diff(old.yaml_text.splitlines(), new.yaml_text.splitlines(),
                                      f"第 {a} 版", f"第 {b} 版", lineterm="", n=3))
    return render_template("workflows/diff.html", name=name, versions=versions, a=a, b=b, lines=lines)


@bp.route("/<string(maxlength=64):name>/migrate", methods=["GET", "POST"])
def migrate(name: str):
    work, actor = uow(), current_actor()
    target = queries.workflow_version(work, name, request.values.get("to", type=int))
    counts = admin.migration_counts(work, name, target.row.number)
    error = None
    if request.method == "POST":
        mapping = {state: request.form.get(f"map-{state}", "") for _v, state in counts}
        mapping = {old: new for old, new in mapping.items() if new}
        try:
            moved = admin.migrate_findings(work, name, target.row.number, mapping, actor,
                                           comment=request.form.get("comment") or None)
        except InvalidInput as exc:
            work.rollback()
            error = str(exc)
        else:
            work.commit()
            flash(f"已将 {moved} 个未结问题迁移到第 {target.row.number} 版。")
            return redirect(url_for(".show", name=name), 303)
    versions = {v: work.registry.get(work.session, name, v) for v, _s in counts}
    return render_template("workflows/migrate.html", name=name, target=target, counts=counts, versions=versions,
                           error=error), 422 if error else 200
