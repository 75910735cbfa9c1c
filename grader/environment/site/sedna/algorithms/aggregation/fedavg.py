"""Federated averaging, as a descriptor: the averaging itself is Plato's FedAvg server."""


class FedAvgV2:
    """Select Plato's `fedavg` algorithm; `parameters` becomes Plato's `algorithm` section."""

    def __init__(self) -> None:
        self.parameters = {"type": "fedavg"}
