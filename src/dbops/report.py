"""Reports of a CheckResult: text (rich on a terminal), JSON, JUnit XML, and the markdown audit report.

The JSON document (``render_json``) has this shape, also given as ``JSON_SCHEMA`` (JSON Schema)::

    {
      "ok": true,                      # no finding of severity "error"
      "findings": [                    # sorted by rule, object, message
        {"rule": "C1-model-table",     # rule id: code + name
         "severity": "error",          # "error" fails the run, "warning" does not
         "object": "roles",            # table, table.column, constraint/index, enum, revision or path:line
         "message": "...",             # what is expected against what is there
         "hint": "invoke migrate"}     # the fix
      ],
      "metrics": {"models": 29, "tables": 20, "models_with_tables": 20, "models_without_tables": 9,
                  "missing_tables": 9, "extra_tables": 0, "migration_blockers": 0},
      "rules": ["C1-model-table", ...] # the rule ids that were asked for
      "not_checked": [                 # rules that could not run, and why (empty when all ran)
        {"rule": "C1-model-table", "reason": "the history is broken (see C6-history): ..."}
      ]
    }
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from dbops.core.errors import ConfigError
from dbops.core.findings import ERROR, METRIC_KEYS, STATUS_LABELS, CheckResult, Finding, status_block

_FINDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["rule", "severity", "object", "message", "hint"],
    "additionalProperties": False,
    "properties": {
        "rule": {"type": "string", "pattern": r"^[A-Z][0-9]*-[a-z0-9-]+$"},
        "severity": {"enum": ["error", "warning"]},
        "object": {"type": "string", "minLength": 1},
        "message": {"type": "string", "minLength": 1},
        "hint": {"type": "string"},
    },
}
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "dbops consistency result",
    "type": "object",
    "required": ["ok", "findings", "metrics"],
    "properties": {
        "ok": {"type": "boolean"},
        "findings": {"type": "array", "items": _FINDING_SCHEMA},
        "metrics": {
            "type": "object",
            "required": list(METRIC_KEYS),
            # null: not measured (a rule could not look); never a number it did not see.
            "additionalProperties": {"type": ["integer", "null"], "minimum": 0},
        },
        "rules": {"type": "array", "items": {"type": "string"}},
        "not_checked": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule", "reason"],
                "additionalProperties": False,
                "properties": {"rule": {"type": "string"}, "reason": {"type": "string", "minLength": 1}},
            },
        },
    },
}


def render_json(result: CheckResult) -> str:
    """The result as a JSON document (see JSON_SCHEMA)."""
    return json.dumps(result.to_dict(), indent=2)


def _summary(result: CheckResult) -> str:
    if not result.findings and not result.not_checked:
        return f"consistent: {len(result.rules)} rules, no findings"
    unchecked = f", {len(result.not_checked)} rules not checked" if result.not_checked else ""
    return f"{len(result.errors)} errors, {len(result.warnings)} warnings ({len(result.rules)} rules{unchecked})"


def _not_checked_lines(result: CheckResult) -> list[str]:
    return [f"not checked: {rule}: {why}" for rule, why in result.not_checked.items()]


def render_text(result: CheckResult, stream: IO[str]) -> None:
    """Write a readable report to ``stream``: a rich table on a terminal, plain lines otherwise."""
    if stream.isatty():
        try:
            _render_rich(result, stream)
            return
        except ImportError:
            pass
    for finding in result.findings:
        print(f"{finding.severity.upper():7} {finding.rule:18} {finding.object}", file=stream)
        print(f"        {finding.message}", file=stream)
        if finding.hint:
            print(f"        fix: {finding.hint}", file=stream)
    for line in _not_checked_lines(result):
        print(line, file=stream)
    print(render_status(result.metrics, result.unmeasured), file=stream)
    print(_summary(result), file=stream)


def _render_rich(result: CheckResult, stream: IO[str]) -> None:
    from rich.console import Console  # optional: plain text when rich is missing
    from rich.markup import escape
    from rich.table import Table as RichTable

    console = Console(file=stream)
    if result.findings:
        table = RichTable(show_lines=True)
        for heading in ("severity", "rule", "object", "message", "fix"):
            table.add_column(heading, overflow="fold")
        for f in result.findings:
            color = "red" if f.severity == ERROR else "yellow"
            # Messages quote SQL such as ARRAY['a']: escaped, or rich would read it as markup.
            table.add_row(
                f"[{color}]{f.severity}[/]", *(escape(cell) for cell in (f.rule, f.object, f.message, f.hint))
            )
        console.print(table)
    for line in _not_checked_lines(result):
        console.print(line, markup=False, highlight=False)
    console.print(render_status(result.metrics, result.unmeasured), markup=False, highlight=False)
    console.print(f"[{'green' if result.ok else 'red'}]{_summary(result)}[/]", highlight=False)


def summarize_findings(findings: Sequence[Finding], shown: int = 9) -> str:
    """One line for a summary cell: per rule (consistency rules first), how many and on what objects."""
    groups: dict[str, list[str]] = {}
    for f in findings:
        obj = f.object.rsplit("/", 1)[-1]  # path:line reads as file:line
        groups.setdefault(f.rule, [])
        if obj not in groups[f.rule]:
            groups[f.rule].append(obj)
    parts = []
    for rule in sorted(groups, key=lambda r: (not r.startswith("C"), r)):
        objects = groups[rule]
        more = f", +{len(objects) - shown} more" if len(objects) > shown else ""
        count = sum(1 for f in findings if f.rule == rule)
        parts.append(f"{rule} ({count}): {', '.join(objects[:shown])}{more}")
    return f"{len(findings)} finding(s): " + "; ".join(parts)


def render_status(metrics: dict[str, int], unmeasured: set[str] | frozenset[str] = frozenset()) -> str:
    """The seed's "Database Schema" block: one aligned line per number; a number not measured says so."""
    numbers = status_block(metrics, unmeasured)
    bad = {"models_without_tables", "missing_tables", "migration_blockers"}
    lines = []
    for label, key in STATUS_LABELS.items():
        value = numbers[key]
        if value is None:
            lines.append(f"{label + ':':28}  ? not checked")
            continue
        mark = "❌" if key in bad and value else "✅"
        lines.append(f"{label + ':':28}{value:>3} {mark}")
    return "\n".join(lines)


def render_junit(result: CheckResult, path: Path | str | None = None) -> str:
    """JUnit XML: one testcase per rule, one <failure> per error finding (warnings go to system-out)."""
    rules = list(dict.fromkeys([*result.rules, *(f.rule for f in result.findings)]))
    suite = ET.Element(
        "testsuite",
        name="dbops.consistency",
        tests=str(len(rules)),
        failures=str(sum(1 for r in rules if any(f.severity == ERROR for f in result.findings if f.rule == r))),
        errors=str(sum(1 for r in rules if r in result.not_checked)),
        skipped="0",
    )
    for rule in rules:
        case = ET.SubElement(suite, "testcase", classname="dbops.consistency", name=rule)
        if rule in result.not_checked:  # an error, not a skip: a rule that could not look has not passed
            ET.SubElement(case, "error", message=f"not checked: {result.not_checked[rule]}", type="not-checked")
        mine = [f for f in result.findings if f.rule == rule]
        for f in mine:
            if f.severity == ERROR:
                failure = ET.SubElement(case, "failure", message=f"{f.object}: {f.message}", type=f.rule)
                failure.text = f"{f.object}: {f.message}\nfix: {f.hint}"
        warnings = [finding_line(f) for f in mine if f.severity != ERROR]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(warnings)
    ET.indent(suite)
    text = ET.tostring(suite, encoding="unicode", xml_declaration=True)
    if path is not None:
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _mermaid_type(type_: str) -> str:
    match = _WORD.match(type_.lower().replace(" ", "_"))
    return match.group() if match else "unknown"


def _unique_sets(catalog: dict[str, Any], table: str) -> list[set[str]]:
    """Column sets unique on every row (a partial unique index is not: it covers some rows only)."""
    constraints = catalog["tables"][table]["constraints"].values()
    sets = [set(c["columns"]) for c in constraints if c["type"] in ("unique", "primary key")]
    sets += [
        set(ix["columns"])
        for ix in catalog["indexes"].values()
        if ix["table"] == table and ix["unique"] and ix["predicate"] is None
    ]
    return sets


def mermaid_er(catalog: dict[str, Any]) -> str:
    """A Mermaid ``erDiagram`` of a catalog (the models'): every table, its key columns (PK, FK), its foreign keys."""
    lines = ["erDiagram"]
    tables = catalog["tables"]
    for name in sorted(tables):
        constraints = tables[name]["constraints"].values()
        pk = {col for c in constraints if c["type"] == "primary key" for col in c["columns"]}
        fk = {col for c in constraints if c["type"] == "foreign key" for col in c["columns"]}
        lines.append(f"    {name} {{")
        for column, spec in tables[name]["columns"].items():
            keys = [k for k, keyed in (("PK", column in pk), ("FK", column in fk)) if keyed]
            if keys:
                lines.append(f"        {_mermaid_type(spec['type'])} {column} {', '.join(keys)}")
        lines.append("    }")
    for name in sorted(tables):
        fks = [c for c in tables[name]["constraints"].values() if c["type"] == "foreign key"]
        for con in sorted(fks, key=lambda c: ",".join(c["columns"])):
            optional = any(tables[name]["columns"][col]["nullable"] for col in con["columns"])
            unique = set(con["columns"]) in _unique_sets(catalog, name)
            left = "|o" if optional else "||"
            right = "o|" if unique else "o{"
            lines.append(f'    {con["ref_table"]} {left}--{right} {name} : "{", ".join(con["columns"])}"')
    return "\n".join(lines)


def _findings_md(findings: Iterable[Finding]) -> list[str]:
    rows = ["| Severity | Rule | Object | Finding | Fix |", "|---|---|---|---|---|"]
    for f in findings:
        cells = [f.severity, f.rule, f"`{f.object}`", f.message, f"`{f.hint}`" if f.hint else ""]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return rows


def render_audit_markdown(result: CheckResult, models: dict[str, Any], title: str = "Models Audit Report") -> str:
    """A markdown audit report: the status block, every finding, and an ER diagram of the models."""
    out = [f"# {title}", "", f"**Status:** {'✅ consistent' if result.ok else '❌ ' + _summary(result)}", ""]
    out += ["## Database Schema", "", "```", render_status(result.metrics, result.unmeasured), "```", ""]
    out += ["## Findings", ""]
    out += _findings_md(result.findings) if result.findings else ["No findings."]
    out += ["", f"Rules run: {', '.join(result.rules) or 'none'}.", ""]
    out += [f"- {line}" for line in _not_checked_lines(result)] + ([""] if result.not_checked else [])
    out += ["## Entity-relationship diagram", "", "```mermaid", mermaid_er(models), "```", ""]
    return "\n".join(out)


def finding_line(finding: Finding) -> str:
    """``severity rule object: message (fix: hint)`` on one line."""
    fix = f" (fix: {finding.hint})" if finding.hint else ""
    return f"{finding.severity} {finding.rule} {finding.object}: {finding.message}{fix}"


def history_lines(findings: Iterable[Finding]) -> list[str]:
    """A broken history's findings as the lines every task shows (``rule object: message (fix: hint)``)."""
    return [f"{f.rule} {f.object}: {f.message} (fix: {f.hint})" for f in findings]


def render_finding_lines(result: CheckResult, clean: str, severity: bool = True) -> str:
    """One line per finding (object, severity, rule, message, fix) and per rule not checked, then the count.

    ``clean`` only when every rule looked and found nothing.
    """
    lines = [
        f"{f.object}: {f.severity + ' ' if severity else ''}{f.rule}: {f.message} (fix: {f.hint})"
        for f in result.findings
    ]
    lines += _not_checked_lines(result)
    if result.findings or result.not_checked:
        unchecked = f", {len(result.not_checked)} rule(s) not checked" if result.not_checked else ""
        lines.append(f"{len(result.findings)} finding(s){unchecked}")
    else:
        lines.append(clean)
    return "\n".join(lines)


def render_failed_outputs(result: Any) -> str:
    """The output of every step of a pipeline result that did not pass."""
    return "\n".join(r.output.strip() for r in result.results if r.status != "passed")


def render_checks(checks: Iterable[Any]) -> str:
    """The doctor's checks, one line each: ok, FAIL (required) or warn, with the fix when not ok."""
    lines = []
    for chk in checks:
        mark = "ok  " if chk.ok else ("FAIL" if chk.required else "warn")
        lines.append(f"{mark} {chk.name}: {chk.detail}" + ("" if chk.ok else f"  -> {chk.fix}"))
    return "\n".join(lines)


def emit(result: CheckResult, fmt: str, junit: str | None = None, stream: IO[str] | None = None) -> None:
    """Print a result as ``text`` or ``json`` and optionally write JUnit XML too."""
    out = stream or sys.stdout
    if fmt == "json":
        print(render_json(result), file=out)
    elif fmt == "text":
        render_text(result, out)
    else:
        raise ConfigError(f"unknown format {fmt!r}", "use --format text or --format json")
    if junit:
        render_junit(result, junit)
