"""fair rules: a rectification deadline (整改期限) set on assignment, per finding

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 23:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('findings') as batch:
        batch.add_column(sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('findings') as batch:
        batch.drop_column('deadline_at')
