"""billing.services.errors: the HTTP status each service error maps to."""

from __future__ import annotations

from billing.services.errors import InsufficientBalance, UsageLimitExceeded


def test_error_status_codes() -> None:
    assert InsufficientBalance("x").status_code == 409
    assert UsageLimitExceeded("x", 5).status_code == 429
