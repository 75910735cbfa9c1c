"""The `fl_round` check: six parts, computed from the aggregator's record and the round's end.

1. `uploaded`          both clients uploaded exactly once in the round
2. `sample_count`      client A reported its partition's size (half the training set, Task 2)
3. `trained`           client A's upload differs from the global model it received
4. `aggregated`        the new global model is the sample-weighted mean of the uploads
5. `accuracy_before`   client A logged its test accuracy before training (Task 4b)
6. `learning_rate`     client A's optimizer used the rate of the round it was sent (Tasks 3, 4a)

A part that fails gets its own sentence. When the grader's side fails (the aggregator or the
reference client B), the check is an `error`: the submission is not to blame.
"""
from __future__ import annotations

import math

import numpy as np

from ..results.model import ERROR, FAILED, PASSED, CheckResult, SubProperty
from .record import pre_training_accuracy
from .round import (A_ERROR, A_ID, A_LEFT, AGGREGATOR_DIED, B_ID, B_LEFT, COMPLETED, DEADLINE,
                    NO_FEDERATED_CELL, SETUP_FAILED, RoundOutcome)
from .settings import COURSE_LEARNING_RATE, expected_learning_rate

CHECK_ID = "fl_round"
FULL_TRAIN_SIZE = 50_000
VALIDATION_PASS = "Do a validation pass before training"
SMALL_DATA_ERRORS = ("We should use 25000 training samples", "We should use all 10000 test samples")
"""The course's Task-2 cell asserts the full sizes: expected to fail on the CPU round's small data."""
TOLERANCE = 1e-5
NOT_CHECKED = "not checked:"
NO_UPLOAD = f"{NOT_CHECKED} your client did not upload a model"
PARTS = ("uploaded", "sample_count", "trained", "aggregated", "accuracy_before", "learning_rate")


def verdict(outcome: RoundOutcome, points: float, partial_credit: bool = True) -> CheckResult:
    record, r = outcome.record, outcome.start_round
    grader_fault = _grader_fault(outcome)
    a_uploads, b_uploads = record.uploads_of(A_ID), record.uploads_of(B_ID)
    a_upload = a_uploads[0] if a_uploads else None
    parts = [
        _uploaded(outcome, a_uploads, b_uploads),
        _sample_count(outcome, a_upload),
        _trained(outcome, a_upload),
        _aggregated(outcome),
        _accuracy_before(outcome),
        _learning_rate(outcome),
    ]
    held = sum(p.passed for p in parts)
    if grader_fault:
        status, score = ERROR, 0.0
        head = (f"The federated round could not grade your notebook: {grader_fault} This is a "
                "problem on the grader's side; please report it.")
    elif held == len(parts):
        status, score = PASSED, points
        head = " ".join([f"Your notebook took part in a real federated round {r} with the reference "
                         "client, trained on its half of the data and uploaded a model the server "
                         "averaged.", *(p.message for p in parts if p.message)])
    else:
        status = FAILED
        score = round(points * held / len(parts), 4) if partial_credit else 0.0
        head = (f"In a real federated round {r} against a local aggregator, {held} of {len(parts)} "
                f"parts held{_why_ended(outcome)}")
        failed = [p.message for p in parts if not p.passed and p.message
                  and not p.message.startswith(NOT_CHECKED)]
        evidence = [p.message for p in parts if p.passed and p.message and p.name in
                    ("accuracy_before", "learning_rate")]
        head = " ".join([head, *failed, *evidence])
    return CheckResult(CHECK_ID, status, score, points, feedback=head.strip(), properties=parts,
                       seconds=outcome.seconds)


# --- the round's end ----------------------------------------------------------------------


def _grader_fault(outcome: RoundOutcome) -> str:
    record = outcome.record
    if outcome.ended in (AGGREGATOR_DIED, B_LEFT, SETUP_FAILED):
        return f"{outcome.detail}."
    if outcome.ended == DEADLINE:
        if record.first("ready") is None:
            return f"the aggregator did not start within {outcome.settings.round_deadline:g} s."
        if A_ID in record.connected and B_ID not in record.connected:
            return "the reference client B never connected."
        started = record.first("round_started")
        if started is not None and record.uploads_of(A_ID) and not record.uploads_of(B_ID):
            return "the reference client B did not upload its model."
        if len(record.all("upload")) >= 2 and record.first("aggregated") is None:
            return "the aggregator received both uploads but did not aggregate them."
    return ""


def _why_ended(outcome: RoundOutcome) -> str:
    record, deadline = outcome.record, outcome.settings.round_deadline
    if outcome.ended == COMPLETED:
        return "."
    if outcome.ended == NO_FEDERATED_CELL:
        return f": {outcome.detail}."
    if outcome.ended == A_ERROR:
        return (f": your client raised {outcome.detail} while handling the server's model, and Plato "
                "then waits forever instead of failing, so the grader stopped the round.")
    if outcome.ended == A_LEFT:
        if any(e.get("client") == A_ID for e in record.all("disconnected")):
            return ": your client disconnected from the aggregator before it uploaded a model."
        return (f": your client left the round without uploading a model "
                f"({_a_cell_state(outcome)}).")
    if outcome.ended == DEADLINE:
        if A_ID not in record.connected:
            return f": the round's {deadline:g} s ran out ({_a_cell_state(outcome)})."
        if record.first("round_started") is None:
            return f": the round did not start within {deadline:g} s."
        return (f": your client received the global model but did not upload within {deadline:g} s "
                "(it stalled while testing or training).")
    return f" ({outcome.ended})."


def _a_cell_state(outcome: RoundOutcome) -> str:
    """Where client A's notebook was when it left or the time ran out (cells count from 1)."""
    execution, fl_index = outcome.execution, outcome.federated_cell
    if execution is None:
        return "your notebook did not run"
    fl = next((c for c in execution.cells if c.index == fl_index), None)
    running = next((c for c in execution.cells
                    if c.status == "timeout" and not c.error.startswith("not run")), None)
    small = outcome.train_size != FULL_TRAIN_SIZE
    errors = [c for c in execution.cells if c.status == "error" and c.index != fl_index
              and not (small and any(m in c.error for m in SMALL_DATA_ERRORS))]
    earlier = f"; earlier, cell {errors[-1].index + 1} raised {errors[-1].error}" if errors else ""
    if running is not None and running.index != fl_index:
        return f"cell {running.index + 1} was still running when the time ran out{earlier}"
    if fl is None or fl.status in ("not_run", "timeout") and fl.error.startswith("not run"):
        return f"the fl.train() cell was not reached{earlier}"
    if fl.status == "error":
        return f"the fl.train() cell raised {fl.error}{earlier}"
    if fl.status == "died":
        return "its kernel ended during fl.train()"
    return f"the fl.train() cell {fl.status}{': ' + fl.error if fl.error else ''}"


# --- the parts ----------------------------------------------------------------------------


def _uploaded(outcome, a_uploads, b_uploads) -> SubProperty:
    ok = len(a_uploads) == 1 and len(b_uploads) == 1
    if ok:
        return SubProperty("uploaded", True, "")
    if not a_uploads:
        message = ("Your client did not upload a model to the aggregator."
                   if A_ID in outcome.record.connected else
                   "Your client never connected to the aggregator, so it could not upload a model.")
    elif len(a_uploads) > 1:
        message = f"Your client uploaded {len(a_uploads)} times in one round (expected once)."
    else:
        message = f"The reference client uploaded {len(b_uploads)} times (expected once)."
    return SubProperty("uploaded", False, message)


def _sample_count(outcome, upload) -> SubProperty:
    if upload is None:
        return SubProperty("sample_count", False, NO_UPLOAD)
    found, expected = upload.get("num_samples"), outcome.expected_samples
    if found == expected:
        return SubProperty("sample_count", True, "")
    return SubProperty("sample_count", False,
                       f"Your client reported {found} training samples, but half of the round's "
                       f"{outcome.train_size} training images is {expected}: check that "
                       "CIFAR100Partition keeps half of the training set (Task 2).")


def _trained(outcome, upload) -> SubProperty:
    if upload is None:
        return SubProperty("trained", False, NO_UPLOAD)
    record = outcome.record
    started = record.first("round_started") or {}
    global_model, model = started.get("model") or {}, upload.get("model") or {}
    if model.get("layout_mismatch"):
        return SubProperty("trained", False,
                           "Your client uploaded a model whose parameters differ in names or shapes "
                           "from the course's resnet20(num_classes=100).")
    if upload.get("unreadable") or not model.get("digest"):
        return SubProperty("trained", False, "The aggregator could not read your client's upload.")
    if model.get("digest") != global_model.get("digest"):
        return SubProperty("trained", True, "")
    return SubProperty("trained", False,
                       "Your client uploaded exactly the weights it received: it did not train.")


def _aggregated(outcome) -> SubProperty:
    record = outcome.record
    done = record.first("aggregated")
    uploads = [record.uploads_of(A_ID), record.uploads_of(B_ID)]
    if not uploads[0]:
        return SubProperty("aggregated", False, NO_UPLOAD)
    if done is None or not uploads[1]:
        return SubProperty("aggregated", False, "The aggregator did not aggregate the uploads.")
    vectors = [record.vector(u[0].get("model")) for u in uploads]
    counts = [u[0].get("num_samples") for u in uploads]
    aggregate = record.vector(done.get("model"))
    if any(v is None for v in vectors) or aggregate is None or not all(isinstance(c, int) and c > 0
                                                                         for c in counts):
        return SubProperty("aggregated", False,
                           "The aggregate could not be compared with the uploads (a model or a sample "
                           "count is missing).")
    expected = sum(c * v for c, v in zip(counts, vectors)) / sum(counts)
    worst = float(np.max(np.abs(aggregate - expected))) if expected.size else 0.0
    if worst <= TOLERANCE:
        return SubProperty("aggregated", True, "")
    return SubProperty("aggregated", False,
                       f"The new global model is not the sample-weighted mean of the two uploads "
                       f"(largest difference {worst:.3g}).")


def _accuracy_before(outcome) -> SubProperty:
    found = pre_training_accuracy(outcome.a_output)
    left = any(e.get("client") == A_ID for e in outcome.record.all("disconnected"))
    if found is None and left and VALIDATION_PASS in outcome.a_output and not outcome.hook.optimizers:
        return SubProperty("accuracy_before", False,
                           "Your client disconnected right after its validation pass before "
                           "training: the notebook leaves the server when extra_test returns 0. "
                           "Does extra_test store trainer.test(self.testset) in `accuracy` "
                           "(Task 4b)?")
    if found is None:
        return SubProperty("accuracy_before", False,
                           "Your client did not log a test accuracy before training "
                           "(EdgeAiClient.train runs extra_test first, Task 4b).")
    if found == 0:
        return SubProperty("accuracy_before", False,
                           "Your client logged a test accuracy of 0.00% before training, so the "
                           "notebook disconnected from the server: does extra_test return "
                           "trainer.test(self.testset) (Task 4b)?")
    return SubProperty("accuracy_before", True,
                       f"Your client logged a test accuracy of {found:.2f}% before training.")


def _learning_rate(outcome) -> SubProperty:
    r = outcome.start_round
    expected = expected_learning_rate(r)
    sent = outcome.record.all("sent")
    since = min((e["t"] for e in sent if e.get("client") == A_ID), default=None)
    built = [o for o in outcome.hook.optimizers if since is None or o["t"] >= since]
    rates = [lr for o in built for lr in o["lrs"]]
    rule = (f"round {r} trains with {COURSE_LEARNING_RATE:g} / {10 ** ((r - 1) // 20):g} = "
            f"{expected:g}")
    if not rates:
        return SubProperty("learning_rate", False,
                           f"Your trainer never built an optimizer during the round (training did "
                           f"not start), so its learning rate could not be seen ({rule}).")
    if all(math.isclose(lr, expected, rel_tol=1e-6) for lr in rates):
        return SubProperty("learning_rate", True,
                           f"Your trainer used lr={rates[0]:g} in round {r}, as the schedule says.")
    shown = ", ".join(f"{lr:g}" for lr in dict.fromkeys(rates))
    return SubProperty("learning_rate", False,
                       f"Your trainer used lr={shown}, but {rule}: the trainer must get the round "
                       "from the server's payload (Task 4a) and lower the rate with it (Task 3).")
