"""public reports by QR code: receipt code, reporter's contact and satisfaction rating

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'public_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('finding_id', sa.Integer(), nullable=False),
        sa.Column('receipt', sa.String(length=32), nullable=False),
        sa.Column('contact', sa.String(length=100), nullable=True),
        sa.Column('rating', sa.SmallInteger(), nullable=True),
        sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('finding_id'),
        sa.UniqueConstraint('receipt'),
    )


def downgrade() -> None:
    op.drop_table('public_reports')
