"""audit trust: MACs and effects on audit rows, record chains, anchors, verification runs, TRUNCATE refused

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_records", "audit_anchors")
# Record chains and the table each one covers: rows already there were made before records were audited.
CHAIN_TABLES = {"sanctions": "sanctions", "commendations": "commendations", "units": "units", "users": "users",
                "workflows": "workflow_versions", "calendar": "closed_days"}


PG_GUARD = """
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def _pg_protect(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"]


def _pg_no_truncate(table: str) -> str:
    # Row triggers never see TRUNCATE; a statement trigger does.
    return (f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")


def _sqlite_protect(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"]


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effects", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))

    op.create_table("audit_records",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("chain", sa.String(length=64), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("event", sa.String(length=64), nullable=False),
    sa.Column("subject", sa.String(length=100), nullable=True),
    sa.Column("actor", sa.String(length=100), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("prev_hash", sa.String(length=64), nullable=False),
    sa.Column("hash", sa.String(length=64), nullable=False),
    sa.Column("key_id", sa.String(length=32), nullable=True),
    sa.Column("mac", sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
    sa.UniqueConstraint("chain", "seq", name=op.f("uq_audit_records_chain"))
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_records_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_records_subject"), ["subject"], unique=False)

    op.create_table("audit_chains",
    sa.Column("chain", sa.String(length=64), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("head", sa.String(length=64), nullable=False),
    sa.Column("legacy_below", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chains"))
    )
    op.create_table("audit_anchors",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rows", sa.BigInteger(), nullable=False),
    sa.Column("digest", sa.String(length=64), nullable=False),
    sa.Column("chains", sa.JSON(), nullable=False),
    sa.Column("created_by", sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
    sa.UniqueConstraint("digest", name=op.f("uq_audit_anchors_digest"))
    )
    with op.batch_alter_table("audit_anchors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_anchors_at"), ["at"], unique=False)

    op.create_table("audit_runs",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Column("report", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_runs"))
    )
    with op.batch_alter_table("audit_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_runs_at"), ["at"], unique=False)

    for chain, table in CHAIN_TABLES.items():
        op.execute(f"INSERT INTO audit_chains (chain, seq, head, legacy_below) "
                   f"SELECT '{chain}', 0, '{'0' * 64}', COALESCE(MAX(id), 0) + 1 FROM {table}")

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD)
        for table in APPEND_ONLY:
            for statement in _pg_protect(table):
                op.execute(statement)
        for table in ("audit_log", *APPEND_ONLY):
            op.execute(_pg_no_truncate(table))
    else:
        for table in APPEND_ONLY:
            for statement in _sqlite_protect(table):
                op.execute(statement)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table in ("audit_log", *APPEND_ONLY):
        if pg:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    for table in APPEND_ONLY:
        if pg:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    if pg:
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    with op.batch_alter_table("audit_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_runs_at"))
    op.drop_table("audit_runs")
    with op.batch_alter_table("audit_anchors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_anchors_at"))
    op.drop_table("audit_anchors")
    op.drop_table("audit_chains")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_records_subject"))
        batch_op.drop_index(batch_op.f("ix_audit_records_at"))
    op.drop_table("audit_records")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("mac")
        batch_op.drop_column("key_id")
        batch_op.drop_column("effects")
