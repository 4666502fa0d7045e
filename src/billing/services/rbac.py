"""Role-based access control: a user's permissions come from user_roles -> role_permissions -> permissions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from billing.models import Permission, Role, UserRole, role_permissions
from billing.services.errors import NotFound, PermissionDenied


def permissions_of(session: Session, user_id: int) -> set[str]:
    """Every permission code granted to the user through any of their roles."""
    stmt = (
        sa.select(Permission.code)
        .join(role_permissions, role_permissions.c.permission_id == Permission.id)
        .join(UserRole, UserRole.role_id == role_permissions.c.role_id)
        .where(UserRole.user_id == user_id)
        .distinct()
    )
    return set(session.scalars(stmt))


def roles_of(session: Session, user_id: int) -> list[str]:
    """The names of the user's roles, sorted."""
    stmt = sa.select(Role.name).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user_id)
    return sorted(session.scalars(stmt))


def has_permission(session: Session, user_id: int, code: str) -> bool:
    """True when one of the user's roles grants ``code`` (deny by default)."""
    stmt = (
        sa.select(sa.literal(1))
        .select_from(Permission)
        .join(role_permissions, role_permissions.c.permission_id == Permission.id)
        .join(UserRole, UserRole.role_id == role_permissions.c.role_id)
        .where(UserRole.user_id == user_id, Permission.code == code)
        .limit(1)
    )
    return session.scalar(stmt) is not None


def require(session: Session, user_id: int, code: str) -> None:
    """Raise PermissionDenied unless the user holds permission ``code``."""
    if not has_permission(session, user_id, code):
        raise PermissionDenied(f"missing permission {code}")


def grant_role(session: Session, user_id: int, role_name: str, granted_by_id: int | None = None) -> None:
    """Give the user a role by name (idempotent); an unknown role is NotFound."""
    role_id = session.scalar(sa.select(Role.id).where(Role.name == role_name))
    if role_id is None:
        raise NotFound(f"no role named {role_name!r}")
    stmt = (
        insert(UserRole)
        .values(user_id=user_id, role_id=role_id, granted_by_id=granted_by_id)
        .on_conflict_do_nothing(index_elements=[UserRole.user_id, UserRole.role_id])
    )
    session.execute(stmt)


def revoke_role(session: Session, user_id: int, role_name: str) -> bool:
    """Take a role away from the user; False when they did not hold it."""
    role_id = session.scalar(sa.select(Role.id).where(Role.name == role_name))
    if role_id is None:
        raise NotFound(f"no role named {role_name!r}")
    result = session.execute(sa.delete(UserRole).where(UserRole.user_id == user_id, UserRole.role_id == role_id))
    return bool(getattr(result, "rowcount", 0))
