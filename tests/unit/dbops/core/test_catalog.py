"""The index definition read_catalog stores: pg_get_indexdef without the index's name and the table's schema."""

from __future__ import annotations

import pytest

from dbops.core.catalog import index_definition


@pytest.mark.parametrize(
    "indexdef, name, schema, expected",
    [
        (
            "CREATE INDEX ix_a ON public.t USING btree (lower(c) DESC NULLS LAST) WHERE (g > 0)",
            "ix_a",
            "public",
            "CREATE INDEX ON t USING btree (lower(c) DESC NULLS LAST) WHERE (g > 0)",
        ),
        (
            "CREATE UNIQUE INDEX uq ON app.t USING btree (a) INCLUDE (b) NULLS NOT DISTINCT",
            "uq",
            "app",
            "CREATE UNIQUE INDEX ON t USING btree (a) INCLUDE (b) NULLS NOT DISTINCT",
        ),
        (
            'CREATE INDEX "Ix ON x" ON ONLY "My Schema"."T" USING btree (a)',
            '"Ix ON x"',
            '"My Schema"',
            'CREATE INDEX ON ONLY "T" USING btree (a)',
        ),
    ],
)
def test_the_name_and_schema_are_cut(indexdef: str, name: str, schema: str, expected: str) -> None:
    assert index_definition(indexdef, name, schema) == expected


def test_two_names_of_one_definition_compare_equal() -> None:
    first = index_definition("CREATE INDEX ix_a ON public.t USING btree (a)", "ix_a", "public")
    second = index_definition("CREATE INDEX ix_b ON public.t USING btree (a)", "ix_b", "public")
    assert first == second


def test_an_unexpected_form_is_kept_whole() -> None:
    odd = "CREATE INDEX CONCURRENTLY ix ON public.t USING btree (a)"
    assert index_definition(odd, "ix", "public") == odd
