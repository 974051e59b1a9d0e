"""PostgreSQL privileges for the application's role: it may read and append the log, never change it."""
from __future__ import annotations

import re

import sqlalchemy as sa

from engine.errors import InvalidInput

LOG_TABLES = ("audit_log", "audit_records", "audit_anchors", "audit_runs")
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_statements(role: str) -> list[str]:
    """The SQL that gives `role` what the application needs and keeps the log append-only for it."""
    if not ROLE_NAME.match(role):
        raise InvalidInput(f"role {role!r}: use a plain lower-case PostgreSQL name")
    logs = ", ".join(LOG_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE ON {logs} FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",  # migrations run as the owner
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]


def grant(engine: sa.Engine, role: str) -> list[str]:
    """Apply `grant_statements` after checking that `role` could not undo them; returns the statements run."""
    statements = grant_statements(role)
    if engine.dialect.name != "postgresql":
        raise InvalidInput("database roles are a PostgreSQL matter; SQLite has none")
    with engine.begin() as conn:
        found = conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if found is None:
            raise InvalidInput(f"no role {role!r}: CREATE ROLE {role} LOGIN PASSWORD '…' first")
        if found.rolsuper:
            raise InvalidInput(f"role {role!r} is a superuser: it can switch triggers off; use an ordinary role")
        owners = conn.execute(sa.text(
            "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(:t) "
            "AND pg_has_role(:r, tableowner, 'MEMBER')"), {"r": role, "t": list(LOG_TABLES)}).all()
        if owners:
            raise InvalidInput(f"role {role!r} owns (or is a member of the owner of) {owners[0].tablename}: the "
                               "owner can drop its triggers; migrate as another role and grant this one use only")
        for statement in statements:
            conn.exec_driver_sql(statement)
    return statements
