"""Grading on a Dask cluster (`grade --cluster ADDRESS`): the same batch, graded by Dask workers.

- `connection`: reach a scheduler (`tcp://host:8786`) or start a LocalCluster (`local:N`).
- `plugin`: the warm grader each worker holds (fork server, canary), closed on teardown.
- `tasks`: what a worker runs: one submission sent as bytes, its federated round (a GPU task).
- `dispatch`: the client side, a `batch.Dispatch`: the client alone writes the gradebook and
  exports, so a batch on a cluster resumes as a local one does.

Dask is imported only here, and only when `--cluster` is given.
"""
from __future__ import annotations

from .connection import ClusterError, Connection, connect

__all__ = ["ClusterError", "Connection", "connect", "open_dispatch"]


def open_dispatch(connection: Connection):
    from .dispatch import ClusterDispatch

    return ClusterDispatch(connection)
