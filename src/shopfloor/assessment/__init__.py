"""ISO 13374 health assessment (HA): which part is failing, how badly, how sure, and why."""
