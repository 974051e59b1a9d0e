"""`xuncha import findings`: bring past findings in from an office's spreadsheet, all rows or none."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.actors import Actor
from engine.errors import DomainError, RowsRejected
from engine.imports.mapping import load_mapping
from engine.imports.service import import_findings
from web.cli_support import open_store as _store
from web.cli_support import operator as _operator


@click.group("import")
def import_group() -> None:
    """Import past records."""


@import_group.command("findings")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="YAML: columns: {title: 问题描述, ...}, states: {已完成: closed, ...}")
@click.option("--dry-run", is_flag=True, help="check every row and report; change nothing")
@click.option("--by", default=None, help="who imports (default: the login name)")
def import_findings_command(file: Path, mapping_file: Path | None, dry_run: bool, by: str | None) -> None:
    """Import findings from FILE (.xlsx, .xls or .csv in UTF-8 or GBK); re-importing a file adds nothing twice."""
    try:
        mapping = load_mapping(mapping_file.read_text(encoding="utf-8") if mapping_file else None)
        with _store().uow(write=not dry_run) as uow:
            report = import_findings(uow, Actor(by or _operator(), ("admin",)), file.read_bytes(), file.name,
                                     mapping, dry_run=dry_run)
            if not dry_run:
                uow.commit()
    except RowsRejected as exc:
        _print_errors(exc.rows)
        raise click.ClickException(str(exc)) from None
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    _print_errors(report.errors)
    if dry_run:
        click.echo(f"{file.name}: {report.rows} 行，{report.valid} 行无误，{len(report.errors)} 处错误，"
                   f"{report.already_imported} 行已导入过（试运行，未做任何改动）")
        sys.exit(1 if report.errors else 0)
    click.echo(f"{file.name}: 导入 {report.imported} 行，{report.already_imported} 行已导入过")


def _print_errors(rows: list[dict]) -> None:
    for problem in rows:
        click.echo(f"第{problem['row']}行 {problem['column']}：{problem['message']}", err=True)
