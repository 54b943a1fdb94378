"""Preference links and form nonces: signed, expiring, tamper-evident. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seamline.core.errors import Unauthorized
from seamline.core.secrets import load_or_create_secret
from seamline.preferences.links import form_nonce, is_fresh_nonce, link_expiry, sign_link, verify_link

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests"


def test_a_signed_link_names_its_profile_until_it_expires() -> None:
    token = sign_link(42, NOW + timedelta(days=14), SECRET)
    assert verify_link(token, SECRET, NOW) == 42
    assert verify_link(token, SECRET, NOW + timedelta(days=13, hours=23)) == 42
    assert link_expiry(token) == NOW + timedelta(days=14)
    with pytest.raises(Unauthorized, match="this link has expired"):
        verify_link(token, SECRET, NOW + timedelta(days=14))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("42.", "43.", 1),  # another person
        lambda t: ".".join([t.split(".")[0], str(int(t.split(".")[1]) + 86400), t.split(".")[2]]),  # longer life
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # a forged signature
        lambda t: t.rsplit(".", 1)[0],  # no signature
        lambda t: "",
        lambda t: "a.b.c",
        lambda t: t + ".x",
    ],
)
def test_a_changed_link_is_not_valid(tamper: object) -> None:
    token = sign_link(42, NOW + timedelta(days=1), SECRET)
    with pytest.raises(Unauthorized, match="this link is not valid"):
        verify_link(tamper(token), SECRET, NOW)  # type: ignore[operator]  # a parametrized function


def test_a_link_signed_under_another_secret_is_not_valid() -> None:
    token = sign_link(42, NOW + timedelta(days=1), "another secret")
    with pytest.raises(Unauthorized, match="not valid"):
        verify_link(token, SECRET, NOW)
    with pytest.raises(Unauthorized, match="not valid"):
        verify_link(token, "", NOW)


def test_a_form_nonce_binds_the_link_and_goes_stale_after_an_hour() -> None:
    token = sign_link(42, NOW + timedelta(days=1), SECRET)
    nonce = form_nonce(token, NOW, SECRET)
    assert is_fresh_nonce(nonce, token, SECRET, NOW + timedelta(minutes=59))
    assert not is_fresh_nonce(nonce, token, SECRET, NOW + timedelta(minutes=61))
    assert not is_fresh_nonce(nonce, sign_link(43, NOW + timedelta(days=1), SECRET), SECRET, NOW)
    assert not is_fresh_nonce(token, token, SECRET, NOW)  # a link is not a nonce
    assert not is_fresh_nonce("", token, SECRET, NOW)


def test_the_generated_secret_is_private_and_kept(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "data")
    assert len(first) >= 43
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(tmp_path / "data") == first
    assert list((tmp_path / "data").iterdir()) == [tmp_path / "data" / "secret_key"]
