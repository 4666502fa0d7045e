"""The outside projects and the verdict each tool must reach on each (the README table is generated from this)."""

from __future__ import annotations

from dataclasses import dataclass, field

TASKS = ("migrate", "blockers", "round-trip", "consistency", "alembic check")
CLEAN, FINDINGS = "clean", "findings"
# A task that had nothing to look at says so (exit 1), never "clean".
NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Case:
    """One project under tests/outside/projects and what every task must say about it."""

    name: str
    shape: str
    metadata: str
    verdicts: dict[str, str]
    settings: dict[str, object] = field(default_factory=dict)
    broken: bool = False
    project: str = ""  # the folder under projects/, when it is not ``name``
    # env.py runs only in an AnyIO worker thread (the project wraps its `alembic` commands in one).
    worker_thread: bool = False

    @property
    def folder(self) -> str:
        """The project's folder under tests/outside/projects."""
        return self.project or self.name


def _healthy(name: str, shape: str, metadata: str, **settings: object) -> Case:
    return Case(name, shape, metadata, dict.fromkeys(TASKS, CLEAN), dict(settings))


CASES = (
    _healthy("stock", "env.py as `alembic init` writes it (only target_metadata set)", "stock_app.models:metadata"),
    _healthy(
        "engine_attr", "env.py calls .connect() on attributes['connection'] (pytest-alembic)", "ea_app.models:metadata"
    ),
    _healthy("merge", "two branches and a merge revision", "merge_app.models:metadata"),
    Case(
        "empty",
        "no revisions, no tables yet",
        "empty_app.models:metadata",
        {**dict.fromkeys(TASKS, CLEAN), "blockers": NOT_CHECKED, "round-trip": NOT_CHECKED},
    ),
    _healthy(
        "async_dialects",
        "async env.py in an AnyIO worker thread; env.py picks its version folder per dialect",
        "ad_app.models:Base.metadata",
    ),
    Case(
        "worker_thread",
        "async env.py that calls anyio.from_thread.run (Prefect's): runs only in an AnyIO worker thread",
        "wt_app.models:Base.metadata",
        dict.fromkeys(TASKS, CLEAN),
        worker_thread=True,
    ),
    _healthy(
        "baseline_dump",
        "the schema predates the history: a SQL dump stamped at the first revision (baseline)",
        "bl_app.models:metadata",
        baseline="db/baseline.sql",
        baseline_revision="0001_adopted",
    ),
    _healthy(
        "tenants",
        "models without a schema placed per tenant by env.py's search_path; checked in one tenant",
        "tn_app.models:metadata",
        tenant_schema="tenant_default",
    ),
    _healthy(
        "data_only",
        "empty first revision, data-only revisions, op line replaced by op.execute",
        "data_app.models:metadata",
    ),
    _healthy(
        "version_schema",
        "version table meta.schema_history, schema made by a before_migrate hook",
        "vs_app.models:metadata",
        version_table="schema_history",
        version_table_schema="meta",
        before_migrate="vs_app.baseline:create_meta_schema",
    ),
    Case(
        "version_schema_env",
        "the same, with the version table read from env.py's configure() (no dbops keys)",
        "vs_app.models:metadata",
        dict.fromkeys(TASKS, CLEAN),
        {"before_migrate": "vs_app.baseline:create_meta_schema"},
        project="version_schema",
    ),
    _healthy(
        "two_sections",
        "alembic.ini with [core] and [tenant]; checks [tenant]",
        "ts_app.models:tenant",
        alembic_name="tenant",
    ),
    _healthy("irreversible", "downgrade() is pass by design below a floor marker", "irr_app.models:metadata"),
    _healthy(
        "multi_module",
        "Base in one module, models in several, Boolean(create_constraint=True)",
        "shop.models:Base.metadata",
    ),
    _healthy(
        "revision_side_effect",
        "revisions import a model module nothing else does, and build a CheckConstraint from model columns (MLflow)",
        "se_app.models:Base.metadata",
    ),
    _healthy(
        "extension_opclass",
        "a model index with an operator class of an extension (pg_trgm) a revision creates",
        "eo_app.models:metadata",
    ),
    _healthy("filtered", "env.py's include_object leaves a model-less table out", "flt_app.models:metadata"),
    Case(
        "broken_drift",
        "a model column no migration creates",
        "drift_app.models:metadata",
        {**dict.fromkeys(TASKS, CLEAN), "consistency": FINDINGS, "alembic check": FINDINGS},
        broken=True,
    ),
    Case(
        "broken_downgrade",
        "an upgrade adds a column, its downgrade() is pass",
        "bd_app.models:metadata",
        {**dict.fromkeys(TASKS, CLEAN), "blockers": FINDINGS, "round-trip": FINDINGS, "consistency": FINDINGS},
        broken=True,
    ),
    Case(
        "broken_rename",
        "an upgrade renames a table, its downgrade does not rename it back",
        "br_app.models:metadata",
        # The table renamed, its primary key not: customer_pkey where the models say customers_pkey.
        {**dict.fromkeys(TASKS, CLEAN), "round-trip": FINDINGS, "consistency": FINDINGS},
        broken=True,
    ),
)


def readme_table() -> str:
    """The README's side-by-side table of verdicts, one row per project."""
    head = "| project | shape | " + " | ".join(TASKS) + " |"
    rule = "|" + "---|" * (len(TASKS) + 2)
    rows = [f"| {c.name} | {c.shape} | " + " | ".join(c.verdicts[t] for t in TASKS) + " |" for c in CASES]
    return "\n".join([head, rule, *rows])


def readme_real_table() -> str:
    """The README's table of the real projects (tests/outside/real_findings.py)."""
    from real_cases import real_table
    from real_findings import REAL

    return real_table(REAL)


if __name__ == "__main__":
    print(readme_table(), readme_real_table(), sep="\n\n")
