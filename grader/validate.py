"""CI of the course material: the reference, the template and every sample submission.

- the committed template is the stripped reference, byte for byte;
- the reference runs top to bottom, every course test cell prints "Test passed.", full marks;
- the template grades without a grader error, scores zero on every task, and its only failures
  are the placeholders' `NotImplementedError`;
- every sample submission gets exactly the per-check outcome its manifest names;
- the student release (`grader release`) holds no solution code, and its kit, installed from the
  wheel alone and run as a student runs it, fails every task of the template with a message and
  passes every check of the reference;
- the reference joins a real federated round (client A against the reference as client B) and
  passes `fl_round` (unless `--fl-round off`); where the round runs when grading (CUDA, or
  `--fl-round on`), the fixtures about Tasks 3 and 4 join one too and get the `fl_round` status
  their manifest row names (`grader.validate_rounds`). The batch itself grades with the round off.

Each grading process checks itself first (`grader.canary`); when the grader cannot grade (a
canary failed, or any sample is a grader fault), `validate` raises `GraderBroken` (exit status 2)
instead of reporting findings about material it could not judge.
"""
from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import nbformat

from .batch import grade_batch
from .canary import GraderBroken
from .checks import TASK_CHECK_IDS
from .notebook.extract import Definitions
from .notebook.markers import dumps_notebook, strip_notebook
from .options import default
from .pipeline import REFERENCE, Options
from .results.model import GRADED, PASSED, SKIPPED
from .validate_rounds import Finding, load_manifest, validate_rounds

ROOT = REFERENCE.parent.parent
TEMPLATE = ROOT / "student_template" / "exercise.ipynb"
SUBMISSIONS = ROOT / "fixtures" / "submissions"
TEST_PASSED = "Test passed."


def template_in_sync() -> Finding:
    expected = dumps_notebook(strip_notebook(nbformat.read(REFERENCE, as_version=4)))
    actual = TEMPLATE.read_text(encoding="utf-8") if TEMPLATE.exists() else ""
    ok = expected == actual
    return Finding("template in sync", ok, "identical to `grader strip` of the reference" if ok else
                   f"differs: run `python -m grader strip {REFERENCE.relative_to(ROOT)} -o "
                   f"{TEMPLATE.relative_to(ROOT)}`")


def course_tests_pass(executed: nbformat.NotebookNode) -> Finding:
    """Every course cell that prints "Test passed." did print it (and nothing raised)."""
    missing, errors = [], []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        if any(o.output_type == "error" for o in cell.outputs):
            errors.append(index + 1)
        elif f'print("{TEST_PASSED}")' in cell.source and TEST_PASSED not in text:
            missing.append(index + 1)
    ok = not missing and not errors
    return Finding("reference course tests", ok, "every course test cell printed 'Test passed.'" if ok
                   else f"cells with errors: {errors}; test cells without 'Test passed.': {missing}")


def template_fails_only_at_placeholders(executed: nbformat.NotebookNode) -> Finding:
    """Every failing cell of the template failed because of a placeholder: it raised the
    placeholder's NotImplementedError, or a NameError for a name whose defining cell stopped at
    a placeholder before binding it (the Task 2 cell never assigns `cifar_train_set`)."""
    errors = {cell.get("id"): o for cell in executed.cells if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error"}
    defs = Definitions.from_notebook(executed)
    wrong = []
    for index, cell in enumerate(executed.cells):
        error = errors.get(cell.get("id")) if cell.cell_type == "code" else None
        if error is None or error.ename == "NotImplementedError":
            continue
        name = re.match(r"name '(\w+)' is not defined", error.evalue or "")
        binding = defs.binding(name.group(1)) if error.ename == "NameError" and name else None
        cause = errors.get(binding.cell_id) if binding else None
        if cause is None or cause.ename != "NotImplementedError":
            wrong.append(f"cell {index + 1}: {error.ename}: {error.evalue}")
    return Finding("template errors", not wrong, "every failing cell failed at a placeholder "
                   "(NotImplementedError, or a name its placeholder left undefined)"
                   if not wrong else "; ".join(wrong))


def release_findings(options: Options) -> list[Finding]:
    """Build the student release, scan it for solution code, and run its kit as a student would:
    on the template every task check fails with a message (no crash), on the reference all pass."""
    from .environment.data import resolve_data_dir
    from .release.build import build_release
    from .release.kit_run import KitRunError, install_wheel, run_kit
    from .release.leaks import find_leaks

    with tempfile.TemporaryDirectory(prefix="validate-release-") as tmp:
        release = build_release(Path(tmp) / "student")
        leaks = find_leaks(release.out)
        clean = "no solution code in the notebook, the wheel or the README"
        findings = [Finding("release without solutions", not leaks,
                            clean if not leaks else "; ".join(map(str, leaks[:5])))]
        data = resolve_data_dir(options.data_dir)
        try:
            site = install_wheel(release.wheel, Path(tmp) / "site")
            with ThreadPoolExecutor(2) as pool:  # two student processes side by side
                template, reference = pool.map(
                    lambda notebook, run: run_kit(notebook, site, Path(tmp) / run, data,
                                                  options.cell_timeout),
                    (release.notebook, REFERENCE), ("run-template", "run-reference"))
        except KitRunError as exc:
            return findings + [Finding("kit on template and reference", False, str(exc))]
    return findings + [kit_on_template(template), kit_on_reference(reference)]


def kit_on_template(run, ids=TASK_CHECK_IDS) -> Finding:
    """Every task check is reported, none passes, each says why."""
    wrong = []
    for cid in ids:
        check = run.check(cid)
        reasons = [check.get("message")] + [p.get("message") for p in check.get("properties", [])
                                            if not p.get("passed")] if check else []
        if check is None or check.get("status") == PASSED or not any(reasons):
            wrong.append(f"{cid}: {check.get('status') if check else 'missing'}")
    return Finding("kit on the template", not wrong and not run.passed,
                   "every task check fails with a message" if not wrong else "; ".join(wrong))


def kit_on_reference(run, ids=TASK_CHECK_IDS) -> Finding:
    """Every task check is reported and passes."""
    wrong = [f"{cid}: {run.check(cid).get('status') if run.check(cid) else 'missing'}"
             for cid in ids if not run.check(cid) or run.check(cid).get("status") != PASSED]
    return Finding("kit on the reference", run.passed and not wrong,
                   "every task check passes" if not wrong else "; ".join(wrong))


def validate(options: Options, workers: int = default("workers"), out=None) -> bool:
    import sys

    out = out or sys.stdout
    findings = [template_in_sync()]
    manifest = load_manifest(SUBMISSIONS)
    with tempfile.TemporaryDirectory(prefix="validate-") as tmp:
        staging = Path(tmp) / "in"
        staging.mkdir()
        (staging / "reference.ipynb").symlink_to(REFERENCE)
        (staging / "template.ipynb").symlink_to(TEMPLATE)
        # The round off here: `validate_rounds` runs the rounds that validate needs, one by one.
        run = grade_batch([staging, SUBMISSIONS], Path(tmp) / "out", replace(options, fl_round="off"),
                          workers=workers or 2)
        faulty = sorted((s for s in run.submissions if s.grader_fault), key=lambda s: s.submission)
        if faulty:  # the material was not judged: not a finding about it
            names = ", ".join(s.submission for s in faulty[:5])
            raise GraderBroken(f"The grader could not grade {len(faulty)} sample(s) ({names}): "
                               f"{run.stopped or faulty[0].error}")
        executed = Path(tmp) / "out" / "executed"
        by_name = {s.submission: s for s in run.submissions}
        ref = by_name["in__reference"]
        findings.append(Finding("reference full marks", ref.status == GRADED and ref.score == ref.max_score
                                and all(c.status in (PASSED, SKIPPED) for c in ref.checks),
                                f"{ref.score:g}/{ref.max_score:g}" + _failing(ref)))
        findings.append(course_tests_pass(nbformat.read(executed / "in__reference.ipynb", as_version=4)))
        tpl = by_name["in__template"]
        task_scores = [c.score for c in tpl.checks if c.id in TASK_CHECK_IDS]
        findings.append(Finding("template scores zero", tpl.status == GRADED and not any(task_scores),
                                f"status {tpl.status}, task points {sum(task_scores):g}"))
        findings.append(template_fails_only_at_placeholders(
            nbformat.read(executed / "in__template.ipynb", as_version=4)))
        for file_name, entry in sorted(manifest["submissions"].items()):
            sub = by_name.get(f"submissions__{file_name[:-6]}") or by_name.get(file_name[:-6])
            if sub is None:
                findings.append(Finding(file_name, False, "not graded"))
                continue
            wrong = [f"{cid}: {sub.check(cid).status if sub.check(cid) else 'missing'} (expected {want})"
                     for cid, want in entry["expected"].items()
                     if sub.check(cid) is None or sub.check(cid).status != want]
            findings.append(Finding(file_name, not wrong and sub.status == GRADED,
                                    "as the manifest says" if not wrong else "; ".join(wrong)))
    findings += release_findings(options)
    findings += validate_rounds(options, manifest, SUBMISSIONS, jobs=workers or 2,
                                say=lambda line: print(line, file=out, flush=True))
    width = max(len(f.item) for f in findings)
    for f in findings:
        print(f"{'ok  ' if f.ok else 'FAIL'}  {f.item:<{width}}  {f.detail}", file=out)
    failed = sum(not f.ok for f in findings)
    print(f"{len(findings) - failed} passed, {failed} failed", file=out)
    return failed == 0


def _failing(sub) -> str:
    bad = [c.id for c in sub.checks if c.status not in (PASSED, SKIPPED)]
    return f" (failing: {', '.join(bad)})" if bad else ""
