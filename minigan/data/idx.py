"""Reading and writing IDX files, the format MNIST is distributed in.

An IDX file is a 4-byte magic number -- two zero bytes, a type code (0x08 = unsigned byte,
0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the number of
dimensions -- then one big-endian int32 per dimension, then the values, big-endian, row-major.
Files ending in ``.gz`` are read through gzip. Anything that does not fit that description is
refused with a message saying what was wrong, never silently misread.
"""
from __future__ import annotations

import gzip
import os

import numpy as np

__all__ = ["read_idx", "write_idx", "IDXError"]

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _TYPES.items()}


class IDXError(ValueError):
    """A file that is not a well-formed IDX file."""


def _open(path, mode):
    path = os.fspath(path)
    return gzip.open(path, mode) if path.endswith(".gz") else open(path, mode)


def read_idx(path):
    """The array stored in an IDX file (raw or .gz), in native byte order."""
    try:
        with _open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:   # includes gzip's "not a gzipped file" and truncation
        raise IDXError(f"{path}: cannot read it as {'gzip' if str(path).endswith('.gz') else 'a file'}: {exc}") from None
    if len(raw) < 4:
        raise IDXError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise IDXError(f"{path}: wrong magic number 0x{raw[:4].hex()} (an IDX file starts with "
                       "0x0000, a type code 08/09/0B/0C/0D/0E and the number of dimensions)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header ({len(raw)} bytes, {header} needed)")
    shape = tuple(int(v) for v in np.frombuffer(raw, ">i4", ndim, 4))
    dtype = np.dtype(_TYPES[raw[2]])
    need = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != need:
        raise IDXError(f"{path}: the header promises shape {shape} ({need} bytes in all) but the "
                       f"file has {len(raw)} bytes -- truncated or not an IDX file")
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write an array as an IDX file (gzip-compressed if the name ends in .gz)."""
    a = np.asarray(array)
    code = _CODES.get(a.dtype)
    if code is None:
        raise IDXError(f"IDX cannot store dtype {a.dtype}")
    header = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, ">i4").tobytes()
    with _open(path, "wb") as f:
        f.write(header + a.astype(_TYPES[code]).tobytes())
