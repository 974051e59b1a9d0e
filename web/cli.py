"""The `xuncha` command: set up, administer, inspect and serve."""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from engine import admin
from engine.actors import Actor
from engine.config import Settings
from engine.errors import DomainError, WorkflowRejected
from engine.unit_of_work import Store
from web.cli_audit import audit_group, db
from web.cli_places import load_places_file, place, places_file
from workflows import DefinitionError, load_file
from workflows.diagram import mermaid, svg
from workflows.lint import lint_text
from workflows.places import is_places_text, lint_places_text


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
    _load(Path(settings.workflows_file), _operator(), keep_active=True)
    load_places_file(_store(), places_file(), _operator())


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
    store = _store()
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
            _, token = admin.create_user(uow, name, list(roles), unit=unit, display_name=display_name,
                                         by=_operator())
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)


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
        with _store().uow() as uow:
            admin.create_unit(uow, code, name, parent=parent, name_en=name_en, calendar=calendar, by=_operator())
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
        with _store().uow() as uow:
            admin.set_unit_calendar(uow, code, calendar, by=_operator())
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
    report = timers.sweep(_store(), now)
    for finding_id, why in report.failed:
        click.echo(f"finding {finding_id}: {why}", err=True)
    click.echo(report.summary())
    sys.exit(1 if report.failed else 0)


@main.group()
def calendar() -> None:
    """Days set against the national calendar: closed days (vacations) and open days (调休上班)."""


def _change_days(change, days: tuple[str, ...], by: str | None, *args) -> int:
    store = _store()
    try:
        with store.uow() as uow:
            rows = change(uow, Actor(by or _operator(), ("admin",)), list(days), *args)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    return len(rows)


@calendar.command("add")
@click.argument("days", nargs=-1, required=True)
@click.option("--note", default="", help="why, e.g. 暑假")
@click.option("--by", default=None)
def calendar_add(days: tuple[str, ...], note: str, by: str | None) -> None:
    """Close DAYS (YYYY-MM-DD, FIRST..LAST, comma lists); due times counted from now on skip them."""
    from engine import calendars

    click.echo(f"{_change_days(calendars.close_days, days, by, note)} day(s) closed")


@calendar.command("open")
@click.argument("days", nargs=-1, required=True)
@click.option("--note", default="", help="why, e.g. 春节调休上班")
@click.option("--by", default=None)
def calendar_open(days: tuple[str, ...], note: str, by: str | None) -> None:
    """Open DAYS (调休上班; same forms as `add`): due times counted from now on work them."""
    from engine import calendars

    click.echo(f"{_change_days(calendars.open_days, days, by, note)} day(s) opened")


@calendar.command("list")
def calendar_list() -> None:
    """List the closed and open days: day, kind, note, who set it."""
    from engine import calendars

    with _store().uow(write=False) as uow:
        for row in calendars.list_days(uow):
            click.echo(f"{row.day.isoformat()}\t{row.kind}\t{row.note}\t{row.created_by}")


@calendar.command("remove")
@click.argument("days", nargs=-1, required=True)
@click.option("--by", default=None)
def calendar_remove(days: tuple[str, ...], by: str | None) -> None:
    """Give closed or open DAYS back to the national calendar."""
    from engine import calendars

    click.echo(f"{_change_days(calendars.remove_days, days, by)} day(s) removed")


@calendar.command("check")
@click.argument("year", type=int)
def calendar_check(year: int) -> None:
    """Say whether YEAR's national calendar is official or estimated, and list the days it will use."""
    from engine import calendars

    try:
        with _store().uow(write=False) as uow:
            check = calendars.check_year(uow, year)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    national = check.national
    known = f"{national.notice_years[0]}-{national.notice_years[1]}" if national.notice_years else "none"
    if check.official:
        click.echo(f"{year}: official: the State Council's schedule, from holidays {national.package_version}")
    else:
        click.echo(f"{year}: estimated: holidays {national.package_version} has the State Council's schedules for "
                   f"{known} only; {year}'s holidays follow the statutory rules and it knows no make-up working "
                   "days. Enter the published schedule with `xuncha calendar open` and `xuncha calendar add`.")
    for item in check.days:
        click.echo(f"{item.day.isoformat()}\t{item.kind}\t{item.note}\t{item.source}")


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


main.add_command(audit_group)
main.add_command(db)
main.add_command(place)

if __name__ == "__main__":
    main()
