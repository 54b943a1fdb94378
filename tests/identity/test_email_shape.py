"""The plain-address shortcut of `normalize_email` agrees with email_validator on every address it takes: what it
accepts, email_validator accepts and normalizes to the same text; everything else still goes to email_validator."""

from __future__ import annotations

import random

from email_validator import EmailNotValidError, validate_email

from seamline.identity.identifiers import _plainly_valid, normalize_email

EDGES = [
    "p1@example.com",
    "ada.lovelace+news@mail.example.co.uk",
    "a@b.co",
    "x@localhost",
    "x@mail.localhost",
    "x@printer.local",
    "x@host.test",
    "x@some.invalid",
    "x@1.0.0.127.in-addr.arpa",
    "x@exit.onion",
    "x@example",
    "x@example.c",
    "x@example.123",
    "x@-example.com",
    "x@example-.com",
    "x@ex--ample.com",
    "x@xn--bcher-kva.example",
    "x@xn--bcher-kva.com",
    ".x@example.com",
    "x.@example.com",
    "x..y@example.com",
    "-@example.com",
    "_@example.com",
    "+@example.com",
    "a" * 64 + "@example.com",
    "a" * 65 + "@example.com",
    "x@" + "a" * 63 + ".com",
    "x@" + "a" * 64 + ".com",
    "a" * 60 + "@" + ".".join(["b" * 60] * 3) + ".com",
    "x@" + ".".join(["b" * 63] * 3) + ".com",
    "x@example." + "c" * 63,
    "x@example." + "c" * 64,
    "x@ex_ample.com",
    "x@example.com.",
]
ALPHABET = "ab0-_+.@x"


def _validators(candidate: str) -> str | None:
    try:
        return validate_email(candidate, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def _random_addresses(count: int) -> list[str]:
    rng = random.Random(20261206)
    found = []
    for _ in range(count):
        local = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8)))
        labels = ["".join(rng.choice("ab0-x") for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(1, 3))]
        tld = rng.choice(["com", "co", "c", "x0", "test", "local", "io", "arpa", "xn--p1ai"])
        found.append(f"{local}@{'.'.join([*labels, tld])}")
    return found


def test_every_address_the_shortcut_takes_is_email_validators_own() -> None:
    taken = 0
    for candidate in EDGES + _random_addresses(10000):
        if _plainly_valid(candidate):
            assert _validators(candidate) == candidate, candidate
            taken += 1
    assert taken > 500  # the random addresses reach the shortcut (else this test proves nothing)


def test_normalize_email_answers_as_before_for_both_kinds() -> None:
    for raw in ["  Ada@Example.COM ", "x@localhost", "bücher@example.com", "x@xn--bcher-kva.com", "no-at-sign"]:
        candidate = raw.strip().lower()
        expected = _validators(candidate) if "@" in candidate else None
        assert normalize_email(raw) == expected, raw
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
