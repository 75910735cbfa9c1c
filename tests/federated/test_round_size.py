"""`--fl-round-size full|small`: one setting chooses the round's data; full on CUDA, small on CPU.

The slow test runs the full-size code path on the CPU with the data cut to a few hundred images
(through `--data`, as an instructor would give real CIFAR-100), so on a GPU only the device differs.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.cli import _options, build_parser
from grader.environment.data import synthetic_dir
from grader.federated import fl_round_check, settings_from
from grader.federated.reaper import processes_with_marker
from grader.federated.round import REFERENCE, run_round
from grader.federated.settings import CPU_TEST_SIZE, CPU_TRAIN_SIZE, RoundSettings, RoundSize
from grader.pipeline import Options
from grader.results.model import PASSED

FULL = (50_000, 10_000)


@pytest.mark.parametrize("cuda, size, expected, sizes", [
    (True, "auto", RoundSize.FULL, FULL),
    (False, "auto", RoundSize.SMALL, (CPU_TRAIN_SIZE, CPU_TEST_SIZE)),
    (False, "full", RoundSize.FULL, FULL),
    (True, "small", RoundSize.SMALL, (CPU_TRAIN_SIZE, CPU_TEST_SIZE)),
])
def test_the_size_defaults_by_device_and_chooses_the_data(cuda, size, expected, sizes):
    settings = RoundSettings(cuda=cuda, size=size)
    assert settings.round_size is expected
    assert settings.synthetic_sizes() == sizes


def test_a_cut_overrides_either_size_and_a_wrong_size_is_refused():
    assert RoundSettings(cuda=False, size="full", train_size=400, test_size=200).synthetic_sizes() \
        == (400, 200)
    with pytest.raises(ValueError, match="--fl-round-size"):
        RoundSettings(size="huge")


def test_only_a_full_round_uses_the_instructors_data(tmp_path):
    for size, data_dir in (("full", tmp_path), ("small", None)):
        settings = settings_from(Options(fl_round="on", fl_round_size=size, data_dir=tmp_path))
        assert settings.round_size == size and settings.data_dir == data_dir


def test_a_small_round_reads_its_small_synthetic_set_whatever_the_environment_names(tmp_path,
                                                                                   monkeypatch):
    real = Path(synthetic_dir(40, 20, cache_dir=tmp_path))  # stands in for real files
    monkeypatch.setenv("GRADER_CIFAR100_DIR", str(real))
    small = RoundSettings(cuda=False, size="small").data_folder()
    assert small != real and small.name.endswith(f"{CPU_TRAIN_SIZE}x{CPU_TEST_SIZE}")
    assert RoundSettings(cuda=False, size="full").data_folder() == real.resolve()
    given = RoundSettings(cuda=False, size="small", data_dir=real)  # fl-round --data
    assert given.data_folder() == real.resolve()


def test_the_size_reaches_options_from_the_command_line_and_keys_the_gradebook():
    args = build_parser().parse_args(["grade", "x.ipynb", "--fl-round", "on", "--fl-round-size",
                                      "full"])
    assert _options(args).fl_round_size == "full"
    assert build_parser().parse_args(["fl-round", "x.ipynb"]).fl_round_size == "auto"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["grade", "x.ipynb", "--fl-round-size", "huge"])
    # a result graded with one size is not reused for the other; without rounds the size is moot
    assert Options(fl_round="on", fl_round_size="full").fingerprint() != \
        Options(fl_round="on", fl_round_size="small").fingerprint()
    assert Options(fl_round="off", fl_round_size="full").fingerprint() == \
        Options(fl_round="off", fl_round_size="small").fingerprint()


@pytest.mark.slow
def test_the_full_size_path_on_a_few_hundred_images_passes_the_reference(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_CIFAR100_DIR", raising=False)
    cut = synthetic_dir(400, 200, cache_dir=tmp_path)  # given as --data: the full path takes it
    options = Options(fl_round="on", fl_round_size="full", data_dir=Path(cut))
    outcomes = []

    def recording_run_round(nb, settings, **kwargs):
        assert settings.round_size is RoundSize.FULL and not settings.on_cuda
        outcome = run_round(nb, settings, **kwargs)
        outcomes.append(outcome)
        return outcome

    monkeypatch.setattr("grader.federated.run_round", recording_run_round)
    monkeypatch.setattr("grader.federated.settings.cuda_available", lambda: False)
    result = fl_round_check(nbformat.read(REFERENCE, as_version=4), options, deadline=600.0,
                            cuda=False)
    assert result.status == PASSED, result.feedback
    [outcome] = outcomes
    # both clients trained on their halves of the given 400 images (the small set: 64 each)
    assert (outcome.train_size, outcome.test_size) == (400, 200)
    assert [u["num_samples"] for u in outcome.record.all("upload")] == [200, 200]
    assert "lr=0.01 in round 25" in result.feedback
    assert processes_with_marker(outcome.marker) == []
