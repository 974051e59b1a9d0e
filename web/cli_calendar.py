"""`xuncha calendar ...`: days set against the national calendar, and a year's schedule as it will be counted."""
from __future__ import annotations

import click

from engine import calendars
from engine.actors import Actor
from engine.errors import DomainError
from web.cli_support import open_store, operator


@click.group()
def calendar() -> None:
    """Days set against the national calendar: closed days (vacations) and open days (调休上班)."""


def _change_days(change, days: tuple[str, ...], by: str | None, *args) -> int:
    store = open_store()
    try:
        with store.uow() as uow:
            rows = change(uow, Actor(by or operator(), ("admin",)), list(days), *args)
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
    click.echo(f"{_change_days(calendars.close_days, days, by, note)} day(s) closed")


@calendar.command("open")
@click.argument("days", nargs=-1, required=True)
@click.option("--note", default="", help="why, e.g. 春节调休上班")
@click.option("--by", default=None)
def calendar_open(days: tuple[str, ...], note: str, by: str | None) -> None:
    """Open DAYS (调休上班; same forms as `add`): due times counted from now on work them."""
    click.echo(f"{_change_days(calendars.open_days, days, by, note)} day(s) opened")


@calendar.command("list")
def calendar_list() -> None:
    """List the closed and open days: day, kind, note, who set it."""
    with open_store().uow(write=False) as uow:
        for row in calendars.list_days(uow):
            click.echo(f"{row.day.isoformat()}\t{row.kind}\t{row.note}\t{row.created_by}")


@calendar.command("remove")
@click.argument("days", nargs=-1, required=True)
@click.option("--by", default=None)
def calendar_remove(days: tuple[str, ...], by: str | None) -> None:
    """Give closed or open DAYS back to the national calendar."""
    click.echo(f"{_change_days(calendars.remove_days, days, by)} day(s) removed")


@calendar.command("check")
@click.argument("year", type=int)
def calendar_check(year: int) -> None:
    """Say whether YEAR's national calendar is official or estimated, and list the days it will use."""
    try:
        with open_store().uow(write=False) as uow:
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
