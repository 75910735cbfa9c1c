"""Symlinks and the sandbox: every path bound back is resolved, and the links on the way to it
(a stack reached through a link in /tmp, a data folder that is a link) work inside too."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.environment.data import resolve_data_dir
from grader.sandbox.namespaces import links_on_the_way
from grader.sandbox.process import Limits

from tests.helpers import ROOT
from tests.sandbox.helpers import needs_isolation, run_snippet

REFERENCE = ROOT / "fixtures" / "submissions" / "reference.ipynb"


def test_links_on_the_way_follow_absolute_relative_and_nested_links(tmp_path):
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "real" / "deep" / "file").write_text("x")
    (tmp_path / "a").symlink_to(tmp_path / "real")  # absolute
    (tmp_path / "real" / "up").symlink_to("../real/deep")  # relative, with ..
    path = tmp_path / "a" / "up" / "file"
    assert links_on_the_way(path) == [(str(tmp_path / "a"), str(tmp_path / "real")),
                                      (str(tmp_path / "real" / "up"), "../real/deep")]
    assert links_on_the_way(tmp_path / "real" / "deep") == []
    assert links_on_the_way(tmp_path / "missing" / "x") == []


@needs_isolation
def test_a_link_in_a_hidden_folder_and_its_target_both_work_inside(tmp_path):
    """The interpreter's prefix named through a link that lives in a hidden folder (the grader's
    home here), pointing into another hidden folder (/tmp): both paths work in the sandbox."""
    home = Path(tempfile.mkdtemp(prefix="links-", dir=os.path.expanduser("~")))
    try:
        target = tmp_path / "target"
        target.mkdir()
        (target / "data.txt").write_text("through the link")
        link = home / "linked"
        link.symlink_to(target)
        work = tmp_path / "work"
        code = (f"print(open({str(link / 'data.txt')!r}).read(), "
                f"open({str(target / 'data.txt')!r}).read() == 'through the link')")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work),
               "DATA": str(link / "data.txt")}  # named to the sandbox, as PYTHONPATH entries are
        status, out = run_snippet(code, work, Limits(), env=env)
        assert status == 0 and out.strip() == "through the link True", out
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _project_copy(where: Path) -> Path:
    for name in ("grader", "reference", "student_template"):
        shutil.copytree(ROOT / name, where / name, ignore=shutil.ignore_patterns("__pycache__"))
    return where


@needs_isolation
@pytest.mark.slow
@pytest.mark.parametrize("project_in, links_in", [("/home", "/tmp"), ("/tmp", "/home")])
def test_the_symlinked_stack_grades_the_reference_with_full_marks(project_in, links_in):
    """`grader check` run from a project under `project_in`, with the course stack's interpreter
    reached through a link under `links_in` and a data folder that is a link (to a folder of
    links): the reference scores full marks (before the fix every kernel and worker failed)."""
    prefix = Path(sys.prefix).resolve()
    project_root = Path(tempfile.mkdtemp(prefix="grader-project-", dir=project_in))
    links = Path(tempfile.mkdtemp(prefix="grader-links-", dir=links_in))
    try:
        project = _project_copy(project_root)
        (links / "stack").symlink_to(prefix)
        real_data = links / "data-real"
        real_data.mkdir()
        synthetic = resolve_data_dir(None)
        for split in ("train", "test"):
            (real_data / split).symlink_to(synthetic / split)
        (links / "data").symlink_to(real_data)
        python = links / "stack" / "bin" / Path(sys.executable).name
        done = subprocess.run([str(python), "-m", "grader", "check", str(REFERENCE), "--fl-round",
                               "off", "--data", str(links / "data")], cwd=project,
                              env=dict(os.environ, PYTHONPATH=str(project)),
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "All checks passed: 10/10 points" in done.stdout
    finally:
        shutil.rmtree(project_root, ignore_errors=True)
        shutil.rmtree(links, ignore_errors=True)
