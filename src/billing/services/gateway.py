"""Payment providers behind one small interface, and the sandbox provider used in development and tests.

The sandbox behaves like the big providers' test modes: a payment method names a test card and the
card decides the outcome. Nothing else ever succeeds, so a misconfigured deployment cannot hand out
tokens for free.

| test payment method (or card number)              | outcome                                      |
| --- | --- |
| `pm_card_visa`, `pm_card_mastercard`, 4242424242424242, 5555555555554444 | succeeds                  |
| `pm_card_chargeDeclined`, 4000000000000002        | declined: card_declined                      |
| `pm_card_insufficientFunds`, 4000000000009995     | declined: insufficient_funds                 |
| `pm_card_authenticationRequired`, 4000002760003184 | needs 3-D Secure authentication: stays pending |
| anything else                                     | declined: unknown test payment method        |
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class Outcome(str, enum.Enum):
    """What the provider said about a charge."""

    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    ACTION_REQUIRED = "action_required"


@dataclass(frozen=True)
class Charge:
    """A provider's answer: the outcome, its reference for the payment, and why it did not succeed."""

    outcome: Outcome
    reference: str
    reason: str | None = None


class Gateway(Protocol):
    """A payment provider: charge a stored payment method once per idempotency key."""

    def charge(self, method_ref: str, amount: Decimal, currency: str, idempotency_key: str) -> Charge:
        """Charge ``amount`` to the method the provider knows as ``method_ref``."""
        ...


_SUCCEED = {"pm_card_visa", "pm_card_mastercard", "4242424242424242", "5555555555554444"}
_DECLINE = {
    "pm_card_chargeDeclined": "card_declined",
    "4000000000000002": "card_declined",
    "pm_card_insufficientFunds": "insufficient_funds",
    "4000000000009995": "insufficient_funds",
}
_AUTHENTICATE = {"pm_card_authenticationRequired", "4000002760003184"}


class SandboxGateway:
    """The test-mode provider: outcomes follow the documented test cards; the reference follows the key."""

    def charge(self, method_ref: str, amount: Decimal, currency: str, idempotency_key: str) -> Charge:
        """Decide the charge by the test card; the same key always gives the same reference."""
        reference = "sbx_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        card = method_ref.replace(" ", "")
        if amount <= 0:
            return Charge(Outcome.DECLINED, reference, "invalid_amount")
        if card in _SUCCEED:
            return Charge(Outcome.SUCCEEDED, reference)
        if card in _AUTHENTICATE:
            return Charge(Outcome.ACTION_REQUIRED, reference, "authentication_required")
        return Charge(Outcome.DECLINED, reference, _DECLINE.get(card, "unknown test payment method"))
