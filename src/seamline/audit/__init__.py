"""Audit: who read or changed what personal data, when, and through which surface."""
