"""Prefect's models made buildable on PostgreSQL, as its migrations build them (imported first: models = [...]).

As shipped, ``Base.metadata.create_all`` fails on PostgreSQL, which dbops reports (consistency: not checked,
the models could not be built): the trigram indexes (Index("trgm_ix_...", "name", postgresql_using="gin"))
lack the operator class the migrations give them (gin_trgm_ops), and Artifact declares ix_artifact__key twice
(mapped_column(index=True) and an Index of that name). With both repaired, the comparison runs.
"""

from prefect.server.database import orm_models

for table in orm_models.Base.metadata.tables.values():
    for index in table.indexes:
        if index.name and index.name.startswith("trgm_ix_"):
            index.dialect_options["postgresql"]["ops"] = {column.name: "gin_trgm_ops" for column in index.columns}
    seen: set[str] = set()
    for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
        if index.name in seen:
            table.indexes.discard(index)
        seen.add(str(index.name))
