"""IVR call flows: drafts and immutable published versions; lines may point to a flow.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "call_flow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("draft_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('main', 'subflow')", name=op.f("ck_call_flow_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_call_flow_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_flow")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_call_flow_tenant_id_name")),
    )
    op.create_table(
        "call_flow_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_call_flow_version_number")),
        sa.CheckConstraint(
            "kind IN ('main', 'subflow')", name=op.f("ck_call_flow_version_kind")
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["call_flow.id"], name=op.f("fk_call_flow_version_flow_id_call_flow")
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["user.id"], name=op.f("fk_call_flow_version_published_by_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_flow_version")),
        sa.UniqueConstraint(
            "flow_id", "number", name=op.f("uq_call_flow_version_flow_id_number")
        ),
    )
    # Until now nothing could own a call_flow_id, so any value is dangling: clear it, or the
    # new foreign key could not be created.
    op.execute(sa.text("UPDATE line SET call_flow_id = NULL WHERE call_flow_id IS NOT NULL"))
    with op.batch_alter_table("line") as batch:
        batch.create_foreign_key(
            op.f("fk_line_call_flow_id_call_flow"), "call_flow", ["call_flow_id"], ["id"]
        )


def downgrade() -> None:
    """Revert this revision: lines keep call_flow_id as a plain column, the flows go."""
    with op.batch_alter_table("line") as batch:
        batch.drop_constraint(op.f("fk_line_call_flow_id_call_flow"), type_="foreignkey")
    op.execute(sa.text("UPDATE line SET call_flow_id = NULL WHERE call_flow_id IS NOT NULL"))
    op.drop_table("call_flow_version")
    op.drop_table("call_flow")
