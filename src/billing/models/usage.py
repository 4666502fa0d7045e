"""Metered feature usage: one counter per user, feature and period."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.base import Base, IdMixin, TimestampMixin


class FeatureUsage(IdMixin, TimestampMixin, Base):
    """How much of a feature a user used in one period; checked against the plan's limit."""

    __tablename__ = "feature_usage"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "feature_id", "period_start"),
        sa.CheckConstraint("used_count >= 0", name="used_count_nonnegative"),
        sa.CheckConstraint("period_end > period_start", name="period_end_after_start"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    feature_id: Mapped[int] = mapped_column(sa.ForeignKey("features.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_count: Mapped[int] = mapped_column(sa.BigInteger, server_default=sa.text("0"))
