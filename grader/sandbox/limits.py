"""What a sandbox is: the limits and isolation of one student process, and the plan its launcher gets.

* `Limits`: resource limits and isolation settings of one sandbox (JSON-able, picklable); the
  defaults are the options declared in `grader.options`.
* `default_hidden()` / `default_keep()` / `batch_hidden(out_dir, inputs)`: the folders student code
  must not see, and what stays readable inside them.
* `sandbox_plan(limits)`: the JSON-able plan `launch.py` (LAUNCHER) applies in the new process.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..options import ISOLATION_MODES, GiB, MiB, option

__all__ = ["GRADER_PACKAGE", "GiB", "ISOLATION_MODES", "LAUNCHER", "Limits", "MiB", "NEVER_HIDDEN",
           "PROJECT_ROOT", "batch_hidden", "default_hidden", "default_keep", "sandbox_plan"]

LAUNCHER = Path(__file__).with_name("launch.py")
GRADER_PACKAGE = Path(__file__).resolve().parent.parent
PROJECT_ROOT = GRADER_PACKAGE.parent


@dataclass(frozen=True)
class Limits:
    """Resource limits and isolation of one sandbox (a student process and all it forks).

    `memory_bytes` is RLIMIT_DATA (heap and private anonymous memory, per process): torch and
    CUDA reserve far more address space than they use, so RLIMIT_AS (`address_space_bytes`, off
    by default) cannot be as small as RLIMIT_DATA with the course stack (see the README, Running
    untrusted code). `max_processes` is RLIMIT_NPROC counted per sandbox (threads count too); it only applies where the sandbox has its
    own user namespace. `isolation`: "auto" (namespaces where the platform allows them), "require"
    (refuse to start without), "off". `hidden`: extra folders student code must not see (the
    output folder, the submissions); the grader's home, project tree and temp folder always are.
    `netns`: the token of a `SharedNetwork` to join instead of getting a loopback of its own.
    `fork_namespaces`: a fork server, whose forks each make a PID namespace of their own (see
    `pid_namespace.py`): it keeps CAP_SYS_ADMIN and CAP_SETPCAP in its user namespace, and
    every fork drops them before it runs student code.
    """

    memory_bytes: int | None = option("memory_bytes")
    cpu_seconds: int | None = option("cpu_seconds")
    file_size_bytes: int | None = option("file_size_bytes")
    max_processes: int | None = option("max_processes")
    open_files: int | None = option("open_files")
    address_space_bytes: int | None = option("address_space_bytes")
    isolation: str = option("isolation")
    hidden: tuple[str, ...] = ()
    netns: str | None = None
    fork_namespaces: bool = False

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, not {self.isolation!r}")
        object.__setattr__(self, "hidden", tuple(str(p) for p in self.hidden))

    def hiding(self, *paths: str | Path) -> Limits:
        """These limits, with `paths` hidden from student code as well."""
        return dataclasses.replace(self, hidden=self.hidden + tuple(str(p) for p in paths))


def default_hidden() -> list[str]:
    """Hidden from every sandbox: the grader's home, the project tree (reference, fixtures, .git,
    tests, a default `grades/`), the temporary folders (other submissions' run directories,
    whatever else lies there), and every top-level folder that is not part of the system
    (`/home`, `/srv`, `/mnt`, ...: other checkouts of the course, other users' files), so
    student code sees the system and what `default_keep` brings back, nothing else."""
    try:
        top = [entry.path for entry in os.scandir("/") if entry.is_dir(follow_symlinks=False)]
    except OSError:
        top = []
    return [os.path.expanduser("~"), str(PROJECT_ROOT), tempfile.gettempdir(), "/tmp", "/var/tmp",
            *top]


def default_keep() -> list[str]:
    """Readable although inside a hidden folder: the grader package (the course site, the worker
    script) and the Python installation."""
    return [str(GRADER_PACKAGE), sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
            os.path.dirname(os.path.realpath(sys.executable))]


NEVER_HIDDEN = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/opt",
                          "/proc", "/run", "/sbin", "/sys", "/usr", "/var"})


def batch_hidden(out_dir: Path, inputs: list[Path]) -> tuple[str, ...]:
    """What a batch hides besides the defaults: its output folder and the folders it reads
    submissions from (each student sees no one's notebook, not even their own)."""
    folders = [Path(out_dir)] + [Path(p) if Path(p).is_dir() else Path(p).parent for p in inputs]
    return tuple(sorted({str(f.resolve()) for f in folders}))


def sandbox_plan(limits: Limits) -> dict:
    """What `launch.py` gets: rlimits, isolation mode, folders to hide and keep (real paths), the
    kept paths as named when they go through symlinks (`links`), a holder to join."""
    plan = {f.name: getattr(limits, f.name) for f in dataclasses.fields(Limits)
            if f.name not in ("hidden", "netns")}
    hidden = {os.path.realpath(p) for p in default_hidden() + list(limits.hidden)}
    plan["hidden"] = sorted(h for h in hidden if h not in NEVER_HIDDEN)
    plan["keep"] = sorted({os.path.realpath(p) for p in default_keep()})
    # ... and as the processes name them: links on the way are made again inside (namespaces.py)
    plan["links"] = sorted({os.path.abspath(p) for p in default_keep()} - set(plan["keep"]))
    if limits.netns:
        pid, user, net = (int(x) for x in limits.netns.split(":"))
        plan["join"] = {"pid": pid, "user": user, "net": net}
    return plan

