"""The policy file: every mistake named with its file, line and field; a bad file leaves the running policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamline.errors.policy import BUILTIN_POLICY, PolicyError, classify, load_policy, read_policy
from seamline.errors.policystore import PolicyStore

GOOD = BUILTIN_POLICY.read_text(encoding="utf-8")


def test_the_built_in_policy_names_the_five_harms() -> None:
    policy = read_policy(None)
    assert list(policy.harms) == ["cosmetic", "contact_data", "financial", "privacy", "regulatory"]


def test_a_bad_policy_file_fails_with_file_line_and_field() -> None:
    bad = GOOD.replace("acknowledge: {minutes: 60}", "acknowledge: {minutes: 0}").replace(
        "    severity: critical\n    regulatory_clock: personal_data_breach", "    severity: dire"
    )
    with pytest.raises(PolicyError) as failed:
        load_policy(bad, "bank-policy.yaml")
    lines = {line.split("line ")[1].split(":")[0] for line in failed.value.mistakes}
    text = str(failed.value)
    assert "bank-policy.yaml line" in text
    assert "harms.privacy.severity: Value error, severity must be one of low, medium, high, critical" in text
    assert "severities.high.acknowledge.minutes: Input should be greater than or equal to 1" in text
    wanted = {str(i + 1) for i, line in enumerate(bad.splitlines()) if "dire" in line or "{minutes: 0}" in line}
    assert lines == wanted


def test_a_missing_severity_and_a_dangling_clock_are_named() -> None:
    bad = GOOD.replace("regulatory_clock: personal_data_breach", "regulatory_clock: nis2")
    with pytest.raises(PolicyError, match=r"harms\.privacy\.regulatory_clock names no clock"):
        load_policy(bad)
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy("harms: [")


def test_a_bad_file_leaves_the_running_policy_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD.replace("severity: high\n", "severity: critical\n", 1), encoding="utf-8")
    store = PolicyStore(path)
    assert store.current().harms["financial"].severity == "critical"
    path.write_text("harms: {}\n", encoding="utf-8")
    assert store.reload().harms["financial"].severity == "critical"
    assert store.last_error is not None
    assert "harms" in str(store.last_error)
    path.write_text(GOOD, encoding="utf-8")
    assert store.reload().harms["financial"].severity == "high"
    assert store.last_error is None


def test_a_bad_file_at_start_is_fatal(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("severities: 3\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy.yaml line 1: severities"):
        PolicyStore(path)


def test_severity_follows_harm_count_and_vulnerability() -> None:
    policy = read_policy(None)
    assert classify(policy, "cosmetic", 1, False).severity == "low"
    assert classify(policy, "cosmetic", 10, False).severity == "medium"
    assert classify(policy, "financial", 1000, True).severity == "critical"
    assert classify(policy, "cosmetic", 1, False).may_fix_at_contact
    assert not classify(policy, "cosmetic", 10, False).may_fix_at_contact
