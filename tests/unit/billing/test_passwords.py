"""billing.passwords: the password policy."""

from __future__ import annotations

import pytest

from billing import passwords


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-1", "at least 10"),
        ("          ", "one character repeated"),
        ("1111111111", "one character repeated"),
        ("Password123", "commonly used"),
        ("QWERTYUIOP", "commonly used"),
        ("x" * 257, "at most 256"),
        ("jane.doe.x", "email address"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, reason: str) -> None:
    problem = passwords.problem(password, "jane.doe.x@example.com")
    assert problem is not None and reason in problem


def test_long_passphrases_and_plain_but_uncommon_passwords_pass() -> None:
    assert passwords.problem("correct horse battery staple") is None
    assert passwords.problem("zq8-lamp-otter") is None
    assert passwords.problem("é" * 9 + "ü") is None  # any Unicode counts, no composition rules
