"""Benchmarks for smartgate components."""
