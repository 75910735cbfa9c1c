"""`AggregationServerV2`: the federated-learning aggregator, a Plato FedAvg server.

It binds env `AGG_BIND_IP` (default 127.0.0.1 in this layer; Sedna's was 0.0.0.0) and
`AGG_BIND_PORT` (default 7363), waits until `chooser.parameters["per_round"]` clients are
connected, then runs rounds until `trainer.rounds` or `trainer.target_accuracy` is reached and
ends its process (Plato's `os._exit(0)`). Clients must use ids 1..per_round.
"""

from __future__ import annotations

import logging

from sedna.common.config import Context
from sedna.common.event_loop import current_loop
from sedna.common.models import as_model_factory
from sedna.common.plato_sections import replace_section, section

LOGGER = logging.getLogger(__name__)


class AggregationServerV2:
    """Merge the arguments into Plato's `Config()` and build the course FedAvg server.

    * `data.parameters` (if any) update the `data` section;
    * `estimator.hyperparameters` update `trainer` (rounds, target_accuracy, ...), and
      `estimator.model` is the global model (it must match the clients' model);
    * `aggregation.parameters` become the `algorithm` section;
    * `transmitter.parameters` update `server`;
    * `chooser.parameters["per_round"]` sets `clients.per_round` (and `total_clients`);
    * the server never starts clients of its own (`server.disable_clients`) and does not test the
      global model itself (`server.do_test: false`): accuracy is the clients' average.
    """

    def __init__(self, data=None, estimator=None, aggregation=None, transmitter=None,
                 chooser=None) -> None:
        clients, server = section("clients"), section("server")
        data_section, trainer = section("data"), section("trainer")

        if data is not None and getattr(data, "parameters", None):
            data_section.update(data.parameters)

        self.model = None
        if estimator is not None:
            self.model = getattr(estimator, "model", None)
            trainer.update(getattr(estimator, "hyperparameters", None) or {})

        if aggregation is not None:
            replace_section("algorithm", aggregation.parameters)

        server["address"] = Context.get_parameters("AGG_BIND_IP")
        server["port"] = Context.get_int("AGG_BIND_PORT")
        server["disable_clients"] = True
        server["do_test"] = False
        if transmitter is not None:
            server.update(transmitter.parameters)

        if chooser is not None:
            clients["per_round"] = int(chooser.parameters["per_round"])
        clients["total_clients"] = clients["per_round"]

        replace_section("data", data_section)
        replace_section("trainer", trainer)
        replace_section("server", server)
        replace_section("clients", clients)
        LOGGER.info("Aggregator on %s:%s, %d clients per round.",
                    server["address"], server["port"], clients["per_round"])

        # Imported only now: Plato's server modules read Config() at import time.
        from .course_server import RoundPayloadServer

        self.server = RoundPayloadServer(
            model=as_model_factory(self.model), trainer=_server_trainer(trainer.get("type"))
        )

    def start(self) -> None:
        """Run the server until training ends (the process then exits)."""
        current_loop()  # Plato's server runs on asyncio.get_event_loop(): make sure one exists
        self.server.run()


def _server_trainer(trainer_type):
    """The trainer class for the server's copy of the model.

    Clients name their own trainer (the notebook's `edge_ai_trainer`), which is not registered in
    the aggregator's process; the server only holds and saves the model, so Plato's basic trainer
    serves whenever the configured type is unknown here.
    """
    from plato.trainers import registry as trainer_registry
    from plato.trainers.basic import Trainer as BasicTrainer

    return trainer_registry.registered_trainers.get(trainer_type, BasicTrainer)
