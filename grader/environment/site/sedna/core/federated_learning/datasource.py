"""Wrap a notebook's own datasets as a Plato data source."""

from __future__ import annotations


def customized_datasource(data):
    """A Plato `DataSource` serving `data.trainset` / `data.testset`.

    The notebook's `CustomDataset` only carries the two datasets and `customized = True`; Plato's
    client also asks its data source for sizes (`num_train_examples()`) and the sets
    (`get_train_set()`), which Plato's base class provides once trainset/testset are filled in.
    """
    from plato.datasources.base import DataSource

    for name in ("trainset", "testset"):
        if not hasattr(data, name):
            raise AttributeError(
                f"a customized data object needs a `{name}` attribute; "
                f"{type(data).__name__} has none"
            )
    source = DataSource()
    source.trainset = data.trainset
    source.testset = data.testset
    return source
