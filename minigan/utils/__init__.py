"""``minigan.utils``: where PyTorch scripts find ``utils.data`` (datasets and the DataLoader).

``from minigan.utils.data import DataLoader, TensorDataset`` reads as in PyTorch. The package
sits in the data layer, above the engine: it batches tensors, it computes nothing.
"""
from . import data  # noqa: F401

__all__ = ["data"]
