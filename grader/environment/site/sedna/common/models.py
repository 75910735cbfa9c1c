"""Hand models to Plato the way it expects them."""

from __future__ import annotations


def as_model_factory(model):
    """Plato 0.4.0 calls the `model` it is given (`self.model = self.custom_model()`).

    Sedna estimators hold a built model instance (`estimator.model = self.build()`), and calling a
    torch module would run its forward pass, so an instance is wrapped in a function returning it.
    Classes and other factories pass through unchanged; None stays None (Plato then builds the model
    named by `trainer.model_name`).
    """
    if model is None:
        return None
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - the course stack always has torch
        nn = None
    if isinstance(model, type) or (nn is not None and not isinstance(model, nn.Module) and callable(model)):
        return model
    return lambda: model
