"""Task 4: `EdgeAiClient.load_payload` (4a) and `EdgeAiClient.extra_test` (4b).

As in the course's own test, the worker gives the student's client mock `algorithm`, `trainer`
and `testset` objects, calls the method, and reports what happened as plain data: the value the
trainer's `current_round` got, and every call on the mocks (method name, arguments as tokens such
as {"ref": "weights"}, keyword names). The round numbers and accuracies vary, so an answer that
hard-codes the course test's 42 or 21 does not pass.

A real client is selected round after round: the same client object gets a payload and runs a
validation pass every time. `same_for_every_payload` and `same_on_every_call` drive one client
through several rounds and require each later call to behave as the first did (relative to its
own payload or accuracy), so an answer that keeps state between rounds (loads the weights once,
remembers the first round, caches the accuracy) fails those, and only those.
"""
from __future__ import annotations

from typing import Any

from grader.checks import feedback
from grader.checks.cases import ClientRounds
from grader.checks.spec import CheckContext, CheckSpec, Failure, Observation, Property
from grader.checks.strategies import accuracies, accuracy_rounds, payload_rounds, rounds

PRELOAD = ("edge_ai_w5_sedna_configuration",)


def token(value: Any) -> str:
    """A call argument or value as students would read it."""
    if value is None:
        return "nothing"
    if "ref" in value:
        return {"weights": 'payload["weights"]', "payload": "the whole payload dict",
                "earlier_weights": 'the previous payload\'s ["weights"]',
                "earlier_payload": "the previous payload dict",
                "testset": "self.testset", "algorithm": "self.algorithm",
                "trainer": "self.trainer"}.get(value["ref"], value["ref"])
    if "value" in value:
        return repr(value["value"])
    if "mock" in value:
        return f"a mock ({value['mock']})"
    return f"a {value.get('type', '?')} ({value.get('repr', '')})"


def call_text(call: dict) -> str:
    args = [token(a) for a in call["args"]] + [f"{k}=..." for k in call["kwargs"]]
    return f"{call['name']}({', '.join(args)})"


def calls_text(calls: list[dict]) -> str:
    return ", ".join(call_text(c) for c in calls) if calls else "no calls"


def _observe(context: CheckContext, case: Any) -> Observation:
    """One call's reply, or (for ClientRounds) each step of one client's calls."""
    reply = context.probe(case)
    if reply.error is not None:
        return Observation(error=reply.error)
    if isinstance(case, ClientRounds):
        return Observation(actual=reply.value["steps"], expected=case.values)
    return Observation(actual=reply.value, expected=case)


def _as_if(value: Any, first: Any, own: Any) -> Any:
    """What a step that behaved like the first would show for input `own`: `value` (seen with
    input `first`) with every token holding the first input replaced by `own`."""
    if isinstance(value, dict) and "value" in value and value["value"] == first \
            and type(value["value"]) is type(first):
        return {**value, "value": own}
    if isinstance(value, list):
        return [_as_if(item, first, own) for item in value]
    if isinstance(value, dict):
        return {key: _as_if(item, first, own) for key, item in value.items()}
    return value


def _first_unlike_the_first(obs: Observation) -> int | None:
    """The first later step that did not treat its input as the first step treated its own."""
    steps, inputs = obs.actual, obs.expected
    return next((index for index in range(1, len(steps))
                 if steps[index] != _as_if(steps[0], inputs[0], inputs[index])), None)


# --- 4a: load_payload -------------------------------------------------------------------------

LOAD_TITLE = "EdgeAiClient.load_payload"


def _request_payload(context: CheckContext, case: int | ClientRounds) -> tuple[str, dict]:
    if isinstance(case, ClientRounds):
        return "load_payloads", {"rounds": list(case.values)}
    return "load_payload", {"current_round": case}


def describe_payload(case: int | ClientRounds) -> str:
    if isinstance(case, ClientRounds):
        return ("when one client receives payloads for rounds "
                f"{', '.join(map(str, case.values))}, one after another")
    return f'with the payload {{"weights": <weights>, "current_round": {case}}}'


def _payload_step(step: dict) -> str:
    stored = step["trainer_current_round"]
    found = "was not set" if stored is None else f"was {token(stored)}"
    calls = step["algorithm_calls"]
    made = f"it called {calls_text(calls)} on self.algorithm" if calls \
        else "it made no call on self.algorithm"
    return f"self.trainer.current_round {found} and {made}"


def same_for_every_payload(case: ClientRounds, obs: Observation) -> Failure | None:
    index = _first_unlike_the_first(obs)
    if index is None:
        return None
    steps, rounds_ = obs.actual, obs.expected
    return Failure(
        f"{LOAD_TITLE} handled the {feedback.ordinal(index)} payload differently from the "
        f"first {describe_payload(case)}, as a client selected for several rounds does: after "
        f"the payload of round {rounds_[0]}, {_payload_step(steps[0])}; after "
        f"the payload of round {rounds_[index]}, {_payload_step(steps[index])}"
        ". Every payload must be loaded the same way: keep nothing from earlier rounds.",
        expected=f"after round {rounds_[index]}: as after the first payload",
        actual=f"after round {rounds_[index]}: {_payload_step(steps[index])}")


def _is_value(found: Any, want: Any) -> bool:
    return (isinstance(found, dict) and "value" in found and type(found["value"]) is type(want)
            and found["value"] == want)


def current_round_stored(current_round: int, obs: Observation) -> Failure | None:
    stored = obs.actual["trainer_current_round"]
    if _is_value(stored, current_round):
        return None
    hint = ""
    if _is_value(obs.actual["client_current_round"], current_round):
        hint = (" It was stored on the client (self.current_round); the trainer needs it in "
                "self.trainer.current_round to pick the learning rate.")
    found = "was not set" if stored is None else f"was set to {token(stored)}"
    return Failure(f"After {LOAD_TITLE} {describe_payload(current_round)}, "
                   f"self.trainer.current_round {found}; it should be {current_round}.{hint}",
                   expected=f"self.trainer.current_round == {current_round}",
                   actual=f"self.trainer.current_round {found}")


def load_weights_called_once(current_round: int, obs: Observation) -> Failure | None:
    calls = obs.actual["algorithm_calls"]
    if len(calls) == 1 and calls[0]["name"] == "load_weights":
        return None
    return Failure(f"{LOAD_TITLE} {describe_payload(current_round)} made "
                   f"{feedback.plural(len(calls), 'call')} on self.algorithm "
                   f"({calls_text(calls)}); it should call self.algorithm.load_weights exactly "
                   "once and nothing else.",
                   expected="load_weights(...) once", actual=calls_text(calls))


def weights_only_argument(current_round: int, obs: Observation) -> Failure | None:
    calls = [c for c in obs.actual["algorithm_calls"] if c["name"] == "load_weights"]
    right = [c for c in calls if c["args"] == [{"ref": "weights"}] and not c["kwargs"]]
    if calls and len(right) == len(calls):
        return None
    shown = calls_text(calls) if calls else "load_weights was not called"
    return Failure(f"{LOAD_TITLE} {describe_payload(current_round)} called {shown}; it should "
                   'pass the weights, payload["weights"], as the only positional argument '
                   "(no keyword arguments).",
                   expected='load_weights(payload["weights"])', actual=shown)


LOAD_PAYLOAD = CheckSpec(
    id="task4a_load_payload",
    title=LOAD_TITLE,
    needs=("EdgeAiClient",),
    preload=PRELOAD,
    request=_request_payload,
    observe=_observe,
    describe=describe_payload,
    max_examples=15,
    properties=(
        Property("current_round_stored", current_round_stored, strategy=rounds, examples=(7, 42)),
        Property("load_weights_called_once", load_weights_called_once, strategy=rounds,
                 examples=(7,)),
        Property("weights_only_argument", weights_only_argument, strategy=rounds, examples=(7,)),
        Property("same_for_every_payload", same_for_every_payload, strategy=payload_rounds,
                 examples=(ClientRounds((3, 4)), ClientRounds((25, 1, 42)))),
    ),
)


# --- 4b: extra_test ---------------------------------------------------------------------------

TEST_TITLE = "EdgeAiClient.extra_test"


def _request_accuracy(context: CheckContext, case: float | ClientRounds) -> tuple[str, dict]:
    if isinstance(case, ClientRounds):
        return "extra_tests", {"accuracies": list(case.values)}
    return "extra_test", {"accuracy": case}


def describe_accuracy(case: float | ClientRounds) -> str:
    if isinstance(case, ClientRounds):
        return ("when one client's extra_test runs once per round and self.trainer.test(...) "
                f"returns {', then '.join(map(repr, case.values))}")
    return f"when self.trainer.test(...) returns {case!r}"


def _test_step(step: dict) -> str:
    calls = step["trainer_calls"]
    made = f"calling {calls_text(calls)} on self.trainer" if calls \
        else "without calling self.trainer"
    return f"it returned {token(step['returned'])}, {made}"


def same_on_every_call(case: ClientRounds, obs: Observation) -> Failure | None:
    index = _first_unlike_the_first(obs)
    if index is None:
        return None
    steps, accuracies_ = obs.actual, obs.expected
    return Failure(
        f"{TEST_TITLE} behaved differently on its {feedback.ordinal(index)} call than on the "
        f"first {describe_accuracy(case)}: the first time {_test_step(steps[0])}; the "
        f"{feedback.ordinal(index)} time {_test_step(steps[index])}. A client validates "
        "before every round it is selected for: test the model each time, keep nothing "
        "from earlier calls.",
        expected=f"as on the first call, for accuracy {accuracies_[index]!r}",
        actual=_test_step(steps[index]))


def returns_test_result(accuracy: float, obs: Observation) -> Failure | None:
    returned = obs.actual["returned"]
    value = returned.get("value") if isinstance(returned, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == accuracy:
        return None
    return Failure(f"{TEST_TITLE} returned {token(returned)} {describe_accuracy(accuracy)}; it "
                   "should return what self.trainer.test(self.testset) returns.",
                   expected=repr(accuracy), actual=token(returned))


def trainer_test_called_once(accuracy: float, obs: Observation) -> Failure | None:
    calls = obs.actual["trainer_calls"]
    if len(calls) == 1 and calls[0]["name"] == "test":
        return None
    return Failure(f"{TEST_TITLE} made {feedback.plural(len(calls), 'call')} on self.trainer "
                   f"({calls_text(calls)}) {describe_accuracy(accuracy)}; it should call "
                   "self.trainer.test exactly once and nothing else.",
                   expected="test(self.testset) once", actual=calls_text(calls))


def testset_only_argument(accuracy: float, obs: Observation) -> Failure | None:
    calls = [c for c in obs.actual["trainer_calls"] if c["name"] == "test"]
    right = [c for c in calls if c["args"] == [{"ref": "testset"}] and not c["kwargs"]]
    if calls and len(right) == len(calls):
        return None
    shown = calls_text(calls) if calls else "test was not called"
    return Failure(f"{TEST_TITLE} called {shown} {describe_accuracy(accuracy)}; it should pass "
                   "self.testset as the only argument.",
                   expected="test(self.testset)", actual=shown)


EXTRA_TEST = CheckSpec(
    id="task4b_extra_test",
    title=TEST_TITLE,
    needs=("EdgeAiClient",),
    preload=PRELOAD,
    request=_request_accuracy,
    observe=_observe,
    describe=describe_accuracy,
    max_examples=15,
    properties=(
        Property("returns_test_result", returns_test_result, strategy=accuracies,
                 examples=(0.4321, 0.875)),
        Property("test_called_once", trainer_test_called_once, strategy=accuracies,
                 examples=(0.4321,)),
        Property("testset_only_argument", testset_only_argument, strategy=accuracies,
                 examples=(0.4321,)),
        Property("same_on_every_call", same_on_every_call, strategy=accuracy_rounds,
                 examples=(ClientRounds((0.4321, 0.875)),)),
    ),
)
