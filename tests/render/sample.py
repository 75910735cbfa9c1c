"""A hand-built class for the render tests: what a class produces, without grading anything.

A partly failing submission with a counterexample, sub-properties and an executed notebook (an
error output, a long output, hostile HTML, a missing attachment, a broken image), a submission with a name that is an XSS attempt, one
that could not be graded and one that timed out. `write_sample(out)` renders it into `out`.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from grader.render import html as render_html
from grader.results.model import CheckResult, Counterexample, GradingRun, SubmissionResult, SubProperty

XSS_NAME = "<script>alert('name')</script>"
# A 1x1 PNG.
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def executed_notebook() -> nbformat.NotebookNode:
    """A tiny executed notebook: a graded definition, an error, a long output, hostile HTML, and
    two elements nbconvert refuses (a missing attachment, image data that is not base64)."""
    cells = [
        new_markdown_cell("# Week 5\n<script>alert('md')</script> <img src=x onerror=alert('img')>\n\n"
                          "![remote](https://example.com/tracker.png) [course page](https://example.com/)\n\n"
                          "As in the course's notebook, an image whose attachment is not in the file:\n\n"
                          "![grafik.png](attachment:e0156c83-9d0b-451b-a619-3d459ac607c7.png)",
                          id="intro"),
        new_code_cell("def parallel_seeded_choice(array_list, seed, n):\n    return array_list[:2]",
                      id="task1-def", execution_count=1),
        new_code_cell("for i in range(500):\n    print(i)", id="long", execution_count=2,
                      outputs=[new_output("stream", name="stdout", text="".join(f"{i}\n" for i in range(500)))]),
        new_code_cell("display(HTML(...))", id="hostile", execution_count=3, outputs=[
            new_output("display_data", data={
                "text/html": "<b>bold</b><script>alert('out')</script><iframe src='https://example.com'></iframe>"
                             "<a href='javascript:alert(1)'>js link</a><div class='gr-hero-passed' "
                             "style='color:red' onclick='alert(2)'>fake banner</div>"
                             "<img src='http://example.com/x.png'><img src='data:image/png;base64," + PIXEL + "'>",
                "text/plain": "<HTML>"}),
            new_output("display_data", data={"application/javascript": "alert('js')", "text/plain": "<JS>"}),
            new_output("display_data", data={"image/png": 'x" onerror="alert(3)', "text/plain": "<bad png>"}),
            new_output("display_data", data={"image/png": PIXEL, "text/plain": "<Figure>"}),
        ]),
        new_code_cell("assert parallel_seeded_choice([1, 2, 3], 0, 1) == 3", id="task1-test", execution_count=4,
                      outputs=[new_output("error", ename="AssertionError", evalue="expected 3 arrays",
                                          traceback=["\x1b[0;31mAssertionError\x1b[0m: expected 3 arrays"])]),
    ]
    return new_notebook(cells=cells)


def sample_run() -> GradingRun:
    alice = SubmissionResult("alice", "a" * 64, timings={"execute": 12.5, "student_code": 9.0, "checks": 3.25},
                             checks=[
        CheckResult("task1_seeded_choice", "failed", 1.0, 2.0,
                    feedback="parallel_seeded_choice returned 2 arrays for 3 inputs. Return one array per input.",
                    counterexample=Counterexample("array_list=[array([0]), array([1]), array([2])], seed=0, n=1",
                                                  "3 arrays <of length 1>", "2 arrays"),
                    properties=[SubProperty("one array per input", False, "2 for 3"),
                                SubProperty("same order in every array", True)],
                    cell_id="task1-def"),
        CheckResult("task1_random_seed", "passed", 1.0, 1.0, feedback="RANDOM_SEED is a valid date.",
                    observed={"MY_RANDOM_SEED": 19891217}),
        CheckResult("task2_partition", "error", 0.0, 2.0,
                    feedback="NameError: name 'testset' is not defined. Define it before the client uses it.",
                    cell_id="no-such-cell"),
        CheckResult("notebook_runs", "failed", 0.0, 1.0, cell_id="task1-test",
                    feedback="Cell 5 failed first (AssertionError: expected 3 arrays); 1 of 4 code cells did not "
                             "run cleanly. Run the notebook top to bottom."),
        CheckResult("fl_round", "skipped", 0.0, 0.0, feedback="The federated round was not run: --fl-round off."),
    ])
    xss = SubmissionResult(XSS_NAME, "b" * 64, timings={"execute": 2.0, "checks": 1.0}, checks=[
        CheckResult("task1_seeded_choice", "failed", 0.0, 2.0,
                    feedback="parallel_seeded_choice returned 4 arrays for 5 inputs. <b>not bold</b>",
                    counterexample=Counterexample("<script>alert('ce')</script>", "5 arrays", "4 arrays")),
        CheckResult("task1_random_seed", "passed", 1.0, 1.0, observed={"MY_RANDOM_SEED": 19891217}),
        CheckResult("task2_partition", "passed", 2.0, 2.0),
        CheckResult("notebook_runs", "passed", 1.0, 1.0),
        CheckResult("fl_round", "skipped", 0.0, 0.0),
    ])
    bob = SubmissionResult.from_error("bob", "", "bob.ipynb is not valid JSON (line 1, column 1).", [
        CheckResult(cid, "error", 0.0, pts, feedback="bob.ipynb is not valid JSON (line 1, column 1).")
        for cid, pts in (("task1_seeded_choice", 2.0), ("task1_random_seed", 1.0), ("task2_partition", 2.0),
                         ("notebook_runs", 1.0))])
    carol = SubmissionResult("carol", "c" * 64, timings={"execute": 120.5, "checks": 2.0}, checks=[
        CheckResult("task1_seeded_choice", "passed", 2.0, 2.0),
        CheckResult("task1_random_seed", "passed", 1.0, 1.0, observed={"MY_RANDOM_SEED": 20000229}),
        CheckResult("task2_partition", "passed", 2.0, 2.0),
        CheckResult("notebook_runs", "failed", 0.0, 1.0, cell_id="fl-train",
                    feedback="Cell 9 failed first (timed out after 120 s); 1 of 9 code cells did not run cleanly."),
        CheckResult("fl_round", "skipped", 0.0, 0.0),
    ])
    return GradingRun([alice, xss, bob, carol])


def write_sample(out: Path) -> GradingRun:
    run = sample_run()
    (out / "executed").mkdir(parents=True)
    nbformat.write(executed_notebook(), out / "executed" / "alice.ipynb")
    (out / "executed" / "carol.ipynb").write_text("{ not json", encoding="utf-8")
    render_html.write_reports(run, out)
    return run
