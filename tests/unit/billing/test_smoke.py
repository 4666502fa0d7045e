"""billing.smoke: how a failed smoke step is described."""

from __future__ import annotations

from billing.smoke import describe


def test_describe_gives_one_line() -> None:
    assert describe(AssertionError("first\nsecond")) == "first"
    assert describe(KeyError("k")) == "KeyError: 'k'"
