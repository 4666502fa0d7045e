"""Generate a throwaway Alembic project of any size: N tables in the models, M revisions in the history."""

from __future__ import annotations

from pathlib import Path

ENV = """
from alembic import context
from sqlalchemy import create_engine
import gen_models

conn = context.config.attributes.get("connection")
if conn is None:
    conn = create_engine(context.config.attributes["url"]).connect()
context.configure(connection=conn, target_metadata=gen_models.metadata, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
"""


def _items(i: int) -> str:
    """Columns, constraints and an index of table i; every tenth starts a new foreign-key chain."""
    parent = f', sa.ForeignKey("t{i - 1:04d}.id", ondelete="CASCADE", name="fk_t{i:04d}_parent")' if i % 10 else ""
    return (
        f'sa.Column("id", sa.Integer, primary_key=True), '
        f'sa.Column("name", sa.String(80), nullable=False), '
        f'sa.Column("amount", sa.Numeric(12, 2), server_default=sa.text("0")), '
        f'sa.Column("parent_id", sa.Integer{parent}), '
        f'sa.UniqueConstraint("name", name="uq_t{i:04d}_name"), '
        f'sa.CheckConstraint("amount >= 0", name="ck_t{i:04d}_amount"), '
        f'sa.Index("ix_t{i:04d}_parent", "parent_id")'
    )


def _table(i: int) -> str:
    return f'sa.Table("t{i:04d}", metadata, {_items(i)})\n'


def generate(root: Path, tables: int, revisions: int) -> Path:
    """Write pyproject, alembic.ini, env.py, ``revisions`` revision files and a models module with ``tables``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[tool.dbops]\nmetadata = "gen_models:metadata"\ndatabase = "gen{tables}x{revisions}"\n'
    )
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "migrations" / "env.py").write_text(ENV)
    (root / "migrations" / "script.py.mako").write_text("")
    models = ["import sqlalchemy as sa", "metadata = sa.MetaData()"]
    models += [_table(i) for i in range(tables)]
    (root / "gen_models.py").write_text("\n".join(models))
    # Tables go to revisions in order, so a foreign key's target always exists first.
    chunks = [list(range(tables))[i * tables // revisions : (i + 1) * tables // revisions] for i in range(revisions)]
    for r, chunk in enumerate(chunks):
        down = f'"r{r - 1:04d}"' if r else "None"
        ups = "\n".join(f'    op.create_table("t{i:04d}", {_items(i)})' for i in chunk) or "    pass"
        downs = "\n".join(f'    op.drop_table("t{i:04d}")' for i in reversed(chunk)) or "    pass"
        head = f'"""revision {r}"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
        head += f'revision = "r{r:04d}"\ndown_revision = {down}\n\n\n'
        (versions / f"r{r:04d}.py").write_text(
            head + f"def upgrade() -> None:\n{ups}\n\n\ndef downgrade() -> None:\n{downs}\n"
        )
    return root
