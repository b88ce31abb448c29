"""Initial schema: tenants, users, services, trunks, lines, interactions and their events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "tenant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("not_ready_reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenant_slug")),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("offer_timeout_s", sa.Integer(), nullable=False),
        sa.Column("wrap_up_s", sa.Integer(), nullable=False),
        sa.Column("max_wait_s", sa.Integer(), nullable=True),
        sa.Column("no_answer_rule", sa.String(length=16), nullable=False),
        sa.Column("not_ready_reason", sa.String(length=32), nullable=False),
        sa.Column("sla_target_s", sa.Integer(), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=True),
        sa.Column("fallback_closed", sa.JSON(), nullable=True),
        sa.Column("fallback_no_agents", sa.JSON(), nullable=True),
        sa.Column("fallback_max_wait", sa.JSON(), nullable=True),
        sa.Column("recording", sa.Boolean(), nullable=False),
        sa.Column("disposition_codes", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "no_answer_rule IN ('not_ready', 'ready')", name=op.f("ck_service_no_answer_rule")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_service_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_service_tenant_id_name")),
    )
    op.create_table(
        "trunk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("password", sa.String(length=128), nullable=True),
        sa.Column("identify_by_ip", sa.Boolean(), nullable=False),
        sa.Column("register", sa.Boolean(), nullable=False),
        sa.Column("caller_id", sa.String(length=64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("transport IN ('udp', 'tcp', 'tls')", name=op.f("ck_trunk_transport")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_trunk_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trunk")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_trunk_tenant_id_name")),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("failed_logins_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'supervisor', 'agent')", name=op.f("ck_user_role")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_user_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("tenant_id", "username", name=op.f("uq_user_tenant_id_username")),
    )
    op.create_table(
        "agent_presence",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('offline', 'ready', 'not_ready', 'ringing', 'busy', 'wrap_up')",
            name=op.f("ck_agent_presence_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["user.id"],
            name=op.f("fk_agent_presence_agent_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_agent_presence_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_presence")),
    )
    op.create_index(
        op.f("ix_agent_presence_tenant_id"), "agent_presence", ["tenant_id"], unique=False
    )

    op.create_table(
        "agent_profile",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sip_username", sa.String(length=100), nullable=False),
        sa.Column("sip_password", sa.String(length=128), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("extension", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_agent_profile_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_profile")),
        sa.UniqueConstraint("sip_username", name=op.f("uq_agent_profile_sip_username")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_api_token_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_token_token_sha256")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_audit_log_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_audit_log_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_tenant_id_id", "audit_log", ["tenant_id", "id"], unique=False)

    op.create_table(
        "line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("trunk_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("call_flow_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_line_service_id_service")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_line_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(["trunk_id"], ["trunk.id"], name=op.f("fk_line_trunk_id_trunk")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line")),
        sa.UniqueConstraint("number", name=op.f("uq_line_number")),
    )
    op.create_index(op.f("ix_line_tenant_id"), "line", ["tenant_id"], unique=False)

    op.create_table(
        "interaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("ani", sa.String(length=64), nullable=False),
        sa.Column("dnis", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("asterisk_channel_id", sa.String(length=64), nullable=True),
        sa.Column("agent_channel_id", sa.String(length=64), nullable=True),
        sa.Column("bridge_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound', 'internal')",
            name=op.f("ck_interaction_direction"),
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'offered', 'connected', 'wrap_up', 'ended', 'abandoned')",
            name=op.f("ck_interaction_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["user.id"], name=op.f("fk_interaction_agent_id_user")
        ),
        sa.ForeignKeyConstraint(["line_id"], ["line.id"], name=op.f("fk_interaction_line_id_line")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_interaction_service_id_service")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_interaction_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction")),
    )
    op.create_index(
        op.f("ix_interaction_asterisk_channel_id"),
        "interaction",
        ["asterisk_channel_id"],
        unique=False,
    )
    op.create_index(op.f("ix_interaction_state"), "interaction", ["state"], unique=False)
    op.create_index("ix_interaction_tenant_id_id", "interaction", ["tenant_id", "id"], unique=False)

    op.create_table(
        "agent_state_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('offline', 'ready', 'not_ready', 'ringing', 'busy', 'wrap_up')",
            name=op.f("ck_agent_state_event_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["user.id"], name=op.f("fk_agent_state_event_agent_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_agent_state_event_interaction_id_interaction"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_agent_state_event_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_event")),
    )
    op.create_index(
        "ix_agent_state_event_agent_id_id", "agent_state_event", ["agent_id", "id"], unique=False
    )
    op.create_index(
        "ix_agent_state_event_tenant_id_at", "agent_state_event", ["tenant_id", "at"], unique=False
    )

    op.create_table(
        "interaction_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["user.id"], name=op.f("fk_interaction_event_agent_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_interaction_event_interaction_id_interaction"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_interaction_event_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_event")),
    )
    op.create_index(
        op.f("ix_interaction_event_interaction_id"),
        "interaction_event",
        ["interaction_id"],
        unique=False,
    )


def downgrade() -> None:
    """Revert this revision: drop every table, dependents first."""
    op.drop_table("interaction_event")
    op.drop_table("agent_state_event")
    op.drop_table("interaction")
    op.drop_table("line")
    op.drop_table("audit_log")
    op.drop_table("api_token")
    op.drop_table("agent_profile")
    op.drop_table("agent_presence")
    op.drop_table("user")
    op.drop_table("trunk")
    op.drop_table("service")
    op.drop_table("tenant")
