"""``minigan.utils.data``: datasets, samplers and the DataLoader, as ``torch.utils.data``.

A *dataset* answers ``len(ds)`` and ``ds[i]``, one sample: a tensor, a tuple of them, a number,
a NumPy array, a dict ... A *sampler* gives the order of the indices, a *batch sampler* groups
them into batches, and ``default_collate`` stacks the samples of a batch into batched
tensors. The ``DataLoader`` strings the three together::

    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, drop_last=True)
    for xb, yb in loader:
        ...

Shuffling draws one permutation per pass from minigan's CPU generator, so
``minigan.manual_seed`` fixes the order and a checkpoint that stores
``backend.get_rng_state()`` resumes with the same batches; ``generator=`` takes a NumPy
``Generator`` (``np.random.default_rng(seed)``) for an order of its own.

A plain ``TensorDataset`` is gathered with one fancy-indexing call per batch rather than one
``__getitem__`` per sample: the same tensors ``default_collate`` would stack, without a Python
loop over examples (a subclass, or a ``collate_fn`` of your own, takes the general path).

Not here: worker processes (``num_workers``, ``pin_memory`` and the like are accepted and
loading happens in the main process), iterable-style datasets, and ``batch_size=None``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from .. import backend
from ..autograd import Tensor
from ..ops.shape import stack

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "BatchSampler", "DataLoader",
           "default_collate"]

np = backend.np


# ----------------------------------------------------------------------------------- datasets
class Dataset:
    """The base class of a dataset: a subclass defines ``__getitem__(i)`` (sample i, for
    0 <= i < len) and ``__len__()`` (how many samples there are)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), "
                                  "which returns one sample")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__(), the number "
                                  "of samples")


class TensorDataset(Dataset):
    """Tensors that share their first dimension; sample i is the tuple of their rows i
    (``TensorDataset(images, labels)[i]`` is ``(images[i], labels[i])``).

    NumPy arrays are accepted too; an index array gives the tuple of gathered rows at once,
    which is how the DataLoader batches a TensorDataset without a loop over samples.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = len(tensors[0])
        for t in tensors:
            if len(t) != n:
                raise ValueError(f"TensorDataset: tensors of different lengths "
                                 f"({[len(u) for u in tensors]})")
        self.tensors = tensors

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(_take(t, index) for t in self.tensors)


def _take(t, index):
    """Row(s) ``index`` of a Tensor (as a Tensor) or an array."""
    if isinstance(t, Tensor):
        xp = backend.xp_of(t.array)
        if not isinstance(index, (int, slice)):
            index = xp.asarray(index) if xp is not np else np.asarray(index)
        return Tensor(t.array[index])
    return t[index]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (what ``random_split`` returns)."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return [self.dataset[self.indices[i]] for i in idx]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into ``Subset``s of the given lengths, which either sum to
    ``len(dataset)`` or are fractions summing to 1 (then each gets floor(fraction · n) and the
    remainder is dealt out one by one from the first, as in PyTorch)."""
    lengths = list(lengths)
    n = len(dataset)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(isinstance(k, bool) or int(k) != k or k < 0 for k in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({n})")
    order = _rng(generator).permutation(n).tolist()
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, order[start:start + int(k)]))
        start += int(k)
    return out


# ----------------------------------------------------------------------------------- samplers
def _rng(generator):
    """The generator that shuffles: minigan's seeded CPU generator unless one is given."""
    if generator is None:
        return backend.generator("cpu")
    if not hasattr(generator, "permutation"):
        raise TypeError(f"generator must be a NumPy Generator (np.random.default_rng(seed)) or "
                        f"None for minigan's seeded generator, not {type(generator).__name__}")
    return generator


class Sampler:
    """The base class of samplers: ``__iter__`` yields dataset indices, ``__len__`` counts
    them."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len - 1: the order of an unshuffled DataLoader."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order on every pass (``shuffle=True``). Without replacement, each pass is
    a permutation (several, concatenated, when ``num_samples`` exceeds the dataset); with it,
    ``num_samples`` independent uniform draws. The draw happens when the pass starts."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        if num_samples is not None and (isinstance(num_samples, bool)
                                        or not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples!r}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, k = len(self.data_source), self.num_samples
        if n == 0:
            return
        gen = _rng(self.generator)
        if self.replacement:
            yield from gen.integers(0, n, size=k).tolist()
            return
        for _ in range(k // n):
            yield from gen.permutation(n).tolist()
        if k % n:
            yield from gen.permutation(n)[:k % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a fresh random order on every pass."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for i in _rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; ``drop_last`` drops a
    final shorter one (GAN training often wants every batch the same size)."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# ------------------------------------------------------------------------------------ collate
_COLLATE_TYPES = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or " \
                 "lists; found {}"


def _array_tensor(a):
    """A Tensor of an array: a GPU array stays where it is, a host array goes to the default
    device (minigan's one placement rule)."""
    if backend.xp_of(a) is not np:
        return Tensor(a)
    return Tensor(backend.as_array(a))


def default_collate(batch):
    """Turn a list of samples into one batch, as PyTorch's ``default_collate``.

    Tensors are stacked along a new first dimension; NumPy arrays and NumPy scalars become
    one stacked Tensor of their dtype; Python floats a float64 Tensor, ints an int64 one,
    bools a bool one (PyTorch's dtypes); strings stay as they are batched (a list, or a tuple
    inside a container). Containers are collated field by field: a dict gives a dict of
    batches, a namedtuple the same namedtuple, a tuple or list a list (so ``for x, y in
    loader`` unpacks it).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, (str, bytes)):        # NumPy's string scalars included
        return batch
    if isinstance(elem, (np.ndarray, np.generic)) or backend.xp_of(elem) is not np:
        if elem.dtype.kind in "OSUV":
            raise TypeError(_COLLATE_TYPES.format(elem.dtype))
        xp = backend.xp_of(elem)
        return _array_tensor(xp.stack([xp.asarray(b) for b in batch]))
    if isinstance(elem, bool):
        return _array_tensor(np.asarray(batch, dtype=bool))
    if isinstance(elem, float):
        return _array_tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _array_tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:                     # a mapping that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):          # a namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if len({len(b) for b in batch}) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(s) for s in zip(*batch)]
    raise TypeError(_COLLATE_TYPES.format(type(elem).__name__))


# --------------------------------------------------------------------------------- DataLoader
def _is_column(t):
    """A Tensor or an array (NumPy or CuPy) with a first dimension to index."""
    is_array = isinstance(t, (Tensor, np.ndarray)) or backend.xp_of(t) is not np
    return is_array and getattr(t, "ndim", 0) >= 1


class DataLoader:
    """Mini-batches of a dataset, with ``torch.utils.data.DataLoader``'s arguments.

    ``shuffle=True`` draws a new order every pass (from ``generator``, else minigan's seeded
    CPU generator); ``drop_last`` drops a final incomplete batch; ``sampler`` (indices) or
    ``batch_sampler`` (lists of indices) replace the built-in order; ``collate_fn`` replaces
    ``default_collate``. ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn``,
    ``multiprocessing_context``, ``prefetch_factor``, ``persistent_workers`` and
    ``pin_memory_device`` are accepted so ported scripts run; loading is in this process.

    minigan also takes a tuple of tensors (or arrays) of one length as the dataset, meaning
    ``TensorDataset(*tuple)``: ``DataLoader((x, y), batch_size=64)``. (PyTorch would see a
    dataset of two samples there; a list is a list of samples, as in PyTorch.)
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device=""):
        if isinstance(dataset, tuple) and dataset and all(_is_column(t) for t in dataset):
            dataset = TensorDataset(*dataset)
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; use num_workers=0 "
                             f"to disable multiprocessing, got {num_workers!r}")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            raise ValueError("DataLoader: batch_size=None (no automatic batching) is not "
                             "supported; use batch_size=1 and index the batch")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers, self.pin_memory_device = persistent_workers, pin_memory_device
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        # The one-call gather gives exactly default_collate's batch for an unmodified
        # TensorDataset; anything else goes sample by sample.
        self._gather_rows = (collate_fn is None and isinstance(dataset, TensorDataset)
                             and type(dataset).__getitem__ is TensorDataset.__getitem__)

    def __len__(self):
        return len(self.batch_sampler)

    def __iter__(self):
        dataset = self.dataset
        for indices in self.batch_sampler:
            if self._gather_rows:
                rows = dataset[np.asarray(indices, dtype=np.int64)]
                yield [r if isinstance(r, Tensor) else _array_tensor(r) for r in rows]
            elif hasattr(dataset, "__getitems__"):
                yield self.collate_fn(dataset.__getitems__(list(indices)))
            else:
                yield self.collate_fn([dataset[i] for i in indices])
