"""Task 3 probes: `EdgeAiTrainer`'s learning rate per round, on fresh trainers."""
from .plain import plain_number, student
from .table import probe


def _set_initial_learning_rate(learning_rate):
    from plato.config import Config

    config = Config()
    trainer = config.trainer._replace(learning_rate=learning_rate)
    Config.trainer = trainer  # Plato 0.4.0 sections are namedtuples on the class
    if "trainer" in vars(config):
        config.trainer = trainer


def _tiny_model():
    import torch

    return torch.nn.Linear(2, 2)


def _rates_on_fresh_trainer(cls, learning_rate, rounds):
    """Set Plato's trainer.learning_rate, build EdgeAiTrainer(tiny model), and read
    current_learning_rate after set_learning_rate() for every round in `rounds`, in order."""
    _set_initial_learning_rate(learning_rate)
    try:
        trainer = cls(_tiny_model())
    except TypeError:
        trainer = cls()
    rates = []
    for round_number in rounds:
        trainer.current_round = round_number
        trainer.set_learning_rate()
        rates.append(plain_number(getattr(trainer, "current_learning_rate", None)))
    return rates


@probe
def lr_schedule(ns, learning_rate, rounds):
    """The rates of one fresh trainer called for `rounds` in order (the course's own test)."""
    return {"rates": _rates_on_fresh_trainer(student(ns, "EdgeAiTrainer"), learning_rate, rounds)}


@probe
def lr_patterns(ns, learning_rate, trainers, rounds):
    """The rates of a fresh trainer per entry of `trainers` (its rounds, in the order a federation
    may send them: starting late, skipping, repeating), then of one more fresh trainer called for
    `rounds` in order, for comparison: {"patterns": [[rate, ...], ...], "ordered": [rate, ...]}."""
    cls = student(ns, "EdgeAiTrainer")
    patterns = [_rates_on_fresh_trainer(cls, learning_rate, calls) for calls in trainers]
    return {"patterns": patterns, "ordered": _rates_on_fresh_trainer(cls, learning_rate, rounds)}
