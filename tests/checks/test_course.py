"""Tasks 2-4 checks (course stack: torchvision, Plato) against the reference and wrong answers.

One fork server for the module: the course imports are paid once, every check still gets its
own forked worker.
"""
import copy

import nbformat
import pytest

from grader.checks import RunnerOptions, open_host, run_checks
from grader.checks.runner import run_check
from grader.checks.task2 import PARTITION
from grader.checks.task3 import LR_SCHEDULE, scheduled_rate
from grader.checks.task4 import EXTRA_TEST, LOAD_PAYLOAD
from grader.environment.preload import FORK_PRELOAD
from grader.notebook.extract import Definitions
from grader.sandbox.hosts import ForkServerHost
from grader.sandbox.process import Limits

from tests.helpers import ROOT

NOTEBOOK = nbformat.read(ROOT / "reference" / "exercise.ipynb", 4)
REFERENCE = Definitions.from_notebook(NOTEBOOK)
OPTIONS = RunnerOptions(call_timeout=10.0, max_examples=12,
                        limits=Limits(cpu_seconds=600, file_size_bytes=64 * 1024 ** 2))


def variant(cell_id: str, old: str, new: str) -> Definitions:
    """The reference notebook with one piece of one cell's source replaced."""
    notebook = copy.deepcopy(NOTEBOOK)
    cell = next(c for c in notebook.cells if c.get("id") == cell_id)
    assert old in cell.source, f"{old!r} not in cell {cell_id}"
    cell.source = cell.source.replace(old, new)
    return Definitions.from_notebook(notebook)


@pytest.fixture(scope="module")
def course(run_dirs):
    with open_host(run_dirs, OPTIONS) as host:
        assert isinstance(host, ForkServerHost) and host.preload == FORK_PRELOAD
        yield run_dirs, host


@pytest.fixture(scope="module")
def grade(course):
    factory, host = course

    def grade(spec, student):
        return run_check(spec, student, REFERENCE, points=2.0, host=host,
                         run_dir_factory=factory, options=OPTIONS)

    return grade


def failed_properties(result) -> set[str]:
    return {p.name for p in result.properties if not p.passed}


def test_reference_passes_every_check_through_the_public_api(course):
    factory, host = course
    results = run_checks(REFERENCE, REFERENCE, run_dir_factory=factory, options=OPTIONS, host=host)
    assert [(r.id, r.status, r.score) for r in results] == [
        ("task1_seeded_choice", "passed", 3.0), ("task1_random_seed", "passed", 1.0),
        ("task2_partition", "passed", 2.0), ("task3_lr_schedule", "passed", 2.0),
        ("task4a_load_payload", "passed", 1.0), ("task4b_extra_test", "passed", 1.0)]
    assert [r.cell_id for r in results] == [
        "task1-parallel-seeded-choice", "task1-random-seed", "task2-partition", "task3-trainer",
        "task4-client", "task4-client"]
    only = run_checks(REFERENCE, REFERENCE, run_dir_factory=factory, options=OPTIONS, host=host,
                      only={"task4b_extra_test"})
    assert [r.id for r in only] == ["task4b_extra_test"]
    with pytest.raises(ValueError, match="unknown check ids"):
        run_checks(REFERENCE, REFERENCE, run_dir_factory=factory, only={"task9"})


# --- Task 2 -----------------------------------------------------------------------------------

HALF = "len(self.images) // 2)"
PARTITION_LINE = ("self.images, self.labels = parallel_seeded_choice([self.images, self.labels], "
                  "MY_RANDOM_SEED, len(self.images) // 2)")


@pytest.mark.parametrize("old, new, broken", [
    (PARTITION_LINE, "n = len(self.images) // 2\n            "
                     "self.images, self.labels = self.images[:n], self.labels[:n]",
     {"train_half_selected"}),
    ("MY_RANDOM_SEED, len", "19891217, len", {"train_half_selected"}),
    ("if train:", "if True:", {"test_set_whole"}),
    (HALF, "round(len(self.images) / 2))", {"train_half_selected"}),
    (PARTITION_LINE, PARTITION_LINE + "\n            self.labels = parallel_seeded_choice("
                     "[np.asarray(data[b'fine_labels'])], MY_RANDOM_SEED + 1, len(self.labels))[0]",
     {"images_labels_paired"}),
    ("image = np.transpose(image, (1, 2, 0))", "image = np.reshape(image, (32, 32, 3))",
     {"train_half_selected", "images_labels_paired", "test_set_whole",
      "items_are_normalized_tensors"}),
])
def test_partition_wrong_answers(grade, old, new, broken):
    result = grade(PARTITION, variant("task2-partition", old, new))
    assert failed_properties(result) == broken, result.feedback
    assert result.status == "failed" and "MY_RANDOM_SEED=" in result.counterexample.input


def test_partition_uses_the_reference_choice_so_a_task1_fault_is_not_charged_twice(grade):
    broken_task1 = variant("task1-parallel-seeded-choice", "rng = np.random.default_rng(seed)",
                           "raise RuntimeError('task 1 is broken')")
    assert grade(PARTITION, broken_task1).status == "passed"


def test_partition_feedback_names_the_kept_and_expected_positions(grade):
    result = grade(PARTITION, variant("task2-partition", "MY_RANDOM_SEED, len", "19891217, len"))
    assert "kept the images at positions [3 5 8 0 1]" in result.feedback
    assert "keeps [4 7 5 9 8]" in result.feedback


# --- Task 3 -----------------------------------------------------------------------------------

SCHEDULE = "self.current_learning_rate = initial_learning_rate / 10 ** ((self.current_round - 1) // 20)"


@pytest.mark.parametrize("new, broken", [
    ("self.current_learning_rate = 1 / 10**(int( (self.current_round - 1) / 20)) * initial_learning_rate",
     set()),
    ("self.current_learning_rate = initial_learning_rate * 0.1 ** ((self.current_round - 1) // 20)",
     set()),
    ("self.current_learning_rate = initial_learning_rate / 10 ** (self.current_round // 20)",
     {"rounds_1_to_20", "rounds_21_to_40"}),
    ("self.current_learning_rate = 0.01 / 10 ** ((self.current_round - 1) // 20)",
     {"rounds_1_to_20", "rounds_21_to_40", "rounds_41_to_50", "never_above_initial"}),
    ("self.current_learning_rate = initial_learning_rate / (10 if self.current_round > 20 else 1)",
     {"rounds_41_to_50"}),
    ("self.current_learning_rate = initial_learning_rate * 10 ** ((self.current_round - 1) // 20)",
     {"rounds_21_to_40", "rounds_41_to_50", "never_above_initial", "non_increasing"}),
    # Right for rounds 1, 2, ..., 50 on one trainer (the course's test), but keeps state between
    # calls: wrong for a fresh trainer at round 25, a skipped round 21, a repeated round.
    ("if self.current_learning_rate == 0:\n"
     "            self.current_learning_rate = initial_learning_rate\n"
     "        if self.current_round in (21, 41):\n"
     "            self.current_learning_rate = self.current_learning_rate / 10",
     {"depends_on_round_only"}),
    ("self.current_learning_rate = initial_learning_rate / (10 if self.current_round in (21, 41) else 1)\n"
     "        Config().trainer = Config().trainer._replace(learning_rate=self.current_learning_rate)",
     {"depends_on_round_only"}),
])
def test_learning_rate_schedules(grade, new, broken):
    result = grade(LR_SCHEDULE, variant("task3-trainer", SCHEDULE, new))
    assert failed_properties(result) == broken, result.feedback
    assert result.status == ("failed" if broken else "passed")


def test_off_by_one_feedback_names_round_20(grade):
    result = grade(LR_SCHEDULE, variant("task3-trainer", SCHEDULE,
                                        SCHEDULE.replace("(self.current_round - 1)", "self.current_round")))
    assert "In round 20 the learning rate was 0.01 with trainer.learning_rate = 0.1" in result.feedback
    assert result.counterexample.expected == "0.1 in round 20"


def test_stateful_schedule_feedback_names_the_fresh_trainer_at_round_25(grade):
    stateful = ("if self.current_learning_rate == 0:\n"
                "            self.current_learning_rate = initial_learning_rate\n"
                "        if self.current_round in (21, 41):\n"
                "            self.current_learning_rate /= 10")
    result = grade(LR_SCHEDULE, variant("task3-trainer", SCHEDULE, stateful))
    assert result.counterexample.input == ("with trainer.learning_rate = 0.1, calling "
                                           "set_learning_rate on a fresh trainer for round 25")
    assert result.counterexample.expected == "0.01 in round 25"
    assert result.counterexample.actual == "0.1 in round 25"
    assert "must depend only on the round and the initial rate" in result.feedback


def test_schedule_reference_values():
    assert [scheduled_rate(0.1, r) for r in (1, 20, 21, 40, 41, 50)] == \
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]


# --- Task 4 -----------------------------------------------------------------------------------

LOAD = 'self.algorithm.load_weights(server_payload["weights"])'
ROUND = 'self.trainer.current_round = server_payload["current_round"]'
TEST = "accuracy = self.trainer.test(self.testset)"


@pytest.mark.parametrize("old, new, broken", [
    (LOAD, 'self.algorithm.load_weights(weights=server_payload["weights"])',
     {"weights_only_argument"}),
    (ROUND, 'self.trainer.current_round = server_payload["round"]',
     {"current_round_stored", "load_weights_called_once", "weights_only_argument",
      "same_for_every_payload"}),
    (LOAD, "self.algorithm.load_weights(server_payload)", {"weights_only_argument"}),
    (ROUND, 'self.current_round = server_payload["current_round"]', {"current_round_stored"}),
    (ROUND, "self.trainer.current_round = 42", {"current_round_stored"}),
    (LOAD, LOAD + "\n        self.algorithm.extract_weights()", {"load_weights_called_once"}),
    (ROUND, 'weights, rnd = server_payload["weights"], server_payload["current_round"]\n'
            "        self.trainer.current_round = rnd", set()),
    # State kept between rounds: the course's single-payload test cannot see it.
    (LOAD, 'if not getattr(self, "weights_loaded", False):\n'
           '            self.algorithm.load_weights(server_payload["weights"])\n'
           "            self.weights_loaded = True", {"same_for_every_payload"}),
    (ROUND, 'self.first_round = getattr(self, "first_round", server_payload["current_round"])\n'
            "        self.trainer.current_round = self.first_round", {"same_for_every_payload"}),
])
def test_load_payload_answers(grade, old, new, broken):
    result = grade(LOAD_PAYLOAD, variant("task4-client", old, new))
    assert failed_properties(result) == broken, result.feedback
    assert result.status == ("failed" if broken else "passed")


def test_load_payload_feedback_for_round_stored_on_the_client(grade):
    result = grade(LOAD_PAYLOAD, variant("task4-client", ROUND,
                                         'self.current_round = server_payload["current_round"]'))
    assert "It was stored on the client (self.current_round)" in result.feedback


@pytest.mark.parametrize("new, broken", [
    ("accuracy = 21", {"returns_test_result", "test_called_once", "testset_only_argument"}),
    ("accuracy = self.trainer.test()", {"testset_only_argument"}),
    ("self.trainer.test(self.testset)", {"returns_test_result"}),
    ("accuracy = self.trainer.test(self.testset)\n        self.trainer.test(self.testset)",
     {"test_called_once"}),
    ("accuracy = self.trainer.test(testset=self.testset)", {"testset_only_argument"}),
    ("return self.trainer.test(self.testset)", set()),
    ('if getattr(self, "last_accuracy", None) is None:\n'
     "            self.last_accuracy = self.trainer.test(self.testset)\n"
     "        accuracy = self.last_accuracy", {"same_on_every_call"}),
])
def test_extra_test_answers(grade, new, broken):
    result = grade(EXTRA_TEST, variant("task4-client", TEST, new))
    assert failed_properties(result) == broken, result.feedback
    if broken:
        assert "0.4321" in result.counterexample.input


def test_stateful_client_feedback_says_what_the_later_call_did(grade):
    result = grade(LOAD_PAYLOAD, variant("task4-client", LOAD,
                                         'if not getattr(self, "weights_loaded", False):\n'
                                         '            self.algorithm.load_weights(server_payload["weights"])\n'
                                         "            self.weights_loaded = True"))
    assert result.counterexample.input == ("when one client receives payloads for rounds 3, 4, "
                                           "one after another")
    assert ("after the payload of round 4, self.trainer.current_round was 4 and it made no call "
            "on self.algorithm") in result.feedback
