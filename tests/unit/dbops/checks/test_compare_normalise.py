"""The comparison's normalisations: only what PostgreSQL prints differently for one and the same thing."""

from __future__ import annotations

from typing import Any

import pytest

from dbops.checks.compare_columns import OWN_SEQUENCE, column_default, same_now
from dbops.checks.compare_constraints import constraint_definition


def column(default: str | None, sequence: str | None = None) -> dict[str, Any]:
    return {"default": default, "sequence": sequence}


def test_the_default_of_the_columns_own_sequence_reads_alike_whatever_its_name() -> None:
    renamed = column_default(column("nextval('stuff_id_seq'::regclass)", "stuff_id_seq"))
    created = column_default(column("nextval('things_id_seq'::regclass)", "things_id_seq"))
    assert renamed == created == OWN_SEQUENCE


def test_a_quoted_or_qualified_own_sequence_is_recognised() -> None:
    name = 'other."Odd\'seq"'
    assert column_default(column("nextval('other.\"Odd''seq\"'::regclass)", name)) == OWN_SEQUENCE


@pytest.mark.parametrize(
    "default, sequence",
    [
        ("nextval('shared_seq'::regclass)", None),  # a sequence the column does not own
        ("nextval('shared_seq'::regclass)", "t_id_seq"),  # owns one, draws from another
        ("(nextval('t_id_seq'::regclass) * 2)", "t_id_seq"),  # more than the bare nextval
    ],
)
def test_any_other_sequence_default_keeps_its_text(default: str, sequence: str | None) -> None:
    assert column_default(column(default, sequence)) == default


def test_no_default_stays_none() -> None:
    assert column_default(column(None, "t_id_seq")) is None


@pytest.mark.parametrize("spelling", ["now()", "CURRENT_TIMESTAMP", "transaction_timestamp()"])
def test_the_transaction_start_time_reads_as_now(spelling: str) -> None:
    assert same_now(spelling) == "now()"
    assert same_now(f"({spelling} + '1 day'::interval)") == "(now() + '1 day'::interval)"


@pytest.mark.parametrize(
    "other",
    [
        "CURRENT_TIMESTAMP(3)",  # another precision: another value
        "LOCALTIMESTAMP",
        "statement_timestamp()",
        "clock_timestamp()",
        "'CURRENT_TIMESTAMP'::text",  # a string literal
        '"CURRENT_TIMESTAMP"',  # a quoted identifier
        "my.transaction_timestamp()",  # a function of another schema
    ],
)
def test_other_times_literals_and_identifiers_are_left_alone(other: str) -> None:
    assert same_now(other) == other


def test_not_valid_is_not_compared_only_when_the_constraint_is_not_validated() -> None:
    pending = {"definition": "CHECK ((x > 0)) NOT VALID", "validated": False}
    assert constraint_definition(pending) == "CHECK ((x > 0))"
    # A validated constraint's text is whole (a CHECK could only end so inside a literal).
    assert constraint_definition({"definition": "CHECK ((x > 0))", "validated": True}) == "CHECK ((x > 0))"
