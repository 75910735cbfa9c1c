"""The aggregation server (the course ran `AggregationServerV2` for the students)."""

from .aggregation import AggregationServerV2

__all__ = ["AggregationServerV2"]
