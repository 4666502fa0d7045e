"""Role-based access control: roles, permissions, and who holds which role."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.models.base import Base, CreatedAtMixin, IdMixin

# Which permissions a role grants: a pure association table, one row per pair.
role_permissions = sa.Table(
    "role_permissions",
    Base.metadata,
    sa.Column("role_id", sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("permission_id", sa.ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Permission(IdMixin, CreatedAtMixin, Base):
    """A permission code of the form ``resource:action``, e.g. ``invoices:read``."""

    __tablename__ = "permissions"
    __table_args__ = (
        sa.UniqueConstraint("code"),
        sa.CheckConstraint("code ~ '^[a-z_]+:[a-z_]+$'", name="code_format"),
    )

    code: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.String(255))


class Role(IdMixin, CreatedAtMixin, Base):
    """A named set of permissions (admin, billing_manager, member ...)."""

    __tablename__ = "roles"
    __table_args__ = (sa.UniqueConstraint("name"),)

    name: Mapped[str] = mapped_column(sa.String(50))
    description: Mapped[str | None] = mapped_column(sa.String(255))
    is_system: Mapped[bool] = mapped_column(server_default=sa.false())

    permissions: Mapped[list[Permission]] = relationship(secondary=role_permissions, passive_deletes=True)


class UserRole(Base):
    """A role granted to a user; the (user, role) pair is the primary key."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    role: Mapped[Role] = relationship()
