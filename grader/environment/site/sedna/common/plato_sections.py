"""Read and replace sections of Plato's process-wide `Config()`.

Plato stores each YAML section (clients, server, data, trainer, algorithm) as a namedtuple on the
`Config` class. Sedna's V2 layer merges its arguments into those sections before Plato's client or
server is built; these two helpers keep that merging in one place.
"""

from __future__ import annotations


def section(name: str) -> dict:
    """A copy of one `Config()` section as a plain dict."""
    from plato.config import Config

    value = getattr(Config(), name)
    return dict(value._asdict()) if hasattr(value, "_asdict") else dict(value)


def replace_section(name: str, values: dict) -> None:
    """Replace one `Config()` section, for `Config.name` and `Config().name` readers alike."""
    from plato.config import Config

    value = Config.namedtuple_from_dict(dict(values))
    setattr(Config(), name, value)  # the instance attribute would shadow the class one
    setattr(Config, name, value)
