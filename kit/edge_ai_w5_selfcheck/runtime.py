"""Leave the student's kernel as the check found it: numpy's global random state, `sys.argv`,
the working directory and Plato's `Config()` singleton (when Plato is loaded)."""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

import numpy as np


def _plato_config_state():
    config = sys.modules.get("plato.config")
    cls = getattr(config, "Config", None) if config is not None else None
    if cls is None:
        return None
    return cls, dict(vars(cls))


def _restore_plato(saved) -> None:
    if saved is None:
        return
    cls, attributes = saved
    for name in set(vars(cls)) - set(attributes):
        with contextlib.suppress(AttributeError, TypeError):
            delattr(cls, name)
    for name, value in attributes.items():
        if vars(cls).get(name, object()) is not value:
            with contextlib.suppress(AttributeError, TypeError):
                setattr(cls, name, value)


@contextlib.contextmanager
def preserved() -> Iterator[None]:
    state = np.random.get_state()
    argv = list(sys.argv)
    cwd = os.getcwd()
    plato = _plato_config_state()
    # Plato's Config() parses sys.argv; a Jupyter kernel's `-f kernel.json` would make it exit.
    sys.argv[:] = argv[:1]
    try:
        yield
    finally:
        np.random.set_state(state)
        sys.argv[:] = argv
        with contextlib.suppress(OSError):
            os.chdir(cwd)
        _restore_plato(plato)


class Stopped(BaseException):
    """A check ran past its wall-clock limit (a BaseException: a student's `except Exception`
    around a wait must not swallow it)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Stopped in this thread after `seconds` of wall-clock time (SIGALRM: a sleep or a wait
    is interrupted, which a CPU-time bound never sees). Only in the main thread of a POSIX
    interpreter (a Jupyter kernel runs cells there); elsewhere it does nothing."""
    import signal
    import threading

    if (not seconds or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def stop(signum, frame):
        raise Stopped(seconds)

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
