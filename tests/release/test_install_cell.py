"""The released notebook's install cell, run in real kernels: installs the wheel next to the
notebook where the kit is missing, does nothing where it is installed, and says what to do
where neither is there (the notebook still runs)."""
from __future__ import annotations

import shutil

import nbformat
import pytest
from jupyter_client import AsyncKernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

PROBE = ("import edge_ai_w5_selfcheck as _k\nprint('KIT', _k.__file__, check.__module__)\n"
         "print('INSTALLER RAN', '_kit_wheels' in dir())")


def run_cells(release, folder, env_site, monkeypatch, *sources):
    nb = nbformat.read(release.notebook, as_version=4)
    install = next(c for c in nb.cells if c.get("id") == "selfcheck-install")
    run = new_notebook(cells=[new_code_cell(install.source)] + [new_code_cell(s) for s in sources])
    monkeypatch.setenv("PYTHONPATH", str(env_site))
    monkeypatch.setenv("PIP_TARGET", str(env_site))  # never the shared stack's site-packages
    monkeypatch.setenv("PIP_NO_DEPS", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    km = AsyncKernelManager(kernel_name="python3", transport="ipc",  # no TCP warning in the logs
                            ip=str(folder / ".kernel"))
    NotebookClient(run, km=km, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    errors = [o for c in run.cells for o in c.outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for c in run.cells for o in c.outputs if o.output_type == "stream")
    return errors, text


@pytest.mark.slow
def test_the_install_cell_installs_the_wheel_once_then_does_nothing(release, tmp_path, monkeypatch):
    site, folder = tmp_path / "site", tmp_path / "notebook"
    folder.mkdir()
    shutil.copy(release.wheel, folder)
    errors, text = run_cells(release, folder, site, monkeypatch, PROBE)
    assert not errors, errors
    assert f"KIT {site}/edge_ai_w5_selfcheck/__init__.py edge_ai_w5_selfcheck" in text
    assert "INSTALLER RAN True" in text

    (folder / release.wheel.name).unlink()  # installed now: no wheel needed, nothing runs
    errors, text = run_cells(release, folder, site, monkeypatch, PROBE)
    assert not errors and "INSTALLER RAN False" in text


@pytest.mark.slow
def test_without_kit_or_wheel_the_notebook_still_runs_and_says_what_to_do(release, tmp_path, monkeypatch):
    folder = tmp_path / "notebook"
    folder.mkdir()
    errors, text = run_cells(release, folder, tmp_path / "site", monkeypatch,
                             'check("task1_seeded_choice")')
    assert not errors, errors
    assert text.count("The self-check kit is not installed") == 2 and release.wheel.name in text
