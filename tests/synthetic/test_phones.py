"""Local spellings of E.164 numbers, the way agents and forms write them."""

from __future__ import annotations

import pytest

from seamline.synthetic.phones import GB_STYLES, US_STYLES, local_phone


@pytest.mark.parametrize(
    ("style", "expected"),
    list(
        enumerate(
            ["(415) 555-0132", "415-555-0132", "415.555.0132", "+1 415-555-0132", "1 (415) 555-0132", "4155550132"]
        )
    ),
)
def test_us_numbers(style: int, expected: str) -> None:
    assert local_phone("+14155550132", style) == expected


@pytest.mark.parametrize(
    ("e164", "style", "expected"),
    [
        ("+442079460958", 0, "+44 20 7946 0958"),
        ("+442079460958", 1, "020 7946 0958"),
        ("+442079460958", 2, "(020) 7946 0958"),
        ("+442079460958", 3, "+44 (0)20 7946 0958"),
        ("+442079460958", 4, "02079460958"),
        ("+441134960123", 1, "0113 496 0123"),
        ("+447700900123", 1, "07700 900123"),
        ("+442896496123", 0, "+44 28 9649 6123"),
    ],
)
def test_gb_numbers(e164: str, style: int, expected: str) -> None:
    assert local_phone(e164, style) == expected


def test_styles_wrap_and_other_countries_pass_through() -> None:
    assert local_phone("+14155550132", US_STYLES) == local_phone("+14155550132", 0)
    assert local_phone("+442079460958", GB_STYLES + 1) == "020 7946 0958"
    assert local_phone("+33123456789", 2) == "+33123456789"
