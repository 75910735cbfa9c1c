"""The course's FedAvg server: every client also learns the current round.

The week-5 notebook's Task 4a expects the server payload `{"weights": ..., "current_round": ...}`
(its trainer lowers the learning rate with the round number). Plato builds the payload through the
`customize_server_payload` hook, which a FedAvg server subclass fills in.
"""

from __future__ import annotations

from plato.config import Config
from plato.servers import fedavg


class RoundPayloadServer(fedavg.Server):
    """Plato's FedAvg server with the course payload."""

    def customize_server_payload(self, payload):
        """Wrap the extracted weights together with the round they belong to."""
        return {"weights": payload, "current_round": self.current_round}

    def start(self, port=None):
        """Listen on `server.port` as configured now.

        Plato's `start(port=Config().server.port)` evaluates its default when `plato.servers.base`
        is imported; a port chosen later would otherwise be ignored.
        """
        super().start(port=int(Config().server.port) if port is None else port)
