"""What each console role may do: one table, pure. Pages and services ask `may(role, permission)`.

Roles are ordered by what they touch, not by rank: an admin manages accounts but does not read customers, and an
analyst reads aggregates but not people. See docs/console.md for why.
"""

from __future__ import annotations

AGENT = "agent"
SUPERVISOR = "supervisor"
ANALYST = "analyst"
ADMIN = "admin"
COMMUNICATIONS_OWNER = "communications"  # owns what the company sends: the communications assessment, no person
ROLES = (AGENT, SUPERVISOR, ANALYST, ADMIN, COMMUNICATIONS_OWNER)

FIND_CUSTOMERS = "customers:find"
VIEW_CUSTOMERS = "customers:view"  # personal data: every view is audited
CORRECT_CUSTOMERS = "customers:correct"  # names, email, phone, address: simple corrections
CHANGE_PREFERENCES = "preferences:change"  # with the customer's spoken consent as evidence
UNMERGE = "merges:unmerge"
REVEAL_NATIONAL_IDS = "national-ids:reveal"  # see a national id whole (others see its last four characters); audited
REVIEW_MATCHES = "matches:review"  # the match review queue: both people side by side, accept (merge) or reject
VIEW_CASES = "cases:view"  # queues and case pages: a case's thread is personal data, every view is audited
WORK_CASES = "cases:work"  # open, write to, hand off, re-prioritize, move along, pick up and escalate cases
SUPERVISE_CASES = "cases:supervise"  # the escalated queue, picking up escalations, reassigning anyone's case
VIEW_REPORTS = "reports:view"  # aggregates only, never a person
MANAGE_USERS = "users:manage"
MANAGE_KEYS = "keys:manage"
MANAGE_OUTBOX = "outbox:manage"  # dead letters (replay, discard) and destinations (pause, resume): no person shown
VIEW_JOURNEYS = "journeys:view"  # the journeys board: open, stalled, abandoned by definition and step (counts)
WORK_JOURNEYS = "journeys:work"  # complete a journey step an agent is allowed to, with the customer on the line
ASSESS_COMMUNICATIONS = "communications:assess"  # the communications assessment: aggregates of the log, no person
PERMISSIONS = (
    FIND_CUSTOMERS,
    VIEW_CUSTOMERS,
    CORRECT_CUSTOMERS,
    CHANGE_PREFERENCES,
    UNMERGE,
    REVEAL_NATIONAL_IDS,
    REVIEW_MATCHES,
    VIEW_CASES,
    WORK_CASES,
    SUPERVISE_CASES,
    VIEW_REPORTS,
    MANAGE_USERS,
    MANAGE_KEYS,
    MANAGE_OUTBOX,
    VIEW_JOURNEYS,
    WORK_JOURNEYS,
    ASSESS_COMMUNICATIONS,
)

_AGENT = frozenset(
    {FIND_CUSTOMERS, VIEW_CUSTOMERS, CORRECT_CUSTOMERS, CHANGE_PREFERENCES, VIEW_CASES, WORK_CASES, WORK_JOURNEYS}
)
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    AGENT: _AGENT,
    # Merging two customers (or refusing to) decides whose data the next caller sees: a supervisor's call, like
    # undoing a merge.
    # Seeing a national id whole is needed when a case is escalated (a fraud check, a regulator's request), not on
    # an everyday call, where its last four characters let an agent check what the caller says.
    SUPERVISOR: _AGENT | {UNMERGE, REVEAL_NATIONAL_IDS, REVIEW_MATCHES, SUPERVISE_CASES, VIEW_REPORTS, VIEW_JOURNEYS},
    # Analysts answer "where does the experience break", which needs counts, not people: data minimization.
    ANALYST: frozenset({VIEW_REPORTS, VIEW_JOURNEYS, ASSESS_COMMUNICATIONS}),
    # A communications owner sees what the company sends and how it lands: the same aggregates, no person.
    COMMUNICATIONS_OWNER: frozenset({VIEW_REPORTS, ASSESS_COMMUNICATIONS}),
    # Admins run accounts and keys. Seeing customers would let whoever holds the keys to everything read
    # everyone unseen by the people who serve them; an admin who also serves customers gets a second account.
    ADMIN: frozenset({MANAGE_USERS, MANAGE_KEYS, MANAGE_OUTBOX}),
}


def permissions_of(role: str) -> frozenset[str]:
    """Every permission a role holds (none for an unknown role)."""
    return ROLE_PERMISSIONS.get(role, frozenset())


def may(role: str, permission: str) -> bool:
    """Whether a role holds a permission."""
    if permission not in PERMISSIONS:
        raise ValueError(f"{permission!r} is not a permission")  # a programming error in a page or a service
    return permission in permissions_of(role)
