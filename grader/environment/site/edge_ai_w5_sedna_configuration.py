"""Course configuration for Sedna and Plato (`import edge_ai_w5_sedna_configuration`).

The course's utility script of this name pointed Sedna at the course's aggregation server. This
offline version does the same for the grader's local aggregator, on import:

* resets `sys.argv`, because Plato's `Config()` parses it with argparse and a Jupyter kernel's
  `-f kernel.json` would make it exit with "unrecognized arguments";
* sets Sedna's `AGG_IP` / `AGG_PORT` from the grader's `GRADER_AGG_IP` / `GRADER_AGG_PORT`
  (defaults 127.0.0.1 and 7363), and `CLIENT_ID` from `GRADER_CLIENT_ID` when given;
* renders the course Plato YAML (env `config_file` if it names a file, else `edge_ai_w5_course.yml`
  beside this module) with that address and port into a temporary file and points `config_file`
  at it: `import plato.servers.fedavg` freezes the YAML's port at import time, so the port has to
  be in the file, not only in the environment.

Plato creates `checkpoints/` and `models/pretrained/` in the working directory when `Config()` is
first used; nothing else is written outside the temporary directory.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import yaml

COURSE_YAML = Path(__file__).with_name("edge_ai_w5_course.yml")
DEFAULT_AGG_IP = "127.0.0.1"
DEFAULT_AGG_PORT = 7363


def aggregator_address() -> tuple[str, int]:
    """(ip, port) of the aggregator, from the grader's variables or the defaults."""
    ip = os.environ.get("GRADER_AGG_IP") or DEFAULT_AGG_IP
    raw_port = os.environ.get("GRADER_AGG_PORT") or str(DEFAULT_AGG_PORT)
    try:
        port = int(raw_port)
    except ValueError:
        raise ValueError(f"GRADER_AGG_PORT must be a port number, got {raw_port!r}") from None
    return ip, port


def render_config(ip: str, port: int, source: Path | None = None) -> Path:
    """Write the course YAML with `server.address`/`server.port` set; returns the new file."""
    source = Path(source) if source is not None else _source_yaml()
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config.setdefault("server", {}).update(address=ip, port=port)
    handle, name = tempfile.mkstemp(prefix="edge_ai_w5_plato_", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        yaml.safe_dump(config, out, sort_keys=False)
    return Path(name)


def configure() -> Path:
    """Apply everything described in the module docstring; returns the rendered YAML."""
    sys.argv = sys.argv[:1] or ["python"]
    ip, port = aggregator_address()
    os.environ["AGG_IP"] = ip
    os.environ["AGG_PORT"] = str(port)
    os.environ.setdefault("AGG_BIND_IP", ip)
    os.environ.setdefault("AGG_BIND_PORT", str(port))
    if os.environ.get("GRADER_CLIENT_ID"):
        os.environ["CLIENT_ID"] = os.environ["GRADER_CLIENT_ID"]
    path = render_config(ip, port)
    os.environ["config_file"] = str(path)
    _update_loaded_config(ip, port)
    return path


def _source_yaml() -> Path:
    given = os.environ.get("config_file")
    return Path(given) if given and os.path.isfile(given) else COURSE_YAML


def _update_loaded_config(ip: str, port: int) -> None:
    """If Plato's Config() was already created in this process, give it the address too."""
    config_module = sys.modules.get("plato.config")
    if config_module is None or config_module.Config._instance is None:
        return
    Config = config_module.Config
    server = Config().server._replace(address=ip, port=port)
    Config.server = server
    Config().server = server


CONFIG_FILE = configure()
AGG_IP, AGG_PORT = aggregator_address()
