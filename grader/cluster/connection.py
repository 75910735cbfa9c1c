"""Reach the Dask cluster `--cluster ADDRESS` names: `local:N` starts a LocalCluster of N worker
processes on this machine (loopback only, one thread each, no dashboard unless bokeh is
installed, then on loopback); anything else is a scheduler address (`tcp://host:8786`).

`connect(address)` returns a `Connection` (the client, the LocalCluster it started if any);
closing it closes both, and the workers of a LocalCluster end with them. A scheduler that cannot
be reached, or one without any worker, raises `ClusterError` (the grader could not grade: exit 2).

The scheduler retries a task whose worker died; a task that took down `ALLOWED_FAILURES + 1`
workers is given up (Dask's KilledWorker): that submission becomes an `error` row. A LocalCluster
gets these settings from here (`CONFIG`, also Dask's slowed housekeeping, `HOUSEKEEPING`); a remote
scheduler from its own configuration (docs/cluster.md), remote workers their housekeeping from
the grader's plugin.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys
import warnings
from dataclasses import dataclass

ALLOWED_FAILURES = 1
"""Worker deaths a task may cause and still be retried: the second one makes it an error row."""
CONNECT_TIMEOUT = 30.0
"""Seconds to reach a remote scheduler."""
WORKER_WAIT = 60.0
"""Seconds to wait for the first worker of a remote scheduler."""

HOUSEKEEPING = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}
"""Dask's own periodic work, slowed for grading tasks that each run for seconds. By default every
Dask process checks its event loop every 20 ms, samples the system every 500 ms, and every
worker samples its running task's stack every 10 ms (the statistical profiler): 17.5 % of a core
for an idle `local:2`, 2.1 % with these, and on 2 cores +15 % against the process pool on 40
notebooks instead of +4 % (docs/cluster.md). The plugin applies them on workers started with
their own configuration (`plugin.slow_housekeeping`)."""
CONFIG = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES, **HOUSEKEEPING}


class ClusterError(Exception):
    """The cluster could not be started or reached, or cannot grade: the grader's fault."""


def import_distributed():
    """`distributed`, imported without its third-party warnings reaching the terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import distributed

    return distributed


@dataclass
class Connection:
    client: object
    cluster: object | None  # the LocalCluster this process started, if any
    address: str

    @property
    def local(self) -> bool:
        return self.cluster is not None

    @property
    def dashboard(self) -> str | None:
        """The dashboard's address, when the scheduler serves one (it needs bokeh)."""
        if self.local and not importlib.util.find_spec("bokeh"):
            return None
        try:
            services = self.client.scheduler_info(n_workers=0).get("services", {})
        except Exception:  # noqa: BLE001 - the address is only printed
            return None
        return self.client.dashboard_link if "dashboard" in services else None

    def workers(self) -> dict[str, dict]:
        return self.client.scheduler_info(n_workers=-1)["workers"]

    def gpu_workers(self) -> int:
        return sum(1 for w in self.workers().values() if w.get("resources", {}).get("GPU", 0) >= 1)

    def close(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def local_workers(address: str) -> int | None:
    """N for `local:N`, None for a scheduler address; ClusterError for a bad `local:`."""
    if not address.startswith("local:"):
        return None
    count = address[len("local:"):]
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"--cluster {address}: expected local:N with N >= 1 worker processes, "
                           "or a scheduler address such as tcp://host:8786")
    return int(count)


def connect(address: str) -> Connection:
    distributed = import_distributed()
    import dask

    dask.config.set(CONFIG)
    count = local_workers(address)
    if count is not None:
        quiet_workers()
        try:
            cluster = distributed.LocalCluster(
                n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
                protocol="tcp", dashboard_address="127.0.0.1:0", worker_dashboard_address=None,
                memory_limit=0,  # the sandbox limits student processes; a worker is not killed for it
                silence_logs=logging.CRITICAL)  # the grader reports what matters
            client = distributed.Client(cluster)
        except Exception as exc:  # noqa: BLE001 - the grader's environment, not a student
            raise ClusterError(f"could not start a local Dask cluster of {count} worker(s): "
                               f"{type(exc).__name__}: {exc}") from exc
        return Connection(client, cluster, cluster.scheduler_address)
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        raise ClusterError(f"could not reach the Dask scheduler at {address}: "
                           f"{type(exc).__name__}: {exc}") from exc
    connection = Connection(client, None, address)
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except Exception as exc:  # noqa: BLE001 - a timeout: nobody would grade
        connection.close()
        raise ClusterError(f"the Dask scheduler at {address} has no worker (waited "
                           f"{WORKER_WAIT:.0f} s): start one with `dask worker {address}`") from exc
    return connection


QUIET = ("ignore:The pynvml package is deprecated:FutureWarning",)
"""Third-party warnings a worker process would print as it starts (torch and distributed import
the deprecated pynvml): they say nothing about grading."""


def quiet_workers() -> None:
    """Worker processes are spawned with this interpreter's -W options: add `QUIET` to them."""
    for option in QUIET:
        if option not in sys.warnoptions:
            sys.warnoptions.append(option)


def client_pid_for_workers(connection: Connection) -> int | None:
    """The pid local workers end with (their parent: this process); None for a remote cluster."""
    return os.getpid() if connection.local else None
