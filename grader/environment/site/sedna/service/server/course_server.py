"""The course's FedAvg server: every client also learns the current round.

The week-5 notebook's Task 4a expects the server payload `{"weights": ..., "current_round": ...}`
(its trainer lowers the learning rate with the round number). Plato builds the payload through the
`customize_server_payload` hook, which a FedAvg server subclass fills in.

Two seams let the same server run inside one event loop of another program (the in-process tests
in `tests/federated/`), without changing what it does in its own process:

* `make_app()` builds the socket.io server and the aiohttp application that `start()` serves
  (Plato's `start()` does both and then blocks in `web.run_app`); an in-process runner serves the
  app with `aiohttp.web.AppRunner` on a port of its choice instead.
* `exit_process()` is where the session ends: Plato's `close()` calls `os._exit(0)` after
  disconnecting the clients, which is what the round's aggregator process does here too. An
  in-process runner replaces `exit_process` on its instance; a closed server then starts no
  further round (in its own process nothing runs after `exit_process`).
"""

from __future__ import annotations

import asyncio
import logging
import os

import socketio
from aiohttp import web
from plato.config import Config
from plato.servers import base, fedavg
from plato.utils import s3


class RoundPayloadServer(fedavg.Server):
    """Plato's FedAvg server with the course payload."""

    closed = False

    def customize_server_payload(self, payload):
        """Wrap the extracted weights together with the round they belong to."""
        return {"weights": payload, "current_round": self.current_round}

    def start(self, port=None):
        """Listen on `server.port` as configured now (blocks until the process ends).

        Plato's `start(port=Config().server.port)` evaluates its default when `plato.servers.base`
        is imported; a port chosen later would otherwise be ignored.
        """
        port = int(Config().server.port) if port is None else port
        logging.info("Starting a server at address %s and port %s.", Config().server.address, port)
        web.run_app(self.make_app(), host=Config().server.address, port=port,
                    loop=asyncio.get_event_loop())

    def make_app(self) -> web.Application:
        """Plato's socket.io server (`self.sio`, its event namespace) attached to a new aiohttp app."""
        self.sio = socketio.AsyncServer(ping_interval=self.ping_interval,
                                        max_http_buffer_size=2**31,
                                        ping_timeout=self.ping_timeout)
        self.sio.register_namespace(base.ServerEvents(namespace="/", plato_server=self))
        if hasattr(Config().server, "s3_endpoint_url"):
            self.s3_client = s3.S3()
        app = web.Application()
        self.sio.attach(app)
        return app

    async def select_clients(self, for_next_batch=False):
        if self.closed:  # only reachable where `exit_process` returned (in-process runs)
            return
        await super().select_clients(for_next_batch=for_next_batch)

    async def close(self):
        """Plato's `close()`: save the model, disconnect every client, then `exit_process()`."""
        if self.closed:
            return
        self.closed = True
        logging.info("[%s] Training concluded.", self)
        self.trainer.save_model()
        await self.close_connections()
        self.exit_process()

    def exit_process(self) -> None:
        """End the aggregator's process, as Plato's server does."""
        os._exit(0)  # pylint: disable=protected-access
