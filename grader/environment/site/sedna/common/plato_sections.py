"""Read and replace sections of Plato's process-wide `Config()`.

Plato stores each YAML section (clients, server, data, trainer, algorithm) as a namedtuple on the
`Config` class. Sedna's V2 layer merges its arguments into those sections before Plato's client or
server is built; these two helpers keep that merging in one place. `fresh_config` rebuilds the
singleton from a YAML file without reading the process's arguments (the seam for in-process runs).
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


def fresh_config(config_file, argv=()):
    """Build Plato's `Config()` anew from `config_file`, as a process of its own would.

    Plato's `Config()` is created once per process: on first use it parses `sys.argv` with
    argparse and reads the YAML named by env `config_file`. This forgets the instance and builds
    it again with `argv` (Plato's own options, e.g. `["--id", "2"]`) instead of the process's
    arguments and with `config_file` named for that moment only, so a program that runs several
    federated parts in one process (the in-process tests) can start each from a known state.
    `sys.argv` and the environment are as before afterwards. Returns the new `Config()`.
    """
    import os
    import sys

    from plato.config import Config

    saved_argv, saved_file = sys.argv, os.environ.get("config_file")
    sys.argv = [saved_argv[0] if saved_argv else "plato", *map(str, argv)]
    os.environ["config_file"] = os.fspath(config_file)
    Config._instance = None  # pylint: disable=protected-access
    try:
        return Config()
    finally:
        sys.argv = saved_argv
        if saved_file is None:
            os.environ.pop("config_file", None)
        else:
            os.environ["config_file"] = saved_file
