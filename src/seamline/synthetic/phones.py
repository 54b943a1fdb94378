"""Phone numbers the way people and agents type them: one E.164 number, many local spellings.

Sources rarely send E.164. A call-center agent types "(415) 555-0132", a CRM holds "020 7946 0958", an app form
sends "+44 20 7946 0958"; identity resolution has to normalize all of them back to one number.
"""

from __future__ import annotations

from typing import Final

US_STYLES: Final = 6
GB_STYLES: Final = 5


def local_phone(e164: str, style: int) -> str:
    """`e164` written in one of its country's local styles (style is taken modulo the number of styles)."""
    if e164.startswith("+1") and len(e164) == 12:
        return _us(e164[2:], style % US_STYLES)
    if e164.startswith("+44"):
        return _gb(e164[3:], style % GB_STYLES)
    return e164


def _us(digits: str, style: int) -> str:
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return (
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area}-{exchange}-{line}",
        f"1 ({area}) {exchange}-{line}",
        digits,
    )[style]


def _gb(national: str, style: int) -> str:
    """`national` is the number without +44 and without the trunk 0."""
    if national[:2] in ("20", "28", "29"):
        area, rest = national[:2], f"{national[2:6]} {national[6:]}"
    elif national.startswith(("1632", "7")):
        area, rest = national[:4], national[4:]
    else:
        area, rest = national[:3], f"{national[3:6]} {national[6:]}"
    return (
        f"+44 {area} {rest}",
        f"0{area} {rest}",
        f"(0{area}) {rest}",
        f"+44 (0){area} {rest}",
        f"0{national}",
    )[style]
