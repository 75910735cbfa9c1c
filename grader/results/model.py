"""The results model: plain dataclasses that every renderer reads and none recomputes.

A grading run is a list of `SubmissionResult`s, each holding one `CheckResult` per check. A
submission that could not be graded at all is still a row (`SubmissionResult.from_error`), so a
batch never loses a submission to one broken notebook.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
CHECK_STATUSES = (PASSED, FAILED, ERROR, SKIPPED)
GRADED = "graded"


@dataclass
class Counterexample:
    """The smallest input on which a property failed, as text a student can read."""

    input: str
    expected: str
    actual: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class SubProperty:
    """A named part of a check; partial credit is the share of sub-properties that hold."""

    name: str
    passed: bool
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    id: str
    status: str
    score: float
    max_score: float
    feedback: str = ""
    counterexample: Counterexample | None = None
    properties: list[SubProperty] = field(default_factory=list)
    # Where the graded definition lives in the notebook, for links in feedback pages.
    cell_id: str | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in CHECK_STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "feedback": self.feedback,
            "counterexample": self.counterexample.to_dict() if self.counterexample else None,
            "properties": [p.to_dict() for p in self.properties],
            "cell_id": self.cell_id,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        ce = data.get("counterexample")
        return cls(
            id=data["id"],
            status=data["status"],
            score=data["score"],
            max_score=data["max_score"],
            feedback=data.get("feedback", ""),
            counterexample=Counterexample(**ce) if ce else None,
            properties=[SubProperty(**p) for p in data.get("properties", [])],
            cell_id=data.get("cell_id"),
            seconds=data.get("seconds", 0.0),
        )


# Timings that are a share of another phase: the notebook's own cells run within `execute`.
SHARE_OF_A_PHASE = frozenset({"student_code"})


@dataclass
class SubmissionResult:
    submission: str
    sha256: str
    status: str = GRADED
    error: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    # Seconds per phase (warm_up, execute, checks, fl_round) and, within execute, the notebook's
    # own cells (student_code), for the class report and benchmarks.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Time spent grading it: its phases added up (a share of a phase counted once)."""
        return sum(v for k, v in self.timings.items() if k not in SHARE_OF_A_PHASE)

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 4)

    def check(self, check_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @classmethod
    def from_error(cls, submission: str, sha256: str, error: str,
                   checks: list[CheckResult] | None = None) -> SubmissionResult:
        """A submission the grader could not grade: a row with status `error`, never a crash."""
        return cls(submission=submission, sha256=sha256, status=ERROR, error=error,
                   checks=checks or [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "sha256": self.sha256,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "error": self.error,
            "checks": [c.to_dict() for c in self.checks],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        return cls(
            submission=data["submission"],
            sha256=data["sha256"],
            status=data.get("status", GRADED),
            error=data.get("error"),
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
            timings=data.get("timings", {}),
        )


@dataclass
class GradingRun:
    submissions: list[SubmissionResult] = field(default_factory=list)
    # What the sandbox could isolate on this machine (`grader.sandbox.process.isolation_status`):
    # an instructor must see when student code ran without network or file isolation.
    sandbox: dict[str, Any] = field(default_factory=dict)

    def sorted(self) -> list[SubmissionResult]:
        """Deterministic export order, whatever order the workers finished in."""
        return sorted(self.submissions, key=lambda s: (s.submission, s.sha256))

    def to_dict(self) -> dict[str, Any]:
        sandbox = {key: self.sandbox.get(key) for key in
                   ("isolated", "reason", "interfaces", "read_only", "process_limit")} if self.sandbox else {}
        return {"schema_version": SCHEMA_VERSION, "sandbox": sandbox,
                "submissions": [s.to_dict() for s in self.sorted()]}
