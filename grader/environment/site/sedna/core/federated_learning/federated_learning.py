"""`FederatedLearningV2`: one federated-learning client built from Plato's registries.

The constructor merges its arguments into Plato's `Config()` (the course YAML) and builds the Plato
client; `train()` connects to the aggregator and trains until the aggregator (or the trainer)
ends the session. Plato then ends the process with `os._exit(0)`, as Sedna did in the course.
"""

from __future__ import annotations

import logging

from sedna.algorithms.transmitter import AbstractTransmitter, get_transmitter
from sedna.common.config import Context
from sedna.common.event_loop import run_until_complete
from sedna.common.models import as_model_factory
from sedna.common.plato_sections import replace_section, section

from .datasource import customized_datasource

LOGGER = logging.getLogger(__name__)


class FederatedLearningV2:
    """A Sedna federated-learning V2 client on top of Plato.

    Merged into `Config()` before the client is built:

    * `data`: if `data.customized`, its `trainset`/`testset` become the client's data source;
      otherwise `data.parameters` (if any) update the `data` section;
    * `estimator`: `hyperparameters` update the `trainer` section, `use_client` sets
      `clients.type`, `model` is the model to train;
    * `aggregation`: `parameters` become the `algorithm` section;
    * `clients.do_test` is always true (clients report their test accuracy);
    * `server.address` / `server.port` come from env `AGG_IP` / `AGG_PORT`, plus the transmitter's
      parameters;
    * the client id comes from env `CLIENT_ID` (else Plato's `--id`, else 1): on plato-learn 0.4.0
      the aggregator only looks up clients with ids 1..clients_per_round.
    """

    def __init__(self, data=None, estimator=None, aggregation=None, transmitter=None) -> None:
        from plato.config import Config

        clients, server = section("clients"), section("server")
        data_section, trainer = section("data"), section("trainer")

        self.datasource = None
        if data is not None:
            if getattr(data, "customized", False):
                self.datasource = customized_datasource(data)
            elif getattr(data, "parameters", None):
                data_section.update(data.parameters)

        self.model = None
        if estimator is not None:
            self.model = getattr(estimator, "model", None)
            trainer.update(getattr(estimator, "hyperparameters", None) or {})
            if getattr(estimator, "use_client", None):
                clients["type"] = estimator.use_client

        if aggregation is not None:
            replace_section("algorithm", aggregation.parameters)

        clients["do_test"] = True
        server["address"] = Context.get_parameters("AGG_IP")
        server["port"] = Context.get_int("AGG_PORT")
        if transmitter is not None:
            server.update(transmitter.parameters)

        replace_section("data", data_section)
        replace_section("trainer", trainer)
        replace_section("server", server)
        replace_section("clients", clients)

        self.client_id = self._client_id(Config().args.id)
        Config().args.id = self.client_id

        from plato.clients import registry as client_registry

        self.client = client_registry.get(
            model=as_model_factory(self.model), datasource=self.datasource
        )
        self.client.client_id = self.client_id
        LOGGER.info(
            "Federated learning client #%d for the aggregator at %s:%s.",
            self.client_id, server["address"], server["port"],
        )

    @staticmethod
    def get_transmitter_from_config() -> AbstractTransmitter:
        """The transmitter named by env `TRANSMITTER` (default `ws`)."""
        return get_transmitter(Context.get_parameters("TRANSMITTER"))

    @staticmethod
    def _client_id(plato_id) -> int:
        if Context.get_parameters("CLIENT_ID") is not None:
            client_id = Context.get_int("CLIENT_ID")
        else:
            client_id = int(plato_id or 1)
        if client_id < 1:
            raise ValueError(f"CLIENT_ID must be 1 or more, got {client_id}")
        return client_id

    def train(self) -> None:
        """Connect to the aggregator and take part in training (blocks until the session ends)."""
        self.client.configure()
        run_until_complete(self.client.start_client())
