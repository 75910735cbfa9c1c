"""Task 4 probes: `EdgeAiClient.load_payload` and `extra_test` with mock algorithm, trainer and
test set; calls on the mocks reported as tokens."""
from .plain import MAX_ITEMS, plain_number, short_repr, student, type_name
from .table import probe


class _Tokens:
    """Names the objects a probe handed to student code, so calls can be reported as tokens."""

    def __init__(self, **known):
        self.known = {id(obj): name for name, obj in known.items()}
        self.objects = list(known.values())  # keep them alive: ids stay unique

    def __call__(self, value):
        name = self.known.get(id(value))
        if name is not None:
            return {"ref": name}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"value": value}
        from unittest import mock

        if isinstance(value, mock.NonCallableMock):
            return {"mock": _mock_name(value)}
        number = plain_number(value)
        if isinstance(number, float):
            return {"value": number, "type": type_name(value)}
        return {"type": type_name(value), "repr": short_repr(value)}

    def calls(self, recorded):
        return [{"name": str(name), "args": [self(arg) for arg in args],
                 "kwargs": sorted(str(key) for key in kwargs)}
                for name, args, kwargs in list(recorded)[:MAX_ITEMS]]


def _mock_name(value):
    text = short_repr(value)  # <MagicMock name='trainer.current_round' id='...'>
    start = text.find("name='")
    if start < 0:
        return "mock"
    return text[start + 6:text.find("'", start + 6)]


def _new_client(cls):
    from unittest import mock

    client = cls()
    algorithm = mock.MagicMock(name="algorithm")
    trainer = mock.MagicMock(name="trainer")
    testset = mock.MagicMock(name="test set")
    client.algorithm, client.trainer, client.testset = algorithm, trainer, testset
    return client, algorithm, trainer, testset


@probe
def load_payload(ns, current_round):
    """EdgeAiClient().load_payload({"weights": W, "current_round": R}) with mock algorithm and
    trainer; report what the trainer's current_round became and every call on both mocks."""
    from unittest import mock

    client, algorithm, trainer, testset = _new_client(student(ns, "EdgeAiClient"))
    weights = mock.MagicMock(name="model weights")
    payload = {"weights": weights, "current_round": current_round}
    tokens = _Tokens(weights=weights, payload=payload, algorithm=algorithm, trainer=trainer,
                     testset=testset)
    returned = client.load_payload(payload)
    attributes = vars(trainer)  # a plain value set on a MagicMock lands in its __dict__
    return {
        "trainer_current_round": (tokens(attributes["current_round"])
                                  if "current_round" in attributes else None),
        "client_current_round": tokens(vars(client).get("current_round")),
        "algorithm_calls": tokens.calls(algorithm.method_calls),
        "trainer_calls": tokens.calls(trainer.method_calls),
        "returned": tokens(returned),
    }


@probe
def load_payloads(ns, rounds):
    """One EdgeAiClient receives a payload per round in `rounds`, in order, as a client selected
    for several rounds does; after each: what the trainer's current_round became, and the calls
    on both mocks since the previous payload. Tokens name this payload's objects `weights` and
    `payload`, the previous payload's `earlier_weights` and `earlier_payload`."""
    from unittest import mock

    client, algorithm, trainer, testset = _new_client(student(ns, "EdgeAiClient"))
    steps, earlier = [], {}
    for current_round in rounds:
        weights = mock.MagicMock(name=f"model weights of round {current_round}")
        payload = {"weights": weights, "current_round": current_round}
        tokens = _Tokens(weights=weights, payload=payload, algorithm=algorithm, trainer=trainer,
                         testset=testset, **earlier)
        seen_algorithm, seen_trainer = len(algorithm.method_calls), len(trainer.method_calls)
        returned = client.load_payload(payload)
        attributes = vars(trainer)
        steps.append({
            "trainer_current_round": (tokens(attributes["current_round"])
                                      if "current_round" in attributes else None),
            "algorithm_calls": tokens.calls(algorithm.method_calls[seen_algorithm:]),
            "trainer_calls": tokens.calls(trainer.method_calls[seen_trainer:]),
            "returned": tokens(returned),
        })
        earlier = {"earlier_weights": weights, "earlier_payload": payload}
    return {"steps": steps}


@probe
def extra_tests(ns, accuracies):
    """One EdgeAiClient's extra_test() called once per accuracy, the mock trainer's test()
    returning that accuracy each time (as every round's validation pass does)."""
    client, algorithm, trainer, testset = _new_client(student(ns, "EdgeAiClient"))
    tokens = _Tokens(testset=testset, algorithm=algorithm, trainer=trainer)
    steps = []
    for accuracy in accuracies:
        trainer.test.return_value = accuracy
        seen = len(trainer.method_calls)
        returned = client.extra_test()
        steps.append({"returned": tokens(returned),
                      "trainer_calls": tokens.calls(trainer.method_calls[seen:])})
    return {"steps": steps}


@probe
def extra_test(ns, accuracy):
    """EdgeAiClient().extra_test() with a mock trainer whose test() returns `accuracy`."""
    client, algorithm, trainer, testset = _new_client(student(ns, "EdgeAiClient"))
    trainer.test.return_value = accuracy
    tokens = _Tokens(testset=testset, algorithm=algorithm, trainer=trainer)
    returned = client.extra_test()
    return {
        "returned": tokens(returned),
        "trainer_calls": tokens.calls(trainer.method_calls),
        "algorithm_calls": tokens.calls(algorithm.method_calls),
    }
