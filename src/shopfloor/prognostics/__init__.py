"""PA (ISO 13374 prognostics assessment): remaining useful life with intervals.

Fleet models learn from run-to-failure histories of many units (:mod:`.boosted`, :mod:`.deep`);
the health-index model (:mod:`.health_index`) needs no run-to-failure labels at all.
"""
