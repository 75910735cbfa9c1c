"""The next-stack report: both stacks' recorded results side by side (stdlib only).

    items = compare(pinned, nxt, sources)       # one row per cell / check, both stacks' verdicts
    report = build_report(pinned, nxt, sources, build)
    write(report, Path("next-stack"))           # report.json + report.md

A stack's results (what tools/next_stack.py records, `results/<stack>.json`) are plain JSON:

    {"versions": {"python": "3.11.7", "versions": {"numpy": "2.4.6", ...}},
     "cells":  {"cells": [{"index": 12, "status": "ran"|"failed"|"timeout"|"not run", "error": ..,
                           "raised_in": 2 (only when another cell's code raised)}]}
               or {"error": "why no cell ran"},
     "grader": {"checks": [{"id": .., "status": "passed"|.., "summary": .., "error": ..}]}
               or {"error": ..},
     "kit":    {"checks": [{"id": .., "status": ..,  "error": ..}]} or {"error": ..}}

Indices count all cells from 0; the report names cells from 1 (`cell 13`), as the grader's
feedback does. A row is a regression when it is good on the pinned stack (ran / passed / skipped) and not on the
next one; `--strict` fails on regressions only. "What to change" comes from KNOWN_CAUSES, matched
on the error line (the causes this course has already met), or points at the earlier failing cell
that defines the name a later cell or check misses (a knock-on).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

SCHEMA_VERSION = 1
GOOD = ("ran", "passed", "skipped")
PARTS = (("cell", "cells", "cell"), ("grader", "grader", "grader check"), ("kit", "kit", "kit check"))
"""(row kind, key in a stack's results, what the Markdown calls it)."""

KNOWN_CAUSES: tuple[tuple[str, str], ...] = (
    (r"np\.sctypes",
     "imgaug 0.4.0 (its last release) uses `np.sctypes`, removed in numpy 2: keep numpy<2, or "
     "replace imgaug's augmenters (e.g. torchvision.transforms.v2)"),
    (r"get_cmap",
     "`plt.cm.get_cmap` is gone in matplotlib 3.11: use `matplotlib.colormaps[name]` "
     "(or keep matplotlib<3.11)"),
    (r"pyarrow requires NumPy 2",
     "pyarrow >= 22 needs numpy 2: keep pyarrow<22 while numpy<2"),
    (r"_ARRAY_API not found|compiled using NumPy 1\.x|numpy\.core\.multiarray failed",
     "an extension built against numpy 1.x meets numpy 2: upgrade it or keep numpy<2"),
    (r"unrecognized arguments",
     "Plato's Config() parses sys.argv: reset sys.argv before the first Plato import"),
    (r"No such model",
     "the course config's `trainer.model_name` is unknown to this Plato: use one it registers"),
)
_MISSING = re.compile(r"No module named '([\w.]+)'")


HELD_BACK_NOTES = {
    "plato-learn": "plato-learn >= 1.1 also has another API (strategies, `_load_payload`, TOML "
                   "config, `Trainer(model, callbacks)`): the course's Plato code must change with it",
}


def what_to_change(error: str | None) -> str | None:
    """A short hint for a failure whose cause the course already knows, else None."""
    for pattern, change in KNOWN_CAUSES:
        if error and re.search(pattern, error):
            return change
    missing = _MISSING.search(error or "")
    if missing:
        return (f"`{missing.group(1)}` is not installed in the next stack: a dependency dropped it "
                f"or it has no release for this stack; add it to the course's requirements")
    return None


def _verdict(status: str | None, error: str | None = None, raised_in: int | None = None) -> dict:
    verdict = {"status": status or "not run", "error": error}
    if raised_in is not None:  # the error came from code of an earlier cell (a helper it defines)
        verdict["raised_in"] = cell_id(raised_in)
    return verdict


def cell_id(index: int) -> str:
    """A cell as the grader's feedback names it: its position among ALL cells, from 1."""
    return f"cell {index + 1}"


def _rows(results: dict, key: str) -> tuple[dict[str, dict], str | None]:
    """{row id: verdict} of one part of a stack's results, and why it did not run at all."""
    part = results.get(key) or {}
    if "error" in part and not part.get("cells") and not part.get("checks"):
        return {}, part["error"] or "did not run"
    if key == "cells":
        return {cell_id(c["index"]): _verdict(c.get("status"), c.get("error"), c.get("raised_in"))
                for c in part.get("cells", [])}, None
    return {c["id"]: _verdict(c.get("status"), c.get("error")) for c in part.get("checks", [])}, None


def compare(pinned: dict, nxt: dict, sources: dict[str, str] | None = None) -> list[dict]:
    """One row per cell, grader check and kit check (and per part that could not run at all),
    with both stacks' verdicts. `sources`: {cell id: its code}, for labels and knock-ons."""
    sources = sources or {}
    summaries = {c["id"]: c["summary"] for results in (pinned, nxt)
                 for c in (results.get("grader") or {}).get("checks", []) if c.get("summary")}
    items = []
    for kind, key, _ in PARTS:
        (old, old_why), (new, new_why) = _rows(pinned, key), _rows(nxt, key)
        ids = list(old) + [i for i in new if i not in old]
        if old_why or new_why:  # the part itself: a grader that cannot import, a runner that died
            items.append(_item(kind, "run", f"the {kind} part as a whole",
                               _verdict("failed" if old_why else "ran", old_why),
                               _verdict("failed" if new_why else "ran", new_why)))
        for row in ids:
            label = _label(sources.get(row, "")) if kind == "cell" else summaries.get(row, "")
            items.append(_item(kind, row, label,
                               old.get(row, _verdict(None, old_why)),
                               new.get(row, _verdict(None, new_why))))
    _knock_ons(items, sources)
    return items


def name(item: dict) -> str:
    """A row's name, unique in the report: `cell 5`, `grader task2_partition`, `kit run`."""
    return item["id"] if item["kind"] == "cell" else f"{item['kind']} {item['id']}"


def _label(source: str) -> str:
    code = [line.strip() for line in source.splitlines() if line.strip() and not line.startswith("#")]
    return code[0] if code else ""


_UNDEFINED = re.compile(r"name '(\w+)' is not defined|does not define `(\w+)`")


def _knock_ons(items: list[dict], sources: dict[str, str]) -> None:
    """A NameError (or a check missing a definition) whose name an earlier cell that failed on
    the next stack defines: point at that cell, the cause to fix first."""
    failed = []
    for item in items:
        error = item["next"]["error"] or ""
        undefined = _UNDEFINED.search(error)
        if item["next"]["status"] not in GOOD and undefined and not item["change"]:
            word = undefined.group(1) or undefined.group(2)
            cause = next((c for c in failed if c != item["id"]
                          and re.search(rf"\b{re.escape(word)}\b", sources.get(c, ""))), None)
            if cause:
                item["change"] = f"follows from {cause} failing on the next stack (it defines `{word}`)"
        if item["kind"] == "cell" and item["next"]["status"] not in GOOD:
            failed.append(item["id"])


def _item(kind: str, row: str, label: str, old: dict, new: dict) -> dict:
    regression = old["status"] in GOOD and new["status"] not in GOOD
    bad = new if new["status"] not in GOOD else old if old["status"] not in GOOD else None
    change = what_to_change(bad["error"]) if bad else None
    if bad and bad.get("raised_in"):
        change = f"{change or 'fix it'} (the failing line is in {bad['raised_in']})"
    return {"kind": kind, "id": row, "label": label, "pinned": old, "next": new,
            "regression": regression, "change": change}


def build_report(pinned: dict, nxt: dict, sources: dict[str, str] | None = None,
                 build: dict | None = None) -> dict:
    items = compare(pinned, nxt, sources)
    old_v = (pinned.get("versions") or {}).get("versions", {})
    new_v = (nxt.get("versions") or {}).get("versions", {})
    versions = [{"name": lib, "pinned": old_v.get(lib), "next": new_v.get(lib)}
                for lib in list(old_v) + [n for n in new_v if n not in old_v]]
    return {
        "schema_version": SCHEMA_VERSION,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": {"pinned": (pinned.get("versions") or {}).get("python"),
                   "next": (nxt.get("versions") or {}).get("python")},
        "versions": versions,
        "stack_errors": {stack: results["versions"]["error"]
                         for stack, results in (("pinned", pinned), ("next", nxt))
                         if "error" in (results.get("versions") or {})},
        "build": build or {},
        "items": items,
        "regressions": [name(i) for i in items if i["regression"]],
        "failing_on_next": [name(i) for i in items if i["next"]["status"] not in GOOD],
    }


def held_back_lines(build: dict) -> list[str]:
    """The build's held-back libraries: the course's own in full, the others in one line."""
    lines, others = [], []
    for row in build.get("held_back", []):
        if not (row.get("declared") or row.get("pinned")):
            others.append(f"{row['name']} {row['installed']} (newest {row['newest']})")
            continue
        text = f"{row['name']} {row['installed'] or '-'}"
        if row.get("pinned"):
            text += " (pinned by the course's Sedna requirements)"
        if row.get("newest") and row["newest"] != row["installed"]:
            text += f"; newest for this Python: {row['newest']}"
        if row.get("newest_any_python") and row["newest_any_python"] not in (row.get("newest"), row["installed"]):
            text += (f"; newest on the index: {row['newest_any_python']}"
                     + (f", which needs Python {row['requires_python']}" if row.get("requires_python") else ""))
        note = HELD_BACK_NOTES.get(row["name"])
        lines.append(text + (f". {note}" if note else ""))
    if others:
        lines.append(f"{len(others)} more held back by their dependents' caps: {', '.join(others)}")
    return lines


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _status(verdict: dict) -> str:
    return verdict["status"] if verdict["status"] in GOOD else f"**{verdict['status']}**"


def markdown(report: dict) -> str:
    build = report.get("build") or {}
    lines = ["# The course on the next stack", "",
             f"Generated {report['generated']}. Python: pinned {report['python']['pinned']}, "
             f"next {report['python']['next']}.", ""]
    regressions, failing = report["regressions"], report["failing_on_next"]
    lines.append(f"**{len(regressions)} regression(s)** (good on the pinned stack, not on the next): "
                 + (", ".join(regressions) if regressions else "none") + ".")
    for stack, error in report.get("stack_errors", {}).items():
        lines.append(f"The {stack} stack's python did not answer: {_cell(error)}.")
    lines.append(f"Not good on the next stack: {len(failing)} of {len(report['items'])} rows"
                 + (f" ({', '.join(failing)})" if failing else "") + ".")
    if build:
        size = build.get("size_bytes")
        lines.append(f"Next-stack build: {'ok' if build.get('ok') else 'FAILED'}"
                     + (f", {build['seconds']:.0f} s" if build.get("seconds") is not None else "")
                     + (f", {size / 2**30:.1f} GiB" if size else "")
                     + (f" ({_cell(build.get('error'))})" if build.get("error") else "") + ".")
        lines += [f"- held back: {line}" for line in held_back_lines(build)]
        lines += [f"- pip check: {c}" for c in build.get("conflicts", [])]
    lines += ["", "## Versions", "", "| library | pinned | next |", "| --- | --- | --- |"]
    for v in report["versions"]:
        mark = "" if v["pinned"] == v["next"] else " *"
        lines.append(f"| {v['name']} | {v['pinned'] or '-'} | {v['next'] or '-'}{mark} |")
    for kind, _, title in PARTS:
        rows = [i for i in report["items"] if i["kind"] == kind]
        lines += ["", f"## {title[0].upper() + title[1:]}s", "",
                  "| id | what | pinned | next | first error (next, else pinned) | what to change |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for i in rows:
            error = i["next"]["error"] if i["next"]["status"] not in GOOD else i["pinned"]["error"]
            lines.append(f"| {i['id']} | {_short(_cell(i['label']), 90)} | {_status(i['pinned'])} | "
                         f"{_status(i['next'])} | {_cell(error)[:200]} | {_cell(i['change'])} |")
    return "\n".join(lines) + "\n"


def write(report: dict, out: Path) -> tuple[Path, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    return out / "report.json", out / "report.md"
