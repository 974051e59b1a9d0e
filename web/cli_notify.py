"""`xuncha notify`: deliver queued notifications (one pass or a loop), list the outbox, send a dead one again."""
from __future__ import annotations

import getpass
import time

import click

from engine.actors import Actor
from engine.config import Settings
from engine.errors import DomainError
from engine.notify import history
from engine.notify.deliverer import Deliverer
from engine.notify.models import STATUSES
from engine.unit_of_work import Store


def _store() -> Store:
    store = Store.from_settings(Settings.from_env())
    click.get_current_context().call_on_close(store.dispose)
    return store


def _operator() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "admin"
    return Actor(name, ("admin",))


@click.group(invoke_without_command=True)
@click.option("--loop", is_flag=True, help="keep delivering, every --every seconds, until interrupted")
@click.option("--every", default=30.0, show_default=True, type=click.FloatRange(min=0.1))
@click.pass_context
def notify(ctx: click.Context, loop: bool, every: float) -> None:
    """Deliver queued notifications and queue due daily digests: one pass (for cron or a systemd timer)."""
    if ctx.invoked_subcommand is not None:
        return
    deliverer = Deliverer(_store())
    while True:
        try:
            report = deliverer.run_once()
        except DomainError as exc:  # the notifications file is wrong: say where, change nothing
            raise click.ClickException(str(exc)) from None
        if report.sent or report.failed or report.dead or report.digests or not loop:
            click.echo(report.summary())
        if not loop:
            return
        time.sleep(every)


@notify.command("retry")
@click.argument("ids", nargs=-1, type=int, required=True)
def notify_retry(ids: tuple[int, ...]) -> None:
    """Give dead notifications IDS a fresh set of attempts, due now (the next pass sends them)."""
    try:
        with _store().uow() as uow:
            for outbox_id in ids:
                history.retry(uow, _operator(), outbox_id)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(ids)} notification(s) queued again")


@notify.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, history.MAX_LIST))
def notify_list(status: str | None, limit: int) -> None:
    """List the outbox, newest first: id, status, attempts, kind, channel, address, subject, last error."""
    with _store().uow(write=False) as uow:
        for told in history.list_outbox(uow, _operator(), status, limit=limit):
            m = told.message
            click.echo("\t".join(str(v) for v in (m.id, m.status, m.attempts, m.kind, m.channel, m.address or "-",
                                                  m.subject, m.last_error or "")))
