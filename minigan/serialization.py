"""Safe files: checkpoints (``minigan.save(obj, path)``, ``minigan.load(path)``) and the
outputs of a run (``output_dir``, ``write_file``, ``save_json``, ``save_array``).

Why not pickle (what ``torch.save`` uses)? Unpickling runs code chosen by whoever wrote the
file. A checkpoint here is a plain ``.npz`` (a zip of ``.npy`` arrays) read with
``allow_pickle=False``, so loading a file can never execute anything from it.

The layout of a checkpoint file:

* one ``.npy`` entry per array (``a0``, ``a1``, ...), dtypes preserved exactly;
* ``__structure__``: the nested structure (dicts, lists, tuples, numbers, strings, None,
  bools) as JSON text stored in a ``uint8`` array, in which every array is a reference
  ``{"$array": "a3", ...}``;
* ``__minigan__``: a format marker and version, so a foreign ``.npz`` is recognised.

Writing is atomic: the file is written to a temporary file in the same directory, flushed
to disk (``fsync``) and then renamed over the target with ``os.replace``, which is atomic on
POSIX and Windows. A crash mid-write leaves the previous checkpoint intact; the temporary
file a killed process left behind is removed by the next write of the same file. Every
output of a run (figures, samples, summaries) is written the same way, so a symlink planted
at an output's name is replaced, never followed to a file outside the run's folder.

Loading has limits, because a checkpoint may come from anywhere: the decompressed size
(``MAX_BYTES``, and at most ``MAX_RATIO`` times the file's size), every array's claimed size
against the bytes it really has, and the nesting depth of the structure (``MAX_DEPTH``).

What can be saved: dicts (any keys that are str, int, float, bool, None or tuples of them),
lists, tuples, Tensors (and Parameters, with ``requires_grad``), NumPy/CuPy arrays, NumPy
scalars, Python numbers, strings, bools and None. That covers ``model.state_dict()``,
``optimizer.state_dict()``, ``backend.get_rng_state()`` and step counters.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict

from . import backend
from .autograd import Tensor

__all__ = ["save", "load", "CheckpointError", "FORMAT_VERSION", "output_dir", "write_file",
           "atomic_path", "save_json", "save_array", "MAX_BYTES", "MAX_RATIO", "MAX_DEPTH"]

np = backend.np

FORMAT = "minigan-checkpoint"
FORMAT_VERSION = 1
_STRUCT_KEY = "__structure__"
_MAGIC_KEY = "__minigan__"
MAX_BYTES = 8 << 30       # a checkpoint decompresses to at most 8 GiB ...
MAX_RATIO = 100           # ... and to at most 100 times its size on disk (save() never compresses)
MAX_DEPTH = 200           # brackets deep in the structure (a trainer's state needs ~30)


class CheckpointError(ValueError):
    """A file that is not a readable minigan checkpoint (truncated, foreign, or unsafe)."""


# ------------------------------------------------------------------------------- encoding
class _Encoder:
    def __init__(self):
        self.arrays = {}

    def _add_array(self, arr):
        key = f"a{len(self.arrays)}"
        self.arrays[key] = arr
        return key

    def key(self, k):
        if isinstance(k, (str, bool)) or k is None:
            return k
        if isinstance(k, int):
            return {"$int": k}
        if isinstance(k, float):
            return {"$float": repr(k)}
        if isinstance(k, tuple):
            return {"$tuple": [self.key(v) for v in k]}
        if isinstance(k, np.integer):
            return {"$int": int(k)}
        raise TypeError(f"minigan.save: cannot store a dict key of type {type(k).__name__}")

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            if math.isfinite(obj):
                return obj
            return {"$float": repr(obj)}        # inf / nan, which JSON cannot spell
        if isinstance(obj, Tensor):
            arr = backend.to_numpy(obj.array)
            self._check_array(arr, path)
            from .nn.module import Parameter   # lazily: serialization sits below nn
            return {"$array": self._add_array(np.array(arr, copy=True)),
                    "kind": "parameter" if isinstance(obj, Parameter) else "tensor",
                    "requires_grad": bool(obj.requires_grad), "device": str(obj.device)}
        if isinstance(obj, np.generic):
            arr = np.asarray(obj)
            self._check_array(arr, path)
            return {"$array": self._add_array(arr), "kind": "scalar"}
        if hasattr(obj, "__array_interface__") or hasattr(obj, "__cuda_array_interface__"):
            dev = str(backend.device_of(obj))
            arr = backend.to_numpy(obj)
            self._check_array(arr, path)
            return {"$array": self._add_array(np.array(arr, copy=True)), "kind": "ndarray",
                    "device": dev}
        if isinstance(obj, dict):
            node = {"$dict": [[self.key(k), self.encode(v, f"{path}[{k!r}]")]
                              for k, v in obj.items()]}
            if isinstance(obj, OrderedDict):
                node["ordered"] = True          # state_dict() returns an OrderedDict
            return node
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]
        raise TypeError(f"minigan.save: cannot store {type(obj).__name__} at {path} (only "
                        "dicts, lists, tuples, tensors, arrays, numbers, strings and None)")

    @staticmethod
    def _check_array(arr, path):
        if arr.dtype.hasobject or arr.dtype.kind == "V":
            raise TypeError(f"minigan.save: the array at {path} has dtype {arr.dtype}; object "
                            "arrays would need pickle, which checkpoints never use")


def _decode_key(k):
    if isinstance(k, dict):
        if "$int" in k:
            return int(k["$int"])
        if "$float" in k:
            return float(k["$float"])
        if "$tuple" in k:
            return tuple(_decode_key(v) for v in k["$tuple"])
        raise CheckpointError(f"bad dict key in checkpoint structure: {k!r}")
    return k


def _decode(obj, arrays, map_location):
    if isinstance(obj, list):
        return [_decode(v, arrays, map_location) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "$dict" in obj:
        kind = OrderedDict if obj.get("ordered") else dict
        return kind((_decode_key(k), _decode(v, arrays, map_location)) for k, v in obj["$dict"])
    if "$tuple" in obj:
        return tuple(_decode(v, arrays, map_location) for v in obj["$tuple"])
    if "$float" in obj:
        return float(obj["$float"])
    if "$array" in obj:
        name = obj["$array"]
        if name not in arrays:
            raise CheckpointError(f"checkpoint structure refers to a missing array {name!r}")
        arr = arrays[name]
        kind = obj.get("kind")
        if kind == "scalar":
            return arr[()]
        device = map_location if map_location is not None else obj.get("device", "cpu")
        if backend.Device(device).type != "cpu":
            arr = backend.as_array(arr, device=device)
        if kind == "ndarray":
            return arr
        if kind == "parameter":
            from .nn.module import Parameter
            return Parameter(arr, requires_grad=obj.get("requires_grad", True))
        return Tensor(arr, requires_grad=obj.get("requires_grad", False))
    raise CheckpointError(f"unknown node in checkpoint structure: {sorted(obj)}")


# ------------------------------------------------------------------------------------ save
def save(obj, path):
    """Write ``obj`` (nested dicts/lists of tensors, arrays, numbers ...) to ``path`` atomically.

    The file name is used as given (no ``.npz`` is appended). Returns the path.
    """
    path = os.fspath(path)
    enc = _Encoder()
    structure = enc.encode(obj, "obj")
    meta = {"format": FORMAT, "version": FORMAT_VERSION}
    entries = dict(enc.arrays)
    entries[_STRUCT_KEY] = np.frombuffer(json.dumps(structure, allow_nan=False).encode("utf-8"),
                                         dtype=np.uint8)
    entries[_MAGIC_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    _atomic_write(path, entries)
    return path


def _write_npz(fileobj, entries):
    """Write the arrays as an uncompressed .npz (a separate function so tests can make it
    crash half-way, as a power cut would)."""
    np.savez(fileobj, **entries)


def _atomic_write(path, entries):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            _write_npz(f, entries)
            f.flush()
            os.fsync(f.fileno())          # the bytes are on disk before the rename


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale_temporaries(directory, base):
    """Temporary files of ``base`` left by a process that was killed mid-write."""
    prefix = f".{base}."
    for name in os.listdir(directory):
        if not (name.startswith(prefix) and ".tmp" in name):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """A temporary path in ``path``'s folder to write to; on success it is renamed over
    ``path`` (replacing a symlink there, never writing through it), on failure removed.
    ``suffix`` ends the temporary name (a writer that picks its format from it needs
    ``.tmp.gif``, say)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: its folder {directory!r} does not "
                                "exist" + (" (it is a file)" if os.path.exists(directory) else ""))
    base = os.path.basename(path)
    _remove_stale_temporaries(directory, base)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.{os.getpid()}.", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)             # atomic: readers see the old or the new file
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:                                   # make the rename itself durable (POSIX)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def write_file(path, write, mode="wb"):
    """Write an output file atomically: ``write(f)`` fills the open temporary file."""
    with atomic_path(path) as tmp:
        with open(tmp, mode) as f:
            write(f)
    return path


def save_json(path, obj, **kwargs):
    """``json.dump(obj)`` to ``path``, atomically."""
    return write_file(path, lambda f: json.dump(obj, f, **kwargs), mode="w")


def save_array(path, arr):
    """``numpy.save(path, arr)``, atomically (the name is used as given)."""
    return write_file(path, lambda f: np.save(f, backend.to_numpy(arr)))


def output_dir(path):
    """Make a run's output folder (and its parents); a clear error when something in the way
    is a file."""
    path = os.fspath(path)
    probe = os.path.abspath(path)
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if probe and not os.path.isdir(probe):
        raise NotADirectoryError(f"cannot make the output folder {path!r}: {probe!r} is a file, "
                                 "not a folder")
    os.makedirs(path, exist_ok=True)
    return path


# ------------------------------------------------------------------------------------ load
def _check_sizes(path):
    """Refuse a file whose arrays would be too large to be honest, before reading them: the
    zip's total uncompressed size (MAX_BYTES, MAX_RATIO) and each .npy header's claimed
    array size against the bytes the entry really holds."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            on_disk = os.path.getsize(path)
            if total > MAX_BYTES or total > MAX_RATIO * max(on_disk, 1 << 20):
                raise CheckpointError(
                    f"{path!r} would decompress to {total} bytes from {on_disk} on disk (limits: "
                    f"{MAX_BYTES} bytes, {MAX_RATIO}x the file): refused as unsafe")
            for info in infos:
                if not info.filename.endswith(".npy"):
                    continue
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    reader = {(1, 0): np.lib.format.read_array_header_1_0,
                              (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                    if reader is None:
                        raise CheckpointError(f"{path!r}: the array {info.filename[:-4]!r} has "
                                              f".npy format version {version}, which minigan "
                                              "never writes")
                    shape, _, dtype = reader(f)
                    claimed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
                if claimed > info.file_size:
                    raise CheckpointError(
                        f"{path!r}: the array {info.filename[:-4]!r} claims shape {shape} "
                        f"({claimed} bytes) but holds {info.file_size} bytes: corrupt or forged")
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path!r} is truncated or corrupt and cannot be read as a "
                              f"minigan checkpoint ({type(exc).__name__}: {exc})") from exc


def _check_depth(path, text):
    """The structure's bracket depth (outside strings), before JSON decodes it recursively."""
    depth = deepest = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    raise CheckpointError(f"{path!r}: the checkpoint's structure nests more "
                                          f"than {MAX_DEPTH} levels deep: refused as unsafe")
        elif ch in "]}":
            depth -= 1


def load(path, map_location=None):
    """Read a checkpoint written by ``save``. Never runs code from the file.

    ``map_location='cpu'`` (or ``'cuda'``) puts every tensor there; by default each tensor
    goes back to the device it was saved from. Raises ``CheckpointError`` for a truncated,
    corrupt, foreign or pickle-bearing file, and ``FileNotFoundError`` for a missing one.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:1] == b"\x80":
        raise CheckpointError(f"{path!r} is a pickle file (e.g. from torch.save or pickle.dump); "
                              "minigan refuses to load it because unpickling can run arbitrary "
                              "code. Nothing from the file was executed.")
    if head != b"PK\x03\x04":
        raise CheckpointError(f"{path!r} is not a minigan checkpoint (not an .npz/zip file; "
                              f"it starts with {head!r})" if head else
                              f"{path!r} is empty (a truncated checkpoint?)")
    _check_sizes(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise CheckpointError(f"{path!r} is a single .npy array, not a minigan "
                                      "checkpoint (.npz written by minigan.save)")
            names = set(npz.files)
            if _MAGIC_KEY not in names or _STRUCT_KEY not in names:
                raise CheckpointError(f"{path!r} is an .npz file but not a minigan checkpoint "
                                      f"(no {_MAGIC_KEY!r} entry); its arrays are "
                                      f"{sorted(names)[:10]}. Read it with numpy.load instead.")
            meta = json.loads(npz[_MAGIC_KEY].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise CheckpointError(f"{path!r}: unknown checkpoint format {meta!r}")
            if meta.get("version", 0) > FORMAT_VERSION:
                raise CheckpointError(f"{path!r} was written by a newer minigan (format "
                                      f"version {meta['version']} > {FORMAT_VERSION})")
            text = npz[_STRUCT_KEY].tobytes().decode("utf-8")
            _check_depth(path, text)
            structure = json.loads(text)
            arrays = {k: npz[k] for k in names if k not in (_STRUCT_KEY, _MAGIC_KEY)}
    except CheckpointError:
        raise
    except ValueError as exc:
        msg = str(exc)
        if "pickle" in msg.lower():
            raise CheckpointError(f"{path!r} contains pickled data (an object array or a "
                                  "pickle file); minigan refuses to load it because unpickling "
                                  "can run arbitrary code. Nothing from the file was executed."
                                  ) from exc
        raise CheckpointError(f"{path!r} is not a readable checkpoint ({msg})") from exc
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError, KeyError) as exc:
        raise CheckpointError(f"{path!r} is truncated or corrupt and cannot be read as a "
                              f"minigan checkpoint ({type(exc).__name__}: {exc})") from exc
    return _decode(structure, arrays, map_location)
