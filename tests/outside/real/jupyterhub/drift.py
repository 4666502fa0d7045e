"""A seeded drift: a model column no migration creates, added through the project's own metadata (models = [...])."""

import sqlalchemy as sa
from jupyterhub.orm import Base

Base.metadata.tables["users"].append_column(sa.Column("dbops_drift", sa.Integer))
