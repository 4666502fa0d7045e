"""Models: one Base, two tables."""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Flow(Base):
    __tablename__ = "flows"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(100), nullable=False, unique=True)


class Run(Base):
    __tablename__ = "runs"
    id = sa.Column(sa.Integer, primary_key=True)
    flow_id = sa.Column(sa.ForeignKey("flows.id", ondelete="CASCADE"), nullable=False, index=True)
    state = sa.Column(sa.String(20), nullable=False, server_default="PENDING")
