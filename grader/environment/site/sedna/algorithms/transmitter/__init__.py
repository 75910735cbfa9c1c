"""Model transmitters: how weights travel between aggregator and clients."""

from .transmitter import AbstractTransmitter, WSTransmitter, get_transmitter

__all__ = ["AbstractTransmitter", "WSTransmitter", "get_transmitter"]
