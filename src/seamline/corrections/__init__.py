"""Corrections: changes an agent or a system makes to a profile, written as events of their own source."""
