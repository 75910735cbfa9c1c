"""tools/gpu_check.sh: exit 3 with a clear line where there is no CUDA; on a GPU machine, the
summary and the exit status follow each step's exit status.

There is no GPU here, so the steps' logic is tested with a stand-in interpreter (`GRADER_PYTHON`)
that answers each command as a GPU machine would (what each step really does is tested on the CPU
in tests/environment/test_cuda_visible.py, tests/federated/test_round_size.py and
tests/test_validate_rounds.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "gpu_check.sh"

FAKE_PYTHON = r"""#!/usr/bin/env bash
# Answers gpu_check.sh's commands as a machine with one working GPU would.
echo "$*" >> "$FAKE_LOG"
case "$*" in
  *cuda_available*) exit 0 ;;
  *"import sys, torch"*) echo "torch 2.14.1, CUDA 13.0, 1 device(s): Fake H200"; exit 0 ;;
  *gpu_probe.py*) echo '{"process": "kernel", "cuda": true, "matmul_ok": true}'
                  echo "ok: every process used CUDA"; exit "${FAKE_PROBE_RC:-0}" ;;
  *"fl-round reference/exercise.ipynb"*)
      printf 'fl_round: PASSED, 10/10 points\n  ok   uploaded\n  ok   learning_rate\nTimings: training 41.0 s\n'
      exit 0 ;;
  *"fl-round fixtures/submissions/task3_hardcoded_lr.ipynb"*)
      printf 'fl_round: FAILED, 8.3/10 points\n  ok   uploaded\n%s  FAIL learning_rate: lr=0.001\n' "${FAKE_EXTRA_FAIL:-}"
      exit 1 ;;
  *"grader validate"*) echo "45 passed, 0 failed"; exit 0 ;;
esac
echo "unexpected command: $*" >&2
exit 99
"""


def _run(tmp_path, **env):
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    environment = {**os.environ, "GRADER_PYTHON": str(fake), "FAKE_LOG": str(tmp_path / "calls"),
                   "GPU_CHECK_OUT": str(tmp_path / "out"), **env}
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120,
                          env=environment)
    return done.returncode, done.stdout + done.stderr


def test_without_cuda_it_says_so_and_exits_3():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "GRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "gpu_check: NO CUDA on this machine" in done.stdout
    assert "nothing was checked" in done.stdout


def test_every_step_runs_and_the_summary_says_all_passed(tmp_path):
    status, output = _run(tmp_path)
    assert status == 0, output
    for step in ("sandbox", "round-reference", "round-faulty", "validate"):
        assert f"ok   {step}" in output, output
    assert "Fake H200" in output and "Timings: training 41.0 s" in output
    assert output.rstrip().endswith("gpu_check: all passed")
    calls = (tmp_path / "calls").read_text()
    assert "fl-round reference/exercise.ipynb --fl-round-size full" in calls
    assert "validate --fl-round auto --fl-round-size small" in calls


def test_a_failing_step_fails_the_check(tmp_path):
    status, output = _run(tmp_path, FAKE_PROBE_RC="1")
    assert status == 1 and "FAIL sandbox" in output and "gpu_check: FAILED" in output


def test_the_faulty_round_must_fail_for_its_mistake_only(tmp_path):
    status, output = _run(tmp_path, FAKE_EXTRA_FAIL="  FAIL uploaded: did not upload\n")
    assert status == 1 and "FAIL round-faulty" in output, output
