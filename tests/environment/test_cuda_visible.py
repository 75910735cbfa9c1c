"""CUDA_VISIBLE_DEVICES passes through the sandbox: a student process gets the GPUs the grader
was given, never others, and nothing else of the grader's environment.

The slow test starts a sandboxed kernel and a check worker the way `grade` does (forks of a fork
server that imported the course stack) through `tools/gpu_probe.py`, the script `gpu_check.sh`
runs on a GPU machine; here, on the CPU, each must see the variable and find no CUDA device.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from grader.environment import layout

ROOT = Path(__file__).resolve().parents[2]


def _probe_module():
    spec = importlib.util.spec_from_file_location("gpu_probe", ROOT / "tools" / "gpu_probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(tmp_path, data_dir):
    return layout.build_run_dir(tmp_path / "run", data_dir).env()


@pytest.fixture
def data_dir(tmp_path):
    from grader.environment.data import synthetic_dir

    return synthetic_dir(8, 4, cache_dir=tmp_path / "cache")


def test_the_variable_passes_through_when_set_and_only_then(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,3")
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "not for students")
    env = _env(tmp_path, data_dir)
    assert env["CUDA_VISIBLE_DEVICES"] == "1,3"
    assert "GRADER_SECRET_TOKEN" not in env
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # set to nothing: no GPU, and so for students
    assert _env(tmp_path / "b", data_dir)["CUDA_VISIBLE_DEVICES"] == ""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert "CUDA_VISIBLE_DEVICES" not in _env(tmp_path / "c", data_dir)


def test_the_probe_reads_what_each_process_reported():
    probe = _probe_module()
    ok = {"process": "kernel", "visible": "0", "cuda": True, "matmul_ok": True}
    cpu = {"process": "check worker", "visible": "0", "cuda": False}
    assert probe.verdict([ok, cpu], expect_cuda=False)[0]
    passed, detail = probe.verdict([ok, cpu], expect_cuda=True)
    assert not passed and detail == "check worker: no CUDA"
    assert probe._report("noise\nGPU-PROBE {\"cuda\": false}\n", "kernel") == \
        {"process": "kernel", "cuda": False}
    assert "no report" in probe._report("Traceback ...", "kernel")["error"]


@pytest.mark.slow
def test_a_sandboxed_kernel_and_check_worker_see_the_grader_s_gpus(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")  # no such device here: CUDA stays off
    reports = _probe_module().probe()
    assert [r["process"] for r in reports] == ["kernel", "check worker"]
    for report in reports:
        assert "error" not in report, report
        assert report["visible"] == "3" and report["cuda"] is False, report
