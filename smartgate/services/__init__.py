"""Services: the orchestrator (the core behind a lock), the consignment desk, the handoff agent."""
