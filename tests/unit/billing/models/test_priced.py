"""billing.models.priced: the columns and constraints tariff plans, add-ons and token bundles share."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from billing.models import Addon, Base, TariffPlan, TokenBundle
from billing.models.priced import PricedItemMixin, priced_item_constraints

# Each table's columns in the order the migrations created them: the mixin must not reorder them.
COLUMNS = {
    TariffPlan: "id code name description price currency billing_interval trial_days is_active sort_order",
    Addon: "id code name description price currency billing_interval feature_id extra_limit is_active",
    TokenBundle: "id code name tokens price currency is_active",
}
PRICED = list(COLUMNS)


@pytest.mark.parametrize("model", PRICED, ids=lambda m: m.__name__)
def test_column_order_is_the_migrations(model: type[Base]) -> None:
    assert issubclass(model, PricedItemMixin)
    assert list(model.__table__.c.keys()) == [*COLUMNS[model].split(), "created_at", "updated_at"]


@pytest.mark.parametrize("model", PRICED, ids=lambda m: m.__name__)
def test_shared_columns(model: type[Base]) -> None:
    c = model.__table__.c
    shapes = {
        name: (str(c[name].type), c[name].nullable, c[name].server_default)
        for name in ("code", "name", "price", "currency")
    }

    assert shapes == {
        "code": ("VARCHAR(50)", False, None),
        "name": ("VARCHAR(100)", False, None),
        "price": ("NUMERIC(12, 2)", False, None),
        "currency": ("VARCHAR(3)", False, None),
    }
    assert (str(c.is_active.type), c.is_active.nullable) == ("BOOLEAN", False)
    assert isinstance(c.is_active.server_default, sa.DefaultClause)
    assert str(c.is_active.server_default.arg) == "true"


@pytest.mark.parametrize("model", PRICED, ids=lambda m: m.__name__)
def test_shared_constraints_are_named_after_each_table(model: type[Base]) -> None:
    table = model.__table__
    name = table.name
    checks = {str(ck.name): str(ck.sqltext) for ck in table.constraints if isinstance(ck, sa.CheckConstraint)}
    uniques = {
        str(uq.name): [col.name for col in uq.columns]
        for uq in table.constraints
        if isinstance(uq, sa.UniqueConstraint)
    }

    assert checks[f"ck_{name}_price_nonnegative"] == "price >= 0"
    assert checks[f"ck_{name}_currency_format"] == "currency ~ '^[A-Z]{3}$'"
    assert uniques == {f"uq_{name}_code": ["code"]}


def test_each_model_keeps_its_own_checks() -> None:
    def own(model: type[Base]) -> set[str]:
        return {
            str(ck.name)
            for ck in model.__table__.constraints
            if isinstance(ck, sa.CheckConstraint)
            and not str(ck.name).endswith(("_price_nonnegative", "_currency_format"))
        }

    assert own(TariffPlan) == {"ck_tariff_plans_trial_days_nonnegative"}
    assert own(Addon) == {"ck_addons_extra_limit_positive"}
    assert own(TokenBundle) == {"ck_token_bundles_tokens_positive"}


def test_priced_item_constraints_are_new_objects_each_time_with_extras_last() -> None:
    extra = sa.CheckConstraint("tokens > 0", name="tokens_positive")
    first, second = priced_item_constraints(), priced_item_constraints(extra)

    assert len(first) == 3 and len(second) == 4 and second[3] is extra
    assert not {id(item) for item in first} & {id(item) for item in second}
    assert [type(item) for item in second] == [
        sa.UniqueConstraint,
        sa.CheckConstraint,
        sa.CheckConstraint,
        sa.CheckConstraint,
    ]
