"""Cases: a support matter, its conversation across channels and agents, handoff summary, priority and SLA."""
