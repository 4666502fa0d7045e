"""billing.cards: card numbers are found however they are written, and only card numbers."""

from __future__ import annotations

import logging

import pytest

from billing.api.server import MaskCardNumbers
from billing.cards import MASK, contains_pan, luhn_valid, mask_pans

# The networks' documented test numbers (Visa 16 and 13 digits, Mastercard, Amex, Discover, Diners, JCB, UnionPay).
TEST_CARDS = [
    "4242424242424242",
    "4222222222222",
    "5555555555554444",
    "2223003122003222",
    "378282246310005",
    "6011111111111117",
    "30569309025904",
    "3530111333300000",
    "6200000000000005",
]


@pytest.mark.parametrize("number", TEST_CARDS)
def test_every_network_test_card_is_found_in_any_writing(number: str) -> None:
    assert luhn_valid(number)
    grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    for text in (number, grouped, grouped.replace(" ", "-"), f'{{"token": "{grouped}"}}', f"card={number}&x=1"):
        assert contains_pan(text), text


def test_a_card_inside_a_longer_run_of_groups_is_found_and_masked() -> None:
    text = "ref 4242 4242 4242 4242 2031 ok"
    assert contains_pan(text)
    assert "4242 4242 4242 4242" not in mask_pans(text)
    assert mask_pans("pay with 4242-4242-4242-4242 today") == f"pay with {MASK} today"


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424241",  # one digit off: fails Luhn
        "1700000000000",  # a millisecond timestamp (Luhn-valid, but no card network starts with 1)
        "424242424242",  # 12 digits: too short
        "42424242424242424242",  # 20 digits in one run: too long
        "pm_card_visa",
        "order 2031-12-24 12:00",
        "",
    ],
)
def test_what_is_not_a_card_number_is_left_alone(text: str) -> None:
    assert not contains_pan(text)
    assert mask_pans(text) == text


def test_the_log_filter_masks_messages_and_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s"', ("1.2.3.4", "GET", "/x?c=4242424242424242"), None
    )
    assert MaskCardNumbers().filter(record)
    assert "4242424242424242" not in record.getMessage()
    assert MASK in record.getMessage()
    encoded = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s", ("/p?c=4242+4242%204242-4242",), None
    )
    assert MaskCardNumbers().filter(encoded)
    assert "4242" not in encoded.getMessage()
