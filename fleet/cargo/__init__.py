"""Cargo: consignments and their lifecycle, declarations, ISO 6346 container numbers, dispatch."""
