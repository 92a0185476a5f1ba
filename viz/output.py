"""output: a picture's output path, checked before any work is done, and its folder made.

`check_output` refuses (OutputPathError, naming the path) an existing directory, a file that
cannot be overwritten, or a folder that cannot be created or written into, and creates
nothing; `make_folder` then creates the missing folders, like `mkdir -p`.
"""
import os
from pathlib import Path


class OutputPathError(OSError):
    """The output path cannot be written: a directory, a read-only file, or a folder that
    cannot be created or written into."""


def check_output(path, where="render"):
    """The Path of `path`, once it is known that it can be written; nothing is created.

    Raises:
        OutputPathError: `path` is a directory or a read-only file, or its folder (or the
            nearest existing folder above it) is a file or not writable.
    """
    path = Path(path)
    try:
        _check(path)
    except OutputPathError as exc:
        raise OutputPathError(f"{where}: cannot write {str(path)!r}: {exc}") from None
    except OSError as exc:   # e.g. a folder above it that may not be searched
        raise OutputPathError(f"{where}: cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def make_folder(path, where="render"):
    """Create the folder of `path` and any missing folders above it (like `mkdir -p`)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"{where}: cannot create the folder {str(path.parent)!r} for "
                              f"{str(path)!r}: {exc.strerror or exc}") from None
    return path


def write_output(path, data, where="render"):
    """Write bytes or text to `path`, creating its folder; errors name the path."""
    path = make_folder(path, where)
    try:
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    except OSError as exc:
        raise OutputPathError(f"{where}: cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def _check(path):
    if path.is_dir():
        raise OutputPathError("it is a directory; name a file inside it")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise OutputPathError("the file exists and is read-only")
        return
    folder = existing = path.parent
    while not existing.exists():     # climb to the nearest folder that exists
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(f"{str(existing)!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == folder:
            raise OutputPathError(f"the folder {str(folder)!r} is not writable")
        raise OutputPathError(f"the folder {str(folder)!r} cannot be created: "
                              f"{str(existing)!r} is not writable")
