"""ISO 6346 container numbers: check digit and format validation."""

from __future__ import annotations

import itertools
import re
import string

import pytest

from fleet.cargo.iso6346 import (
    LETTER_VALUES,
    ContainerNumberError,
    check_digit,
    validate_container_number,
)

# The letter values as printed in ISO 6346 (multiples of 11 skipped), written out
# independently of the implementation's generator.
_TABLE = (
    (10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24),  # A-M
    (25, 26, 27, 28, 29, 30, 31, 32, 34, 35, 36, 37, 38),  # N-Z
)
PUBLISHED_VALUES = dict(zip(string.ascii_uppercase, itertools.chain(*_TABLE), strict=True))


def reference_check_digit(s: str) -> int:
    total = sum(
        (PUBLISHED_VALUES[ch] if ch.isalpha() else int(ch)) * 2**i for i, ch in enumerate(s)
    )
    return total % 11 % 10


def test_letter_values_match_the_standard() -> None:
    assert LETTER_VALUES == PUBLISHED_VALUES


@pytest.mark.parametrize(
    ("owner_serial", "digit"),
    [
        ("CSQU305438", 3),  # the standard's own worked example
        ("MSKU907032", 3),
        ("TGHU759936", 7),
        ("MSKU123456", 5),
        ("HLXU123456", 1),
        ("ZIMU123456", 9),
        ("CSQU000007", 0),  # remainder 10 is written as 0
        ("csqu305438", 3),  # case does not matter
    ],
)
def test_check_digit(owner_serial: str, digit: int) -> None:
    assert check_digit(owner_serial) == digit == reference_check_digit(owner_serial.upper())


def test_remainder_ten_is_written_as_zero() -> None:
    total = sum(
        (PUBLISHED_VALUES[ch] if ch.isalpha() else int(ch)) * 2**i
        for i, ch in enumerate("CSQU000007")
    )
    assert total % 11 == 10
    assert validate_container_number("CSQU0000070") == "CSQU0000070"


@pytest.mark.parametrize("bad", ["CSQU30543", "CSQU3054X8", "1SQU305438", "CSQU3054383", ""])
def test_check_digit_rejects_malformed_input(bad: str) -> None:
    with pytest.raises(ContainerNumberError, match="4 letters followed by 6 digits"):
        check_digit(bad)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("CSQU3054383", "CSQU3054383"),
        ("CSQU 305438 3", "CSQU3054383"),
        ("  csqu 305438-3\n", "CSQU3054383"),
        ("MSKU 907032 3", "MSKU9070323"),
        ("TGHU7599367", "TGHU7599367"),
        ("CSQJ3054386", "CSQJ3054386"),  # J: detachable equipment
        ("CSQZ3054387", "CSQZ3054387"),  # Z: trailer or chassis
    ],
)
def test_valid_numbers_are_normalised(raw: str, normalised: str) -> None:
    assert reference_check_digit(normalised[:10]) == int(normalised[10])
    assert validate_container_number(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("CSQU3054381", "container number CSQU3054381: check digit is 1, expected 3"),
        ("CSQU3054883", "check digit is 3, expected 7"),  # one mistyped serial digit
        ("CSQU3045383", "check digit is 3, expected"),  # two digits swapped
        ("", "container number is empty"),
        ("   ", "container number is empty"),
        ("CSQU305438", "has 10 characters without spaces; expected 11"),
        ("CSQU30543833", "has 12 characters without spaces; expected 11"),
        ("C5QU3054383", "owner code 'C5Q' must be 3 letters A-Z"),
        ("CSQX3054383", "category identifier 'X' must be one of U"),
        ("CSQ13054383", "category identifier '1' must be one of"),
        ("CSQU3O54383", "serial number '3O5438' must be 6 digits"),
        ("CSQU305438X", "check digit 'X' must be a digit"),
        ("CSQU30543٣3", "serial number"),  # non-ASCII digit
        ("ÇSQU3054383", "owner code"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(ContainerNumberError, match=re.escape(message)):
        validate_container_number(raw)


def test_non_string_is_rejected() -> None:
    with pytest.raises(ContainerNumberError, match="must be a string, got int"):
        validate_container_number(3054383)  # type: ignore[arg-type]
    with pytest.raises(ContainerNumberError, match="must be a string"):
        check_digit(None)  # type: ignore[arg-type]


def test_error_is_a_value_error() -> None:
    assert issubclass(ContainerNumberError, ValueError)


def test_every_single_digit_typo_is_caught() -> None:
    good = "CSQU3054383"
    for i in range(4, 10):
        for d in "0123456789":
            if d == good[i]:
                continue
            typo = good[:i] + d + good[i + 1 :]
            with pytest.raises(ContainerNumberError, match="check digit"):
                validate_container_number(typo)
