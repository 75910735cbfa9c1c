"""What a self-check found: per check, per property; rendered as an HTML table in Jupyter (the
grader's colours and columns) and as plain text elsewhere."""
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
        if self.status == NOT_CHECKED:
            return self.message
        held = sum(p.passed for p in self.properties)
        return f"{held} of {len(self.properties)} properties held"


@dataclass(frozen=True)
class Results:
    checks: tuple[CheckResult, ...]
    differences: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

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
        return {"passed": self.passed, "checks": [
            {"id": c.id, "status": c.status, "message": c.message,
             "properties": [{"name": p.name, "passed": p.passed, "message": p.message}
                            for p in c.properties]} for c in self.checks]}

    # --- plain text -------------------------------------------------------------------------

    def __str__(self) -> str:
        lines = []
        for check in self.checks:
            mark = {PASSED: "PASS", FAILED: "FAIL"}.get(check.status, "----")
            lines.append(f"{mark}  {check.id} ({check.title}): {check.summary()}")
            for prop in check.failed_properties:
                lines.append(f"      - {prop.name}: {prop.message}")
                if prop.actual:
                    lines.append(f"        yours:    {prop.actual}")
                if prop.expected:
                    lines.append(f"        expected: {prop.expected}")
        verdict = "All checks passed." if self.passed else "Some checks did not pass."
        lines += ["", verdict, "Not covered by this self-check (by design):"]
        lines += [f"  - {d}" for d in self.differences]
        return "\n".join(lines)

    __repr__ = __str__

    # --- Jupyter ----------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        colour = {PASSED: "#1a7f37", FAILED: "#cf222e"}
        rows = []
        for check in self.checks:
            failed = check.failed_properties
            first: Optional[PropertyResult] = failed[0] if failed else None
            cells = [
                f"<code>{html.escape(check.id)}</code><br><small>{html.escape(check.title)}</small>",
                f"<b style='color:{colour.get(check.status, '#6e7781')}'>"
                f"{html.escape(check.status)}</b><br><small>{html.escape(check.summary())}</small>",
                html.escape(first.name) if first else "",
                html.escape(first.message if first else ""),
                f"<code>{html.escape(first.actual)}</code>" if first and first.actual else "",
                f"<code>{html.escape(first.expected)}</code>" if first and first.expected else "",
            ]
            rows.append("<tr>" + "".join(f"<td style='text-align:left;vertical-align:top'>"
                                         f"{c}</td>" for c in cells) + "</tr>")
        head = "".join(f"<th style='text-align:left'>{h}</th>" for h in (
            "check", "result", "property that failed", "on the smallest failing input",
            "your value", "expected"))
        notes = "".join(f"<li>{html.escape(d)}</li>" for d in self.differences)
        return (f"<table>{head}{''.join(rows)}</table>"
                f"<p><small>Not covered by this self-check (by design):</small></p>"
                f"<ul><small>{notes}</small></ul>")
