"""Deliberate exceptions: a finding the project accepts shows as a warning with its reason, and does not fail.

In the revision file: ``# dbops: allow M1-index-not-concurrent the table holds 40 rows`` (the rule's id
or its code, then the reason). In pyproject.toml: ``review_allow = ["0012_x:M1:the table holds 40
rows"]`` under ``[tool.dbops]`` (``*`` for every revision).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from dbops.core.errors import ConfigError
from dbops.core.findings import WARNING, Finding

_COMMENT = re.compile(r"#[ \t]*dbops:[ \t]*allow[ \t]+([A-Za-z][\w-]*)[ \t]+(\S.*?)[ \t]*$", re.M)


def from_file(path: Path) -> dict[str, str]:
    """rule -> reason, from the revision file's allow comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    return {rule: reason for rule, reason in _COMMENT.findall(text)}


def from_settings(entries: tuple[str, ...], revision: str) -> dict[str, str]:
    """rule -> reason, from ``review_allow`` entries naming this revision (or ``*``)."""
    out = {}
    for entry in entries:
        parts = [p.strip() for p in entry.split(":", 2)]
        if len(parts) != 3 or not all(parts):
            raise ConfigError(
                f"review_allow entry {entry!r} is not REVISION:RULE:REASON",
                'e.g. review_allow = ["0012_add_index:M1:the table holds 40 rows"]',
            )
        rev, rule, reason = parts
        if rev in (revision, "*"):
            out[rule] = reason
    return out


def apply(findings: list[Finding], allowed: dict[str, str]) -> list[Finding]:
    """The findings, those ``allowed`` names (by id or code) turned into accepted warnings."""
    out = []
    for f in findings:
        reason = allowed.get(f.rule) or allowed.get(f.code)
        if reason:
            f = replace(f, severity=WARNING, message=f"accepted ({reason}): {f.message}")
        out.append(f)
    return out
