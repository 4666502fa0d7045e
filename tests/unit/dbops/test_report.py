"""Reports: JSON matches its documented schema, JUnit parses and counts failures, markdown carries the ER diagram."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dbops.core.findings import CheckResult, Finding
from dbops.report import (
    JSON_SCHEMA,
    mermaid_er,
    render_audit_markdown,
    render_json,
    render_junit,
    render_status,
    render_text,
)

RULES = ["C1-model-table", "C2-table-model", "C3-columns", "C4-constraints", "C5-enums", "C6-history", "B3-todo"]
METRICS = {
    "models": 5,
    "tables": 3,
    "models_with_tables": 3,
    "models_without_tables": 2,
    "missing_tables": 2,
    "extra_tables": 0,
    "migration_blockers": 1,
}


@pytest.fixture()
def result() -> CheckResult:
    findings = [
        Finding(
            "C1-model-table", "error", "roles", "model table roles does not exist", 'invoke migrate.new -m "add roles"'
        ),
        Finding("C1-model-table", "error", "user_roles", "model table user_roles does not exist", "invoke migrate"),
        Finding(
            "C3-columns", "error", "users.email", "column users.email differs in type | pipe", "invoke migrate.new"
        ),
        Finding("B3-todo", "warning", "migrations/versions/0001.py:7", "TODO left in a migration", "finish it"),
    ]
    return CheckResult(findings=findings, metrics=dict(METRICS), rules=list(RULES))


def _column(type_: str, nullable: bool = True) -> dict[str, object]:
    return {"type": type_, "nullable": nullable}


def _key(kind: str, columns: list[str], ref: str | None = None) -> dict[str, object]:
    return {"type": kind, "columns": columns, **({"ref_table": ref} if ref else {})}


@pytest.fixture()
def metadata() -> dict[str, object]:
    """The models' catalog, in the shape dbops.core.catalog.read_catalog gives (only what the diagram reads)."""
    tables = {
        "users": {
            "columns": {"id": _column("bigint", False), "email": _column("character varying(255)")},
            "constraints": {"users_pkey": _key("primary key", ["id"])},
        },
        "roles": {
            "columns": {"id": _column("integer", False), "name": _column("text")},
            "constraints": {"roles_pkey": _key("primary key", ["id"])},
        },
        "user_roles": {
            "columns": {
                "user_id": _column("bigint", False),
                "role_id": _column("integer", False),
                "granted_by": _column("bigint"),
            },
            "constraints": {
                "user_roles_pkey": _key("primary key", ["user_id", "role_id"]),
                "user_roles_user_id_fkey": _key("foreign key", ["user_id"], "users"),
                "user_roles_role_id_fkey": _key("foreign key", ["role_id"], "roles"),
                "user_roles_granted_by_fkey": _key("foreign key", ["granted_by"], "users"),
            },
        },
        "profiles": {
            "columns": {
                "id": _column("integer", False),
                "user_id": _column("bigint", False),
                "created_at": _column("timestamp with time zone"),
            },
            "constraints": {
                "profiles_pkey": _key("primary key", ["id"]),
                "profiles_user_id_key": _key("unique", ["user_id"]),
                "profiles_user_id_fkey": _key("foreign key", ["user_id"], "users"),
            },
        },
    }
    return {"tables": tables, "indexes": {}}


def test_json_validates_against_the_documented_schema(result: CheckResult) -> None:
    doc = json.loads(render_json(result))
    jsonschema.validate(doc, JSON_SCHEMA)
    assert doc["ok"] is False
    assert [f["object"] for f in doc["findings"]] == [
        "roles",
        "user_roles",
        "users.email",
        "migrations/versions/0001.py:7",
    ]
    assert doc["metrics"] == METRICS
    assert doc["rules"] == RULES


def test_json_schema_rejects_a_bad_document(result: CheckResult) -> None:
    doc = json.loads(render_json(result))
    doc["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, JSON_SCHEMA)


def test_clean_result_is_ok_in_json() -> None:
    doc = json.loads(render_json(CheckResult(metrics={}, rules=["C1-model-table"])))
    jsonschema.validate(doc, JSON_SCHEMA)
    assert doc["ok"] is True and doc["findings"] == []
    assert doc["metrics"]["missing_tables"] == 0


def test_junit_one_testcase_per_rule_one_failure_per_error(result: CheckResult, tmp_path: Path) -> None:
    path = tmp_path / "consistency.xml"
    render_junit(result, path)
    suite = ET.parse(path).getroot()
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == RULES
    assert suite.get("tests") == str(len(RULES))
    assert len(suite.findall(".//failure")) == 3
    assert len(cases["C1-model-table"].findall("failure")) == 2
    assert suite.get("failures") == "2"  # testcases that failed: C1 and C3
    assert cases["C3-columns"].find("failure").get("message").startswith("users.email: column users.email")  # type: ignore[union-attr]
    assert cases["B3-todo"].find("failure") is None
    assert "TODO left" in (cases["B3-todo"].findtext("system-out") or "")
    assert cases["C5-enums"].find("failure") is None


def test_markdown_has_status_findings_and_mermaid(result: CheckResult, metadata: dict[str, Any]) -> None:
    md = render_audit_markdown(result, metadata)
    assert "## Database Schema" in md
    assert "Missing Tables:               2 ❌" in md
    assert "Existing Tables:              3 ✅" in md
    assert md.count("| error |") == 3 and md.count("| warning |") == 1
    assert "differs in type \\| pipe" in md  # a pipe in a message does not break the table
    block = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith("erDiagram\n")
    for table in metadata["tables"]:
        assert f"    {table} {{" in block
    assert "        bigint id PK" in block
    assert "        bigint user_id PK, FK" in block
    assert '    users ||--o{ user_roles : "user_id"' in block
    assert '    users |o--o{ user_roles : "granted_by"' in block
    assert '    users ||--o| profiles : "user_id"' in block  # unique FK: one-to-one


def test_mermaid_lists_only_key_columns(metadata: dict[str, Any]) -> None:
    block = mermaid_er(metadata)
    assert "email" not in block and "created_at" not in block


def test_text_report_plain_when_not_a_terminal(result: CheckResult) -> None:
    out = io.StringIO()
    render_text(result, out)
    text = out.getvalue()
    assert "ERROR   C1-model-table     roles" in text
    assert "fix: invoke migrate" in text
    assert "WARNING B3-todo" in text
    assert text.rstrip().endswith("3 errors, 1 warnings (7 rules)")
    assert "\x1b[" not in text  # no colour codes when the stream is not a terminal


def test_status_block_matches_the_seed_layout() -> None:
    assert render_status(METRICS).splitlines() == [
        "Total Models:                 5 ✅",
        "Models with Tables:           3 ✅",
        "Models WITHOUT Tables:        2 ❌",
        "Missing Tables:               2 ❌",
        "Existing Tables:              3 ✅",
        "Migration Blockers:           1 ❌",
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_report_on_a_terminal_keeps_sql_brackets() -> None:
    finding = Finding("C4-constraints", "error", "ck_x", "model kind IN ('a'), database ARRAY['a'] [bold]", "fix it")
    out = _Terminal()
    render_text(CheckResult([finding], dict(METRICS), ["C4-constraints"]), out)
    text = out.getvalue()
    assert "ARRAY['a']" in text and "[bold]" in text  # printed, not read as rich markup
    assert "1 errors, 0 warnings (1 rules)" in text
