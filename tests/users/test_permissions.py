"""What each role may do."""

from __future__ import annotations

import pytest

from seamline.users.permissions import (
    CHANGE_PREFERENCES,
    CORRECT_CUSTOMERS,
    MANAGE_USERS,
    PERMISSIONS,
    ROLES,
    SUPERVISE_CASES,
    UNMERGE,
    VIEW_CASES,
    VIEW_CUSTOMERS,
    VIEW_REPORTS,
    WORK_CASES,
    may,
)


def test_the_role_table() -> None:
    sees_people = {role for role in ROLES if may(role, VIEW_CUSTOMERS)}
    assert sees_people == {"agent", "supervisor"}
    assert {role for role in ROLES if may(role, UNMERGE)} == {"supervisor"}
    assert {role for role in ROLES if may(role, MANAGE_USERS)} == {"admin"}
    assert {role for role in ROLES if may(role, VIEW_REPORTS)} == {"supervisor", "analyst", "communications"}
    assert all(may(role, CORRECT_CUSTOMERS) and may(role, CHANGE_PREFERENCES) for role in sees_people)
    assert not any(may("nobody", p) for p in PERMISSIONS)
    # Cases are people's matters: only the roles that serve people see or work them.
    assert {role for role in ROLES if may(role, VIEW_CASES) and may(role, WORK_CASES)} == sees_people
    assert {role for role in ROLES if may(role, VIEW_CASES) or may(role, WORK_CASES)} == sees_people
    assert {role for role in ROLES if may(role, SUPERVISE_CASES)} == {"supervisor"}


def test_an_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a permission"):
        may("agent", "customers:everything")
