"""Payment providers behind one small interface, and the sandbox provider used in development and tests.

Card numbers never reach this server: the customer's device hands them to the provider's own
tokenisation, which returns a token (``pm_...``); the server stores the token and what the provider
says about it (brand, last four digits, expiry). The sandbox behaves like the big providers' test
modes: its tokens are the documented test cards, and the card decides the outcome. Nothing else
ever succeeds, so a misconfigured deployment cannot hand out tokens for free.

| sandbox token                    | card                  | outcome of a charge                            |
| --- | --- | --- |
| `pm_card_visa`                   | visa 4242 12/2034     | succeeds                                       |
| `pm_card_mastercard`             | mastercard 4444 12/2034 | succeeds                                     |
| `pm_card_chargeDeclined`         | visa 0002 12/2034     | declined: card_declined                        |
| `pm_card_insufficientFunds`      | visa 9995 12/2034     | declined: insufficient_funds                   |
| `pm_card_authenticationRequired` | visa 3184 12/2034     | needs 3-D Secure authentication: stays pending |
| `pm_paypal`                      | a PayPal account      | succeeds                                       |
| anything else                    | (unknown: refused when added) | declined: unknown test payment method  |
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


@dataclass(frozen=True)
class MethodDetails:
    """What a provider says about a tokenised payment method; never the card number."""

    token: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None


class Gateway(Protocol):
    """A payment provider: look up a tokenised method; charge it once per idempotency key."""

    def payment_method(self, token: str) -> MethodDetails | None:
        """The provider's details of the method behind ``token``, or None when it knows no such token."""
        ...

    def charge(self, method_ref: str, amount: Decimal, currency: str, idempotency_key: str) -> Charge:
        """Charge ``amount`` to the method the provider knows as ``method_ref``."""
        ...


_SUCCEED = {"pm_card_visa", "pm_card_mastercard", "pm_paypal"}
_DECLINE = {"pm_card_chargeDeclined": "card_declined", "pm_card_insufficientFunds": "insufficient_funds"}
_AUTHENTICATE = {"pm_card_authenticationRequired"}
_CARDS = {
    "pm_card_visa": ("visa", "4242"),
    "pm_card_mastercard": ("mastercard", "4444"),
    "pm_card_chargeDeclined": ("visa", "0002"),
    "pm_card_insufficientFunds": ("visa", "9995"),
    "pm_card_authenticationRequired": ("visa", "3184"),
}
SANDBOX_EXPIRY = (12, 2034)


class SandboxGateway:
    """The test-mode provider: outcomes follow the documented test cards; the reference follows the key."""

    def payment_method(self, token: str) -> MethodDetails | None:
        """The test card (or PayPal account) behind a sandbox token."""
        if token == "pm_paypal":
            return MethodDetails(token, "paypal", None, None, None)
        if token not in _CARDS:
            return None
        brand, last4 = _CARDS[token]
        return MethodDetails(token, brand, last4, *SANDBOX_EXPIRY)

    def charge(self, method_ref: str, amount: Decimal, currency: str, idempotency_key: str) -> Charge:
        """Decide the charge by the test card; the same key always gives the same reference."""
        reference = "sbx_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        card = method_ref
        if amount <= 0:
            return Charge(Outcome.DECLINED, reference, "invalid_amount")
        if card in _SUCCEED:
            return Charge(Outcome.SUCCEEDED, reference)
        if card in _AUTHENTICATE:
            return Charge(Outcome.ACTION_REQUIRED, reference, "authentication_required")
        return Charge(Outcome.DECLINED, reference, _DECLINE.get(card, "unknown test payment method"))
