"""Call-backs (the agents' list of numbers to call back) and the agents' dial-out permission.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Existing agents get false: dialling out is granted, never assumed.
    with op.batch_alter_table("agent_profile") as batch:
        batch.add_column(
            sa.Column("can_dial_out", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'done', 'cancelled')", name=op.f("ck_callback_state")
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["user.id"], name=op.f("fk_callback_agent_id_user")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user.id"], name=op.f("fk_callback_created_by_user")
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_callback_interaction_id_interaction"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_callback_service_id_service")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_callback_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback")),
    )
    op.create_index(op.f("ix_callback_due_at"), "callback", ["due_at"], unique=False)
    op.create_index(op.f("ix_callback_tenant_id"), "callback", ["tenant_id"], unique=False)


def downgrade() -> None:
    """Revert this revision: drop the call-backs and the permission column."""
    op.drop_index(op.f("ix_callback_tenant_id"), table_name="callback")
    op.drop_index(op.f("ix_callback_due_at"), table_name="callback")
    op.drop_table("callback")
    with op.batch_alter_table("agent_profile") as batch:
        batch.drop_column("can_dial_out")
