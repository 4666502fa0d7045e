"""Runs with a status CHECK constraint."""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

STATUSES = ("RUNNING", "FINISHED")


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (sa.CheckConstraint(sa.column("status").in_(STATUSES), name="status"),)
    id = sa.Column(sa.Integer, primary_key=True)
    status = sa.Column(sa.String(20), nullable=False)
