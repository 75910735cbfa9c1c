"""What a federated round may vary, and whether to run one at all (`--fl-round auto|on|off`).

On a CUDA machine the round uses the course's data sizes (25,000 training images per client from
50,000, all 10,000 test images) and hyperparameters. On CPU it uses a small synthetic CIFAR-100
so a round ends in well under a minute on two cores: the notebook's own hyperparameters (5 epochs,
batch size 128) are never overridden, because they are the student's code; only the data shrinks.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..sandbox.process import Limits

MODES = ("auto", "on", "off")

DEFAULT_START_ROUND = 25
"""Rounds 21-40 train with a tenth of the initial rate: the schedule is exercised for real."""

COURSE_LEARNING_RATE = 0.1
"""`learning_rate` of the course's `Estimator.hyperparameters` (the notebook says not to change it)."""

CPU_TRAIN_SIZE = 128   # 64 images per client: with 5 epochs as many steps as ~300 images x 1 epoch
CPU_TEST_SIZE = 300    # the global model (seeded) scores > 0 on it: the notebook leaves on 0 %
CPU_DEADLINE = 180.0
GPU_DEADLINE = 600.0
MODEL_SEED = 1
REFERENCE_SEED = 20220509
"""MY_RANDOM_SEED of client B (the reference notebook), unlike the reference's own 19891217."""


@dataclass(frozen=True)
class RoundSettings:
    start_round: int = DEFAULT_START_ROUND
    deadline: float | None = None        # seconds for the whole round; None: by device
    data_dir: Path | None = None         # CIFAR-100 folder (--data); None: synthetic
    train_size: int | None = None        # synthetic sizes; None: by device
    test_size: int | None = None
    cuda: bool | None = None             # None: detect
    limits: Limits = field(default_factory=Limits)
    model_seed: int = MODEL_SEED
    reference_seed: int = REFERENCE_SEED
    grace: float = 10.0                  # after the aggregator ends: time for the clients to exit
    keep_dir: Path | None = None         # keep the round's folders here (debugging, benchmarks)

    def __post_init__(self) -> None:
        if not 1 <= self.start_round <= 50:
            raise ValueError(f"start_round must be a course round (1-50), got {self.start_round}")

    @property
    def on_cuda(self) -> bool:
        return cuda_available() if self.cuda is None else self.cuda

    @property
    def round_deadline(self) -> float:
        if self.deadline is not None:
            return float(self.deadline)
        return GPU_DEADLINE if self.on_cuda else CPU_DEADLINE

    def synthetic_sizes(self) -> tuple[int, int]:
        from ..environment.data import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE

        if self.on_cuda:
            train, test = DEFAULT_TRAIN_SIZE, DEFAULT_TEST_SIZE
        else:
            train, test = CPU_TRAIN_SIZE, CPU_TEST_SIZE
        return self.train_size or train, self.test_size or test


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
    if mode not in MODES:
        raise ValueError(f"--fl-round must be one of {MODES}, got {mode!r}")
    return mode == "on" or (mode == "auto" and cuda_available())


def threads_per_process() -> int:
    """Three processes share the machine (aggregator and two clients)."""
    return max(1, (os.cpu_count() or 1) // 3)
