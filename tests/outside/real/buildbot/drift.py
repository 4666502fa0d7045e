"""A seeded drift: a model column no migration creates, added through the project's own metadata (models = [...])."""

import sqlalchemy as sa
from buildbot.db.model import Model

Model.metadata.tables["builders"].append_column(sa.Column("dbops_drift", sa.Integer))
