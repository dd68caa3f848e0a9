"""Testing aids for shopfloor and for anyone writing components: the contract-test kit
(:mod:`shopfloor.testing.contract`) and synthetic signals with known answers
(:mod:`shopfloor.testing.signals`).
"""

from shopfloor.testing.contract import check_component, iter_checks, parametrize_with_checks

__all__ = ["check_component", "iter_checks", "parametrize_with_checks"]
