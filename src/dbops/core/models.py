"""The project's models: its MetaData, imported once, checked whole before any rule compares it."""

from __future__ import annotations

from typing import Any

from dbops.core.config import Settings, import_object
from dbops.core.errors import ConfigError

# The SQLAlchemy this process can compare with (pyproject's dependency); older ones lack the psycopg 3 dialect.
SUPPORTED_SQLALCHEMY = (2, 0, 25)


def require_sqlalchemy() -> None:
    """Refuse, in one line, an installed SQLAlchemy older than the one dbops needs."""
    import sqlalchemy

    parts = tuple(int(p) for p in sqlalchemy.__version__.split(".")[:3] if p.isdigit())
    if parts < SUPPORTED_SQLALCHEMY:
        wanted = ".".join(map(str, SUPPORTED_SQLALCHEMY))
        raise ConfigError(
            f"dbops needs SQLAlchemy {wanted} or newer (below 3); this environment has {sqlalchemy.__version__}",
            "install dbops in an environment of its own (pipx install, or a venv) instead of the project's",
        )


def load_metadata(settings: Settings) -> Any:
    """The MetaData ``settings.metadata`` names; ConfigError when it is not one, or names tables it does not hold."""
    require_sqlalchemy()
    from sqlalchemy import MetaData
    from sqlalchemy.exc import NoReferenceError

    metadata = import_object(settings.metadata, "metadata")
    if not isinstance(metadata, MetaData):
        raise ConfigError(
            f"{settings.metadata} is a {type(metadata).__name__}, not a MetaData",
            "point metadata at a sqlalchemy.MetaData",
        )
    for table in metadata.tables.values():
        for fk in table.foreign_keys:
            try:
                fk.column  # noqa: B018 - resolves the target: raises when its table is not in the metadata
            except NoReferenceError:
                raise ConfigError(
                    f"the metadata {settings.metadata} holds {len(metadata.tables)} tables, and "
                    f"{table.fullname}.{fk.parent.name} refers to {fk.target_fullname}, which is not among them: "
                    "the models that define it are not imported",
                    "point metadata at a module that imports every model (or import them in the metadata's module)",
                ) from None
    return metadata
