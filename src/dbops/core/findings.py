"""What every check reports: findings (rule, severity, object, message, hint) and a result with metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)

# The metric keys every CheckResult carries (zero when not measured), in display order.
METRIC_KEYS = (
    "models",
    "tables",
    "models_with_tables",
    "models_without_tables",
    "missing_tables",
    "extra_tables",
    "migration_blockers",
)


@dataclass(frozen=True)
class Finding:
    """One problem: which rule saw it, on which object, what is wrong, and how to fix it."""

    rule: str
    severity: str
    object: str
    message: str
    hint: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    @property
    def code(self) -> str:
        """The short rule code, e.g. ``C1`` for ``C1-model-table``."""
        return self.rule.split("-", 1)[0]

    def to_dict(self) -> dict[str, str]:
        """The finding as a JSON-ready dict."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "object": self.object,
            "message": self.message,
            "hint": self.hint,
        }


def sort_key(finding: Finding) -> tuple[str, str, str]:
    """Stable report order: by rule, then object, then message."""
    return (finding.rule, finding.object, finding.message)


@dataclass
class CheckResult:
    """The findings of a run, the metrics it measured, and the rule ids that ran."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, int] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)
    # Rule id -> why it could not run (no database could be built, say); such a result is never ok.
    not_checked: dict[str, str] = field(default_factory=dict)
    # Metric keys that could not be measured: shown as unknown, never as a number.
    unmeasured: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        """True when there is no error finding (warnings do not fail a run) and every rule ran."""
        return not self.errors and not self.not_checked

    @property
    def errors(self) -> list[Finding]:
        """The error findings."""
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """The warning findings."""
        return [f for f in self.findings if f.severity == WARNING]

    def by_rule(self, rule: str) -> list[Finding]:
        """Findings of one rule, given as code (``C3``) or id (``C3-columns``)."""
        return [f for f in self.findings if rule in (f.rule, f.code)]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        """The result ``to_dict`` described (a cached verdict read back)."""
        return cls(
            findings=[Finding(**f) for f in data["findings"]],
            metrics={key: int(value) for key, value in data["metrics"].items() if value is not None},
            rules=list(data["rules"]),
            not_checked={item["rule"]: item["reason"] for item in data["not_checked"]},
            unmeasured={key for key, value in data["metrics"].items() if value is None},
        )

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (schema: ``dbops.report.JSON_SCHEMA``)."""
        return {
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": {
                key: None if key in self.unmeasured else int(self.metrics.get(key, 0))
                for key in (*METRIC_KEYS, *sorted(self.metrics))
            },
            "rules": list(self.rules),
            "not_checked": [{"rule": rule, "reason": why} for rule, why in self.not_checked.items()],
        }


# The seed's "Database Schema" block: label -> metric key.
STATUS_LABELS = {
    "Total Models": "total_models",
    "Models with Tables": "models_with_tables",
    "Models WITHOUT Tables": "models_without_tables",
    "Missing Tables": "missing_tables",
    "Existing Tables": "existing_tables",
    "Migration Blockers": "migration_blockers",
}


# The status numbers' keys -> the metric each one shows.
STATUS_METRICS = {
    "total_models": "models",
    "models_with_tables": "models_with_tables",
    "models_without_tables": "models_without_tables",
    "missing_tables": "missing_tables",
    "existing_tables": "tables",
    "migration_blockers": "migration_blockers",
}


def status_block(metrics: dict[str, int], unmeasured: set[str] | frozenset[str] = frozenset()) -> dict[str, int | None]:
    """The status numbers (keys of STATUS_LABELS' values) from a CheckResult's metrics; None when not measured."""
    return {key: None if metric in unmeasured else metrics.get(metric, 0) for key, metric in STATUS_METRICS.items()}
