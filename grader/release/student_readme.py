"""README.md of the student release: install the kit, call it, what it checks and what it cannot.

`student_readme(wheel_name, checks)` is plain text from the wheel's name and the check registry
(`SelfCheck`s) and the kit's differences by design (`registry_view.DIFFERENCES`, which the kit
prints under its table), so the README names what the notebook, the kit and the grader name. It
holds no code of the exercise.
"""
from __future__ import annotations

from grader.notebook.preprocessors.selfcheck_cells import KIT_PACKAGE

from .notebook import SelfCheck
from .registry_view import DIFFERENCES

DOCUMENTED_USES = (
    'check("task3_lr_schedule")',
    "check()",
    "results = check()\nassert results.passed",
    'r = check("task1_random_seed", show=False)\nprint(r)',
    'results = check()\nif not results["task3_lr_schedule"].passed:\n'
    '    print(results["task3_lr_schedule"].failed_properties)',
    "for c in check(show=False).checks:\n    print(c.id, c.status, c.summary())",
    'import edge_ai_w5_selfcheck as kit\nr = kit.check("task2_partition")\nprint(r.passed, r.to_dict())',
)
"""Every use of the kit's result the README shows, one snippet each; the grader's tests run each
in a released notebook (`tests/release/`), so none can cost a student `notebook_runs`."""


def student_readme(wheel_name: str, checks: list[SelfCheck]) -> str:
    rows = "\n".join(f"| `{c.id}` | {c.summary} | "
                     f"{', '.join(p.replace('_', ' ') for p in c.properties)} |" for c in checks)
    missing = "\n".join(f"- {difference}" for difference in DIFFERENCES)
    uses = "\n\n".join(DOCUMENTED_USES)
    return f"""# Week 5 self-check (Applied Edge AI: federated learning)

This folder holds the exercise notebook (`exercise.ipynb`), the self-check kit
(`{wheel_name}`) and this file. The kit runs the course grader's own checks of your
answers in your own kernel, on public inputs, and tells you which property failed on which
smallest input. It does not contain the solutions: the expected outputs are stored as keyed
hashes, and shown only where they give nothing away (values the exercise itself states).

## Install

Keep the wheel next to the notebook (on Kaggle: upload it as a dataset and attach it to the
notebook). The notebook's first code cell installs it when it is missing and does nothing
otherwise. By hand, in the environment your notebook runs in:

```sh
pip install {wheel_name}
```

It needs only numpy; Tasks 2-4 use torch, torchvision and Plato as the notebook does. For the
terminal mode also install its extra: `pip install "{wheel_name}[run]"` (nbclient, ipykernel).

## Use

- In the notebook, after each task: `check("task1_seeded_choice")` (the notebook has these
  cells already); `check()` checks every task. It returns a result with `.passed`.
- From a terminal: `python -m {KIT_PACKAGE} exercise.ipynb` runs the notebook in a fresh
  kernel (the `/kaggle/input` paths mapped as the grader maps them, or `--data DIR` for your
  CIFAR-100 copy), then checks it; the exit status is 0 only when every check passes.

The result can be kept and used; each of these is supported:

```python
{uses}
```

You can hand in the notebook with the kit's cells and any of these uses: the grader does not run
the kit (it grades with its own checks); there, `check(...)` is a stand-in whose result passes
and says "not run here", so the cells still run.

## What it checks

| check | passes when | properties |
| --- | --- | --- |
{rows}

## What it does not check

{missing}

Your grade comes from the instructors' grader: the same checks, property names and feedback
sentences, on its own inputs, plus `notebook_runs` and `fl_round`.
"""
