"""Running the team: shifts, status and handovers, SLA timers, approvals, CSAT, queue texts."""
