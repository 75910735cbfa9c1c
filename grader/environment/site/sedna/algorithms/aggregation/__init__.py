"""Aggregation algorithms (the notebook imports `FedAvgV2` from here)."""

from .fedavg import FedAvgV2

__all__ = ["FedAvgV2"]
