"""Preparing records: normal forms, phonetic codes, nickname forms. Pure."""

from __future__ import annotations

from seamline.matching.prepare import birth_date, nickname_forms, postcode_parts, prepare


def test_names_are_folded_and_coded() -> None:
    out = prepare({"first_name": " BILL ", "last_name": "O'Brien-Smith", "date_of_birth": "1970-03-04"})
    assert out["first_name"] == "bill"
    assert "william" in out["first_name_forms"]
    assert out["last_name"] == "obriensmith"
    assert out["last_name_metaphone"]
    assert (out["date_of_birth"], out["birth_year"]) == ("1970-03-04", "1970")


def test_nicknames_go_both_ways_through_the_formal_name() -> None:
    assert set(nickname_forms("bill")) & set(nickname_forms("william"))
    assert set(nickname_forms("jack")) & set(nickname_forms("john"))
    assert not set(nickname_forms("mary")) & set(nickname_forms("john"))


def test_dates_postcodes_phones_and_emails() -> None:
    assert birth_date("1980-02-30") is None
    assert birth_date("1980/2/3") == "1980-02-03"
    assert birth_date(19800203) is None
    assert birth_date("19800203") == "1980-02-03"  # YYYYMMDD, as exports imported before dates were read write it
    assert postcode_parts("3212") == ("3212", "321")  # four-digit postcodes: the first three digits
    assert postcode_parts("sw1a 1aa") == ("SW1A1AA", "SW1A")
    assert postcode_parts("94107-1234") == ("94107", "941")
    out = prepare(
        {
            "phone": "(415) 555-0123",
            "email": "Ada@Example.COM",
            "street": "12 Elm Street",
            "postcode": "94107",
            "national_id": "900-12-3456",
        }
    )
    assert out["phone"] == "+14155550123"
    assert (out["email"], out["email_local"]) == ("ada@example.com", "ada")
    assert out["street"] == "12 elm st"
    assert out["address"] == "12 elm st|94107"
    assert out["national_id"] == "900123456"


def test_missing_and_unusable_values_are_missing() -> None:
    out = prepare({"first_name": "  ", "last_name": None, "phone": "not a phone", "email": "nobody"})
    assert all(out[c] is None for c in ("first_name", "first_name_forms", "last_name", "phone", "email"))
