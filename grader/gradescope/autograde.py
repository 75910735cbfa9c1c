"""`python -m grader gradescope-run`: grade one Gradescope submission (what `run_autograder` runs).

The tree (`AutograderTree`), rooted at `--root`, else `$AUTOGRADER_ROOT`, else `/autograder`:
`submission/` the student's files, `results/results.json` what Gradescope reads, `source/` the
bundle. Whatever happens, `results.json` is written (Gradescope's schema, by `render.gradescope`)
and says what happened; the exit status is `grade`'s (`batch.exit_status`):

- exactly one notebook (`*.ipynb` anywhere in the submission; `.ipynb_checkpoints`, hidden and
  `__MACOSX` folders ignored): graded like one submission of a batch (`batch.grade_one`: the
  canary first, student code unable to see the submission and results folders), its feedback as
  the tests' output; 0, or 1 when the file could not be graded by its own fault;
- no notebook, several, or one that is not a readable notebook: score 0 and a sentence that says
  what was found and what to submit instead, before any grader starts (it would cost a minute);
  status 1;
- a grader fault (its canary failed, it crashed, the tree is not Gradescope's): the results say
  NOT GRADED and that the submission is not to blame, with a generic sentence for the student (a
  canary's log may quote the reference, so the details go to stdout, which Gradescope shows the
  course staff only); status 2.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..results.model import Fault, GradingRun, SubmissionResult

DEFAULT_ROOT = Path("/autograder")
ROOT_ENV = "AUTOGRADER_ROOT"
IGNORED_FOLDERS = ("__MACOSX", "__pycache__")
"""Folders whose notebooks are not the student's (besides hidden ones: `.ipynb_checkpoints`)."""
LISTED = 5
"""Files named in a message about a submission without exactly one notebook."""
GRADER_FAULT_SENTENCE = ("The autograder's own environment failed before it could judge this "
                         "notebook. The course staff have the details and will regrade it.")


@dataclass(frozen=True)
class AutograderTree:
    root: Path

    @classmethod
    def locate(cls, root: Path | None = None) -> AutograderTree:
        """`root`, else `$AUTOGRADER_ROOT`, else `/autograder`."""
        return cls(Path(root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT))

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"


def submitted_files(folder: Path) -> list[Path]:
    """The student's files under `folder`, sorted, without hidden or ignored folders' files."""
    def kept(path: Path) -> bool:
        parts = path.relative_to(folder).parts
        return not any(p.startswith(".") or p in IGNORED_FOLDERS for p in parts)

    return sorted(p for p in folder.rglob("*") if p.is_file() and kept(p))


def _named(paths: list[Path], folder: Path) -> str:
    names = [p.relative_to(folder).as_posix() for p in paths]
    return ", ".join(names[:LISTED]) + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def one_notebook(folder: Path) -> Path | SubmissionResult:
    """The submission's notebook, or the result that says why there is not exactly one."""
    files = submitted_files(folder)
    notebooks = [p for p in files if p.suffix.lower() == ".ipynb"]
    if len(notebooks) == 1:
        return notebooks[0]
    if notebooks:
        message = (f"This submission holds {len(notebooks)} notebooks ({_named(notebooks, folder)}), "
                   "and the autograder grades exactly one. Submit again with only your exercise "
                   "notebook.")
    else:
        found = f"it holds {_named(files, folder)}" if files else "it is empty"
        message = (f"This submission has no notebook (.ipynb file): {found}. Submit again with "
                   "your exercise notebook, the .ipynb file itself (not a zip, PDF or .py export).")
    return SubmissionResult.from_error("submission", "", message, fault=Fault.SUBMISSION)


def unreadable(path: Path, rubric) -> SubmissionResult | None:
    """The error result of a file that is no readable notebook (its own fault), else None."""
    from ..notebook.load import NotebookError, load_notebook, sha256_of
    from ..pipeline import error_result, submission_name

    try:
        load_notebook(path)
    except NotebookError as exc:
        return error_result(submission_name(path), sha256_of(path), str(exc), rubric,
                            fault=Fault.SUBMISSION)
    return None


def graded(path: Path, tree: AutograderTree, options) -> SubmissionResult:
    """The notebook graded as one submission of a batch (canary, sandbox hiding, error rows)."""
    from ..batch import Job, grade_one
    from ..canary import Canary
    from ..notebook.load import sha256_of
    from ..pipeline import Grader, submission_name
    from ..sandbox.process import batch_hidden, isolation_status

    with tempfile.TemporaryDirectory(prefix="gradescope-") as out:
        hidden = batch_hidden(Path(out), [tree.submission, tree.results.parent])
        options = dataclasses.replace(options, limits=options.limits.hiding(*hidden))
        isolation = isolation_status() if options.limits.isolation != "off" else {}
        if isolation and not isolation.get("isolated"):
            print(f"warning: student code runs WITHOUT namespace isolation here: "
                  f"{isolation.get('reason')}", flush=True)
        with Grader(options) as grader:
            return grade_one(Canary(grader), Job(path, submission_name(path), sha256_of(path)),
                             Path(out))


def grader_fault(name: str, sha: str, why: str) -> SubmissionResult:
    """NOT GRADED, for the student; `why` is printed for the course staff (stdout)."""
    print(f"GRADER FAULT, not graded: {why}", flush=True)
    return SubmissionResult.from_error(name, sha, GRADER_FAULT_SENTENCE, fault=Fault.GRADER)


def autograde(tree: AutograderTree, options) -> SubmissionResult:
    """The result to report for the submission in `tree` (see the module); never raises for a
    submission, and turns the grader's own failures into a grader-fault result."""
    from ..canary import GraderBroken

    if not tree.submission.is_dir():
        return grader_fault("submission", "", f"{tree.submission} is not a folder: this is not "
                            f"Gradescope's tree (set {ROOT_ENV} to the autograder's root)")
    found = one_notebook(tree.submission)
    if isinstance(found, SubmissionResult):
        return found
    name = found.name
    try:
        return unreadable(found, options.rubric) or graded(found, tree, options)
    except GraderBroken as broken:
        return grader_fault(name, "", f"the grader's canary failed: {broken}")
    except Exception as exc:  # noqa: BLE001 - whatever breaks is the grader's, never the student's
        return grader_fault(name, "", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")


def run(root: Path | None, options) -> int:
    """Grade `root`'s submission and write its results.json; `grade`'s exit status."""
    from ..batch import exit_status
    from ..render.files import write_atomic
    from ..render.gradescope import gradescope_results
    from ..render.terminal import print_report

    tree = AutograderTree.locate(root)
    result = autograde(tree, options)
    print_report(result, file=sys.stdout)
    try:
        write_atomic(tree.results, gradescope_results(result))
    except OSError as exc:
        print(f"error: could not write {tree.results} ({exc}): GRADER FAULT, this submission was "
              f"not reported to Gradescope; check the autograder's tree", file=sys.stderr)
        return 2
    print(f"Wrote {tree.results}: {result.score:g} points, {result.status.value}"
          f"{', GRADER FAULT (not charged: regrade once fixed)' if result.grader_fault else ''}",
          flush=True)
    return exit_status(GradingRun(submissions=[result]))
