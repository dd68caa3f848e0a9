"""Pipelines: jobs assembled from the ISO 13374 blocks (sits on top; never imported by them)."""
