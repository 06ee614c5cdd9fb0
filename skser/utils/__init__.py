"""Utilities for skser developers and for users writing their own steps."""

from skser.utils.estimator_checks import all_estimators, check_estimator

__all__ = ["all_estimators", "check_estimator"]
