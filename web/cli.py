"""The `xuncha` command: set up, administer, inspect and serve."""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from engine import admin, audit
from engine.actors import Actor
from engine.config import Settings
from engine.errors import DomainError, WorkflowRejected
from engine.unit_of_work import Store
from workflows import DefinitionError, load_file
from workflows.diagram import mermaid, svg
from workflows.lint import lint_text


def _store() -> Store:
    store = Store.from_settings(Settings.from_env())
    # Close pooled connections when the command ends, not whenever the garbage collector gets to them.
    click.get_current_context().call_on_close(store.dispose)
    return store


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "admin"


@click.group()
def main() -> None:
    """Xuncha (巡查): campus service-inspection findings, from report to rectification and sanction."""


@main.command()
def init() -> None:
    """Create or upgrade the database and load the workflows file."""
    from engine.migrations import upgrade

    settings = Settings.from_env()
    settings.instance.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    _load(Path(settings.workflows_file), _operator())


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def lint(file: Path | None) -> None:
    """Check a workflow file; one line per problem as file:line, exit 1 on errors."""
    path = file or Path(Settings.from_env().workflows_file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from None
    problems = lint_text(text, str(path))
    for problem in problems:
        click.echo(str(problem))
    errors = sum(p.severity == "error" for p in problems)
    click.echo(f"{errors} error(s), {len(problems) - errors} warning(s)", err=True)
    sys.exit(1 if errors else 0)


@main.group()
def workflow() -> None:
    """Load, list, draw and migrate workflow versions."""


def _load(path: Path, by: str) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from None
    store = _store()
    try:
        with store.uow() as uow:
            loaded = admin.load_workflows(uow, text, file=str(path), by=by)
            uow.commit()
    except WorkflowRejected as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{path}: not loaded, {len(exc.problems)} error(s)") from None
    for item in loaded:
        click.echo(f"{item.name} v{item.number} {'loaded' if item.created else 'unchanged'}")


@workflow.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", default=None, help="who is loading it (default: the login name)")
def workflow_load(file: Path, by: str | None) -> None:
    """Load FILE; every workflow whose definition changed becomes a new active version."""
    _load(file, by or _operator())


@workflow.command("list")
def workflow_list() -> None:
    """List stored workflow versions."""
    import sqlalchemy as sa

    from engine.models import WorkflowVersion

    with _store().uow(write=False) as uow:
        for row in uow.session.scalars(sa.select(WorkflowVersion).order_by(WorkflowVersion.name,
                                                                           WorkflowVersion.number)):
            mark = "*" if row.active else " "
            click.echo(f"{mark} {row.name} v{row.number} {row.sha256[:12]} {row.created_by} "
                       f"{row.created_at:%Y-%m-%d %H:%M}")


@workflow.command("diagram")
@click.argument("name")
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="draw from this YAML file instead of the workflows file")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg"]), default="mermaid")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
def workflow_diagram(name: str, file: Path | None, fmt: str, lang: str) -> None:
    """Print workflow NAME as a Mermaid state diagram, or SVG where Graphviz is installed."""
    path = file or Path(Settings.from_env().workflows_file)
    try:
        definition = load_file(path)
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from None
    if name not in definition.workflows:
        raise click.ClickException(f"no workflow {name!r} in {path}; it has {', '.join(definition.workflows)}")
    wf = definition.workflows[name]
    if fmt == "svg":
        drawing = svg(wf, lang)
        if drawing is None:
            raise click.ClickException("SVG needs Graphviz ('dot'); install it or use --format mermaid")
        click.echo(drawing, nl=False)
    else:
        click.echo(mermaid(wf, lang), nl=False)


@workflow.command("migrate")
@click.argument("name")
@click.option("--to", "to_version", type=int, required=True, help="target version number")
@click.option("--map", "pairs", multiple=True, help="OLD=NEW state mapping; one per state in use")
@click.option("--by", default=None)
def workflow_migrate(name: str, to_version: int, pairs: tuple[str, ...], by: str | None) -> None:
    """Move open findings of NAME to version --to, mapping each state explicitly."""
    store = _store()
    try:
        with store.uow() as uow:
            moved = admin.migrate_findings(uow, name, to_version, admin.parse_mapping(list(pairs)),
                                           Actor(by or _operator(), ("admin",)))
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{moved} finding(s) moved to {name} v{to_version}")


@main.group()
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="a role from the workflows; repeatable")
@click.option("--unit", default=None, help="unit code (needed for unit-scoped roles such as centre)")
@click.option("--display-name", default=None)
def user_create(name: str, roles: tuple[str, ...], unit: str | None, display_name: str | None) -> None:
    """Create a user and print its API token alone on stdout (it is not shown again)."""
    try:
        with _store().uow() as uow:
            _, token = admin.create_user(uow, name, list(roles), unit=unit, display_name=display_name)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)


@user.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input (for scripts)")
def user_set_password(name: str, password_stdin: bool) -> None:
    """Set a person's password for the web pages (and lift a lockout); prompts unless --password-stdin."""
    from engine import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        with _store().uow() as uow:
            accounts.set_password(uow, None, name, password)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password set for {name}", err=True)


@main.group()
def unit() -> None:
    """Manage units (the department, centres, offices)."""


@unit.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--name-en", default=None)
@click.option("--parent", default=None, help="code of the parent unit")
def unit_create(code: str, name: str, name_en: str | None, parent: str | None) -> None:
    """Create a unit."""
    try:
        with _store().uow() as uow:
            admin.create_unit(uow, code, name, parent=parent, name_en=name_en)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"unit {code} created")


@main.group("audit")
def audit_group() -> None:
    """Inspect the audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute every hash chain; print `ok N rows`, or where the first break is and exit 1."""
    with _store().uow(write=False) as uow:
        report = audit.verify(uow.session)
    if report.ok:
        click.echo(f"ok {report.rows_checked} rows")
        return
    click.echo(f"broken: finding {report.finding_id} seq {report.seq}: {report.problem} "
               f"({report.rows_checked} rows checked)")
    sys.exit(1)


@main.command()
@click.option("--now", "now_text", default=None, metavar="ISO-TIME",
              help="act as if it were this time (with a zone, e.g. 2026-03-02T09:00+08:00); default: now")
def sweep(now_text: str | None) -> None:
    """Escalate findings past their due time and record reminders; exit 1 if any finding failed."""
    from datetime import datetime

    from engine import timers

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(f"{now_text!r} is not an ISO time", param_hint="--now") from None
        if now.tzinfo is None:
            raise click.BadParameter("give a time zone, e.g. +08:00 or Z", param_hint="--now")
    report = timers.sweep(_store(), now)
    for finding_id, why in report.failed:
        click.echo(f"finding {finding_id}: {why}", err=True)
    click.echo(report.summary())
    sys.exit(1 if report.failed else 0)


@main.group()
def calendar() -> None:
    """Days the campus is closed although the national calendar works (vacation weeks)."""


@calendar.command("add")
@click.argument("days", nargs=-1, required=True)
@click.option("--note", default="", help="why, e.g. 暑假")
@click.option("--by", default=None)
def calendar_add(days: tuple[str, ...], note: str, by: str | None) -> None:
    """Close DAYS (YYYY-MM-DD, or FIRST..LAST for a range); due times counted from now on skip them."""
    from datetime import date, timedelta

    from engine import timers

    wanted = []
    for text in days:
        first, sep, last = text.partition("..")
        try:
            lo, hi = date.fromisoformat(first), date.fromisoformat(last) if sep else date.fromisoformat(first)
        except ValueError:
            raise click.BadParameter(f"{text!r}: expected YYYY-MM-DD or FIRST..LAST") from None
        if hi < lo or (hi - lo).days > 366:
            raise click.BadParameter(f"{text!r}: the range must run forward and span at most a year")
        wanted += [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    store = _store()
    try:
        with store.uow() as uow:
            for day in wanted:
                timers.add_closed_day(uow, Actor(by or _operator(), ("admin",)), day, note)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    store.refresh_calendar()
    click.echo(f"{len(wanted)} day(s) closed")


@calendar.command("list")
def calendar_list() -> None:
    """List the closed days."""
    from engine import timers

    with _store().uow(write=False) as uow:
        for row in timers.list_closed_days(uow):
            click.echo(f"{row.day.isoformat()}\t{row.note}\t{row.created_by}")


@calendar.command("remove")
@click.argument("days", nargs=-1, required=True)
@click.option("--by", default=None)
def calendar_remove(days: tuple[str, ...], by: str | None) -> None:
    """Open closed DAYS again."""
    from engine import timers

    try:
        with _store().uow() as uow:
            for day in days:
                timers.remove_closed_day(uow, Actor(by or _operator(), ("admin",)), day)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(days)} day(s) opened")


@main.command()
@click.option("--findings", default=300, show_default=True, help="how many findings to create")
@click.option("--seed", default=2026, show_default=True)
def demo(findings: int, seed: int) -> None:
    """Fill the database with a realistic demo campus (run `xuncha init` first)."""
    from engine.demo import build_demo

    store = _store()
    try:
        tokens = build_demo(store, findings=findings, seed=seed)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    for name, token in tokens.items():
        click.echo(f"{name}\t{token}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--sweep-every", default=60.0, show_default=True, type=click.FloatRange(min=0),
              help="seconds between overdue sweeps run beside the server; 0 turns them off")
def serve(host: str, port: int, sweep_every: float) -> None:
    """Serve the HTTP API (/api/v1) on this machine, sweeping overdue findings every minute."""
    from web import create_app
    from web.serve import run

    run(create_app(), host, port, sweep_every)


if __name__ == "__main__":
    main()
