"""Safe checkpoints: `mg.save(obj, path)` and `mg.load(path)`, never pickle.

A file is a numpy `.npz` archive: every array of `obj` is one uncompressed `.npy` entry
(`a0.npy`, `a1.npy`, ... in the order `save` meets them), and the rest of the structure (nested
dicts and lists of numbers, strings, booleans, None) is JSON kept in the entry `__minigrad__.npy`.

Saving writes a temporary file beside the target and renames it over the target, so an
interrupted save leaves the old file intact. A symlinked path is saved through to the file it
points to, and a re-saved file keeps its permissions. Temporary files left by a killed save are
removed by a later save of the same file (`remove_stale_temporaries`).

Loading accepts exactly what `save` writes and checks every size before reading, so a crafted
or damaged file raises CheckpointError naming it, never runs code and never fills memory:
arrays are read with `allow_pickle=False`, of boolean, integer, float or complex dtypes only,
and entries must be stored uncompressed, each no larger than the file.

Limits, the same for save and load: containers (dicts, lists, tuples) nest at most MAX_DEPTH
levels deep, and integers have at most MAX_INT_DIGITS digits.
"""
import errno
import json
import math
import os
import re
import secrets
import stat
import time
import zipfile

import numpy as np

from minigrad.tensor import Tensor

try:
    import fcntl
except ImportError:  # Windows: no flock, so stale temporaries are recognised by age alone
    fcntl = None

FORMAT = "minigrad-checkpoint"
VERSION = 1
MAX_DEPTH = 100
MAX_INT_DIGITS = 4000  # below Python's own limit for int <-> str conversion (4300 by default)

_META = "__minigrad__"
_META_ENTRY = f"{_META}.npy"
_ARRAY_ENTRY = re.compile(r"a(0|[1-9][0-9]*)\.npy")
_INT_LIMIT = 10 ** MAX_INT_DIGITS
_ARRAY_KINDS = "biufc"               # bool, signed and unsigned integers, floats, complex
_CHUNK = 1 << 20                     # bytes read at a time

# Temporary files are named `.NAME.XXXXXXXX.tmp` beside NAME (the same names tempfile.mkstemp gives).
_TEMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
# A writer holds a lock on its temporary file from creating it until it has renamed it, so an
# unlocked one was abandoned; the few seconds' grace covers the instant between creating and locking.
# Without locks (no fcntl) only age tells, and a writer's mtime moves with every write.
_STALE_SECONDS = 10 if fcntl else 600
_RENAME_OPEN_FILES = os.name != "nt"  # POSIX can rename a file that is still open (and locked)


class CheckpointError(ValueError):
    """A file that is not a readable minigrad checkpoint."""


# ----------------------------------------------------------------------------- save
def _encode(obj, arrays, where, depth=1):
    """JSON-able form of `obj`; arrays are moved into `arrays` and referenced by key."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"save: {where}: arrays of dtype {obj.dtype} cannot be saved safely")
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, (dict, list, tuple)) and depth > MAX_DEPTH:
        raise ValueError(f"save: {where}: nested more than {MAX_DEPTH} levels deep "
                         f"(does a list or dict contain itself?)")
    if isinstance(obj, dict):
        bad = [k for k in obj if not isinstance(k, str)]
        if bad:
            raise TypeError(f"save: {where}: dict keys must be strings, got {bad[0]!r}")
        if "__array__" in obj or "__tuple__" in obj:
            raise TypeError(f"save: {where}: the keys '__array__' and '__tuple__' are reserved")
        return {k: _encode(v, arrays, f"{where}.{k}", depth + 1) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return _encode(obj.item(), arrays, where, depth)
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) >= _INT_LIMIT:
        raise ValueError(f"save: {where}: integers of more than {MAX_INT_DIGITS} digits cannot be saved")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save: {where}: cannot save a {type(obj).__name__} "
                    f"(only dicts, lists, tuples, arrays, tensors, numbers, strings, None)")


def _resolve(path):
    """The file that writing `path` should replace: a symlink's final target."""
    target = os.path.realpath(path)
    if os.path.islink(target):  # realpath gives up on a loop
        raise OSError(errno.ELOOP, f"save: cannot write {path}: it is a loop of symbolic links")
    return target


def _describe(path, target):
    return f"{path} (a link to {target})" if os.path.islink(path) else path


def _save_error(exc, path, target):
    """`exc` (an OSError) again, naming the target instead of the temporary file, in words."""
    folder = os.path.dirname(target)
    if isinstance(exc, FileNotFoundError) and not os.path.isdir(folder):
        problem = f"the folder {folder} does not exist"
    else:
        problem = f"{exc.strerror or exc} (the old file, if any, is kept)"
    error = type(exc)(f"save: cannot write {_describe(path, target)}: {problem}")
    error.errno = exc.errno  # set after construction so the message stays free of "[Errno N]"
    return error


def _create_temporary(target, mode):
    """A new file `.NAME.XXXXXXXX.tmp` beside `target`, opened for writing: (fd, its path)."""
    folder, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tag = "".join(secrets.choice(_TEMP_CHARS) for _ in range(8))
        tmp = os.path.join(folder, f".{name}.{tag}.tmp")
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", folder)


def _keep_owner_and_mode(fd, old):
    """Give the new file the old one's permissions and owner, as far as we may: only root may
    give a file away, and some filesystems (FAT) have no modes; the file then stays private (0600)."""
    new = os.fstat(fd)
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            pass
    try:
        os.fchmod(fd, stat.S_IMODE(old.st_mode))
    except OSError:
        pass


def _write(arrays, target):
    """Write the archive to a temporary file beside `target`, then rename it over `target`."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    # A new file gets 0o666 & ~umask from the kernel, like any file the user writes; a temporary
    # file for an existing one starts private and gets the old file's mode once written.
    fd, tmp = _create_temporary(target, 0o666 if old is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            if fcntl:
                fcntl.flock(f, fcntl.LOCK_EX)  # tells remove_stale_temporaries: in use
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
            if old is not None and hasattr(os, "fchmod"):
                _keep_owner_and_mode(f.fileno(), old)
            if _RENAME_OPEN_FILES:
                os.replace(tmp, target)  # while still locked, so no cleaner can remove it first
        if not _RENAME_OPEN_FILES:
            os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass  # already renamed, or never created
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(os.path.dirname(target), os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def save(obj, path):
    """Write `obj` (nested dicts/lists/tuples of arrays, tensors, numbers, strings) to `path`
    atomically. Tensors are saved as their arrays; `load` gives numpy arrays back.

    A symlink is kept and the file it points to replaced; an existing file keeps its permissions.

    Raises:
        TypeError: `obj` holds something that cannot be saved (named by where it is in `obj`).
        ValueError: `obj` nests deeper than MAX_DEPTH or holds an integer of more than MAX_INT_DIGITS.
        OSError: the file cannot be written (full disk, missing folder, ...); the old file is kept.
    """
    path = os.fspath(path)
    arrays = {}
    meta = {"format": FORMAT, "version": VERSION, "object": _encode(obj, arrays, "obj")}
    arrays[_META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    target = _resolve(path)
    remove_stale_temporaries(target)  # first, as they may be what fills the disk
    try:
        _write(arrays, target)
    except OSError as exc:
        raise _save_error(exc, path, target) from None


# ----------------------------------------------------------------------------- stale temporaries
def remove_stale_temporaries(path):
    """Remove the temporary files that interrupted saves of `path` left beside it.

    A save killed outright (`kill -9`, a power cut) cannot remove its own `.NAME.XXXXXXXX.tmp`.
    Only files with that name pattern for this very file are considered, and only those no live
    writer holds locked (a concurrent save's file is left alone) and older than a few seconds.
    `save` calls this before writing; call it yourself to tidy up without saving.

    Returns:
        list[str]: the paths removed.
    """
    target = os.path.realpath(os.fspath(path))
    folder, name = os.path.split(target)
    pattern = re.compile(rf"\.{re.escape(name)}\.[{_TEMP_CHARS}]{{8}}\.tmp")
    try:
        candidates = [entry for entry in os.listdir(folder) if pattern.fullmatch(entry)]
    except OSError:
        return []
    return [tmp for tmp in (os.path.join(folder, c) for c in candidates) if _remove_if_abandoned(tmp)]


def _remove_if_abandoned(tmp):
    """Unlink `tmp` if it is a regular file that no writer holds and that is not brand new."""
    try:
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        if fcntl:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a writer holds it
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or time.time() - st.st_mtime < _STALE_SECONDS:
            return False
        now = os.lstat(tmp)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return False  # renamed away and the name reused meanwhile
        os.unlink(tmp)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- load
def _open_regular_file(path):
    """`path` opened for reading; a directory, pipe or device is refused without blocking."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CheckpointError(f"load: {path} is not a regular file")
    return os.fdopen(fd, "rb")


def _checked_entries(archive, path, size):
    """{"a0": ZipInfo, ...} of an archive whose names, compression and sizes are what save writes."""
    infos = {}
    for info in archive.infolist():
        name = info.filename
        if name in infos:
            raise CheckpointError(f"load: {path} has two entries named {name!r}")
        infos[name] = info
    if _META_ENTRY not in infos:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint (no {_META} entry); "
                              f"was it written by mg.save?")
    for name, info in infos.items():
        if name != _META_ENTRY and not _ARRAY_ENTRY.fullmatch(name):
            raise CheckpointError(f"load: {path} has an unexpected entry {name!r} "
                                  f"(mg.save writes only {_META_ENTRY}, a0.npy, a1.npy, ...)")
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(f"load: {path}: entry {name!r} is compressed, which mg.save never "
                                  f"writes; refusing to decompress it")
        if info.flag_bits & 0x1:
            raise CheckpointError(f"load: {path}: entry {name!r} is encrypted, which mg.save never writes")
        if info.file_size != info.compress_size:
            raise CheckpointError(f"load: {path}: entry {name!r} declares {info.file_size} bytes but "
                                  f"stores {info.compress_size} (corrupted?)")
        if info.header_offset + info.file_size > size:
            raise CheckpointError(f"load: {path}: entry {name!r} declares {info.file_size} bytes, "
                                  f"more than the file's {size} (truncated or corrupted?)")
    if sum(info.file_size for info in infos.values()) > size:
        raise CheckpointError(f"load: {path}: its entries declare more bytes than the file's {size} "
                              f"(entries overlap?)")
    return {name[:-4]: info for name, info in infos.items()}


def _read_header(entry, where):
    """(dtype, shape, fortran_order) from a `.npy` header."""
    try:
        version = np.lib.format.read_magic(entry)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"version {version}, which mg.save never writes")
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read(entry)
    except (ValueError, TypeError) as exc:  # numpy's words for a bad magic string or header
        raise CheckpointError(f"{where} has no readable .npy header: {exc}") from None
    if any(n < 0 for n in shape):
        raise CheckpointError(f"{where} has a negative dimension in its shape {shape}")
    return dtype, shape, fortran_order


def _read_array(archive, info, path, metadata=False):
    """One entry's array, after checking its dtype and that its shape fits the entry's size."""
    where = f"load: {path}: entry {info.filename!r}"
    with archive.open(info) as entry:
        dtype, shape, fortran_order = _read_header(entry, where)
        if metadata and (dtype != np.uint8 or len(shape) != 1):
            raise CheckpointError(f"{where} is an array of {dtype} and shape {shape}, not the "
                                  f"1-d uint8 metadata mg.save writes")
        if dtype.kind not in _ARRAY_KINDS:
            raise CheckpointError(f"{where} has dtype {dtype}; mg.save writes only boolean, integer, "
                                  f"float and complex arrays")
        count = math.prod(shape)
        stored = info.file_size - entry.tell()
        if count * dtype.itemsize != stored:
            raise CheckpointError(f"{where} claims shape {shape} of {dtype} ({count * dtype.itemsize} "
                                  f"bytes) but holds {stored} bytes of data")
        flat = np.empty(count, dtype)
        raw = flat.view(np.uint8)
        for start in range(0, raw.size, _CHUNK):
            chunk = entry.read(min(_CHUNK, raw.size - start))
            raw[start:start + len(chunk)] = np.frombuffer(chunk, np.uint8)
        if entry.read(1) != b"":  # the whole entry is read, so zipfile has checked its CRC-32
            raise CheckpointError(f"{where} holds more data than it declares")
    return flat.reshape(shape[::-1]).transpose() if fortran_order else flat.reshape(shape)


def _parse_int(text):
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {digits} digits (mg.save writes at most {MAX_INT_DIGITS})")
    return int(text)


def _unique_keys(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen.add(key)
    return dict(pairs)


def _parse_metadata(raw, path):
    """The metadata dict, after checking its format and version."""
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"), parse_int=_parse_int, object_pairs_hook=_unique_keys)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CheckpointError(f"load: {path} has unreadable metadata: {exc}") from None
    except RecursionError:  # json's own limit, far beyond MAX_DEPTH, which _Decoder checks
        raise CheckpointError(f"load: {path} has metadata nested far more than {MAX_DEPTH} levels deep "
                              f"(more than mg.save writes)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint")
    version = meta.get("version")
    if type(version) is not int or version < 1:
        raise CheckpointError(f"load: {path} has no valid format version")
    if version > VERSION:
        raise CheckpointError(f"load: {path} was written by a newer minigrad (format version "
                              f"{version}); upgrade minigrad to read it")
    if sorted(meta) != ["format", "object", "version"]:
        raise CheckpointError(f"load: {path} has metadata fields {sorted(meta)}, not the format, "
                              f"version and object mg.save writes")
    return meta


class _Decoder:
    """Turns the metadata's object back into Python values, checking it is what `save` writes:
    every array referenced once, in the order save numbered them, nesting at most MAX_DEPTH."""

    def __init__(self, path, arrays):
        self.path, self.arrays, self.used = path, arrays, 0

    def fail(self, where, problem):
        raise CheckpointError(f"load: {self.path}: {where}: {problem}")

    def decode(self, obj, where="obj", depth=1):
        if isinstance(obj, dict) and "__array__" in obj:
            return self.array(obj, where)
        if isinstance(obj, (dict, list)) and depth > MAX_DEPTH:
            self.fail(where, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(obj, dict) and "__tuple__" in obj:
            items = obj["__tuple__"]
            if len(obj) != 1 or not isinstance(items, list):
                self.fail(where, f"malformed tuple {_brief(obj)}")
            return tuple(self.decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(items))
        if isinstance(obj, dict):
            return {k: self.decode(v, f"{where}.{k}", depth + 1) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
        return obj

    def array(self, ref, where):
        key, expected = ref["__array__"], f"a{self.used}"
        if len(ref) != 1 or not isinstance(key, str):
            self.fail(where, f"malformed array reference {_brief(ref)}")
        if key not in self.arrays:
            self.fail(where, f"refers to a missing array {key!r}")
        if key != expected:
            self.fail(where, f"refers to array {key!r} where mg.save would have written {expected!r} "
                             f"(each array is referenced once, in order)")
        self.used += 1
        return self.arrays[key]

    def finish(self, obj):
        value = self.decode(obj)
        if self.used != len(self.arrays):
            unused = sorted(set(self.arrays) - {f"a{i}" for i in range(self.used)})
            raise CheckpointError(f"load: {self.path} has arrays nothing refers to: "
                                  f"{', '.join(k + '.npy' for k in unused[:5])}")
        return value


def _brief(obj, limit=60):
    text = json.dumps(obj)
    return text if len(text) <= limit else text[:limit] + "..."


def load(path):
    """Read what `save` wrote.

    Raises:
        FileNotFoundError: there is no file at `path`.
        CheckpointError: the file (named in the message) is truncated, corrupted, crafted, or not a
            minigrad checkpoint. Nothing in it is unpickled, and no more memory is allocated than
            the file's own size.
    """
    path = os.fspath(path)
    with _open_regular_file(path) as f:  # FileNotFoundError names the file
        size = os.fstat(f.fileno()).st_size
        try:
            with zipfile.ZipFile(f) as archive:
                infos = _checked_entries(archive, path, size)
                meta = _parse_metadata(_read_array(archive, infos.pop(_META), path, metadata=True), path)
                arrays = {key: _read_array(archive, info, path) for key, info in infos.items()}
        except (CheckpointError, MemoryError):
            raise
        except Exception as exc:  # a damaged header makes zipfile raise almost anything
            # (BadZipFile, EOFError, but also NotImplementedError for a "compression method",
            # RuntimeError for an "encrypted" flag, struct.error, zlib.error, ...)
            raise CheckpointError(f"load: {path} is not a readable minigrad checkpoint "
                                  f"(truncated or corrupted?): {exc}") from None
    return _Decoder(path, arrays).finish(meta["object"])
