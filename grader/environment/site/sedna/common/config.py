"""Environment-variable configuration, the way Sedna workers receive theirs.

Sedna's controller configures each worker through environment variables; the course notebook's
configuration module sets the same variables (AGG_IP, AGG_PORT, ...). Values are read at call time,
so a variable set after import still counts.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "AGG_IP": "127.0.0.1",
    "AGG_PORT": "7363",
    # Sedna binds the aggregator to 0.0.0.0; the offline course environment never leaves loopback.
    "AGG_BIND_IP": "127.0.0.1",
    "AGG_BIND_PORT": "7363",
    "TRANSMITTER": "ws",
}


class Context:
    """Read worker parameters from the environment."""

    @staticmethod
    def get_parameters(param: str, default=None) -> str | None:
        """`os.environ[param]`, else `default`, else this layer's default (None if it has none)."""
        value = os.environ.get(param)
        if value is not None and value != "":
            return value
        if default is not None:
            return default
        return DEFAULTS.get(param)

    @staticmethod
    def get_int(param: str, default: int | None = None) -> int:
        """An integer parameter, with a message naming the variable when it is not a number."""
        value = Context.get_parameters(param, None if default is None else str(default))
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"environment variable {param} must be an integer, got {value!r}") from None


class BaseConfig:
    """Snapshot of the layer's settings at import time (Sedna exposes these as class attributes)."""

    transmitter = Context.get_parameters("TRANSMITTER")
    agg_ip = Context.get_parameters("AGG_IP")
    agg_port = Context.get_parameters("AGG_PORT")
