"""The handoff at the zero line: the session logic (custody, outbox, dedup) and export rules."""
