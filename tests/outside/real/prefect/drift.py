"""A seeded drift: a model column no migration creates, added through the project's own metadata (models = [...])."""

import sqlalchemy as sa
from prefect.server.database.orm_models import Base

Base.metadata.tables["flow"].append_column(sa.Column("dbops_drift", sa.Integer))
