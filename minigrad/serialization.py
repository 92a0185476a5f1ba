"""Safe checkpoints: `mg.save(obj, path)` and `mg.load(path)`, never pickle.

A file is a numpy `.npz` archive: every array of `obj` is one `.npy` entry, and the rest of
the structure (nested dicts and lists of numbers, strings, booleans, None) is JSON kept in an
entry of its own. Loading reads arrays with `allow_pickle=False`, so it never runs code.
Saving writes a temporary file beside the target and renames it over the target, so an
interrupted save leaves the old file intact.
"""
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from minigrad.tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
_META = "__minigrad__"


class CheckpointError(ValueError):
    """A file that is not a readable minigrad checkpoint."""


def _encode(obj, arrays, where):
    """JSON-able form of `obj`; arrays are moved into `arrays` and referenced by key."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufc":
            raise TypeError(f"save: {where}: arrays of dtype {obj.dtype} cannot be saved safely")
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, dict):
        bad = [k for k in obj if not isinstance(k, str)]
        if bad:
            raise TypeError(f"save: {where}: dict keys must be strings, got {bad[0]!r}")
        if "__array__" in obj or "__tuple__" in obj:
            raise TypeError(f"save: {where}: the keys '__array__' and '__tuple__' are reserved")
        return {k: _encode(v, arrays, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save: {where}: cannot save a {type(obj).__name__} "
                    f"(only dicts, lists, tuples, arrays, tensors, numbers, strings, None)")


def _decode(obj, arrays):
    if isinstance(obj, dict):
        if "__array__" in obj:
            return arrays[obj["__array__"]]
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        return {k: _decode(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    return obj


def save(obj, path):
    """Write `obj` (nested dicts/lists/tuples of arrays, tensors, numbers, strings) to `path`
    atomically. Tensors are saved as their arrays; `load` gives numpy arrays back."""
    path = os.fspath(path)
    arrays = {}
    meta = {"format": FORMAT, "version": VERSION, "object": _encode(obj, arrays, "obj")}
    arrays[_META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)  # mkstemp makes the file private (0600); give it a plain file's mode
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def load(path):
    """Read what `save` wrote. Raises CheckpointError naming the file if it is truncated,
    corrupted, or not a minigrad checkpoint."""
    path = os.fspath(path)
    with open(path, "rb") as f:  # FileNotFoundError names the file
        raw = f.read()
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if archive.testzip() is not None:
                raise CheckpointError(f"load: {path} is corrupted (a checksum does not match)")
            names = set(archive.namelist())
            if f"{_META}.npy" not in names:
                raise CheckpointError(f"load: {path} is not a minigrad checkpoint (no {_META} entry); "
                                      f"was it written by mg.save?")
            arrays = {}
            for name in names:
                with archive.open(name) as entry:
                    arrays[name[:-4]] = np.lib.format.read_array(entry, allow_pickle=False)
    except CheckpointError:
        raise
    except Exception as exc:  # a damaged header makes zipfile raise almost anything
        # (BadZipFile, EOFError, but also NotImplementedError for a "compression method",
        # RuntimeError for an "encrypted" flag, struct.error, zlib.error, ...)
        raise CheckpointError(f"load: {path} is not a readable minigrad checkpoint "
                              f"(truncated or corrupted?): {exc}") from None
    try:
        meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"load: {path} has unreadable metadata: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "object" not in meta:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint")
    if not isinstance(meta.get("version"), int):
        raise CheckpointError(f"load: {path} has no valid format version")
    if meta["version"] > VERSION:
        raise CheckpointError(f"load: {path} was written by a newer minigrad (format version "
                              f"{meta['version']}); upgrade minigrad to read it")
    try:
        return _decode(meta["object"], arrays)
    except KeyError as exc:
        raise CheckpointError(f"load: {path} refers to a missing array {exc}") from None
    except (TypeError, AttributeError) as exc:
        raise CheckpointError(f"load: {path} has malformed metadata: {exc}") from None
