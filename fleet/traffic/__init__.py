"""Traffic: timed routes, the corridor planner and its independent checker, and fleet
control executing plans through reservations."""
