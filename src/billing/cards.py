"""Primary account numbers (card numbers): found in any text so they can be refused and masked, never kept.

A PAN here is 13 to 19 digits, written together or in groups separated by single spaces or dashes,
starting with 2 to 6 (the major industry identifiers of the card networks) and passing the Luhn
check. Other long numbers (timestamps, ids) rarely start that way and pass Luhn one time in ten.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MIN_DIGITS = 13
MAX_DIGITS = 19
# A run of digits, possibly in groups joined by one space or dash ("4242 4242 4242 4242").
_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
MASK = "[card number removed]"


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn check (the checksum every card number carries)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _looks_like_pan(digits: str) -> bool:
    return MIN_DIGITS <= len(digits) <= MAX_DIGITS and digits[0] in "23456" and luhn_valid(digits)


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) of every PAN in ``text``, including one that is part of a longer run of groups."""
    for run in _RUN.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in re.finditer(r"[0-9]+", run.group())]
        if len(groups) == 1:
            if _looks_like_pan(run.group()):
                yield run.span()
            continue
        # Grouped digits: any consecutive groups may hold the card ("ref 4242 4242 4242 4242 2031").
        for first in range(len(groups)):
            digits = ""
            for last in range(first, len(groups)):
                digits += text[groups[last][0] : groups[last][1]]
                if len(digits) > MAX_DIGITS:
                    break
                if _looks_like_pan(digits):
                    yield groups[first][0], groups[last][1]


def contains_pan(text: str) -> bool:
    """True when ``text`` holds something that looks like a card number."""
    return next(_spans(text), None) is not None


def mask_pans(text: str) -> str:
    """``text`` with every card number replaced by a marker (for anything that is logged)."""
    spans = list(_spans(text))
    if not spans:
        return text
    parts, cursor = [], 0
    for start, end in sorted(spans):
        if start < cursor:
            continue
        parts += [text[cursor:start], MASK]
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)
