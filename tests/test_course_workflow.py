"""The course repository's CI workflow (.github/workflows/course.yml): it parses, runs on every
push and pull request, its CPU job runs `tox -e validate` and `tox`, its GPU job runs
tools/gpu_check.sh on a self-hosted runner labelled `gpu`, its weekly `next-stack` job runs
`tox -e next-stack` and keeps the report, and every tox env and script it names exists. actionlint checks it too where it is installed (it is not in this project's stack: the
package registries offer it only as a wrapper that downloads a binary).
"""
from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "course.yml"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def _tox_envs() -> set[str]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini")
    return {section.split(":", 1)[1] for section in config.sections() if section.startswith("testenv:")}


def test_it_runs_on_every_push_and_pull_request():
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"push", "pull_request", "schedule", "workflow_dispatch"}
    assert not triggers["push"] and not triggers["pull_request"], \
        "no branch or path filters: every push and pull request"
    for name in ("cpu", "gpu"):  # the weekly schedule is the next stack's alone
        assert workflow["jobs"][name]["if"] == "github.event_name != 'schedule'"


def test_the_next_stack_job_runs_weekly_and_keeps_its_report():
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True))
    [cron] = [entry["cron"] for entry in triggers["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert day == month == "*" and weekday.isdigit()  # once a week
    job = workflow["jobs"]["next-stack"]
    assert "schedule" in job["if"] and "workflow_dispatch" in job["if"]
    assert "tox -e next-stack" in _runs(job) and "next-stack" in _tox_envs()
    [upload] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "always()"
    assert {"next-stack/report.md", "next-stack/report.json"} <= set(upload["with"]["path"].split())


def test_the_cpu_job_validates_the_material_then_runs_the_suite():
    cpu = _workflow()["jobs"]["cpu"]
    assert "self-hosted" not in str(cpu["runs-on"])
    assert _runs(cpu)[-2:] == ["tox -e validate", "tox"]
    for env in re.findall(r"tox -e (\S+)", "\n".join(_runs(cpu))):
        assert env in _tox_envs(), f"course.yml names tox env {env!r}, tox.ini has none"
    python = [s for s in cpu["steps"] if s.get("uses", "").startswith("actions/setup-python")]
    assert python and str(python[0]["with"]["python-version"]) == "3.11"  # as the README says


def test_the_gpu_job_runs_gpu_check_on_a_self_hosted_gpu_runner():
    gpu = _workflow()["jobs"]["gpu"]
    assert set(gpu["runs-on"]) == {"self-hosted", "gpu"}
    scripts = [word for run in _runs(gpu) for word in run.split() if word.startswith("tools/")]
    assert scripts == ["tools/gpu_check.sh"]
    assert all((ROOT / script).is_file() for script in scripts)
    assert gpu["timeout-minutes"] >= 10  # gpu_check's own target is 8 minutes


def test_every_action_is_pinned_to_a_version():
    for name, job in _workflow()["jobs"].items():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)?@v\d+", step["uses"]), (name, step["uses"])


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed")
def test_actionlint_finds_nothing():
    done = subprocess.run(["actionlint", str(WORKFLOW)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
