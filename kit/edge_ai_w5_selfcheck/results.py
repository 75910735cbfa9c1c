"""What a self-check found: per check, per property; rendered as an HTML table in Jupyter (the
grader's colours and columns) and as plain text elsewhere.

Every failed or unchecked check shows its reason (a missing name, a cell that failed, a stopped
call). Properties that failed with the same problem (one exception, the same sentence) are said
once, with the names of all of them, as the grader says a repeated error once. A run that could
not check at all (the notebook's kernel died) is a `Results` with no checks and its `note`."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Optional

PASSED, FAILED, NOT_CHECKED = "passed", "failed", "not checked"


@dataclass(frozen=True)
class PropertyResult:
    name: str
    passed: bool
    message: str = ""
    input: str = ""  # the smallest failing input of the kit's exam, as a phrase
    actual: str = ""
    expected: str = ""  # only where showing it gives nothing away


@dataclass(frozen=True)
class CheckResult:
    id: str
    task: str
    title: str
    status: str
    properties: tuple[PropertyResult, ...] = ()
    message: str = ""  # why a check could not run (a missing name, a missing package)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failed_properties(self) -> tuple[PropertyResult, ...]:
        return tuple(p for p in self.properties if not p.passed)

    def summary(self) -> str:
        if self.message and not self.properties:
            return self.message
        held = sum(p.passed for p in self.properties)
        return f"{held} of {len(self.properties)} properties held"

    def problems(self) -> list[tuple[tuple[str, ...], PropertyResult]]:
        """(names, the first property) per distinct problem, in order: properties failed by the
        same exception or with the same sentence are one problem."""
        groups: dict[tuple, list[PropertyResult]] = {}
        for prop in self.failed_properties:
            raised = " raised " in prop.message and prop.actual and not prop.expected
            groups.setdefault(("raised", prop.actual) if raised else ("said", prop.message),
                              []).append(prop)
        return [(tuple(p.name for p in members), members[0]) for members in groups.values()]


@dataclass(frozen=True)
class Results:
    checks: tuple[CheckResult, ...]
    differences: tuple[str, ...] = field(default=())
    note: str = ""  # what kept the self-check from running, or what it could not use

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @classmethod
    def from_dict(cls, data: dict) -> "Results":
        """The Results `to_dict` wrote (the terminal mode reads its kernel's this way)."""
        checks = tuple(CheckResult(
            c["id"], c.get("task", ""), c.get("title", c["id"]), c["status"],
            tuple(PropertyResult(**p) for p in c.get("properties", ())), c.get("message", ""))
            for c in data.get("checks", ()))
        return cls(checks, tuple(data.get("differences", ())), data.get("note", ""))

    def mark_shown(self, execution_count) -> None:
        object.__setattr__(self, "_shown_in", execution_count)

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.display import HTML, display

        shell = get_ipython()
        if shell is not None and getattr(self, "_shown_in", None) == shell.execution_count:
            return  # check() has shown it in this cell already
        display(HTML(self._repr_html_()))

    def __getitem__(self, check_id: str) -> CheckResult:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "note": self.note, "differences": list(self.differences),
                "checks": [{"id": c.id, "task": c.task, "title": c.title, "status": c.status,
                            "message": c.message,
                            "properties": [dict(vars(p)) for p in c.properties]}
                           for c in self.checks]}

    # --- plain text -------------------------------------------------------------------------

    def __str__(self) -> str:
        lines = [self.note, ""] if self.note else []
        for check in self.checks:
            mark = {PASSED: "PASS", FAILED: "FAIL"}.get(check.status, "----")
            lines.append(f"{mark}  {check.id} ({check.title}): {check.summary()}")
            for names, prop in check.problems():
                lines.append(f"      - {', '.join(names)}: {prop.message}")
                if prop.actual and prop.actual not in prop.message:
                    lines.append(f"        yours:    {prop.actual}")
                if prop.expected and prop.expected not in prop.message:
                    lines.append(f"        expected: {prop.expected}")
        if self.checks:
            lines += ["", "All checks passed." if self.passed else "Some checks did not pass."]
        if self.differences:
            lines += ["Not covered by this self-check (by design):"]
            lines += [f"  - {d}" for d in self.differences]
        return "\n".join(lines).strip("\n")

    __repr__ = __str__

    # --- Jupyter ----------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        colour = {PASSED: "#1a7f37", FAILED: "#cf222e"}
        cell = "<td style='text-align:left;vertical-align:top'>{}</td>"
        rows = []
        for check in self.checks:
            problems = check.problems() or [((), None)]
            span = f" rowspan='{len(problems)}'" if len(problems) > 1 else ""
            head = [
                f"<code>{html.escape(check.id)}</code><br><small>{html.escape(check.title)}</small>",
                f"<b style='color:{colour.get(check.status, '#6e7781')}'>"
                f"{html.escape(check.status)}</b><br><small>{html.escape(check.summary())}</small>",
            ]
            for index, (names, prop) in enumerate(problems):
                cells = [] if index else [c.replace("<td", f"<td{span}", 1)
                                          for c in map(cell.format, head)]
                cells += map(cell.format, [
                    html.escape(", ".join(names)),
                    html.escape(prop.message if prop else ""),
                    f"<code>{html.escape(prop.actual)}</code>"
                    if prop and prop.actual and prop.actual not in prop.message else "",
                    f"<code>{html.escape(prop.expected)}</code>"
                    if prop and prop.expected and prop.expected not in prop.message else ""])
                rows.append("<tr>" + "".join(cells) + "</tr>")
        head = "".join(f"<th style='text-align:left'>{h}</th>" for h in (
            "check", "result", "property that failed", "on the smallest failing input",
            "your value", "expected"))
        note = f"<p><b>{html.escape(self.note)}</b></p>" if self.note else ""
        table = f"<table>{head}{''.join(rows)}</table>" if self.checks else ""
        notes = "".join(f"<li>{html.escape(d)}</li>" for d in self.differences)
        by_design = (f"<p><small>Not covered by this self-check (by design):</small></p>"
                     f"<ul><small>{notes}</small></ul>") if notes else ""
        return note + table + by_design
