"""places join the audit: a record chain for the place registry, existing places counted as legacy

Revision ID: 0014
Revises: 0013
"""
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Places made before this revision have no record in the chain; verify accepts those below legacy_below.
    op.execute("INSERT INTO audit_chains (chain, seq, head, legacy_below) "
               f"SELECT 'places', 0, '{'0' * 64}', COALESCE(MAX(id), 0) + 1 FROM places "
               "WHERE NOT EXISTS (SELECT 1 FROM audit_chains WHERE chain = 'places')")


def downgrade() -> None:
    op.execute("DELETE FROM audit_chains WHERE chain = 'places' AND seq = 0")
