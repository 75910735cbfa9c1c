"""Transmitter descriptors; `parameters` is merged into Plato's `server` section.

Sedna also offers an S3 transmitter (weights through an object store). The offline course
environment must never contact anything but loopback, so only Plato's own socket.io transport
(`ws`) exists here, and asking for another one fails loudly instead of silently falling back.
"""

from __future__ import annotations


class AbstractTransmitter:
    """Base class: `parameters` are extra Plato `server` settings."""

    name = "abstract"

    def __init__(self) -> None:
        self.parameters: dict = {}


class WSTransmitter(AbstractTransmitter):
    """Plato's socket.io websocket transport; it needs no extra server settings."""

    name = "ws"


TRANSMITTERS = {WSTransmitter.name: WSTransmitter}


def get_transmitter(name: str) -> AbstractTransmitter:
    """Instantiate the transmitter called `name` (the value of env `TRANSMITTER`)."""
    try:
        return TRANSMITTERS[name.strip().lower()]()
    except KeyError:
        raise ValueError(
            f"TRANSMITTER={name!r} is not available in the offline course environment; "
            f"use one of {sorted(TRANSMITTERS)} (or leave TRANSMITTER unset)."
        ) from None
