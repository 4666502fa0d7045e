"""C3 on two catalogs: the columns of each table both databases hold, and table comments.

PostgreSQL printed both sides (:mod:`dbops.checks.compare`), so a type, a nullability or a default
compares as text. Two spellings PostgreSQL keeps apart are nevertheless one value, and are made one
by :func:`column_default`; each is documented there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from dbops.checks.hints import new_revision_hint
from dbops.core.findings import ERROR, WARNING, Finding

RULE = "C3-columns"

OWN_SEQUENCE = "nextval(<the column's own sequence>)"
# Literals and quoted identifiers are skipped whole; outside them, the transaction start time's other spellings.
_NOW = re.compile(
    r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|(?<![\w.])(?:CURRENT_TIMESTAMP\b(?!\s*\()|transaction_timestamp\(\))"""
)
_SEQUENCE_OPTIONS = (
    ("type", "AS"),
    ("start", "START"),
    ("increment", "INCREMENT"),
    ("min", "MINVALUE"),
    ("max", "MAXVALUE"),
    ("cycle", "CYCLE"),
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def same_now(expr: str) -> str:
    """``expr`` with ``CURRENT_TIMESTAMP`` and ``transaction_timestamp()`` read as ``now()``.

    The three are one function, the start time of the transaction, which PostgreSQL prints as it was
    written (``CURRENT_TIMESTAMP`` is kept as a keyword since PostgreSQL 10). ``CURRENT_TIMESTAMP(3)``,
    ``LOCALTIMESTAMP``, ``statement_timestamp()`` and ``clock_timestamp()`` are other values and stay.
    """
    return _NOW.sub(lambda m: m.group(1) or "now()", expr)


def column_default(column: dict[str, Any]) -> str | None:
    """The column's default as compared: PostgreSQL's text, with two spellings of one value made one.

    ``nextval('<seq>'::regclass)`` of the sequence the column itself owns (a serial column) reads as
    :data:`OWN_SEQUENCE`: a table renamed by a migration keeps the sequence name it was created with,
    while ``create_all`` names it after the new table; what the default does is the same. A column
    taking values from a sequence it does not own keeps the sequence's name, and an identity column
    has no default at all, so serial against identity is still a difference. Then :func:`same_now`.
    """
    default: str | None = column["default"]
    if default is None:
        return None
    sequence = column.get("sequence")
    if sequence and default == f"nextval({_literal(sequence)}::regclass)":
        return OWN_SEQUENCE
    return same_now(default)


def _source(column: dict[str, Any]) -> str:
    """Where the column's value comes from when an INSERT leaves it out, as DDL."""
    if column["identity"]:
        return f"GENERATED {column['identity'].upper()} AS IDENTITY"
    if column["generated"]:
        return f"GENERATED ALWAYS AS ({column['default']}) {column['generated'].upper()}"
    return f"DEFAULT {column['default']}" if column["default"] is not None else "no default"


def describe(column: dict[str, Any]) -> str:
    """The column as DDL: type, nullability, default, identity or generation, collation."""
    text = column["type"] + (f' COLLATE "{column["collation"]}"' if column.get("collation") else "")
    text += " NULL" if column["nullable"] else " NOT NULL"
    source = _source(column)
    return text if source == "no default" else f"{text} {source}"


def _collation(column: dict[str, Any]) -> str:
    return f'"{column["collation"]}"' if column.get("collation") else "default"


def _finding(obj: str, what: str, hint: str, severity: str = ERROR) -> Finding:
    return Finding(RULE, severity, obj, f"column {obj} differs in {what}", hint)


def _owned_sequences(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ "table.column" -> the sequence that column owns."""
    return {seq["owned_by"]: seq for seq in catalog["sequences"].values() if seq.get("owned_by")}


def _sequence_options(model: dict[str, Any], db: dict[str, Any]) -> tuple[str, str]:
    """The options that differ between two sequences, as ALTER SEQUENCE words for each side."""

    def words(seq: dict[str, Any]) -> str:
        return " ".join(
            f"{word} {seq[key]}" if key != "cycle" else ("CYCLE" if seq[key] else "NO CYCLE")
            for key, word in _SEQUENCE_OPTIONS
            if model[key] != db[key]
        )

    return words(model), words(db)


def _pair(obj: str, model: dict[str, Any], db: dict[str, Any], seqs: tuple[Any, Any]) -> Iterator[Finding]:
    hint = new_revision_hint(f"alter {obj}")
    if model["type"] != db["type"]:
        yield _finding(obj, f"type: model {model['type']}, database {db['type']}", hint)
    if model["nullable"] != db["nullable"]:
        words = {True: "NULL", False: "NOT NULL"}
        yield _finding(obj, f"nullability: model {words[model['nullable']]}, database {words[db['nullable']]}", hint)
    if model["identity"] != db["identity"]:
        yield _finding(obj, f"identity: model {_source(model)}, database {_source(db)}", hint)
    elif model["generated"] != db["generated"] or (model["generated"] and model["default"] != db["default"]):
        yield _finding(obj, f"generated expression: model {_source(model)}, database {_source(db)}", hint)
    elif not model["generated"] and column_default(model) != column_default(db):
        yield _finding(
            obj, f"server default: model {model['default'] or 'none'}, database {db['default'] or 'none'}", hint
        )
    elif (
        seqs[0]
        and seqs[1]
        and model["type"] == db["type"]
        and any(seqs[0][key] != seqs[1][key] for key, _ in _SEQUENCE_OPTIONS)
    ):
        # Same identity or serial on both sides: what is left is the sequence behind it (a serial column
        # whose type a migration widened keeps a sequence of the old type, and its ceiling).
        model_words, db_words = _sequence_options(*seqs)
        yield _finding(
            obj,
            f"its sequence: model {model_words}, database {db_words}",
            f"{hint}: op.execute('ALTER SEQUENCE {db['sequence']} {model_words}')",
        )
    if model.get("collation") != db.get("collation"):
        yield _finding(obj, f"collation: model {_collation(model)}, database {_collation(db)}", hint)
    if model.get("comment") != db.get("comment"):
        # Worth knowing, not worth failing: a comment changes no behaviour.
        yield _finding(obj, f"comment: model {model.get('comment')!r}, database {db.get('comment')!r}", hint, WARNING)


def compare_columns(models: dict[str, Any], history: dict[str, Any], tables: list[str]) -> Iterator[Finding]:
    """Missing, extra and different columns, and table comments, of ``tables`` (present on both sides)."""
    owned = (_owned_sequences(models), _owned_sequences(history))
    for table in tables:
        model, db = models["tables"][table], history["tables"][table]
        yield from _table_comment(table, model.get("comment"), db.get("comment"))
        for name in sorted(set(model["columns"]) | set(db["columns"])):
            obj = f"{table}.{name}"
            if name not in db["columns"]:
                yield Finding(
                    RULE,
                    ERROR,
                    obj,
                    f"model column {obj} ({describe(model['columns'][name])}) does not exist in the database",
                    new_revision_hint(f"add {obj}"),
                )
            elif name not in model["columns"]:
                yield Finding(
                    RULE,
                    ERROR,
                    obj,
                    f"database column {obj} ({describe(db['columns'][name])}) has no model attribute",
                    f"add it to the model or drop it with {new_revision_hint(f'drop {obj}')}",
                )
            else:
                seqs = (owned[0].get(obj), owned[1].get(obj))
                yield from _pair(obj, model["columns"][name], db["columns"][name], seqs)


def _table_comment(table: str, model: str | None, db: str | None) -> Iterator[Finding]:
    if model == db:
        return
    if model is None:
        message = f"table {table} has a comment in the database but none in the model"
    else:
        message = f"table {table} comment differs: model {model!r}, database {db!r}"
    yield Finding(RULE, WARNING, table, message, new_revision_hint(f"comment on {table}"))
