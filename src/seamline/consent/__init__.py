"""Consent and preferences: the versioned ledger of choices, and the one policy that decides from it."""
