"""The per-run directory and the student environment."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest
import yaml

from grader.environment import data, layout


@pytest.fixture
def run(tmp_path):
    folder = data.synthetic_dir(40, 20, tmp_path / "cache")
    return layout.build_run_dir(tmp_path / "run", folder, agg_port=7555)


def test_kaggle_input_paths_resolve(run, tmp_path):
    assert layout.kaggle_input(run.root) == run.root / "kaggle" / "input"
    assert layout.path_mapping(run.root) == {"/kaggle/input": str(run.root / "kaggle" / "input")}
    with open(run.kaggle_input / "cifar100" / "train", "rb") as handle:
        assert len(pickle.load(handle, encoding="bytes")[b"fine_labels"]) == 40
    lib = run.kaggle_input / "kubeedge-sedna" / "lib"
    for name in ("sedna", "cifar100_resnets.py", "edge_ai_w5_sedna_configuration.py", "requirements.txt"):
        assert (lib / name).exists(), name
    assert (lib / "sedna" / "core" / "federated_learning" / "__init__.py").is_file()
    for folder in (run.work_dir, run.home_dir, run.tmp_dir):
        assert folder.is_dir()


def test_the_course_cell_can_read_plato_simple_client(run):
    # In [43]: open('/kaggle/input/kubeedge-sedna/lib/plato/clients/simple.py'), prints lines 24-26, 86-118
    content = (run.lib_dir / "plato" / "clients" / "simple.py").read_text().splitlines()
    assert len(content) >= 118
    assert any("def load_payload" in line for line in content)


def test_plato_config_carries_the_aggregator_port(run):
    config = yaml.safe_load(run.config_file.read_text())
    assert config["server"] == {**config["server"], "address": "127.0.0.1", "port": 7555}
    assert config["trainer"]["learning_rate"] == 0.01
    assert config["trainer"]["model_name"] == "lenet5"


def test_rebuilding_a_run_directory_is_harmless(run, tmp_path):
    again = layout.build_run_dir(run.root, run.data_dir.resolve(), agg_port=7556)
    assert again.root == run.root
    assert yaml.safe_load(again.config_file.read_text())["server"]["port"] == 7556


def test_missing_data_files_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="train"):
        layout.build_run_dir(tmp_path / "run", tmp_path)


def test_student_env_is_built_from_scratch(run, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    env = layout.student_env(run, client_id=2, extra={"OMP_NUM_THREADS": "1"})
    assert "do-not-leak" not in json.dumps(env)
    assert env["PYTHONPATH"] == str(layout.SITE_DIR)
    assert env["config_file"] == str(run.config_file)
    assert env["GRADER_AGG_IP"] == "127.0.0.1" and env["GRADER_AGG_PORT"] == "7555"
    assert env["GRADER_CLIENT_ID"] == "2" and env["OMP_NUM_THREADS"] == "1"
    assert env["MPLBACKEND"] == "Agg"
    assert env["HOME"].startswith(str(run.root)) and env["TMPDIR"].startswith(str(run.root))


def test_a_student_process_sees_the_course_site_and_not_the_grader(run, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    probe = (
        "import importlib.util, json, os, sys\n"
        "import sedna, cifar100_resnets\n"
        "print(json.dumps({'env': dict(os.environ), 'sedna': sedna.__file__,\n"
        "  'grader': importlib.util.find_spec('grader') is not None}))\n"
    )
    bytecode_before = set(layout.SITE_DIR.rglob("*.pyc"))
    result = subprocess.run(
        [sys.executable, "-c", probe], env=run.env(), cwd=run.work_dir,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert "GRADER_SECRET_TOKEN" not in seen["env"]
    assert seen["sedna"].startswith(str(layout.SITE_DIR))
    assert seen["grader"] is False
    assert set(layout.SITE_DIR.rglob("*.pyc")) == bytecode_before, "student imports wrote into site/"
