"""Loose comparison of SQL expressions: the model's compiled text against PostgreSQL's deparsed text.

PostgreSQL stores CHECK expressions and index predicates parsed, and prints them back with casts
(``'x'::text``), extra parentheses, ``= ANY (ARRAY[...])`` for ``IN (...)`` and ``>= AND <=`` for
``BETWEEN``. Both sides are reduced to one canonical string; string literals are kept verbatim.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Enum
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import CompileError
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_CAST = re.compile(
    r"::\s*(?:character varying|timestamp with(?:out)? time zone|time with(?:out)? time zone|double precision"
    r'|bit varying|"[^"]+"|[a-z_][a-z0-9_.]*)(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])*'
)
# PostgreSQL prints LIKE and friends as operators.
_OPERATORS = (("!~~*", " not ilike "), ("~~*", " ilike "), ("!~~", " not like "), ("~~", " like "), ("!=", "<>"))
_ANY_ARRAY = re.compile(r"=anyarray\[([^\]]*)\]")
_ALL_ARRAY = re.compile(r"<>allarray\[([^\]]*)\]")
_BETWEEN = re.compile(r"(\S+)\s+between\s+(\S+)\s+and\s+(\S+)")
# pg_get_constraintdef wraps the expression: "CHECK (...)", with " NOT VALID" when not yet validated.
_WRAPPER = re.compile(r"^\s*CHECK\s*|\s*NOT VALID\s*$", re.IGNORECASE)


def _code_parts(expr: str) -> list[tuple[bool, str]]:
    """Split into (is_literal, text) pieces so that only the code outside quotes is rewritten."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for match in _LITERAL.finditer(expr):
        parts.append((False, expr[pos : match.start()]))
        parts.append((True, match.group()))
        pos = match.end()
    parts.append((False, expr[pos:]))
    return parts


def normalize_sql(expr: str | None) -> str:
    """A canonical form of a SQL boolean expression for loose equality; '' for None."""
    if not expr:
        return ""
    expr = _WRAPPER.sub("", expr)
    pieces = []
    for literal, part in _code_parts(expr):
        if literal:
            pieces.append(part)
            continue
        code = part.lower()
        for old, new in _OPERATORS:
            code = code.replace(old, new)
        code = _CAST.sub("", code)
        code = _BETWEEN.sub(r"\1 >= \2 and \1 <= \3", code)
        pieces.append(code)
    # A cast after a literal ('x'::text) starts the next code piece, so it was stripped above too.
    joined = "".join(pieces)
    out = []
    for literal, part in _code_parts(joined):
        out.append(part if literal else re.sub(r'[\s()"]', "", part))
    flat = "".join(out)
    flat = _ANY_ARRAY.sub(r"in\1", flat)
    return _ALL_ARRAY.sub(r"notin\1", flat)


_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def compile_expr(expr: Any) -> str:
    """A model-side expression (text, clause, or string) as PostgreSQL SQL with literal values inlined."""
    if expr is None:
        return ""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, ClauseElement):
        compiled = expr.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True, "include_table": False})
        return str(compiled)
    return str(expr)


def compile_type(type_: TypeEngine[Any] | None) -> str:
    """A column type as PostgreSQL spells it in DDL (an enum by its type name)."""
    if type_ is None:
        return "?"
    if isinstance(type_, Enum) and type_.name:
        return type_.name
    try:
        return str(type_.compile(dialect=_DIALECT))
    except CompileError:
        return repr(type_)  # a type with no PostgreSQL rendering (a project's own) is still worth naming


def render_default(default: Any) -> str:
    """A server default (DefaultClause, text, function or string) as SQL text, 'none' when absent."""
    if default is None or default is False:
        return "none"
    arg = getattr(default, "arg", default)
    if isinstance(arg, str):
        return repr(arg)
    return compile_expr(arg)
