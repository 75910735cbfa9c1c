"""One loopback for several sandboxes: the federated round's aggregator and clients.

    with SharedNetwork() as net:
        spawn(argv, cwd=..., env=..., limits=net.limits(base))
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

from ..options import default
from .kill import SHARED_USER_NAMESPACES, kill_group
from .limits import LAUNCHER, Limits


class SharedNetwork:
    """A user + network namespace held open by a small process, for sandboxes that must reach
    each other over 127.0.0.1 and nothing else (the federated round: aggregator and clients).

        with SharedNetwork() as net:
            agg = spawn(argv, cwd=..., env=..., limits=net.limits(base))
            ...   # kernels: execute(..., limits=net.limits(base))

    Every process started with `net.limits(...)` joins the holder's namespaces (its own mount
    namespace and limits as usual); RLIMIT_NPROC then counts all of them together. Where
    isolation is unavailable (`isolated` is False, `reason` says why), `limits()` returns the
    limits unchanged and the processes share the machine's loopback as before. `close()` kills
    every process still in the namespace, then the holder.
    """

    def __init__(self, isolation: str = default("isolation"), timeout: float = 30.0) -> None:
        self.isolation = isolation
        self.timeout = timeout
        self.token: str | None = None
        self.reason = ""
        self._holder: subprocess.Popen | None = None
        self._user_ns: int | None = None

    @property
    def isolated(self) -> bool:
        return self.token is not None

    def start(self) -> SharedNetwork:
        if self._holder is not None or self.isolation == "off":
            if self.isolation == "off":
                self.reason = "isolation is off"
            return self
        command = [sys.executable, "-I", str(LAUNCHER), "--hold", json.dumps({})]
        self._holder = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True,
                                        env={"PATH": os.defpath}, cwd="/")
        line = _read_line(self._holder, self.timeout)
        try:
            info = json.loads(line)
            self.token = f"{info['pid']}:{info['user']}:{info['net']}"
            self._user_ns = int(info["user"])
            SHARED_USER_NAMESPACES.add(self._user_ns)
        except (ValueError, KeyError, TypeError):
            error = ""
            if self._holder.poll() is not None:
                error = self._holder.stderr.read().decode(errors="replace").strip().splitlines()
                error = error[-1] if error else ""
            self.close()
            self.reason = f"no shared network namespace here: {error or 'the holder did not start'}"
            if self.isolation == "require":
                raise OSError(self.reason)
        return self

    def limits(self, base: Limits) -> Limits:
        """`base` joined to this namespace (unchanged when there is none)."""
        return dataclasses.replace(base, netns=self.token) if self.token else base

    def close(self) -> None:
        holder, self._holder = self._holder, None
        if holder is None:
            return
        ns, self._user_ns = self._user_ns, None
        self.token = None
        if ns is not None:
            SHARED_USER_NAMESPACES.discard(ns)
        for stream in (holder.stdin, holder.stdout, holder.stderr):
            try:
                stream.close()
            except OSError:
                pass
        # the holder is the namespace's launcher: every process that joined, and whatever they
        # started, is swept with it (by the namespace's kernel uid, or its inode for non-root)
        kill_group(holder.pid, settle=5.0)
        try:
            holder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self) -> SharedNetwork:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    import select

    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().decode(errors="replace") if ready else ""
