"""Decisions: the action catalog, the next best action for a person in a context, and the one contact policy
(never offer what they already have, one fatigue budget, quiet hours) every outbound path asks."""
