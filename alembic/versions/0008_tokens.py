"""token lifecycle: expiry and last use

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 23:40:00
"""
import os
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('token_used_at', sa.DateTime(timezone=True), nullable=True))
    # Tokens issued before expiry existed get the full lifetime from today, so nobody is locked out at upgrade.
    days = int(os.environ.get('XUNCHA_TOKEN_DAYS') or 180)
    expires = datetime.now(UTC) + timedelta(days=days)
    if op.get_bind().dialect.name == 'sqlite':
        expires = expires.replace(tzinfo=None)  # stored as naive UTC there (see engine.db.UTCDateTime)
    users = sa.table('users', sa.column('token_hash', sa.String), sa.column('token_expires_at', sa.DateTime))
    op.execute(users.update().where(users.c.token_hash.is_not(None)).values(token_expires_at=expires))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('token_used_at')
        batch_op.drop_column('token_expires_at')
