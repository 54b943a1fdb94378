"""Feedback at touchpoints: CSAT, NPS and CES surveys sent after a case, a journey, a visit or a message, answered
on a signed page, through the API or as a tracked event, each answer tied to a snapshot of what it rates."""
