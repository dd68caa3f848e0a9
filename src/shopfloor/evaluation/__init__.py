"""Metrics and leakage-free splits shared by tests and benchmarks (sits on top of the blocks)."""
