"""`xuncha place import/export` and the places file that `xuncha init` loads and `xuncha lint` checks."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from engine.actors import Actor
from engine.errors import DomainError, RowsRejected, WorkflowRejected
from web.cli_support import open_store as _store
from web.cli_support import operator as _operator


def places_file() -> Path:
    return Path(os.environ.get("XUNCHA_PLACES") or Path.cwd() / "places.yaml")


def load_places_file(store, path: Path, by: str) -> None:
    """Store the places file as the active places configuration (init); a missing default file is skipped."""
    from engine import admin
    from engine.places.config import load_config

    if not path.exists() and not os.environ.get("XUNCHA_PLACES"):
        click.echo(f"{path}: no places file; places, rounds and coverage wait for one", err=True)
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from None
    try:
        with store.uow() as uow:
            changed = load_config(uow, text, file=str(path), by=by, known_roles=admin.known_roles(uow))
            uow.commit()
    except WorkflowRejected as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{path}: not loaded, {len(exc.problems)} error(s)") from None
    click.echo(f"places configuration {'loaded' if changed else 'unchanged'}", err=True)  # stdout: workflows


@click.group("place")
def place() -> None:
    """Import and export the place registry."""


@place.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check every row and report; store nothing")
@click.option("--by", default=None, help="who is importing (default: the login name)")
def place_import(file: Path, dry_run: bool, by: str | None) -> None:
    """Create or update places from FILE (.csv in UTF-8 or GBK, .xlsx, .xls), all rows or none."""
    from engine.places.transfer import import_places

    store = _store()
    try:
        with store.uow() as uow:
            report = import_places(uow, Actor(by or _operator(), ("admin",)), file.name, file.read_bytes(),
                                   dry_run=dry_run)
            if not dry_run:
                uow.commit()
    except RowsRejected as exc:
        report = None
        problems = exc.problems
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    else:
        problems = report.problems
    for p in problems:
        click.echo(f"{file}:第{p['row']}行:{p['column']}: {p['message']}")
    if problems:
        click.echo(f"{len(problems)} 处错误，未导入任何场所", err=True)
        sys.exit(1)
    verb = "would be" if dry_run else "were"
    click.echo(f"{report.rows} row(s): {report.created} {verb} created, {report.updated} updated, "
               f"{report.unchanged} unchanged")


@place.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write here instead of standard output")
def place_export(fmt: str, output: Path | None) -> None:
    """Write every place in tree order, as `place import` reads it back."""
    from engine.places import sheets
    from engine.places.transfer import export_rows

    with _store().uow(write=False) as uow:
        rows = export_rows(uow)
    data = sheets.write_xlsx(rows) if fmt == "xlsx" else sheets.write_csv(rows)
    if output is not None:
        output.write_bytes(data)
        click.echo(f"{len(rows)} place(s) written to {output}", err=True)
    elif fmt == "xlsx" and sys.stdout.isatty():
        raise click.ClickException("xlsx is binary: give --output FILE or redirect standard output")
    else:
        click.echo(data, nl=False)  # bytes go to the binary stream as they are
