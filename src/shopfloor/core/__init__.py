"""Base contracts, units, the canonical data model, events, errors and the embedded store.

``core`` imports nothing else of shopfloor; every ISO 13374 block builds on it.
"""
