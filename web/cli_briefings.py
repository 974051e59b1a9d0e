"""`xuncha briefing`: draft, publish, list and save briefings from the command line."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from engine.actors import Actor
from engine.briefings import service
from engine.briefings.build import Scope
from engine.briefings.formats import publishing_renderers
from engine.errors import DomainError
from web.cli_support import open_store as _store
from web.cli_support import operator as _operator


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


@click.group()
def briefing() -> None:
    """Numbered briefings (巡查简报): draft, publish, list, save."""


@briefing.command("draft")
@click.option("--from", "start", default=None, help="first day, YYYY-MM-DD")
@click.option("--to", "end", default=None, help="last day, YYYY-MM-DD (included)")
@click.option("--round", "rounds", multiple=True,
              help="id of an inspection round: only the findings linked to it and its checks; repeatable")
@click.option("--unit", default=None, help="unit code: only it and the units below it")
@click.option("--corrects", type=int, default=None, help="id of the published briefing this one corrects (更正)")
@click.option("--title", default=None)
@click.option("--by", default=None, help="who drafts it (default: the login name)")
def briefing_draft(start, end, rounds, unit, corrects, title, by) -> None:
    """Draft a briefing; prints its id. It is numbered only when published."""
    lo, hi = _day(start, "--from"), _day(end, "--to")
    if (lo is None) != (hi is None) or (lo is None and corrects is None):
        raise click.UsageError("give --from and --to (or --corrects ID alone)")
    scope = Scope(lo, hi, tuple(rounds), unit) if lo else None
    try:
        with _store().uow() as uow:
            row = service.draft(uow, Actor(by or _operator(), ("admin",)), scope, corrects=corrects, title=title)
            uow.commit()
            click.echo(f"briefing {row.id} drafted ({row.period_start}..{row.period_end})")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None


@briefing.command("publish")
@click.argument("briefing_id", type=int)
@click.option("--no-pdf", is_flag=True, help="store the Word file only, even where LibreOffice is installed")
@click.option("--by", default=None)
def briefing_publish(briefing_id: int, no_pdf: bool, by: str | None) -> None:
    """Number briefing ID, freeze it and store its files; prints its number and the sha256 of each file."""
    try:
        with _store().uow() as uow:
            row = service.publish(uow, Actor(by or _operator(), ("admin",)), briefing_id,
                                  publishing_renderers(with_pdf=not no_pdf))
            uow.commit()
            files = service.files_of(uow, [row.id]).get(row.id, {})
            click.echo(f"briefing {row.id} published as {service.number_text(row.year, row.number)}")
            for fmt, sha in sorted(files.items()):
                click.echo(f"  {fmt} sha256 {sha}")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None


@briefing.command("list")
def briefing_list() -> None:
    """List briefings, newest first."""
    with _store().uow(write=False) as uow:
        for row in service.list_briefings(uow, Actor(_operator(), ("admin",))):
            number = service.number_text(row.year, row.number) if row.number else "（草稿）"
            fix = f" 更正 {row.corrects_id}" if row.corrects_id else ""
            click.echo(f"{row.id}\t{row.status}\t{number}\t{row.period_start}..{row.period_end}{fix}")


@briefing.command("save")
@click.argument("briefing_id", type=int)
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def briefing_save(briefing_id: int, target: Path) -> None:
    """Write briefing ID to TARGET (.docx, .pdf or .html): the frozen file if published."""
    from engine.briefings import pdf
    from engine.briefings.docx import render_docx
    from engine.briefings.html import render_html

    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("docx", "pdf", "html"):
        raise click.BadParameter("TARGET must end in .docx, .pdf or .html", param_hint="TARGET")
    actor = Actor(_operator(), ("admin",))
    try:
        with _store().uow(write=False) as uow:
            photos = service.photo_finder(uow)
            if fmt == "html":
                target.write_text(render_html(service.content(uow, actor, briefing_id), photos), encoding="utf-8")
            else:
                stored = service.stored_file(uow, actor, briefing_id, fmt)
                if stored is None:
                    frozen = service.stored_file(uow, actor, briefing_id, "docx")
                    data = frozen.data if frozen else render_docx(service.content(uow, actor, briefing_id), photos)
                    stored_data = pdf.docx_to_pdf(data) if fmt == "pdf" else data
                else:
                    stored_data = stored.data
                target.write_bytes(stored_data)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{target} written")
