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

def student_readme(wheel_name: str, checks: list[SelfCheck]) -> str:
    rows = "\n".join(f"| `{c.id}` | {c.summary} | "
                     f"{', '.join(p.replace('_', ' ') for p in c.properties)} |" for c in checks)
    missing = "\n".join(f"- {difference}" for difference in DIFFERENCES)
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

The `check(...)` cells and the install cell are skipped by the grader: you can hand in the
notebook with them.

## What it checks

| check | passes when | properties |
| --- | --- | --- |
{rows}

## What it does not check

{missing}

Your grade comes from the instructors' grader: the same checks, property names and feedback
sentences, on its own inputs, plus `notebook_runs` and `fl_round`.
"""
