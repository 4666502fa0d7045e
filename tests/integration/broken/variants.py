"""Broken variants of this project, derived from the current tree: each breaks one thing the way people do.

``make(name, dest)`` copies the repository into ``dest`` and applies one break. Each variant says
what must be named (``expect``) by the commands run on it. The copies use their own database name,
so their template databases never touch the project's own.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
VERSIONS = Path("src/billing/migrations/versions")
SKIP = {".git", ".venv", ".dbops", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", "reports"}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _head_file(root: Path) -> Path:
    """The newest revision file (the one no other revision names as its down_revision)."""
    files = sorted((root / VERSIONS).glob("0*.py"))
    downs = {m.group(1) for f in files for m in [re.search(r'down_revision[^=]*= "([^"]+)"', f.read_text())] if m}
    return next(f for f in files if f.stem not in downs)


def _delete_newest(root: Path) -> None:
    _head_file(root).unlink()


def _delete_rbac_and_after(root: Path) -> None:
    for f in (root / VERSIONS).glob("0*.py"):
        if f.name >= "0008":
            f.unlink()


def _two_heads(root: Path) -> None:
    head = _head_file(root)
    text = head.read_text().replace(f'revision: str = "{head.stem}"', 'revision: str = "0099_other_head"')
    (root / VERSIONS / "0099_other_head.py").write_text(text.replace("uq_payments_user_id", "uq_payments_other"))


def _dangling_down(root: Path) -> None:
    head = _head_file(root)
    _edit(head, 'down_revision: str | None = "0008_rbac"', 'down_revision: str | None = "0008_nowhere"')


def _model_column(root: Path) -> None:
    _edit(
        root / "src/billing/models/auth.py",
        "    full_name: Mapped[str | None] = mapped_column(sa.String(200))\n",
        "    full_name: Mapped[str | None] = mapped_column(sa.String(200))\n"
        "    nickname: Mapped[str | None] = mapped_column(sa.String(40))\n",
    )


def _seed_missing_table(root: Path) -> None:
    models = root / "src/billing/models/catalogue.py"
    models.write_text(
        models.read_text()
        + '\n\nclass Promotion(IdMixin, Base):\n    """A promotion code (no migration creates it)."""\n\n'
        '    __tablename__ = "promotions"\n\n    code: Mapped[str] = mapped_column(sa.String(40))\n'
    )
    _edit(
        root / "src/billing/seed.py",
        "        with engine.begin() as conn:\n            _seed_catalogue(conn)\n",
        "        with engine.begin() as conn:\n            _seed_catalogue(conn)\n"
        "            conn.execute(sa.text(\"INSERT INTO promotions (code) VALUES ('LAUNCH')\"))\n",
    )


def _extra_table(root: Path) -> None:
    head = _head_file(root)
    (root / VERSIONS / "0099_extra.py").write_text(
        f'"""An extra table."""\nimport sqlalchemy as sa\nfrom alembic import op\n\nrevision = "0099_extra"\n'
        f'down_revision = "{head.stem}"\n\n\ndef upgrade() -> None:\n'
        '    op.create_table("legacy_exports", sa.Column("id", sa.Integer, primary_key=True))\n\n\n'
        'def downgrade() -> None:\n    op.drop_table("legacy_exports")\n'
    )


def _duplicate_id(root: Path) -> None:
    head = _head_file(root)
    shutil.copyfile(head, root / VERSIONS / "0099_copy.py")


def _syntax_error(root: Path) -> None:
    with _head_file(root).open("a") as fh:
        fh.write("\n\ndef unfinished(:\n    pass\n")


def _does_not_import(root: Path) -> None:
    head = _head_file(root)
    _edit(head, "from alembic import op\n", "from alembic import op\nimport billing_helpers_that_were_deleted\n")


def _cycle(root: Path) -> None:
    _edit(
        root / VERSIONS / "0001_baseline.py",
        "down_revision: str | None = None",
        f'down_revision: str | None = "{_head_file(root).stem}"',
    )


def _enum_value(root: Path) -> None:
    _edit(
        root / "src/billing/models/enums.py",
        '    REFUNDED = "refunded"\n',
        '    REFUNDED = "refunded"\n    DISPUTED = "disputed"\n',
    )


def _nullable(root: Path) -> None:
    _edit(
        root / "src/billing/models/auth.py",
        "    full_name: Mapped[str | None] = mapped_column(sa.String(200))\n",
        "    full_name: Mapped[str] = mapped_column(sa.String(200))\n",
    )


@dataclass(frozen=True)
class Variant:
    """One break: how to make it, and what the commands must name."""

    name: str
    make: Callable[[Path], None]
    expect: tuple[str, ...]
    history: bool = False  # the history itself is broken: no database can be built from it


VARIANTS = [
    Variant("newest-revision-deleted", _delete_newest, ("payments.idempotency_key",)),
    Variant(
        "rbac-revision-deleted", _delete_rbac_and_after, ("roles", "permissions", "role_permissions", "user_roles")
    ),
    Variant("two-heads", _two_heads, ("0009_payment_idempotency", "0099_other_head", "alembic merge"), history=True),
    Variant("dangling-down-revision", _dangling_down, ("0008_nowhere",), history=True),
    Variant("model-column-without-migration", _model_column, ("users.nickname",)),
    Variant("seed-writes-missing-table", _seed_missing_table, ("promotions",)),
    Variant("extra-table", _extra_table, ("legacy_exports",)),
    Variant("duplicate-revision-id", _duplicate_id, ("0099_copy.py",), history=True),
    Variant("revision-syntax-error", _syntax_error, ("0009_payment_idempotency.py", "syntax error"), history=True),
    Variant("revision-does-not-import", _does_not_import, ("billing_helpers_that_were_deleted",), history=True),
    Variant("history-cycle", _cycle, ("cycle",), history=True),
    Variant("enum-value-without-migration", _enum_value, ("payment_status", "disputed")),
    Variant("nullable-mismatch", _nullable, ("users.full_name",)),
]

# Narrow what the linters and tests look at: they are not what is broken, and the variants stay fast.
FAST_TOOLS = """
lint_paths = ["src/billing/smoke.py"]
typecheck_paths = ["src/billing/smoke.py"]
unit_tests = "tests/unit/test_findings.py"
integration_tests = "tests/unit/test_findings.py"
"""


def make(variant: Variant, dest: Path, database: str) -> Path:
    """A copy of the repository at ``dest`` with ``variant`` applied, using its own database name."""
    shutil.copytree(REPO, dest, ignore=lambda _d, names: [n for n in names if n in SKIP])
    pyproject = dest / "pyproject.toml"
    text = pyproject.read_text().replace('database = "billing"', f'database = "{database}"')
    for key in ("lint_paths", "typecheck_paths"):
        text = re.sub(rf"^{key} = .*\n", "", text, flags=re.M)
    pyproject.write_text(text.replace("[tool.dbops]\n", "[tool.dbops]" + FAST_TOOLS, 1))
    variant.make(dest)
    return dest
