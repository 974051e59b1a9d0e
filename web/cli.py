"""The `xuncha` command: set up, administer, inspect and serve."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine import admin
from engine.actors import Actor
from engine.config import Settings
from engine.errors import DomainError, WorkflowRejected
from web import cli_briefings, cli_import, cli_notify
from web.cli_audit import audit_group, db
from web.cli_calendar import calendar
from web.cli_places import load_places_file, place, places_file
from web.cli_support import INIT_FIRST, Commands, open_store, operator
from web.cli_users import user
from workflows import DefinitionError, load_file
from workflows.diagram import mermaid, svg
from workflows.lint import lint_text
from workflows.places import is_places_text, lint_places_text


@click.group(cls=Commands)
@click.version_option(package_name="xuncha", prog_name="xuncha")
def main() -> None:
    """Xuncha (巡查): campus service-inspection findings, from report to rectification and sanction."""


main.add_command(user)
main.add_command(calendar)


@main.command()
def init() -> None:
    """Create or upgrade the database and load the workflows file."""
    from engine.migrations import upgrade

    settings = Settings.from_env()
    settings.instance.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    _load(Path(settings.workflows_file), operator(), keep_active=True)
    load_places_file(open_store(), places_file(), operator())


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def lint(file: Path | None) -> None:
    """Check a workflow file or a places file (both by default); one line per problem as file:line, exit 1 on errors."""
    paths = [file] if file else [Path(Settings.from_env().workflows_file)] + \
        ([places_file()] if places_file().exists() else [])
    problems = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{path}: cannot read: {exc}") from None
        problems += lint_places_text(text, str(path)) if is_places_text(text) else lint_text(text, str(path))
    for problem in problems:
        click.echo(str(problem))
    errors = sum(p.severity == "error" for p in problems)
    click.echo(f"{errors} error(s), {len(problems) - errors} warning(s)", err=True)
    sys.exit(1 if errors else 0)


@main.group()
def workflow() -> None:
    """Load, list, draw and migrate workflow versions."""


def _load(path: Path, by: str, *, keep_active: bool = False) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from None
    store = open_store()
    try:
        with store.uow() as uow:
            loaded = admin.load_workflows(uow, text, file=str(path), by=by, keep_active=keep_active)
            uow.commit()
    except WorkflowRejected as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{path}: not loaded, {len(exc.problems)} error(s)") from None
    for item in loaded:
        if item.kept:  # init never replaces an active version the file did not produce (an admin's, say)
            click.echo(f"warning: {item.name} v{item.number} is active and differs from {path}; kept it. To make "
                       f"the file's rules active on purpose: xuncha workflow load {path}", err=True)
            for line in item.kept:
                click.echo(f"  {line}", err=True)
        click.echo(f"{item.name} v{item.number} {'loaded' if item.created else 'kept' if item.kept else 'unchanged'}")


@workflow.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", default=None, help="who is loading it (default: the login name)")
def workflow_load(file: Path, by: str | None) -> None:
    """Load FILE; every workflow whose definition changed becomes a new active version."""
    _load(file, by or operator())


@workflow.command("list")
def workflow_list() -> None:
    """List stored workflow versions."""
    import sqlalchemy as sa

    from engine.models import WorkflowVersion

    with open_store().uow(write=False) as uow:
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
    store = open_store()
    try:
        with store.uow() as uow:
            moved = admin.migrate_findings(uow, name, to_version, admin.parse_mapping(list(pairs)),
                                           Actor(by or operator(), ("admin",)))
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{moved} finding(s) moved to {name} v{to_version}")


@main.group()
def unit() -> None:
    """Manage units (the department, centres, offices)."""


CALENDAR_HELP = "calendar its due times are counted on where a state names none (default: office)"


@unit.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--name-en", default=None)
@click.option("--parent", default=None, help="code of the parent unit")
@click.option("--calendar", default=None, help=CALENDAR_HELP)
def unit_create(code: str, name: str, name_en: str | None, parent: str | None, calendar: str | None) -> None:
    """Create a unit."""
    try:
        with open_store().uow() as uow:
            admin.create_unit(uow, code, name, parent=parent, name_en=name_en, calendar=calendar, by=operator())
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"unit {code} created")


@unit.command("set")
@click.argument("code")
@click.option("--calendar", required=True, help=CALENDAR_HELP)
def unit_set(code: str, calendar: str) -> None:
    """Change a unit's default calendar; due times already set stay as they were counted."""
    try:
        with open_store().uow() as uow:
            admin.set_unit_calendar(uow, code, calendar, by=operator())
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"unit {code}: due times are counted on {calendar} from the next state entered")


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
    report = timers.sweep(open_store(), now)
    for finding_id, why in report.failed:
        click.echo(f"finding {finding_id}: {why}", err=True)
    click.echo(report.summary())
    sys.exit(1 if report.failed else 0)


@main.command()
@click.option("--findings", default=300, show_default=True, help="how many findings to create")
@click.option("--seed", default=2026, show_default=True)
def demo(findings: int, seed: int) -> None:
    """Fill the database with a demo campus; print each user's name, token, role and unit (run `xuncha init` first)."""
    from engine.demo import USERS, build_demo

    store = open_store()
    try:
        tokens = build_demo(store, findings=findings, seed=seed)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    people = {name: (role, unit or "-") for name, _display, role, unit in USERS}
    for name, token in tokens.items():
        role, unit = people.get(name, ("-", "-"))
        click.echo(f"{name}\t{token}\t{role}\t{unit}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--sweep-every", default=60.0, show_default=True, type=click.FloatRange(min=0),
              help="seconds between overdue sweeps run beside the server; 0 turns them off")
@click.option("--deliver-every", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="seconds between notification deliveries run beside the server; 0 turns them off")
def serve(host: str, port: int, sweep_every: float, deliver_every: float) -> None:
    """Serve the HTTP API (/api/v1) on this machine, sweeping overdue findings every minute and delivering
    notifications every ten seconds."""
    from engine.migrations import is_current
    from web import create_app
    from web.serve import run

    url = Settings.from_env().database_url
    if not is_current(url):
        raise click.ClickException(f"the database is not initialised for this version of Xuncha: {INIT_FIRST}")
    run(create_app(), host, port, sweep_every, deliver_every)


main.add_command(audit_group)
main.add_command(db)
main.add_command(place)
main.add_command(cli_notify.notify)
main.add_command(cli_briefings.briefing)
main.add_command(cli_import.import_group)

if __name__ == "__main__":
    main()
