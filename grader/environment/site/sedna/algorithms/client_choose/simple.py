"""The simplest chooser: a fixed number of clients per round."""


class SimpleClientChoose:
    """`parameters["per_round"]` becomes Plato's `clients.per_round` on the aggregator.

    A round starts once this many clients are connected.
    """

    def __init__(self, per_round: int = 1) -> None:
        if int(per_round) < 1:
            raise ValueError(f"per_round must be at least 1, got {per_round!r}")
        self.parameters = {"type": "simple", "per_round": int(per_round)}
