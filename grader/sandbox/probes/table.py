"""The worker's probe table: `@probe` registers a function under its name in `PROBES`.

    @probe
    def value(ns, name): ...        # a request {"op": "call", "probe": "value", ...} calls it

A name registered twice is a mistake in the grader (two modules would answer one request), so it
raises at load time, before any student code runs.
"""

PROBES = {}


def probe(function):
    """Register `function` as the probe named after it; returns it unchanged."""
    name = function.__name__
    if name in PROBES and PROBES[name] is not function:
        raise ValueError(f"probe {name!r} registered twice")
    PROBES[name] = function
    return function
