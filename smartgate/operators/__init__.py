"""Operator features: accounts and sessions, the audit chain, alarms, KPIs."""
