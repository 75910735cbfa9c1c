"""tools/next_stack*.py: the course on the next stack, without building one (6 GB).

The reporting runs on results recorded from a real next-stack run (tests/tools/data/); the runner
runs a planted break in a real kernel with two small fake stacks: the same interpreter, one with
a module on its path that the other lacks.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import next_stack
import next_stack_report as report
from tests.helpers import ROOT, notebook

RECORDED = Path(__file__).parent / "data" / "next_stack"
"""A real run of 2026-12-05 (tox -e next-stack): pinned.json, next.json, build.json."""


def recorded() -> tuple[dict, dict, dict]:
    return tuple(json.loads((RECORDED / f"{name}.json").read_text()) for name in ("pinned", "next", "build"))


# --- the declared stack -----------------------------------------------------------------------


def test_only_the_courses_own_pins_are_kept():
    from grader.environment.layout import LIB_REQUIREMENTS

    pins = next_stack.course_pins()
    assert pins == {"plato-learn": "plato-learn==0.4.0"}
    assert "plato-learn==0.4.0" in LIB_REQUIREMENTS
    reqs = next_stack.requirements()
    assert "plato-learn==0.4.0" in reqs
    assert {"numpy", "torch", "torchvision", "matplotlib", "pyarrow", "datasets", "imgaug",
            "nbclient", "ipykernel"} <= set(reqs)  # unpinned: the newest for this Python


def test_the_machines_pip_constraints_do_not_reach_the_next_stack(monkeypatch):
    monkeypatch.setenv("PIP_CONSTRAINT", "/etc/xdg/pip/constraints.txt")
    env = next_stack.pip_env()
    assert env["PIP_CONSTRAINT"] == "" and env["PIP_CONFIG_FILE"] == os.devnull
    assert os.environ["PIP_CONSTRAINT"] == "/etc/xdg/pip/constraints.txt"  # ours is untouched


def test_first_error_is_the_traceback_s_last_named_line():
    text = ("Traceback (most recent call last):\n  File \"x.py\", line 1\n    import imgaug\n"
            "AttributeError: `np.sctypes` was removed in the NumPy 2.0 release.\n")
    assert next_stack.first_error(text) == "AttributeError: `np.sctypes` was removed in the NumPy 2.0 release."
    assert next_stack.first_error("ERROR: No matching distribution found for torch==99\n") \
        .startswith("ERROR: No matching distribution")
    assert next_stack.first_error("") == "no output"


# --- the report on recorded results -----------------------------------------------------------


def test_report_on_todays_recorded_run_names_every_failure_and_only_failures():
    pinned, nxt, build = recorded()
    built = report.build_report(pinned, nxt, next_stack.cell_sources(), build)
    rows = {report.name(i): i for i in built["items"]}
    failing_cells = {c["index"] for c in nxt["cells"]["cells"] if c["status"] != "ran"}
    assert failing_cells  # the recorded next stack does break the notebook
    for cell in nxt["cells"]["cells"]:
        row = rows[report.cell_id(cell["index"])]
        assert row["next"]["status"] == cell["status"]
        assert row["next"]["error"] == cell["error"]
        assert (row["id"] in built["failing_on_next"]) == (cell["index"] in failing_cells)
    for part in ("grader", "kit"):
        for check in nxt[part].get("checks", []):
            failing = f"{part} {check['id']}" in built["failing_on_next"]
            assert failing == (check["status"] not in report.GOOD)
    # Nothing that passed on both stacks is a regression; every pinned-good, next-bad row is one.
    for row in built["items"]:
        assert row["regression"] == (row["pinned"]["status"] in report.GOOD
                                     and row["next"]["status"] not in report.GOOD)
    for part in ("grader", "kit"):  # checks are labelled with what they check (the registry's)
        assert rows[f"{part} task2_partition"]["label"].startswith("CIFAR100Partition keeps")
    markdown = report.markdown(built)
    for row_name in built["failing_on_next"]:
        row = rows[row_name]
        assert f"| {row['id']} |" in markdown and row_name in markdown
        assert row["next"]["error"] and report._cell(row["next"]["error"])[:200] in markdown


def test_known_causes_say_what_to_change():
    pinned, nxt, build = recorded()
    built = report.build_report(pinned, nxt, next_stack.cell_sources(), build)
    changes = {report.name(i): i["change"] or "" for i in built["items"]}
    sctypes = [report.name(i) for i in built["items"] if "np.sctypes" in (i["next"]["error"] or "")]
    cmap = [report.name(i) for i in built["items"] if "get_cmap" in (i["next"]["error"] or "")]
    assert sctypes and cmap
    assert all("numpy<2" in changes[i] for i in sctypes)
    assert all("matplotlib.colormaps" in changes[i] for i in cmap)
    # ... in the helper that the reference's third cell defines, where the fix goes.
    cmap_cells = [i for i in cmap if i.startswith("cell ")]
    assert cmap_cells and all(changes[i].endswith("(the failing line is in cell 3)") for i in cmap_cells)
    # A later cell's NameError and the checks missing Task 2's class point at the imgaug cell.
    imgaug_cell = sctypes[0]
    knock_ons = [n for n, c in changes.items() if c.startswith(f"follows from {imgaug_cell} ")]
    assert "grader task2_partition" in knock_ons and "kit task2_partition" in knock_ons
    assert any(n.startswith("cell ") for n in knock_ons)
    held = "\n".join(report.held_back_lines(build))
    assert "plato-learn 0.4.0 (pinned by the course's Sedna requirements)" in held
    assert "needs Python >=3.13" in held
    assert report.what_to_change("ModuleNotFoundError: No module named 'imgaug2'") \
        .startswith("`imgaug2` is not installed")
    assert report.what_to_change("ValueError: something new") is None


def test_a_whole_part_that_cannot_run_is_a_finding_not_a_crash():
    pinned = {"grader": {"checks": [{"id": "task1_seeded_choice", "status": "passed", "error": None}]}}
    nxt = {"grader": {"error": "ModuleNotFoundError: No module named 'rich'"}}
    built = report.build_report(pinned, nxt)
    rows = {report.name(i): i for i in built["items"]}
    assert rows["grader run"]["next"] == {"status": "failed",
                                          "error": "ModuleNotFoundError: No module named 'rich'"}
    assert rows["grader task1_seeded_choice"]["next"]["status"] == "not run"
    assert set(built["regressions"]) == {"grader run", "grader task1_seeded_choice"}


def test_strict_exits_1_on_a_regression_and_0_without(tmp_path, capsys):
    pinned, nxt, build = recorded()
    results = tmp_path / "results"
    results.mkdir()
    for name, data in (("pinned", pinned), ("next", nxt), ("build", build)):
        (results / f"{name}.json").write_text(json.dumps(data))
    assert next_stack.main(["--out", str(tmp_path), "--report-only"]) == 0
    assert next_stack.main(["--out", str(tmp_path), "--report-only", "--strict"]) == 1
    written = json.loads((tmp_path / "report.json").read_text())
    assert written["regressions"] and (tmp_path / "report.md").read_text().startswith("# The course")
    (results / "next.json").write_text(json.dumps(pinned))  # the next stack as good as the pinned
    assert next_stack.main(["--out", str(tmp_path), "--report-only", "--strict"]) == 0
    assert "0 regression(s)" in capsys.readouterr().out


# --- a planted break, through the real runner and a kernel ------------------------------------


def test_the_runner_catches_a_planted_break_and_reports_a_clean_cell_as_clean(tmp_path):
    """Two fake stacks: the pinned one has module `planted_dep` on its path, the next lacks it."""
    nb = tmp_path / "planted.ipynb"
    nbformat.write(notebook("import json\nprint(json.dumps([1]))",
                            "import planted_dep\nplanted_dep.VALUE",
                            "x = 1 + 1"), nb)
    site = tmp_path / "pinned-site"
    site.mkdir()
    (site / "planted_dep.py").write_text("VALUE = 1\n")
    command = [sys.executable, str(next_stack.RUN), "cells", str(nb), "--timeout", "60"]
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    stacks = {"pinned": {"cells": next_stack._json_run(command, env={**base, "PYTHONPATH": str(site)},
                                                       cwd=tmp_path)},
              "next": {"cells": next_stack._json_run(command, env=base, cwd=tmp_path)}}
    built = report.build_report(*stacks.values(), next_stack.cell_sources(nb))
    rows = {i["id"]: i for i in built["items"]}
    assert [rows[f"cell {i}"]["pinned"]["status"] for i in (1, 2, 3)] == ["ran"] * 3
    assert rows["cell 2"]["label"] == "import planted_dep"
    assert rows["cell 2"]["next"] == {"status": "failed",
                                      "error": "ModuleNotFoundError: No module named 'planted_dep'"}
    assert rows["cell 2"]["change"].startswith("`planted_dep` is not installed in the next stack")
    assert built["regressions"] == built["failing_on_next"] == ["cell 2"]
    for clean in ("cell 1", "cell 3"):
        assert rows[clean]["next"] == {"status": "ran", "error": None}
        assert not rows[clean]["regression"] and rows[clean]["change"] is None


def test_a_stack_without_python_is_recorded_not_raised(tmp_path):
    answer = next_stack._json_run([str(tmp_path / "missing" / "bin" / "python"), "x"])
    assert answer["error"].startswith("FileNotFoundError")


def test_the_next_stack_is_not_part_of_tox():
    """`tox` (env_list) runs the tests only: the next-stack env is asked for by name."""
    import configparser

    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    assert "next-stack" not in tox["tox"]["env_list"]
    assert "tools/next_stack.py" in tox["testenv:next-stack"]["commands"]


def test_a_stack_whose_python_does_not_answer_is_named_in_the_report():
    pinned, nxt, build = recorded()
    broken = {"versions": {"error": "FileNotFoundError: .tox/next-stack-venv/bin/python"},
              "cells": {"error": "FileNotFoundError: .tox/next-stack-venv/bin/python"}}
    built = report.build_report(pinned, broken, next_stack.cell_sources(), {"ok": False, "error": "ERROR: x"})
    assert built["stack_errors"] == {"next": broken["versions"]["error"]}
    markdown = report.markdown(built)
    assert "The next stack's python did not answer: FileNotFoundError" in markdown
    assert "Next-stack build: FAILED" in markdown
    cells = [i for i in built["items"] if i["kind"] == "cell"]
    assert cells[0]["id"] == "run" and all(i["regression"] for i in cells)


def test_a_cell_past_its_timeout_stops_the_run_and_the_rest_is_not_run(tmp_path):
    nb = tmp_path / "slow.ipynb"
    nbformat.write(notebook("x = 1", "import time\ntime.sleep(30)", "y = 2"), nb)
    ran = next_stack._json_run([sys.executable, str(next_stack.RUN), "cells", str(nb), "--timeout", "2"],
                               cwd=tmp_path)
    assert [(c["index"], c["status"]) for c in ran["cells"]] == [(0, "ran"), (1, "timeout"), (2, "not run")]
    assert ran["cells"][2]["error"] == "cell 2 timed out"


def test_an_error_raised_in_a_helper_of_an_earlier_cell_names_that_cell(tmp_path):
    nb = tmp_path / "helper.ipynb"
    nbformat.write(notebook("def helper():\n    return missing_name", "x = 1", "helper()"), nb)
    ran = next_stack._json_run([sys.executable, str(next_stack.RUN), "cells", str(nb)], cwd=tmp_path)
    assert ran["cells"][2] == {"index": 2, "status": "failed", "raised_in": 0,
                               "error": "NameError: name 'missing_name' is not defined"}
    [row] = [i for i in report.compare({}, {"cells": ran}) if i["id"] == "cell 3"]
    assert row["next"]["raised_in"] == "cell 1"
    assert row["change"].endswith("(the failing line is in cell 1)")


def test_a_build_that_pip_refuses_is_recorded_with_pips_error(tmp_path):
    """A fake stack whose pip refuses everything (as when the index has no release that fits)."""
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho 'Collecting numpy'\n"
                      "echo 'ERROR: No matching distribution found for numpy==99' >&2\nexit 1\n")
    python.chmod(0o755)
    built = next_stack.build(tmp_path / "venv", ["numpy==99"], tmp_path / "pip.log")
    assert built["ok"] is False
    assert built["error"] == "ERROR: No matching distribution found for numpy==99"
    assert "Collecting numpy" in (tmp_path / "pip.log").read_text()
    markdown = report.markdown(report.build_report({}, {}, None, built))
    assert "Next-stack build: FAILED" in markdown and "No matching distribution" in markdown
