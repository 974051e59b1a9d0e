"""indexes that keep the findings list flat as findings grow: keyset by id within a state or a unit, by
report time, and through the findings that have a due time (overdue); trigram indexes for text search on
PostgreSQL

Revision ID: 0013
Revises: 0012

`LIKE '%…%'` cannot use a b-tree, so without them a text search reads every finding. pg_trgm indexes the
three-character sequences of the text, which works for Chinese as for any script (the default full-text
parsers do not segment Chinese words). A search of one or two characters has no trigram to look up: the
planner then walks the list's own order (by id, newest first) and stops once a page is full, which is quick
for common words and a full scan for rare ones. SQLite has no trigram index; there the search scans.
"""
import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TEXT_COLUMNS = ("title", "description", "location")


def upgrade() -> None:
    op.create_index("ix_findings_state_id", "findings", ["state", "id"])
    op.create_index("ix_findings_unit_id_id", "findings", ["unit_id", "id"])
    op.create_index("ix_findings_created_at_id", "findings", ["created_at", "id"])
    op.create_index("ix_findings_due_id", "findings", ["id"], postgresql_where=sa.text("due_at IS NOT NULL"),
                    sqlite_where=sa.text("due_at IS NOT NULL"))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in TEXT_COLUMNS:
        op.execute(f"CREATE INDEX ix_findings_{column}_trgm ON findings USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in TEXT_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_findings_{column}_trgm")
    op.drop_index("ix_findings_due_id", table_name="findings")
    op.drop_index("ix_findings_created_at_id", table_name="findings")
    op.drop_index("ix_findings_unit_id_id", table_name="findings")
    op.drop_index("ix_findings_state_id", table_name="findings")
