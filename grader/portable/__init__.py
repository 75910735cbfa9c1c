"""Rules the grader and the self-check kit share, written once: stdlib and numpy only.

The kit (`kit/`, a wheel that needs numpy only) must never import the grader, and the grader
must not restate the kit. So these modules import nothing but the standard library, numpy and
each other (relative imports), and both import them: the grader as `grader.portable`, the kit as
`edge_ai_w5_selfcheck.portable`. In the repository `kit/edge_ai_w5_selfcheck/portable` is a link
to this folder (the kit runs from source in the tests); the wheel gets real copies of these
files, written by `grader.release.wheel.build_wheel` at build time. `tests/kit/test_portable.py`
holds them to these rules.

Nothing here may hold solution code: the kit carries it to students (the leak scan checks).

- `seal`: the canonical encoding of an output and its keyed hash (the sealed answers);
- `dates`: what makes `MY_RANDOM_SEED` a birthdate YYYYMMDD;
- `phrases`: numbers, positions and arrays in the feedback's words;
- `schedule`: Task 3's properties of a learning-rate schedule, on the rates observed.
"""
