"""Run a coroutine to completion from synchronous code, inside a notebook or not."""

from __future__ import annotations

import asyncio
import warnings


def current_loop() -> asyncio.AbstractEventLoop:
    """The running loop, else the thread's current loop, else a new one installed as current.

    Plato's socket.io client and aiohttp server look the loop up with `asyncio.get_event_loop()`,
    so whatever loop runs them must also be the current one.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


def run_until_complete(coroutine):
    """Run `coroutine` on `current_loop()`.

    In a Jupyter kernel that loop is already running; the course patched it with `nest_asyncio`
    (`nest_asyncio.apply()`) so it can be re-entered, which is what Sedna's `train()` relies on.
    """
    loop = current_loop()
    try:
        return loop.run_until_complete(coroutine)
    except RuntimeError as error:
        if "already running" in str(error):
            coroutine.close()
            raise RuntimeError(
                "the event loop is already running (a Jupyter kernel?): run "
                "`import nest_asyncio; nest_asyncio.apply()` before starting federated training"
            ) from error
        raise
