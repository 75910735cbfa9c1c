"""What a federated round may vary, and whether to run one at all (`--fl-round auto|on|off`).

The round's size is one setting (`--fl-round-size full|small`; the default, `auto`, is full on
CUDA and small on the CPU). `full`: the course's data sizes (25,000 training images per client
from 50,000, all 10,000 test images; `--data` or synthetic). `small`: a small synthetic CIFAR-100 (64 training
images per client, 300 test images), so a round ends in well under a minute on two cores. Both
sizes train with the course's hyperparameters (5 epochs, batch size 128, learning rate 0.1 with
the notebook's schedule): those are the student's code and never overridden; only the data
shrinks. `train_size`/`test_size` cut either size's data (tests run the full-size path on a few
hundred images, so on a GPU only the device differs).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..options import FL_ROUND_MODES, FL_ROUND_SIZE_CHOICES, FL_ROUND_SIZES, default, group, option
from ..sandbox.limits import Limits

if TYPE_CHECKING:
    from ..checks.rubric import Rubric



class RoundSize(StrEnum):
    """`--fl-round-size`: the course's data sizes, or the CPU's small synthetic set."""

    FULL = "full"
    SMALL = "small"


assert tuple(RoundSize) == FL_ROUND_SIZES
DEFAULT_START_ROUND = default("start_round")

COURSE_LEARNING_RATE = 0.1
"""`learning_rate` of the course's `Estimator.hyperparameters` (the notebook says not to change it)."""

CPU_TRAIN_SIZE = 128   # 64 images per client: with 5 epochs as many steps as ~300 images x 1 epoch
CPU_TEST_SIZE = 300    # the global model (seeded) scores > 0 on it: the notebook leaves on 0 %
MODEL_SEED = 1
REFERENCE_SEED = 20220509
"""MY_RANDOM_SEED of client B (the reference notebook), unlike the reference's own 19891217."""


class GradingOptions(Protocol):
    """What the round takes from a grading run's options (`pipeline.Options`)."""

    limits: Limits
    data_dir: Path | None
    fl_round: str
    fl_round_size: str

    @property
    def rubric(self) -> Rubric: ...


@dataclass(frozen=True)
class RoundSettings:
    """What one round may vary; the options among them are declared in `grader.options`."""

    start_round: int = option("start_round")
    deadline: float | None = option("round_deadline")  # None: by device
    data_dir: Path | None = option("data_dir")  # CIFAR-100 folder (--data); None: synthetic
    size: str = option("fl_round_size")  # full|small; auto: full on CUDA, small on the CPU
    train_size: int | None = None        # synthetic sizes; None: by `size`
    test_size: int | None = None
    cuda: bool | None = None             # None: detect
    limits: Limits = group(Limits)
    model_seed: int = MODEL_SEED
    reference_seed: int = REFERENCE_SEED
    grace: float = option("round_grace")  # after the aggregator ends: time for the clients to exit
    keep_dir: Path | None = option("keep_dir")  # keep the round's folders here

    def __post_init__(self) -> None:
        if not 1 <= self.start_round <= 50:
            raise ValueError(f"start_round must be a course round (1-50), got {self.start_round}")
        if self.size not in FL_ROUND_SIZE_CHOICES:
            raise ValueError(f"--fl-round-size must be one of {FL_ROUND_SIZE_CHOICES}, "
                             f"got {self.size!r}")

    @property
    def on_cuda(self) -> bool:
        return cuda_available() if self.cuda is None else self.cuda

    @property
    def round_size(self) -> RoundSize:
        """`size`, or for `auto` by device: full on CUDA, small on the CPU."""
        if self.size in FL_ROUND_SIZES:
            return RoundSize(self.size)
        return RoundSize.FULL if self.on_cuda else RoundSize.SMALL

    @property
    def round_deadline(self) -> float:
        if self.deadline is not None:
            return float(self.deadline)
        return default("gpu_round_deadline" if self.on_cuda else "cpu_round_deadline")

    def synthetic_sizes(self) -> tuple[int, int]:
        from ..environment.data import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE

        if self.round_size is RoundSize.FULL:
            train, test = DEFAULT_TRAIN_SIZE, DEFAULT_TEST_SIZE
        else:
            train, test = CPU_TRAIN_SIZE, CPU_TEST_SIZE
        return self.train_size or train, self.test_size or test

    # The one rule for the round's data: a small round always uses its small synthetic set
    # (a real-size one could not finish in time on the CPU); only a full-size round, or a folder
    # given to this round itself (`fl-round --data`), reads real files.

    def for_grading(self, data_dir: Path | None) -> RoundSettings:
        """These settings for a graded round: the grading run's `--data` where the round is
        full-size; a small round keeps its small synthetic set."""
        if self.round_size is RoundSize.FULL and data_dir is not None:
            return replace(self, data_dir=data_dir)
        return self

    def data_folder(self) -> Path:
        """The CIFAR-100 folder of this round: `data_dir` when given; else, full-size,
        `$GRADER_CIFAR100_DIR` or a synthetic set of the full sizes; else the small synthetic
        set, whatever the environment names."""
        from ..environment.data import resolve_data_dir, synthetic_dir

        train_size, test_size = self.synthetic_sizes()
        if self.data_dir is not None or self.round_size is RoundSize.FULL:
            return resolve_data_dir(self.data_dir, train_size=train_size, test_size=test_size)
        return synthetic_dir(train_size, test_size)


def expected_learning_rate(round_number: int, initial: float = COURSE_LEARNING_RATE) -> float:
    """The course schedule: lr for rounds 1-20, lr/10 for 21-40, lr/100 for 41-50."""
    return initial / 10 ** ((round_number - 1) // 20)


def cuda_available() -> bool:
    """A CUDA device is present, found without importing torch in the grader.

    `CUDA_VISIBLE_DEVICES` set to nothing (or -1) hides the devices, as it does for torch.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    if any(Path("/dev").glob("nvidia[0-9]*")):
        return True
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return listed.returncode == 0 and "GPU" in listed.stdout


def should_run(mode: str) -> bool:
    """`on`: always; `off`: never; `auto`: where CUDA is available."""
    if mode not in FL_ROUND_MODES:
        raise ValueError(f"--fl-round must be one of {FL_ROUND_MODES}, got {mode!r}")
    return mode == "on" or (mode == "auto" and cuda_available())


def threads_per_process() -> int:
    """Three processes share the machine (aggregator and two clients)."""
    return max(1, (os.cpu_count() or 1) // 3)
