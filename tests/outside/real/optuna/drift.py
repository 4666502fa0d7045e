"""A seeded drift: a model column no migration creates, added through the project's own metadata (models = [...])."""

import sqlalchemy as sa
from optuna.storages._rdb.models import BaseModel

BaseModel.metadata.tables["studies"].append_column(sa.Column("dbops_drift", sa.Integer))
