"""SD, state detection: anomaly scorers (batch and streaming), fitted thresholds, alarm logic,
data-quality guardrails and events.

Roles (see :mod:`shopfloor.core.detection_roles`): score → threshold → alarm logic → event.
"""
