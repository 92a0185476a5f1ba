"""Text for a character-level model: read a corpus, build its vocabulary, encode it, split it.

    from minigrad.models.text import Vocab, read_text, split, stdlib_corpus
    text = read_text("anna.txt")            # or stdlib_corpus() for the offline default
    vocab = Vocab.from_text(text)           # the sorted set of its characters
    ids = vocab.encode(text)                # int64 array, one index per character
    train_ids, val_ids = split(ids, 0.1)    # the last 10% is the validation text
"""
import os
import sysconfig

import numpy as np


class TextError(ValueError):
    """A text the model cannot be trained on (missing, not UTF-8, empty, too short)."""


def read_text(path):
    """The whole of a UTF-8 file, with line ends normalised to '\\n' (Python's text mode) and a
    byte-order mark at its start dropped (it marks the encoding; it is not a character of the text)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().removeprefix("\ufeff")
    except FileNotFoundError:
        raise TextError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise TextError(f"{path} is a directory, not a text file") from None
    except UnicodeDecodeError as exc:
        raise TextError(f"{path} is not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset "
                        f"{exc.start} cannot be decoded ({exc.reason}); convert it first, e.g. "
                        f"iconv -f latin1 -t utf-8") from None
    if not text:
        raise TextError(f"{path} is empty")
    return text


# Folders of the standard library that are not ordinary modules (or are mostly test data).
_SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "idlelib", "turtledemo", "__pycache__",
              "lib2to3", "ensurepip", "pydoc_data"}


def stdlib_corpus(max_chars=2_000_000):
    """The offline default corpus: the running Python's own standard-library source.

    The ASCII-only `.py` files under the stdlib folder, in sorted path order, concatenated and
    cut at `max_chars` characters. No download and no data file: the same interpreter always
    gives the same text. Returns (text, description).
    """
    root = sysconfig.get_paths()["stdlib"]
    parts, total, used = [], 0, 0
    for path in _stdlib_files(root):
        with open(path, "rb") as f:
            raw = f.read()
        if not raw.isascii():
            continue
        source = raw.decode("ascii").replace("\r\n", "\n")
        parts.append(source)
        total += len(source)
        used += 1
        if total >= max_chars:
            break
    text = "".join(parts)[:max_chars]
    if not text:
        raise TextError(f"found no standard-library source under {root}; pass --text PATH")
    return text, f"the Python standard library's source ({used} files under {root})"


def _stdlib_files(root):
    """Every .py file under `root` outside _SKIP_DIRS, in sorted relative-path order."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith("config-")]
        found += [os.path.join(folder, f) for f in files if f.endswith(".py")]
    return sorted(found, key=lambda p: os.path.relpath(p, root))


class Vocab:
    """The characters of a text, each with an index: chars[i] is the character of index i."""

    def __init__(self, chars):
        self.chars = "".join(chars)
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("Vocab: characters repeat")
        self._codes = np.frombuffer(self.chars.encode("utf-32-le"), dtype=np.uint32)
        self._order = np.argsort(self._codes)

    @classmethod
    def from_text(cls, text):
        return cls(sorted(set(text)))

    def __len__(self):
        return len(self.chars)

    def __eq__(self, other):
        return isinstance(other, Vocab) and self.chars == other.chars

    def encode(self, text):
        """str -> int64 array of indices; a character outside the vocabulary is an error."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        sorted_codes = self._codes[self._order]
        pos = np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)
        unknown = sorted_codes[pos] != codes
        if unknown.any():
            missing = sorted({chr(c) for c in codes[unknown]})
            raise TextError(f"characters not in the vocabulary: {''.join(missing)!r}")
        return self._order[pos].astype(np.int64)

    def decode(self, ids):
        """Indices -> str."""
        return "".join(self.chars[i] for i in np.asarray(ids).ravel())


def split(ids, val_fraction):
    """(train, validation): the validation part is the last `val_fraction` of the text."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"split: val_fraction must be in (0, 1), got {val_fraction}")
    n_train = int(len(ids) * (1.0 - val_fraction))
    return ids[:n_train], ids[n_train:]
