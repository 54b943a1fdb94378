"""The action catalog: the shipped bank actions load; a bad file fails naming its file, line and field; nothing in
a file runs as code."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamline.decisions.catalog import Catalog, CatalogError
from seamline.decisions.config import BUILTIN_DIR

GOOD = """\
kind: offer
title: Card
priority: marketing
channels: [email]
product: credit_card
eligibility:
  all:
    - trait: age
      gte: 18
"""


def _folder(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_shipped_bank_actions_load() -> None:
    catalog = Catalog(BUILTIN_DIR)
    assert {"card_offer", "mortgage_nudge", "paperless_nudge", "fraud_check"} <= set(catalog.by_name)
    assert catalog.by_name["card_offer"].product == "credit_card"
    assert catalog.by_name["fraud_check"].priority == "critical"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("gte: 18", "gte: eighteen"), "offer.yaml:9: eligibility.all[0].gte: expected a number"),
        (GOOD.replace("    - trait: age", "    - trate: age"), "offer.yaml:8: eligibility.all[0]: a condition has"),
        (GOOD.replace("priority: marketing", "priority: urgent"), "offer.yaml:3: priority: 'urgent' is not one of"),
        (GOOD.replace("channels: [email]", "channels: [email, fax]"), "offer.yaml:4: channels[1]: 'fax' is not"),
        (GOOD + "colour: red\n", "offer.yaml:10: colour: unknown field"),
        (GOOD.replace("title: Card\n", ""), "offer.yaml:1: title: required"),
        (GOOD + "  - [unclosed\n", "offer.yaml:10: not valid YAML"),
    ],
)
def test_a_bad_file_fails_naming_its_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(CatalogError) as raised:
        Catalog(_folder(tmp_path, offer=text))
    assert any(p.startswith(expected) for p in raised.value.problems), raised.value.problems


def test_every_bad_file_is_named_at_once_and_a_good_one_does_not_hide_them(tmp_path: Path) -> None:
    folder = _folder(tmp_path, a=GOOD, b=GOOD.replace("kind: offer", "kind: coupon"), c="")
    with pytest.raises(CatalogError) as raised:
        Catalog(folder)
    assert [p.split(":")[0] for p in raised.value.problems] == ["b.yaml", "c.yaml"]


def test_yaml_tags_that_would_build_objects_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("title: Card", "title: !!python/object/apply:os.system ['touch pwned']")
    with pytest.raises(CatalogError) as raised:
        Catalog(_folder(tmp_path, offer=text))
    assert "offer.yaml" in raised.value.problems[0]
    assert not (tmp_path / "pwned").exists()
