"""ISO 6346 container numbers: format and check digit.

A container number is a 3-letter owner code, a category identifier (U freight
container, J detachable freight-container equipment, Z trailer or chassis), a
6-digit serial number and a check digit, e.g. ``CSQU3054383``. The check digit
catches the typos that would otherwise attach a consignment to the wrong box
at a crane or a zero-line gate, so every number entering the core is checked.
"""

from __future__ import annotations

import re
import string

CATEGORY_IDENTIFIERS = {
    "U": "freight container",
    "J": "detachable freight-container equipment",
    "Z": "trailer or chassis",
}


def _letter_values() -> dict[str, int]:
    """A=10, B=12, ... Z=38: counting from 10 and skipping multiples of 11 (11, 22, 33)."""
    values: dict[str, int] = {}
    v = 10
    for letter in string.ascii_uppercase:
        if v % 11 == 0:
            v += 1
        values[letter] = v
        v += 1
    return values


LETTER_VALUES = _letter_values()
_SEPARATORS = re.compile(r"[\s\-]+")


class ContainerNumberError(ValueError):
    """A container number that is not a valid ISO 6346 number; the message says what is wrong."""


def check_digit(owner_serial: str) -> int:
    """Check digit of the first 10 characters (owner code, category, serial), e.g. "CSQU305438".

    Each character's value (letters per :data:`LETTER_VALUES`, digits as themselves)
    is weighted by 2**position; the sum modulo 11 is the check digit, a remainder of
    10 being written as 0.
    """
    if not isinstance(owner_serial, str):
        raise ContainerNumberError(
            f"owner code and serial must be a string, got {type(owner_serial).__name__}"
        )
    s = owner_serial.upper()
    if len(s) != 10 or not (_is_letters(s[:4]) and s[4:].isascii() and s[4:].isdigit()):
        raise ContainerNumberError(
            f"{owner_serial!r} is not 4 letters followed by 6 digits "
            "(owner code, category identifier, serial number)"
        )
    total = sum((LETTER_VALUES[ch] if ch.isalpha() else int(ch)) << i for i, ch in enumerate(s))
    return total % 11 % 10


def validate_container_number(s: str) -> str:
    """Return ``s`` normalised (upper case, spaces and hyphens removed) if it is a valid number.

    Raises :class:`ContainerNumberError` naming the first part that is wrong.
    """
    if not isinstance(s, str):
        raise ContainerNumberError(f"container number must be a string, got {type(s).__name__}")
    n = _SEPARATORS.sub("", s).upper()
    if not n:
        raise ContainerNumberError("container number is empty")
    if len(n) != 11:
        raise ContainerNumberError(
            f"container number {s!r} has {len(n)} characters without spaces; expected 11 "
            "(3-letter owner code, category identifier, 6-digit serial, check digit)"
        )
    owner, category, serial, check = n[:3], n[3], n[4:10], n[10]
    if not _is_letters(owner):
        raise ContainerNumberError(
            f"container number {n}: owner code {owner!r} must be 3 letters A-Z"
        )
    if category not in CATEGORY_IDENTIFIERS:
        allowed = ", ".join(f"{k} ({v})" for k, v in CATEGORY_IDENTIFIERS.items())
        raise ContainerNumberError(
            f"container number {n}: category identifier {category!r} must be one of {allowed}"
        )
    if not (serial.isascii() and serial.isdigit()):
        raise ContainerNumberError(
            f"container number {n}: serial number {serial!r} must be 6 digits"
        )
    if not (check.isascii() and check.isdigit()):
        raise ContainerNumberError(f"container number {n}: check digit {check!r} must be a digit")
    expected = check_digit(n[:10])
    if int(check) != expected:
        raise ContainerNumberError(
            f"container number {n}: check digit is {check}, expected {expected}"
        )
    return n


def _is_letters(s: str) -> bool:
    return all(ch in LETTER_VALUES for ch in s)
