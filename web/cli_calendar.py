"""`xuncha calendar ...`: days the campus is closed on top of the national calendar."""
from __future__ import annotations

import click

from engine import timers
from engine.actors import Actor
from engine.errors import DomainError
from web.cli_support import open_store, operator, parse_days


@click.group()
def calendar() -> None:
    """Days the campus is closed although the national calendar works (vacation weeks)."""


def _apply(change, days: tuple[str, ...], by: str | None) -> int:
    wanted = parse_days(days)
    store = open_store()
    try:
        with store.uow() as uow:
            for day in wanted:
                change(uow, Actor(by or operator(), ("admin",)), day)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    store.refresh_calendar()
    return len(wanted)


@calendar.command("add")
@click.argument("days", nargs=-1, required=True)
@click.option("--note", default="", help="why, e.g. 暑假")
@click.option("--by", default=None)
def calendar_add(days: tuple[str, ...], note: str, by: str | None) -> None:
    """Close DAYS (YYYY-MM-DD, or FIRST..LAST for a range); due times counted from now on skip them."""
    count = _apply(lambda uow, actor, day: timers.add_closed_day(uow, actor, day, note), days, by)
    click.echo(f"{count} day(s) closed")


@calendar.command("list")
def calendar_list() -> None:
    """List the closed days."""
    with open_store().uow(write=False) as uow:
        for row in timers.list_closed_days(uow):
            click.echo(f"{row.day.isoformat()}\t{row.note}\t{row.created_by}")


@calendar.command("remove")
@click.argument("days", nargs=-1, required=True)
@click.option("--by", default=None)
def calendar_remove(days: tuple[str, ...], by: str | None) -> None:
    """Open closed DAYS again (YYYY-MM-DD, or FIRST..LAST for a range)."""
    count = _apply(timers.remove_closed_day, days, by)
    click.echo(f"{count} day(s) opened")
