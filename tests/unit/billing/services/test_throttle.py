"""billing.services.throttle: the throttle policy and its growing pauses."""

from __future__ import annotations

from billing.services.throttle import DAY, Limit, ThrottlePolicy


def test_throttle_policy_scales_every_free_allowance_and_keeps_the_pauses() -> None:
    policy = ThrottlePolicy()
    scaled = policy.scaled(10)
    for mine, theirs in ((policy.per_pair, scaled.per_pair), (policy.per_address, scaled.per_address)):
        assert set(mine) == set(theirs)
        for action, limit in mine.items():
            assert theirs[action].free == limit.free * 10
            assert (theirs[action].window_seconds, theirs[action].max_delay) == (limit.window_seconds, limit.max_delay)
    assert scaled.mail_quota.free == policy.mail_quota.free * 10
    assert policy.with_mail_window(600).mail_quota.window_seconds == 600


def test_pauses_double_up_to_their_ceiling() -> None:
    limit = Limit(5, 900, first_delay=1, max_delay=60)
    assert [limit.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert Limit(5, 900).delay(10_000) == 15 * 60


def test_no_account_wide_limit_can_be_used_to_make_the_owner_wait() -> None:
    policy = ThrottlePolicy()
    # Only login has an account-wide ceiling (NIST's 100 failures), and the reset mail is never refused per account.
    assert set(policy.per_account) == {"login"}
    assert policy.per_account["login"].free == 100 and policy.per_account["login"].window_seconds == DAY
    assert "forgot" not in policy.per_pair
