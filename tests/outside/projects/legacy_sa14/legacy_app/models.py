"""Declarative models as SQLAlchemy 1.3 and 1.4 spell them."""

import sqlalchemy as sa
from sqlalchemy.ext.declarative import declarative_base

Base = declarative_base()


class Account(Base):
    __tablename__ = "accounts"
    id = sa.Column(sa.Integer, primary_key=True)
    email = sa.Column(sa.String(200), nullable=False, unique=True)
    created_at = sa.Column(sa.DateTime, nullable=False, server_default=sa.func.now())


class Note(Base):
    __tablename__ = "notes"
    id = sa.Column(sa.Integer, primary_key=True)
    account_id = sa.Column(sa.Integer, sa.ForeignKey("accounts.id"), nullable=False)
    body = sa.Column(sa.Text, nullable=False, server_default=sa.text("''"))
