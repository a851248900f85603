"""minigan.utils.data: Dataset, TensorDataset, Subset, random_split, the samplers,
default_collate and the DataLoader, against PyTorch's semantics (and torch itself when it is
installed); minigan.data re-exports the same objects."""
import collections

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.utils import data as D
from minigan.utils.data import (BatchSampler, DataLoader, Dataset, RandomSampler,
                                SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                                default_collate, random_split)

from .conftest import to_np

Point = collections.namedtuple("Point", "x y")


class Squares(Dataset):
    """A map-style dataset answering one sample per index: (image, label, weight, name)."""

    def __init__(self, n=7):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        img = np.full((2, 3), i, dtype=np.float32)
        return img, i * i, float(i) / 2, f"s{i}"


def test_minigan_data_names_are_the_same_objects():
    import minigan.data
    assert minigan.data.DataLoader is DataLoader
    assert minigan.data.TensorDataset is TensorDataset
    assert minigan.utils.data is D                        # reachable as attributes too
    assert "DataLoader" in minigan.data.__all__


def test_dataset_base_class_says_what_to_define():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


def test_per_item_dataset_is_collated_field_by_field():
    batches = list(DataLoader(Squares(7), batch_size=3))
    assert len(batches) == 3
    img, label, weight, name = batches[0]
    assert isinstance(batches[0], list)                     # a tuple sample -> a list, as torch
    assert img.shape == (3, 2, 3) and img.dtype == np.float32
    np.testing.assert_array_equal(to_np(img)[:, 0, 0], [0, 1, 2])
    assert label.dtype == np.int64 and label.tolist() == [0, 1, 4]
    assert weight.dtype == np.float64 and weight.tolist() == [0.0, 0.5, 1.0]
    assert name == ("s0", "s1", "s2")                       # strings of a tuple: a tuple
    assert [len(b[3]) for b in batches] == [3, 3, 1]


def test_default_collate_types():
    t = [minigan.tensor([1.0, 2.0]), minigan.tensor([3.0, 4.0])]
    out = default_collate(t)
    assert out.shape == (2, 2) and out.dtype == np.float32
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    assert default_collate([np.arange(3), np.arange(3)]).dtype == np.int64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([0.5, 1]).dtype == np.float64
    d = default_collate([{"a": 1, "b": np.zeros(2)}, {"a": 2, "b": np.ones(2)}])
    assert set(d) == {"a", "b"} and d["a"].tolist() == [1, 2] and d["b"].shape == (2, 2)
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3] and p.y.dtype == np.float64
    nested = default_collate([[1, [2.0, 3]], [4, [5.0, 6]]])
    assert nested[0].tolist() == [1, 4] and nested[1][1].tolist() == [3, 6]
    assert default_collate([np.str_("a"), np.str_("b")]) == ["a", "b"]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([np.array([None]), np.array([None])])
    with pytest.raises(TypeError, match="found set"):
        default_collate([{1}, {2}])
    with pytest.raises(ValueError, match="same shape"):
        default_collate([minigan.zeros(2), minigan.zeros(3)])


def test_collated_arrays_go_to_the_default_device(device):
    """Host samples become tensors where minigan creates tensors: the default device."""
    with minigan.Device(device):
        out = default_collate([np.zeros(3, np.float32), np.ones(3, np.float32)])
        nums = default_collate([1.5, 2.5])
    assert out.device == device and nums.device == device
    x = minigan.arange(6, device=device).reshape(3, 2)
    (xb,) = next(iter(DataLoader(TensorDataset(x), batch_size=2)))
    assert xb.device == device


def test_tensor_dataset_gather_equals_item_by_item_collation(device):
    x = minigan.randn(11, 2, 3, device=device)
    y = minigan.arange(11, device=device)
    z = np.arange(11.0)                                      # arrays are accepted as well
    ds = TensorDataset(x, y, z)
    assert len(ds) == 11 and [v.shape for v in ds[4][:2]] == [(2, 3), ()]
    fast = DataLoader(ds, batch_size=4, shuffle=True)
    slow = DataLoader(ds, batch_size=4, shuffle=True, collate_fn=default_collate)
    assert fast._gather_rows and not slow._gather_rows
    minigan.manual_seed(3)
    a = list(fast)
    minigan.manual_seed(3)
    b = list(slow)
    assert len(a) == len(b) == 3
    for ba, bb in zip(a, b):
        assert isinstance(ba, list) and isinstance(bb, list)
        for u, v in zip(ba, bb):
            assert isinstance(u, minigan.Tensor) and u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_array_equal(to_np(u), to_np(v))


def test_a_subclassed_tensor_dataset_is_asked_per_item():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            (x,) = super().__getitem__(i)
            return x * 2

    loader = DataLoader(Doubled(minigan.arange(5)), batch_size=5)
    assert not loader._gather_rows
    assert next(iter(loader)).tolist() == [0, 2, 4, 6, 8]


def test_shuffle_is_minigans_cpu_permutation_per_pass():
    """The order existing callers rely on: one permutation of the CPU generator per pass."""
    x = minigan.arange(20)
    minigan.manual_seed(11)
    got = [to_np(b[0]) for b in DataLoader((x,), batch_size=6, shuffle=True)]
    minigan.manual_seed(11)
    want = backend.generator("cpu").permutation(20)
    np.testing.assert_array_equal(np.concatenate(got), want)
    assert [len(g) for g in got] == [6, 6, 6, 2]


def test_shuffle_with_a_numpy_generator_leaves_minigans_stream_alone():
    x = minigan.arange(30)
    minigan.manual_seed(0)
    before = backend.get_rng_state()
    e1 = next(iter(DataLoader((x,), batch_size=30, shuffle=True,
                              generator=np.random.default_rng(5))))[0]
    assert backend.get_rng_state() == before
    e2 = next(iter(DataLoader((x,), batch_size=30, shuffle=True,
                              generator=np.random.default_rng(5))))[0]
    np.testing.assert_array_equal(to_np(e1), to_np(e2))
    np.testing.assert_array_equal(to_np(e1), np.random.default_rng(5).permutation(30))
    with pytest.raises(TypeError, match="NumPy Generator"):
        list(DataLoader((x,), shuffle=True, generator=42))


def test_len_drop_last_and_batch_sampler():
    ds = Squares(10)
    assert len(DataLoader(ds, batch_size=4)) == 3
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [len(b[1]) for b in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    bs = BatchSampler(SequentialSampler(ds), 3, False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(bs) == 4
    loader = DataLoader(ds, batch_sampler=[[9, 0], [5]])
    assert [b[1].tolist() for b in loader] == [[81, 0], [25]]
    loader = DataLoader(ds, sampler=[3, 1, 2], batch_size=2)
    assert [b[1].tolist() for b in loader] == [[9, 1], [4]] and len(loader) == 2


def test_loader_option_errors():
    ds = Squares(4)
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="batch_size=None"):
        DataLoader(ds, batch_size=None)
    loader = DataLoader(ds, batch_size=2, num_workers=4, pin_memory=True, persistent_workers=True)
    assert len(list(loader)) == 2                       # accepted; loads in this process


def test_list_is_a_list_of_samples_and_tuple_of_columns_is_a_tensor_dataset():
    samples = [(np.zeros(2), 0), (np.ones(2), 1), (np.ones(2) * 2, 2)]
    xb, yb = next(iter(DataLoader(samples, batch_size=3)))
    assert xb.shape == (3, 2) and yb.tolist() == [0, 1, 2]
    x, y = minigan.arange(6), np.arange(6) * 10
    loader = DataLoader((x, y), batch_size=4)
    assert isinstance(loader.dataset, TensorDataset)
    assert [b[1].tolist() for b in loader] == [[0, 10, 20, 30], [40, 50]]


def test_samplers():
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == ds
    minigan.manual_seed(1)
    r = list(RandomSampler(ds))
    assert sorted(r) == ds and r != ds
    gen = np.random.default_rng(2)
    r = list(RandomSampler(ds, num_samples=25, generator=gen))
    assert len(r) == 25 and sorted(r[:10]) == ds and sorted(r[10:20]) == ds
    r = list(RandomSampler(ds, replacement=True, num_samples=50, generator=gen))
    assert len(r) == 50 and set(r) <= set(ds) and len(set(r)) < 10 + 1
    s = list(SubsetRandomSampler([3, 5, 7], generator=gen))
    assert sorted(s) == [3, 5, 7]
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(ds, num_samples=0)


def test_random_split_lengths_and_fractions():
    ds = Squares(10)
    minigan.manual_seed(4)
    a, b = random_split(ds, [7, 3])
    assert isinstance(a, Subset) and (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    assert a[0][1] == a.indices[0] ** 2                   # a Subset reads through its indices
    minigan.manual_seed(4)
    assert random_split(ds, [7, 3])[0].indices == a.indices
    parts = random_split(ds, [0.5, 0.25, 0.25], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [6, 2, 2]   # floors 5, 2, 2; the remainder goes first
    parts = random_split(Squares(11), [1 / 3, 1 / 3, 1 / 3])
    assert [len(p) for p in parts] == [4, 4, 3]
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="non-negative integers"):
        random_split(ds, [12, -2])
    loader = DataLoader(a, batch_size=7)
    assert sorted(next(iter(loader))[1].tolist()) == sorted(i * i for i in a.indices)


# -------------------------------------------------------------------------------- PyTorch
def _as_np(v):
    return v.numpy() if hasattr(v, "numpy") else np.asarray(v)


def _same(ours, theirs):
    """The same nested structure, dtypes and values (minigan Tensor vs torch.Tensor)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs)
        for k in theirs:
            _same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)) and not hasattr(theirs, "numpy"):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for u, v in zip(ours, theirs):
            _same(u, v)
    elif hasattr(theirs, "numpy"):
        assert isinstance(ours, minigan.Tensor)
        a, b = to_np(ours), theirs.numpy()
        assert ours.shape == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(a, b)
    else:
        assert ours == theirs


def test_collate_and_loader_match_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import default_collate as torch_collate
    batches = [
        [np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)],
        [np.int32(3), np.int32(4)], [1, 2], [0.5, 1.5], [True, False], ["a", "b"],
        [(np.arange(3), 1, "x"), (np.arange(3) + 1, 2, "y")],
        [{"img": np.eye(2), "label": 3}, {"img": np.eye(2) * 2, "label": 4}],
        [Point(1, 2.0), Point(3, 4.0)],
    ]
    for batch in batches:
        _same(default_collate(batch), torch_collate(batch))

    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.arange(4.0) + i, "y": i, "tag": f"r{i}"}
    for kw in ({"batch_size": 2}, {"batch_size": 2, "drop_last": True}, {"batch_size": 5}):
        ours = list(DataLoader(Rows(), **kw))
        theirs = list(TorchLoader(Rows(), **kw))
        assert len(ours) == len(theirs) == len(DataLoader(Rows(), **kw))
        for u, v in zip(ours, theirs):
            _same(u, v)
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ours = list(DataLoader(TensorDataset(minigan.tensor(x), minigan.tensor(y)), batch_size=4))
    theirs = list(TorchLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                              batch_size=4))
    for u, v in zip(ours, theirs):
        _same(u, v)
    fractions = [0.5, 0.3, 0.2]
    assert [len(p) for p in random_split(Squares(7), fractions)] == \
        [len(p) for p in torch.utils.data.random_split(range(7), fractions)]
