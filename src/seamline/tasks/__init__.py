"""Tasks: work for a person, routed to a queue with skills and a due time on the business clock."""
