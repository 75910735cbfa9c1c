"""Apply the sandbox limits to this process, then exec the student-code command.

Run as a script (`python -I launch.py LIMITS_JSON -- CMD...`), never imported by student code: the
limits are set in a fresh interpreter right before `exec`, so they hold for the kernel or worker
and every process it forks, and no `preexec_fn` runs in the grader's (threaded) process.
"""
import json
import os
import resource
import sys

_RLIMITS = {
    "memory_bytes": resource.RLIMIT_AS,
    "cpu_seconds": resource.RLIMIT_CPU,
    "file_size_bytes": resource.RLIMIT_FSIZE,
    "max_processes": resource.RLIMIT_NPROC,
    "open_files": resource.RLIMIT_NOFILE,
}


def main(argv: list[str]) -> None:
    limits = json.loads(argv[1])
    if argv[2] != "--" or len(argv) < 4:
        raise SystemExit("usage: launch.py LIMITS_JSON -- CMD...")
    if os.getpid() != os.getsid(0):
        os.setsid()  # own process group: the grader kills the whole tree with one killpg
    for key, value in limits.items():
        if value is not None:
            resource.setrlimit(_RLIMITS[key], (value, value))
    os.execvp(argv[3], argv[3:])


if __name__ == "__main__":
    main(sys.argv)
