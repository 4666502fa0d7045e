"""The data 0003_provider_columns moves, with dbops's revision_data fixture: rows at 0002, one step up, one down."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from dbops.lifecycle.stepdata import RevisionData


def _rows(engine: Engine, query: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(query))]


def _columns(engine: Engine, table: str) -> set[str]:
    query = f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
    return {row[0] for row in _rows(engine, query)}


def test_0003_fills_provider_from_the_old_columns_and_gives_them_back_on_downgrade(revision_data: Any) -> None:
    step: RevisionData = revision_data("0003_provider_columns")
    assert step.parent == "0002_provider_enum"
    with step.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, password_hash) VALUES (1, 'a@example.com', 'x')"))
        # Written at 0002 through the old free-text columns only (provider NULL), and one through both.
        conn.execute(
            text(
                "INSERT INTO invoices (user_id, number, currency, payment_gateway) VALUES "
                "(1, 'INV-1', 'USD', ' Stripe'), (1, 'INV-2', 'USD', NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO payment_methods (user_id, provider_name, provider_method_id, provider) VALUES "
                "(1, 'Pay-Pal', 'pm_1', NULL), (1, 'stripe', 'pm_2', 'stripe')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO payments (user_id, gateway, provider_payment_id, amount, currency) VALUES "
                "(1, 'Bank Transfer', NULL, 2, 'USD'), (1, 'BRAINTREE', 'bt_1', 3, 'USD')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO webhook_events (source, event_id, event_type, payload) VALUES ('paypal', 'e1', 'x', '{}')"
            )
        )

    step.upgrade()
    assert "payment_gateway" not in _columns(step.engine, "invoices")
    assert _rows(step.engine, "SELECT number, provider::text FROM invoices ORDER BY number") == [
        ("INV-1", "stripe"),
        ("INV-2", None),
    ]
    assert _rows(step.engine, "SELECT provider_method_id, provider::text FROM payment_methods ORDER BY 1") == [
        ("pm_1", "paypal"),
        ("pm_2", "stripe"),
    ]
    assert _rows(step.engine, "SELECT amount::int, provider::text FROM payments ORDER BY amount") == [
        (2, "manual"),
        (3, "braintree"),
    ]
    assert _rows(step.engine, "SELECT event_id, provider::text FROM webhook_events") == [("e1", "paypal")]

    step.downgrade()
    assert {"payment_gateway", "provider"} <= _columns(step.engine, "invoices")
    assert _rows(step.engine, "SELECT number, payment_gateway FROM invoices ORDER BY number") == [
        ("INV-1", "Stripe"),
        ("INV-2", None),
    ]
    assert _rows(step.engine, "SELECT provider_method_id, provider_name FROM payment_methods ORDER BY 1") == [
        ("pm_1", "PayPal"),
        ("pm_2", "Stripe"),
    ]
    assert _rows(step.engine, "SELECT amount::int, gateway FROM payments ORDER BY amount") == [
        (2, "Manual"),
        (3, "Braintree"),
    ]
    assert _rows(step.engine, "SELECT source FROM webhook_events") == [("PayPal",)]


def test_a_revision_not_in_the_history_is_one_line(revision_data: Any) -> None:
    import pytest

    from dbops.core.errors import ConfigError

    with pytest.raises(ConfigError, match="'0099_nothing' is not a revision of this history"):
        revision_data("0099_nothing")
