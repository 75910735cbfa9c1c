"""What `validate` asks of the release's kit, on the release of this session: installed from the
wheel alone and run as a student runs it (terminal mode, a student's environment), it fails every
task of the template with a message, without crashing, and passes the reference."""
from __future__ import annotations

import pytest

from grader.course import REFERENCE
from grader.environment.data import resolve_data_dir
from grader.options import default
from grader.release.kit_run import install_wheel, run_kit
from grader.validate import kit_on_reference, kit_on_template


@pytest.fixture(scope="module")
def site(release, tmp_path_factory):
    return install_wheel(release.wheel, tmp_path_factory.mktemp("kit") / "site")


def test_the_wheel_alone_installs_the_kit(site):
    assert (site / "edge_ai_w5_selfcheck" / "exam.json").is_file()
    assert not (site / "grader").exists() and not list(site.glob("numpy*"))


@pytest.mark.slow
def test_the_kit_fails_every_task_of_the_released_template_with_a_message(release, site, tmp_path):
    run = run_kit(release.notebook, site, tmp_path / "run", resolve_data_dir(None),
                  default("cell_timeout"))
    finding = kit_on_template(run)
    assert finding.ok, (finding.detail, run.text)


@pytest.mark.slow
def test_the_kit_passes_the_reference(site, tmp_path):
    run = run_kit(REFERENCE, site, tmp_path / "run", resolve_data_dir(None), default("cell_timeout"))
    finding = kit_on_reference(run)
    assert finding.ok, (finding.detail, run.text)
