"""Templates: declared fields or a clear error, never a silent blank; sandboxed; unknown names refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamline.communications.config import BUILTIN_DIR
from seamline.communications.templates import Catalog, render
from seamline.core.errors import InvalidInput, NotFound

GOOD = """
type: notice
purpose: service
priority: service
owner: ops
fields: [first_name]
subject: "Hi {{ first_name }}"
text: "Hello {{ first_name }}"
"""


def _catalog(tmp_path: Path, **files: str) -> Catalog:
    for name, body in files.items():
        (tmp_path / f"{name}.yaml").write_text(body, encoding="utf-8")
    return Catalog(tmp_path)


def test_every_shipped_template_loads_and_declares_what_consent_needs() -> None:
    catalog = Catalog(BUILTIN_DIR)
    assert catalog.names()
    for name in catalog.names():
        template = catalog.get(name)
        assert template.purpose
        assert template.owner
        assert template.priority in ("critical", "service", "marketing")


def test_a_field_used_but_not_declared_is_an_error_naming_it(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, sneaky=GOOD.replace('text: "Hello {{ first_name }}"', 'text: "{{ balance }}"'))
    with pytest.raises(InvalidInput) as caught:
        catalog.get("sneaky")
    [error] = caught.value.errors
    assert (error.field, error.code) == ("text", "undeclared_field")
    assert "balance" in error.message


def test_a_declared_field_missing_from_the_data_is_an_error_naming_it(tmp_path: Path) -> None:
    template = _catalog(tmp_path, hello=GOOD).get("hello")
    with pytest.raises(InvalidInput) as caught:
        render(template, {}, {})
    assert [e.field for e in caught.value.errors] == ["data.first_name"]


def test_an_unknown_template_is_not_found_and_a_bad_declaration_is_invalid(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, bad=GOOD.replace("type: notice", "type: spam"))
    with pytest.raises(NotFound):
        catalog.get("nope")
    with pytest.raises(NotFound):
        catalog.get("../secrets")
    with pytest.raises(InvalidInput) as caught:
        catalog.get("bad")
    assert caught.value.errors[0].field == "type"


def test_the_sandbox_refuses_reaching_into_python(tmp_path: Path) -> None:
    evil = GOOD.replace('text: "Hello {{ first_name }}"', 'text: "{{ first_name.__class__.__mro__ }}"')
    template = _catalog(tmp_path, evil=evil).get("evil")
    with pytest.raises(InvalidInput) as caught:
        render(template, {"first_name": "Ada"}, {})
    assert caught.value.errors[0].code == "render"
