"""The results model: plain dataclasses that every renderer reads and none recomputes.

A grading run is a list of `SubmissionResult`s, each holding one `CheckResult` per check. A
submission that could not be graded at all is still a row (`SubmissionResult.from_error`), so a
batch never loses a submission to one broken notebook.

Whose fault (`Fault`): every check and every submission says who is to blame for what it lacks.

- check `fault`: null when it passed or was skipped; "submission" when the student's code failed
  it (or the file could not be read); "grader" when the grader could not judge it (a process that
  could not start or hand-shake, a sandbox that could not be set up, a harness that could not
  load: nothing of the student's ran, so nothing may be charged).
- submission `fault`: null when it was graded; "submission" when the file could not be graded
  (not a notebook, missing); "grader" when any of its checks is a grader fault or grading it
  failed in the grader. Such a row has status `error`, is never kept in the gradebook (a rerun
  grades it again) and makes `grade` exit with status 2.

grades.json is described by `grades.schema.json` (next to this module, JSON Schema 2020-12).
Schema 2 added `fault` (and the run's `stopped`: why a batch stopped early, or null); schema 3
added each row's `student` (who submitted it, as the learning platform named them: `Student`, or
null for a plain file) and the run's `notes` (what the intake and the platform's gradebook said
about files and students: `Note`). `from_dict` reads schema 1 rows (no `fault`) by deriving it
from the status, an old `error` row counting as the grader's (so it is graded again, never kept),
schema 1 and 2 with no student and no notes, and refuses any other version with a sentence that
says what to do. A check's `observed` (plain values it saw, e.g. the seed) is optional and only
written when there is something to keep.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 3
READABLE_SCHEMA_VERSIONS = (1, 2, 3)
SCHEMA_PATH = Path(__file__).with_name("grades.schema.json")


class CheckStatus(StrEnum):
    """What became of one check (its value is what grades.json says)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # it could not be judged (see `fault` for whose doing)
    SKIPPED = "skipped"  # not run here (the federated round without CUDA, say): max score 0


class SubmissionStatus(StrEnum):
    """What became of one submission (its value is what grades.json says)."""

    GRADED = "graded"
    ERROR = "error"  # not graded: an unreadable file, or a grader fault


# The short names the grader uses for the statuses.
PASSED, FAILED = CheckStatus.PASSED, CheckStatus.FAILED
ERROR, SKIPPED = CheckStatus.ERROR, CheckStatus.SKIPPED
GRADED = SubmissionStatus.GRADED
CHECK_STATUSES = tuple(CheckStatus)


class Fault(StrEnum):
    """Who is to blame for a check or submission that is not a plain pass."""

    SUBMISSION = "submission"
    GRADER = "grader"


def default_fault(status: str) -> Fault | None:
    """The fault a status implies when nobody said: failed -> the submission's, error -> the
    grader's (the runner's own errors, and old rows whose cause is unknown), else none."""
    return {FAILED: Fault.SUBMISSION, ERROR: Fault.GRADER}.get(status)


class SchemaError(ValueError):
    """grades.json of a schema version this grader cannot read."""


def check_schema_version(version: Any) -> None:
    """Refuse a grades.json this grader cannot read, saying why and what to do."""
    readable = ", ".join(map(str, READABLE_SCHEMA_VERSIONS))
    if isinstance(version, bool) or not isinstance(version, int):
        raise SchemaError(f"grades.json has no integer schema_version (found {version!r}): it "
                          f"was not written by this grader, which reads versions {readable}")
    if version > SCHEMA_VERSION:
        raise SchemaError(f"grades.json has schema_version {version}, newer than this grader's "
                          f"{SCHEMA_VERSION}: a newer grader wrote it; read it with that one "
                          "(or update this grader)")
    if version not in READABLE_SCHEMA_VERSIONS:
        raise SchemaError(f"grades.json has schema_version {version}, older than any this grader "
                          f"reads ({readable}): grade the submissions again")


@dataclass(frozen=True)
class Student:
    """Who submitted a file, as the learning platform named them in its download.

    `platform`: the registry name of the platform (`grader.lms`: "canvas", "moodle"); `id`: the
    platform's own id (Canvas's user id, Moodle's participant id), as text; `name`: the name the
    platform gave (Canvas's login name, Moodle's full name; the gradebook's name once matched);
    `late`: the platform marked the submission late."""

    platform: str
    id: str
    name: str
    late: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Student | None:
        if not data:
            return None
        return cls(platform=data["platform"], id=str(data["id"]), name=data["name"],
                   late=bool(data.get("late", False)))


class NoteKind(StrEnum):
    """What a `Note` is about (its value is what grades.json says)."""

    FILE = "file"  # a file of the download: not a notebook, no platform name, one of several
    UNKNOWN_STUDENT = "unknown_student"  # a submission whose student the gradebook does not know
    NO_SUBMISSION = "no_submission"  # a student of the gradebook without a submission
    IN_FLIGHT = "in_flight"  # being graded when a previous run died: graded alone, last, or blamed


@dataclass(frozen=True)
class Note:
    """One sentence for the instructor about the batch's input (shown in the terminal, kept in
    grades.json, listed in the class report): nothing is dropped or left out silently."""

    kind: NoteKind
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": NoteKind(self.kind).value, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Note:
        return cls(NoteKind(data["kind"]), data["message"])


@dataclass
class Counterexample:
    """The smallest input on which a property failed, as text a student can read."""

    input: str
    expected: str
    actual: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


# The message of every sub-property of a check that could not run at all, because the notebook
# does not define a name it needs (the class report groups such checks apart).
NOT_RUN = "not checked: definition missing"


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
    status: CheckStatus  # a plain string is accepted and converted
    score: float
    max_score: float
    feedback: str = ""
    counterexample: Counterexample | None = None
    properties: list[SubProperty] = field(default_factory=list)
    # Where the graded definition lives in the notebook, for links in feedback pages.
    cell_id: str | None = None
    seconds: float = 0.0
    fault: Fault | None = None  # derived from the status unless given (see the module docstring)
    # Plain values the check saw in the notebook and the class report compares across students
    # (task1_random_seed: {"MY_RANDOM_SEED": 19891217}); None when it keeps nothing.
    observed: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        try:
            self.status = CheckStatus(self.status)
        except ValueError:
            raise ValueError(f"unknown check status {self.status!r}") from None
        if self.status in (PASSED, SKIPPED):
            self.fault = None
        else:
            self.fault = Fault(self.fault) if self.fault is not None else default_fault(self.status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "score": self.score,
            "max_score": self.max_score,
            "feedback": self.feedback,
            "counterexample": self.counterexample.to_dict() if self.counterexample else None,
            "properties": [p.to_dict() for p in self.properties],
            "cell_id": self.cell_id,
            "seconds": round(self.seconds, 3),
            "fault": self.fault.value if self.fault else None,
            **({"observed": dict(self.observed)} if self.observed else {}),
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
            fault=data.get("fault"),
            observed=data.get("observed") or None,
        )


# Timings that are a share of another phase: the notebook's own cells run within `execute`.
SHARE_OF_A_PHASE = frozenset({"student_code"})


@dataclass
class SubmissionResult:
    submission: str
    sha256: str
    status: SubmissionStatus = GRADED  # a plain string is accepted and converted
    error: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    # Seconds per phase (warm_up, execute, checks, fl_round) and, within execute, the notebook's
    # own cells (student_code), for the class report and benchmarks.
    timings: dict[str, float] = field(default_factory=dict)
    fault: Fault | None = None  # derived unless given (see the module docstring)
    student: Student | None = None  # who submitted it, where the platform's download says so

    def __post_init__(self) -> None:
        try:
            self.status = SubmissionStatus(self.status)
        except ValueError:
            raise ValueError(f"unknown submission status {self.status!r}") from None
        if self.fault is not None:
            self.fault = Fault(self.fault)
        elif self.status is SubmissionStatus.ERROR:
            self.fault = Fault.GRADER
        if self.fault is None and any(c.fault is Fault.GRADER for c in self.checks):
            self.fault = Fault.GRADER

    @property
    def grader_fault(self) -> bool:
        """The grader could not grade it: not the student's result, never kept, exit status 2."""
        return self.fault is Fault.GRADER

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
                   checks: list[CheckResult] | None = None,
                   fault: Fault = Fault.SUBMISSION) -> SubmissionResult:
        """A submission the grader could not grade: a row with status `error`, never a crash.
        By default the file's fault (unreadable, not a notebook); say `Fault.GRADER` otherwise."""
        return cls(submission=submission, sha256=sha256, status=SubmissionStatus.ERROR, error=error,
                   checks=checks or [], fault=fault)

    def to_dict(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "sha256": self.sha256,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status.value,
            "fault": self.fault.value if self.fault else None,
            "error": self.error,
            "checks": [c.to_dict() for c in self.checks],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "student": self.student.to_dict() if self.student else None,
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
            fault=data.get("fault"),
            student=Student.from_dict(data.get("student")),
        )


@dataclass
class GradingRun:
    submissions: list[SubmissionResult] = field(default_factory=list)
    # What the sandbox could isolate on this machine (`grader.sandbox.process.isolation_status`):
    # an instructor must see when student code ran without network or file isolation.
    sandbox: dict[str, Any] = field(default_factory=dict)
    # Why the batch stopped early (a grading process's canary failed), or None.
    stopped: str | None = None
    # What the intake and the platform's gradebook said about files and students (`Note`).
    notes: list[Note] = field(default_factory=list)

    def sorted(self) -> list[SubmissionResult]:
        """Deterministic export order, whatever order the workers finished in."""
        return sorted(self.submissions, key=lambda s: (s.submission, s.sha256))

    def to_dict(self) -> dict[str, Any]:
        sandbox = {key: self.sandbox.get(key) for key in
                   ("isolated", "reason", "interfaces", "read_only", "process_limit",
                    "pid_namespace")} if self.sandbox else {}
        return {"schema_version": SCHEMA_VERSION, "sandbox": sandbox, "stopped": self.stopped,
                "notes": [n.to_dict() for n in self.notes],
                "submissions": [s.to_dict() for s in self.sorted()]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingRun:
        """A grades.json read back: schema 1 (before `fault`), 2 (before `student` and `notes`)
        and 3; SchemaError otherwise."""
        check_schema_version(data.get("schema_version"))
        return cls(submissions=[SubmissionResult.from_dict(s) for s in data.get("submissions", [])],
                   sandbox=dict(data.get("sandbox") or {}), stopped=data.get("stopped"),
                   notes=[Note.from_dict(n) for n in data.get("notes") or []])
