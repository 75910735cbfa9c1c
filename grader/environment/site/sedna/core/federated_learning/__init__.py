"""Federated learning, client side (the notebook imports `FederatedLearningV2` from here)."""

from .federated_learning import FederatedLearningV2

__all__ = ["FederatedLearningV2"]
