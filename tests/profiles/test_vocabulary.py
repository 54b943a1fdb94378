"""The canonical customer model (pure): every source's names onto one vocabulary, one address, human labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from seamline.config import Settings
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.profiles.vocabulary import DEFAULT_VOCABULARY, Vocabulary, VocabularyConfig, address_text


def test_a_silo_export_names_map_onto_the_canonical_model() -> None:
    silo = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1815-12-10",
        "street": "12 St James's Square",
        "city": "London",
        "postcode": "SW1Y 4JH",
        "telephone": "020 7946 0958",
        "national_id": "915-12-1000",
    }
    canonical = DEFAULT_VOCABULARY.canonicalize(silo)
    assert canonical.values == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "birthday": "1815-12-10",
        "address": {"street": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH"},
        "phone": "020 7946 0958",
        "national_id": "915-12-1000",  # not in the model: passes through as sent
    }
    # The source's own names stay with what they became (its provenance).
    assert canonical.source_names == {
        "birthday": "date_of_birth",
        "address": "street, city, postcode",
        "phone": "telephone",
    }


def test_segment_spellings_and_an_address_object_are_canonical_too() -> None:
    canonical = DEFAULT_VOCABULARY.canonicalize(
        {
            "firstName": "Grace",
            "lastName": "Hopper",
            "birthday": "1906-12-09",
            "address": {"street": "1 Navy Way", "city": "Arlington", "postalCode": "22202", "country": "US"},
            "mobile": "+1 703 555 0100",
        }
    )
    assert canonical.values == {
        "first_name": "Grace",
        "last_name": "Hopper",
        "birthday": "1906-12-09",
        "address": {"street": "1 Navy Way", "city": "Arlington", "postal_code": "22202", "country": "US"},
        "phone": "+1 703 555 0100",
    }
    assert canonical.source_names == {"first_name": "firstName", "last_name": "lastName", "phone": "mobile"}


def test_an_event_stating_one_trait_twice_loses_no_value() -> None:
    both = DEFAULT_VOCABULARY.canonicalize({"mobile": "+447700900001", "phone": "+442079460958"})
    assert both.values == {"phone": "+442079460958", "mobile": "+447700900001"}  # the canonical spelling wins
    assert both.source_names == {}
    again = DEFAULT_VOCABULARY.canonicalize({"telephone": "+442079460958", "phone": "+442079460958"})
    assert again.values == {"phone": "+442079460958"}  # the same value under two names is one fact
    # An address object wins over flat parts beside it; the flat parts fill what it lacks.
    mixed = DEFAULT_VOCABULARY.canonicalize({"address": {"street": "1 Main St"}, "city": "Leeds", "street": "2 Old Rd"})
    assert mixed.values == {"address": {"street": "1 Main St", "city": "Leeds"}}
    # Empty parts are no part of an address.
    assert DEFAULT_VOCABULARY.canonicalize({"street": "", "city": "Leeds"}).values == {"address": {"city": "Leeds"}}


def test_the_configuration_extends_the_model() -> None:
    vocabulary = Vocabulary(
        VocabularyConfig(
            extra={"loyalty_tier": "Loyalty tier"},
            aliases={"tier": "loyalty_tier", "handy": "phone", "plz": "address.postal_code"},
        )
    )
    canonical = vocabulary.canonicalize({"tier": "gold", "handy": "+4915112345678", "plz": "10115", "telephone": "1"})
    assert canonical.values == {
        "loyalty_tier": "gold",
        "phone": "+4915112345678",
        "address": {"postal_code": "10115"},
        "telephone": "1",  # the slot was taken by the first alias: kept under its own name
    }
    assert vocabulary.label("loyalty_tier") == "Loyalty tier"
    with pytest.raises(ValidationError, match="aliases must name a canonical trait"):
        VocabularyConfig(aliases={"tier": "loyalty_tier"})


def test_labels_and_order_are_for_people() -> None:
    assert DEFAULT_VOCABULARY.label("birthday") == "Date of birth"
    assert DEFAULT_VOCABULARY.label("address") == "Address"
    assert DEFAULT_VOCABULARY.label("national_id") == "National id"
    assert DEFAULT_VOCABULARY.label("preferredBranch") == "Preferred branch"
    names = ["national_id", "address", "email", "first_name", "birthday", "phone", "last_name"]
    assert sorted(names, key=DEFAULT_VOCABULARY.order) == [
        "first_name",
        "last_name",
        "email",
        "phone",
        "birthday",
        "address",
        "national_id",
    ]
    assert (
        address_text({"city": "Leeds", "postal_code": "LS1 4AB", "street": "1 Main St"}) == "1 Main St, Leeds, LS1 4AB"
    )


def test_a_survivorship_rule_named_by_a_sources_name_applies_to_the_canonical_trait(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        survivorship=SurvivorshipConfig(traits={"date_of_birth": "first_seen", "email": "source_priority"}),
    )
    assert settings.survivorship.traits == {"birthday": "first_seen", "email": "source_priority"}
