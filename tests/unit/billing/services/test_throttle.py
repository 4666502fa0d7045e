"""billing.services.throttle: the throttle policy."""

from __future__ import annotations

from billing.services.throttle import Limit, ThrottlePolicy


def test_throttle_policy_scales_every_limit() -> None:
    policy = ThrottlePolicy()
    scaled = policy.scaled(10)
    assert set(policy.per_account) == set(policy.per_address) == {"login", "forgot", "reset", "signup"}
    for action, limit in policy.per_account.items():
        assert scaled.per_account[action] == Limit(limit.attempts * 10, limit.window_seconds)
