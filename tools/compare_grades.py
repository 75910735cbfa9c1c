"""Compare two grades.json files, timings aside: the proof that a refactor changed no verdict.

    python tools/compare_grades.py BEFORE/grades.json AFTER/grades.json

Compares, per submission (by file name): status, fault, error, score, and per check: status,
points, feedback, failed properties and counterexamples. Prints one line per difference and
exits 1 when there is any, 0 when the two runs agree.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Keys that measure time or the machine rather than a verdict.
TIMING_KEYS = {"seconds", "timings", "execution_time"}


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _by_submission(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text())
    return {row["submission"]: _without_timings(row) for row in data.get("submissions", [])}


def differences(before: Path, after: Path) -> list[str]:
    """One sentence per difference between two grades.json files, timings ignored."""
    old, new = _by_submission(before), _by_submission(after)
    found = [f"{name}: only in {before}" for name in sorted(old.keys() - new.keys())]
    found += [f"{name}: only in {after}" for name in sorted(new.keys() - old.keys())]
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        for key in sorted((a.keys() | b.keys()) - {"checks"}):
            if a.get(key) != b.get(key):
                found.append(f"{name}: {key} {a.get(key)!r} -> {b.get(key)!r}")
        checks_a = {c["id"]: c for c in a.get("checks", [])}
        checks_b = {c["id"]: c for c in b.get("checks", [])}
        if list(checks_a) != list(checks_b):
            found.append(f"{name}: checks {list(checks_a)} -> {list(checks_b)}")
        for check_id in checks_a.keys() & checks_b.keys():
            ca, cb = checks_a[check_id], checks_b[check_id]
            for key in sorted(ca.keys() | cb.keys()):
                if ca.get(key) != cb.get(key):
                    found.append(f"{name}: {check_id}.{key} {ca.get(key)!r} -> {cb.get(key)!r}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    before, after = map(Path, argv)
    for path in (before, after):
        if not path.is_file():
            print(f"compare_grades: {path} is not a file (expected a grades.json)", file=sys.stderr)
            return 2
    found = differences(before, after)
    for line in found:
        print(line)
    total = len(_by_submission(before))
    print(f"{total} submissions compared: "
          + ("identical (timings aside)" if not found else f"{len(found)} difference(s)"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
