"""`xuncha audit` and `xuncha db`: verify the log, anchor it, make keys, grant the application's role."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.errors import DomainError
from web.cli_support import open_store as _store
from web.cli_support import operator as _operator


@click.group("audit")
def audit_group() -> None:
    """Inspect the audit log."""


@audit_group.command("verify")
@click.option("--finding", "finding_id", type=int, default=None, help="check this finding's chain only")
@click.option("--all", "all_breaks", is_flag=True, help="report every break, not just the first")
@click.option("--anchor", default=None, metavar="FILE|DIGEST",
              help="also prove the log still holds everything this anchor covered")
@click.option("--strict", is_flag=True, help="with a key: every row must carry a MAC")
def audit_verify(finding_id: int | None, all_breaks: bool, anchor: str | None, strict: bool) -> None:
    """Check every chain in one snapshot; print `ok N rows` or each break and exit 1. A full check is kept
    for `GET /audit/verify`."""
    from engine.audit import runs

    store = _store()
    try:
        report = runs.check(store, finding_id=finding_id, anchor=anchor, all_breaks=all_breaks, strict=strict,
                            save=finding_id is None)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if report.authenticated:
        how = f"MACs checked with the audit key ({report.signed_rows} signed, {report.unsigned_rows} written " \
              "without a key: plain chain only)"
    else:
        how = "plain hash chain only: no audit key given (XUNCHA_AUDIT_KEY_FILE), so rows were not authenticated"
    if report.anchor:
        how += f"; anchor {report.anchor['digest']} of {report.anchor['at']} ({report.anchor['rows']} rows) " \
               + ("holds" if report.anchor["ok"] else "does NOT hold")
    if report.ok:  # stdout keeps to `ok N rows` for scripts; what was checked goes to stderr
        click.echo(f"ok {report.rows_checked} rows")
        click.echo(f"{report.records_checked} record rows; {how}", err=True)
        return
    for item in report.breaks or [report.as_dict()]:
        where = f"finding {item['finding_id']}" if item.get("finding_id") else f"chain {item.get('chain')}"
        seq = f" seq {item['seq']}" if item.get("seq") else ""
        click.echo(f"broken: {where}{seq}: {item['problem']}")
    click.echo(f"{report.break_count} break(s); {report.rows_checked} rows checked; {how}", err=True)
    sys.exit(1)


@audit_group.command("anchor")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the anchor file (JSON) here; `-` prints it")
def audit_anchor(out: Path | None) -> None:
    """Record a digest of every chain head; print it to keep outside the database (briefing, mail, WORM)."""
    import json

    from engine.audit import runs

    anchor = runs.take_anchor(_store(), _operator())
    text = json.dumps(anchor.as_json(), ensure_ascii=False)
    if out is not None and str(out) == "-":
        click.echo(text)
        return
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    click.echo(f"anchor {anchor.at.isoformat(timespec='seconds')} rows {anchor.rows} "
               f"chains {len(anchor.findings) + len(anchor.records)} digest {anchor.digest}")


@audit_group.command("keygen")
@click.option("--id", "key_id", default=None, help="key id (default: derived from the key)")
def audit_keygen(key_id: str | None) -> None:
    """Print a new audit key line (`id=secret`) to append to the key file."""
    import secrets

    from engine.audit.keys import derived_id

    secret = secrets.token_urlsafe(32)
    click.echo(f"{key_id or derived_id(secret)}={secret}")


@click.group()
def db() -> None:
    """Database administration."""


@db.command("grant")
@click.argument("role")
@click.option("--print", "print_only", is_flag=True, help="print the SQL instead of running it")
def db_grant(role: str, print_only: bool) -> None:
    """Let ROLE (the application's) use every table but only read and append the audit log.

    Run as the role that owns the tables (the one that ran `xuncha init`)."""
    from engine.audit import grants

    try:
        if print_only:
            statements = grants.grant_statements(role)
        else:
            statements = grants.grant(_store().engine, role)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    for statement in statements:
        click.echo(statement + ";")
