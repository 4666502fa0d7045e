"""Findings and results: severities, ok, rule lookups, the JSON-ready dict."""

from __future__ import annotations

import pytest

from dbops.checks import available_rules, select_rules
from dbops.core.errors import ConfigError
from dbops.core.findings import METRIC_KEYS, CheckResult, Finding
from dbops.report import finding_line


def test_finding_is_frozen_and_validates_severity() -> None:
    finding = Finding("C1-model-table", "error", "roles", "missing", "invoke migrate")
    with pytest.raises(AttributeError):
        finding.object = "users"  # type: ignore[misc]
    with pytest.raises(ValueError, match="severity 'fatal'"):
        Finding("C1-model-table", "fatal", "roles", "missing")
    assert finding.code == "C1"
    assert finding_line(finding) == "error C1-model-table roles: missing (fix: invoke migrate)"


def test_ok_ignores_warnings() -> None:
    warning = Finding("B3-todo", "warning", "a.py:3", "TODO")
    error = Finding("C5-enums", "error", "mood", "differs")
    assert CheckResult([warning]).ok
    assert not CheckResult([warning, error]).ok
    assert CheckResult([warning, error]).errors == [error]
    assert CheckResult([warning, error]).by_rule("C5") == [error]
    assert CheckResult([warning, error]).by_rule("B3-todo") == [warning]


def test_to_dict_has_every_metric_key() -> None:
    doc = CheckResult([], {"models": 3, "custom": 1}, ["C1-model-table"]).to_dict()
    assert list(doc["metrics"])[: len(METRIC_KEYS)] == list(METRIC_KEYS)
    assert doc["metrics"]["models"] == 3 and doc["metrics"]["custom"] == 1 and doc["metrics"]["tables"] == 0
    assert doc == {
        "ok": True,
        "findings": [],
        "metrics": doc["metrics"],
        "rules": ["C1-model-table"],
        "not_checked": [],
    }


def test_registry_lists_the_builtin_rules_by_module() -> None:
    rules = available_rules()
    assert [code for code in rules if code in ("C1", "C2", "C3", "C4", "C5", "C6", "B")] == [
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
        "C6",
        "B",
    ]
    assert rules["C4"] == "dbops.checks.c4_constraints"


def test_select_rules_by_code_id_or_finding_rule() -> None:
    assert [r.code for r in select_rules(["C3", "C1-model-table", "B1-commented-code"])] == ["C3", "C1", "B"]
    assert select_rules(["C5"])[0].ids == ("C5-enums",)
    assert select_rules(["B"])[0].ids == ("B0-syntax", "B1-commented-code", "B2-downgrade", "B3-todo")
    with pytest.raises(ConfigError, match="unknown consistency rule 'C9'"):
        select_rules(["C9"])
