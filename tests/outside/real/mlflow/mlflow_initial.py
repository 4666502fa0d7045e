"""before_migrate hook: the pre-Alembic tables MLflow's first revision (451aebb31d03, it alters metrics) assumes.

MLflow ships them as mlflow.store.tracking.dbmodels.initial_models; `mlflow db upgrade` on an empty database
does exactly this create_all, then `alembic upgrade heads`.
"""

import sqlalchemy as sa


def create(url: str) -> None:
    """Create MLflow's initial tables on the empty database at ``url``."""
    from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase

    engine = sa.create_engine(url)
    try:
        InitialBase.metadata.create_all(engine)
    finally:
        engine.dispose()
