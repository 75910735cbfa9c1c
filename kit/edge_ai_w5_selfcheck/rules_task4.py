"""Task 4: `EdgeAiClient.load_payload` (4a) and `extra_test` (4b), with mock algorithm, trainer
and test set as the course's own test does (unittest.mock); the client is the student's class,
built as the notebook builds it (it needs Plato). Nothing here is secret: the behaviour is the
one the exercise states."""
from __future__ import annotations

import sys
from typing import Any
from unittest import mock

from edge_ai_w5_selfcheck.observe import Raised, call, ordinal, plural, short_repr, type_name

LOAD_TITLE, TEST_TITLE = "EdgeAiClient.load_payload", "EdgeAiClient.extra_test"
REQUIRES = ("plato.clients.simple",)


class Tokens:
    def __init__(self, **known):
        self.known = {id(obj): name for name, obj in known.items()}
        self.objects = list(known.values())

    def __call__(self, value: Any):
        name = self.known.get(id(value))
        if name is not None:
            return ("ref", name)
        if value is None or isinstance(value, (bool, int, float, str)):
            return ("value", type(value).__name__, value)
        if isinstance(value, mock.NonCallableMock):
            return ("mock", short_repr(value).split("name='")[-1].split("'")[0])
        return ("other", type_name(value), short_repr(value))

    def calls(self, recorded):
        return [(str(name), tuple(self(a) for a in args), tuple(sorted(kwargs)))
                for name, args, kwargs in list(recorded)[:16]]


def text(token) -> str:
    if token is None:
        return "nothing"
    kind = token[0]
    if kind == "ref":
        return {"weights": 'payload["weights"]', "payload": "the payload",
                "testset": "self.testset", "trainer": "self.trainer",
                "algorithm": "self.algorithm"}.get(token[1], token[1])
    if kind == "value":
        return repr(token[2])
    if kind == "mock":
        return f"a mock ({token[1]})"
    return f"a {token[1]} ({token[2]})"


def calls_text(calls) -> str:
    if not calls:
        return "no call"
    return ", ".join(f"{name}({', '.join([text(a) for a in args] + [f'{k}=...' for k in kw])})"
                     for name, args, kw in calls)


def new_client(cls):
    client = cls()
    algorithm, trainer = mock.MagicMock(name="algorithm"), mock.MagicMock(name="trainer")
    testset = mock.MagicMock(name="test set")
    client.algorithm, client.trainer, client.testset = algorithm, trainer, testset
    return client, algorithm, trainer, testset


def _payload_steps(cls, rounds):
    client, algorithm, trainer, testset = new_client(cls)
    steps = []
    for number in rounds:
        weights = mock.MagicMock(name=f"model weights of round {number}")
        payload = {"weights": weights, "current_round": number}
        tokens = Tokens(weights=weights, payload=payload, algorithm=algorithm, trainer=trainer,
                        testset=testset)
        seen = len(algorithm.method_calls)
        returned = call(client.load_payload, payload)
        if isinstance(returned, Raised):
            return returned
        stored = vars(trainer).get("current_round", None)
        steps.append({"stored": tokens(stored) if "current_round" in vars(trainer) else None,
                      "client": tokens(vars(client).get("current_round")),
                      "calls": tokens.calls(algorithm.method_calls[seen:])})
    return steps


def _describe_payload(number) -> str:
    return f'with the payload {{"weights": <weights>, "current_round": {number}}}'


def load_payload(cls, case: dict):
    """The 4a properties on one input; returns {property: problem or None}."""
    if "rounds" in case:
        steps = _payload_steps(cls, case["rounds"])
        if isinstance(steps, Raised):
            return {"same_for_every_payload": (f"{LOAD_TITLE} raised {steps.text}.", steps.text,
                                               "")}
        first = steps[0]
        for index, (number, step) in enumerate(zip(case["rounds"][1:], steps[1:]), 1):
            want_round = (("value", "int", number) if first["stored"] == ("value", "int",
                                                                        case["rounds"][0])
                          else first["stored"])
            same = step["stored"] == want_round and len(step["calls"]) == len(first["calls"]) \
                and [c[0] for c in step["calls"]] == [c[0] for c in first["calls"]]
            if not same:
                return {"same_for_every_payload": (
                    f"{LOAD_TITLE} handled the {ordinal(index)} payload differently from the "
                    f"first when one client receives payloads for rounds "
                    f"{', '.join(map(str, case['rounds']))}, one after another: after round "
                    f"{number} self.trainer.current_round was {text(step['stored'])} and it called "
                    f"{calls_text(step['calls'])} on self.algorithm. Every payload must be loaded "
                    "the same way: keep nothing from earlier rounds.",
                    calls_text(step["calls"]), "as after the first payload")}
        return {"same_for_every_payload": None}
    number = case["round"]
    steps = _payload_steps(cls, [number])
    where = _describe_payload(number)
    if isinstance(steps, Raised):
        problem = (f"{LOAD_TITLE} raised {steps.text} {where}.", steps.text, "")
        return dict.fromkeys(("current_round_stored", "load_weights_called_once",
                              "weights_only_argument"), problem)
    step = steps[0]
    found = {}
    if step["stored"] == ("value", "int", number):
        found["current_round_stored"] = None
    else:
        hint = (" It was stored on the client (self.current_round); the trainer needs it in "
                "self.trainer.current_round." if step["client"] == ("value", "int", number) else "")
        was = "was not set" if step["stored"] is None else f"was set to {text(step['stored'])}"
        found["current_round_stored"] = (
            f"After {LOAD_TITLE} {where}, self.trainer.current_round {was}; it should be "
            f"{number}.{hint}", f"self.trainer.current_round {was}",
            f"self.trainer.current_round == {number}")
    calls = step["calls"]
    found["load_weights_called_once"] = None if len(calls) == 1 and calls[0][0] == \
        "load_weights" else (
        f"{LOAD_TITLE} {where} made {plural(len(calls), 'call')} on self.algorithm "
        f"({calls_text(calls)}); it should call self.algorithm.load_weights exactly once and "
        "nothing else.", calls_text(calls), "load_weights(...) once")
    loads = [c for c in calls if c[0] == "load_weights"]
    right = [c for c in loads if c[1] == (("ref", "weights"),) and not c[2]]
    found["weights_only_argument"] = None if loads and len(right) == len(loads) else (
        f"{LOAD_TITLE} {where} called {calls_text(loads) if loads else 'no load_weights'}; it "
        'should pass the weights, payload["weights"], as the only positional argument (no '
        "keyword arguments).", calls_text(loads), 'load_weights(payload["weights"])')
    return found


def _test_steps(cls, accuracies):
    client, algorithm, trainer, testset = new_client(cls)
    tokens = Tokens(testset=testset, algorithm=algorithm, trainer=trainer)
    steps = []
    for accuracy in accuracies:
        trainer.test.return_value = accuracy
        seen = len(trainer.method_calls)
        returned = call(client.extra_test)
        if isinstance(returned, Raised):
            return returned
        steps.append({"returned": returned, "calls": tokens.calls(trainer.method_calls[seen:])})
    return steps


def extra_test(cls, case: dict):
    """The 4b properties on one input; returns {property: problem or None}."""
    if "accuracies" in case:
        steps = _test_steps(cls, case["accuracies"])
        if isinstance(steps, Raised):
            return {"same_on_every_call": (f"{TEST_TITLE} raised {steps.text}.", steps.text, "")}
        first_ok = steps[0]["returned"] == case["accuracies"][0]
        for index, (accuracy, step) in enumerate(zip(case["accuracies"][1:], steps[1:]), 1):
            same = ((step["returned"] == accuracy) == first_ok
                    and step["calls"] == steps[0]["calls"])
            if not same:
                return {"same_on_every_call": (
                    f"{TEST_TITLE} behaved differently on its {ordinal(index)} call than on the "
                    f"first (the trainer's test returning {accuracy!r}): it returned "
                    f"{short_repr(step['returned'])}, calling {calls_text(step['calls'])} on "
                    "self.trainer. A client validates before every round it is selected for: "
                    "test the model each time, keep nothing from earlier calls.",
                    short_repr(step["returned"]), f"as on the first call, {accuracy!r}")}
        return {"same_on_every_call": None}
    accuracy = case["accuracy"]
    where = f"when self.trainer.test returns {accuracy!r}"
    steps = _test_steps(cls, [accuracy])
    if isinstance(steps, Raised):
        problem = (f"{TEST_TITLE} raised {steps.text} {where}.", steps.text, "")
        return dict.fromkeys(("returns_test_result", "test_called_once",
                              "testset_only_argument"), problem)
    step, found = steps[0], {}
    value = step["returned"]
    found["returns_test_result"] = None if isinstance(value, (int, float)) and not isinstance(
        value, bool) and value == accuracy else (
        f"{TEST_TITLE} returned {short_repr(value)} {where}; it should return what "
        "self.trainer.test(self.testset) returns.", short_repr(value), repr(accuracy))
    calls = step["calls"]
    found["test_called_once"] = None if len(calls) == 1 and calls[0][0] == "test" else (
        f"{TEST_TITLE} made {plural(len(calls), 'call')} on self.trainer ({calls_text(calls)}) "
        f"{where}; it should call self.trainer.test exactly once and nothing else.",
        calls_text(calls), "test(self.testset) once")
    tests = [c for c in calls if c[0] == "test"]
    right = [c for c in tests if c[1] == (("ref", "testset"),) and not c[2]]
    found["testset_only_argument"] = None if tests and len(right) == len(tests) else (
        f"{TEST_TITLE} called {calls_text(tests) if tests else 'no test'} {where}; it should pass "
        "self.testset as the only argument.", calls_text(tests), "test(self.testset)")
    return found


def missing_packages() -> list:
    import importlib.util

    return [name for name in REQUIRES
            if name not in sys.modules and importlib.util.find_spec(name.split(".")[0]) is None]
