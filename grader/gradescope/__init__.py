"""Gradescope: the autograder bundle (`bundle.py`, `gradescope-bundle`) and what its
`run_autograder` runs per submission (`autograde.py`, `gradescope-run`). The results.json itself is
rendered by `grader.render.gradescope`, as for every batch. docs/lms.md, "Gradescope"."""
