"""Client choosers: how many connected clients the aggregator trains with each round."""

from .simple import SimpleClientChoose

__all__ = ["SimpleClientChoose"]
