"""What `validate` asks of the release: no solution code in it, and its kit, installed from the
wheel alone and run as a student runs it (terminal mode, a student's environment), fails every
task of the template with a message, without crashing, and passes the reference."""
from __future__ import annotations

import pytest

from grader.pipeline import Options
from grader.release.kit_run import KitRun, install_wheel
from grader.validate import kit_on_reference, kit_on_template, release_findings


def test_the_wheel_alone_installs_the_kit(release, tmp_path):
    site = install_wheel(release.wheel, tmp_path / "site")
    assert (site / "edge_ai_w5_selfcheck" / "exam.json").is_file()
    assert not (site / "grader").exists() and not list(site.glob("numpy*"))


def test_the_findings_judge_the_kits_verdicts():
    ids = ("task1_seeded_choice", "task2_partition")
    failed = [{"id": cid, "status": "failed", "properties": [{"passed": False, "message": "no"}]}
              for cid in ids]
    silent = [{"id": cid, "status": "not checked", "message": "", "properties": []} for cid in ids]
    passed = [{"id": cid, "status": "passed"} for cid in ids]
    assert kit_on_template(KitRun(1, False, failed), ids).ok
    assert not kit_on_template(KitRun(1, False, silent), ids).ok  # a failure must say why
    assert not kit_on_template(KitRun(1, False, failed[:1]), ids).ok  # a check went missing
    assert not kit_on_template(KitRun(0, True, passed), ids).ok
    assert kit_on_reference(KitRun(0, True, passed), ids).ok
    assert not kit_on_reference(KitRun(1, False, passed[:1] + failed[1:]), ids).ok


@pytest.mark.slow
def test_validate_builds_the_release_and_its_kit_fails_the_template_and_passes_the_reference():
    findings = release_findings(Options())
    assert [f.item for f in findings] == ["release without solutions", "kit on the template",
                                          "kit on the reference"]
    assert all(f.ok for f in findings), [(f.item, f.detail) for f in findings if not f.ok]
