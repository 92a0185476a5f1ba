"""mg.save / mg.load: round trips, atomic saves, never unpickling, and a CheckpointError naming
the file for anything that is not an intact checkpoint."""
import json
import os
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import serialization


def _assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


NESTED = {
    "weights": {"enc": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(3)},
                "ids": np.array([[1, 2], [3, 4]], dtype=np.int64)},
    "mask": np.array([True, False]),
    "scalar_array": np.array(2.5),
    "complex": np.array([1 + 2j]),
    "empty": np.zeros((0, 4), dtype=np.float32),
    "history": [0.5, 0.25, {"epoch": 3, "note": "ünïcode ✓"}, [1, [2, [3]]]],
    "pair": (1, "two", None, (3.0, np.ones(2))),
    "empty_containers": {"list": [], "tuple": (), "dict": {}},
    "numbers": {"int": 7, "big": 2 ** 70, "neg": -1.5, "inf": float("inf"), "nan": float("nan"),
                "true": True, "false": False},
    "none": None,
    "text": "hello",
}


def test_nested_round_trip(tmp_path):
    path = tmp_path / "nested.npz"
    mg.save(NESTED, path)
    _assert_same(NESTED, mg.load(path))


def test_top_level_values_of_every_kind(tmp_path):
    for i, obj in enumerate([np.arange(3), [1, 2], (1,), 3, 2.5, "s", None, True]):
        path = tmp_path / f"v{i}.npz"
        mg.save(obj, str(path))
        _assert_same(obj, mg.load(str(path)))


def test_tensors_and_numpy_scalars_are_saved_as_values(tmp_path):
    path = tmp_path / "t.npz"
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    mg.save({"t": t, "n": np.float32(1.5), "i": np.int64(3), "b": np.bool_(True)}, path)
    out = mg.load(path)
    assert out["t"].dtype == np.float32
    np.testing.assert_array_equal(out["t"], [1.0, 2.0])
    assert (out["n"], out["i"], out["b"]) == (1.5, 3, True)
    assert type(out["i"]) is int and type(out["b"]) is bool


def test_model_state_dict_round_trip(tmp_path):
    mg.manual_seed(0)
    net = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 2))
    mg.save(net.state_dict(), tmp_path / "m.npz")
    mg.manual_seed(1)
    other = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 2))
    other.load_state_dict(mg.load(tmp_path / "m.npz"))
    x = mg.randn(2, 3)
    np.testing.assert_array_equal(net(x).data, other(x).data)


@pytest.mark.parametrize("obj, match", [
    ({1: "a"}, "keys must be strings"),
    ({"__array__": 1}, "reserved"),
    ({"x": {"__tuple__": 1}}, "reserved"),
    ({"s": {1, 2}}, "cannot save a set"),
    ([object()], r"obj\[0\]: cannot save"),
    ({"o": np.array([None, 1], dtype=object)}, "cannot be saved safely"),
    (np.array(["a"]), "cannot be saved safely"),
])
def test_unsavable_values_are_refused_and_named(tmp_path, obj, match):
    path = tmp_path / "bad.npz"
    with pytest.raises(TypeError, match=match):
        mg.save(obj, path)
    assert not path.exists() and os.listdir(tmp_path) == []


# ---------------------------------------------------------------- atomic saves
@pytest.mark.parametrize("exc_type", [OSError, KeyboardInterrupt])
def test_failed_save_keeps_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, exc_type):
    path = tmp_path / "ckpt.npz"
    mg.save({"w": np.ones(3), "step": 1}, path)
    before = path.read_bytes()
    real_savez = np.savez

    def savez_then_fail(file, **arrays):
        real_savez(file, **arrays)            # write a whole archive's worth of bytes...
        file.write(b"partial")
        raise exc_type("disk full")           # ...and fail before the rename

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(exc_type):
        mg.save({"w": np.zeros(1000), "step": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert mg.load(path)["step"] == 1


def test_save_replaces_existing_file(tmp_path):
    path = tmp_path / "c.npz"
    mg.save({"v": 1}, path)
    mg.save({"v": 2}, path)
    assert mg.load(path) == {"v": 2}
    assert os.listdir(tmp_path) == ["c.npz"]


# ---------------------------------------------------------------- never unpickle
class _Marker:
    """Unpickling an instance creates the file `path`: proof that code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _meta(obj, version=1, fmt="minigrad-checkpoint"):
    text = json.dumps({"format": fmt, "version": version, "object": obj})
    return np.frombuffer(text.encode(), dtype=np.uint8)


def test_object_array_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Marker(str(marker))
    path = tmp_path / "evil.npz"
    _write_npz(path, __minigrad__=_meta({"__array__": "a0"}), a0=evil)
    with pytest.raises(mg.CheckpointError, match=str(path)):
        mg.load(path)
    assert not marker.exists()


def test_pickled_metadata_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Marker(str(marker))
    path = tmp_path / "evil.npz"
    _write_npz(path, __minigrad__=evil)
    with pytest.raises(mg.CheckpointError, match=str(path)):
        mg.load(path)
    assert not marker.exists()


# ---------------------------------------------------------------- damaged and foreign files
@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.npz"
    mg.save({"w": np.arange(10, dtype=np.float32), "n": 3, "s": "hi", "t": (1, None)}, path)
    return path


def _expect_checkpoint_error(path):
    with pytest.raises(mg.CheckpointError) as info:
        mg.load(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_truncated_file(good_file, tmp_path):
    raw = good_file.read_bytes()
    bad = tmp_path / "truncated.npz"
    for n in range(0, len(raw), 7):
        bad.write_bytes(raw[:n])
        _expect_checkpoint_error(bad)


def test_corrupted_payload_fails_the_checksum(good_file, tmp_path):
    raw = bytearray(good_file.read_bytes())
    with zipfile.ZipFile(good_file) as z:
        info = z.getinfo("a0.npy")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size - 5
    raw[offset] ^= 0xFF                       # one byte of the array data
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(bytes(raw))
    assert "corrupted" in _expect_checkpoint_error(bad)


def test_every_single_byte_flip_is_detected_or_harmless(good_file, tmp_path):
    """Flipping any one byte either raises CheckpointError or (in fields zip ignores, such as
    timestamps) still loads the same contents; never another exception, never wrong data."""
    raw = good_file.read_bytes()
    expected = mg.load(good_file)
    bad = tmp_path / "flipped.npz"
    errors = 0
    for i in range(len(raw)):
        for flip in (0x01, 0x80):
            data = bytearray(raw)
            data[i] ^= flip
            bad.write_bytes(bytes(data))
            try:
                got = mg.load(bad)
            except mg.CheckpointError as exc:
                assert str(bad) in str(exc)
                errors += 1
                continue
            _assert_same(expected, got)
    assert errors > len(raw)        # most flips are caught


def test_random_bytes_and_empty_file(tmp_path):
    bad = tmp_path / "random.bin"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    _expect_checkpoint_error(bad)
    bad.write_bytes(b"")
    _expect_checkpoint_error(bad)
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 100)   # a zip signature and nothing else
    _expect_checkpoint_error(bad)


def test_foreign_zip(tmp_path):
    path = tmp_path / "foreign.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    assert "not a minigrad checkpoint" in _expect_checkpoint_error(path)


def test_foreign_npz(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, x=np.ones(3), y=np.arange(2))
    assert "not a minigrad checkpoint" in _expect_checkpoint_error(path)
    np.savez_compressed(path, x=np.ones(3))
    _expect_checkpoint_error(path)


@pytest.mark.parametrize("meta", [
    np.frombuffer(b"not json", dtype=np.uint8),
    np.frombuffer(b"\xff\xfe", dtype=np.uint8),
    _meta({"__array__": "a0"}, fmt="something-else"),
    _meta({"__array__": "missing"}),
    _meta({"__tuple__": 5}),
    _meta(None, version="one"),
    np.frombuffer(json.dumps([1, 2]).encode(), dtype=np.uint8),
    np.frombuffer(json.dumps({"format": "minigrad-checkpoint", "version": 1}).encode(), dtype=np.uint8),
])
def test_bad_metadata(tmp_path, meta):
    path = tmp_path / "meta.npz"
    _write_npz(path, __minigrad__=meta)
    _expect_checkpoint_error(path)


def test_newer_format_version_asks_for_upgrade(tmp_path):
    path = tmp_path / "future.npz"
    _write_npz(path, __minigrad__=_meta(1, version=99))
    assert "upgrade minigrad" in _expect_checkpoint_error(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "nope.npz")


def test_checkpoint_error_is_a_value_error():
    assert issubclass(mg.CheckpointError, ValueError)
    assert serialization.CheckpointError is mg.CheckpointError


def test_file_is_a_plain_npz_readable_by_numpy(good_file):
    with np.load(good_file, allow_pickle=False) as z:
        assert "__minigrad__" in z.files
        np.testing.assert_array_equal(z["a0"], np.arange(10, dtype=np.float32))


def test_saved_file_gets_the_usual_permissions(tmp_path):
    """Not mkstemp's private 0600: a checkpoint is readable like any file the user writes."""
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "perm.npz"
    mg.save({"a": 1}, path)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
