"""`xuncha user ...`: create users, list them, disable and enable them, rotate their tokens."""
from __future__ import annotations

import sys

import click

from engine import accounts, admin, users
from engine.errors import DomainError
from web.cli_support import open_store, operator


@click.group()
def user() -> None:
    """Manage users and their API tokens."""


def _change(action, name: str) -> object:
    try:
        with open_store().uow() as uow:
            result = action(uow, name, by=operator())
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    return result


@user.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="a role from the workflows; repeatable")
@click.option("--unit", default=None, help="unit code (needed for unit-scoped roles such as centre)")
@click.option("--display-name", default=None)
def user_create(name: str, roles: tuple[str, ...], unit: str | None, display_name: str | None) -> None:
    """Create a user and print its API token alone on stdout (it is not shown again)."""
    _, token = _change(lambda uow, n, by: admin.create_user(uow, n, list(roles), unit=unit,
                                                            display_name=display_name, by=by), name)
    click.echo(token)


@user.command("list")
def user_list() -> None:
    """Every user: name, roles, unit, enabled or disabled, token expiry and last use (UTC)."""
    with open_store().uow(write=False) as uow:
        rows = users.list_users(uow)
        for row in rows:
            expires = f"{row.token_expires_at:%Y-%m-%d}" if row.token_expires_at else "-"
            used = f"{row.token_used_at:%Y-%m-%d %H:%M}" if row.token_used_at else "never"
            click.echo("\t".join([row.name, ",".join(row.roles or ()), row.unit.code if row.unit else "-",
                                  "enabled" if row.active else "disabled", f"expires {expires}", f"used {used}"]))


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Refuse NAME's token from now on (nothing it did is changed)."""
    _change(users.disable_user, name)
    click.echo(f"user {name} disabled")


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Accept NAME's token again."""
    _change(users.enable_user, name)
    click.echo(f"user {name} enabled")


@user.command("rotate-token")
@click.argument("name")
def user_rotate_token(name: str) -> None:
    """Give NAME a new token (the old one stops working at once) and print it alone on stdout."""
    click.echo(_change(users.rotate_token, name))


@user.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input (for scripts)")
def user_set_password(name: str, password_stdin: bool) -> None:
    """Set a person's password for the web pages (and lift a lockout); prompts unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        with open_store().uow() as uow:
            accounts.set_password(uow, None, name, password)
            uow.commit()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password set for {name}", err=True)
