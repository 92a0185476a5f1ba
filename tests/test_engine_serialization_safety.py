"""mg.save / mg.load against crafted and damaged files, and with care for the user's files:
stale temporary files, symlinks and permissions, zip bombs and size claims, deep or huge JSON,
entries and dtypes that save never writes, and save errors that name the target in words.

Memory cases run in a child process under an address-space limit, so a regression shows as a
failed test, not as a machine out of memory."""
import errno
import io
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zlib

import numpy as np
import pytest

import minigrad as mg
from minigrad import serialization


# ----------------------------------------------------------------------------- crafting files
def _npy(array):
    """The bytes of `array` as a .npy file (what np.savez puts in each entry)."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
    return buffer.getvalue()


def _npy_header(descr, shape):
    """A .npy header alone, claiming whatever dtype and shape we like."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _meta_npy(obj, **fields):
    meta = {"format": "minigrad-checkpoint", "version": 1, "object": obj, **fields}
    return _npy(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def _entry(name, payload, method=0, crc=None, size=None, compressed_size=None):
    """One zip entry; `payload` is stored as given (already deflated if method is 8)."""
    return (name, payload, method, zlib.crc32(payload) if crc is None else crc,
            len(payload) if size is None else size, len(payload) if compressed_size is None else compressed_size)


def _zip(path, entries):
    """Write a zip archive by hand, so that it can hold what zipfile would refuse to write:
    duplicate names, precompressed data, false sizes. `entries` are (name, payload) or `_entry`s."""
    body, directory = bytearray(), bytearray()
    for e in entries:
        name, payload, method, crc, size, csize = _entry(*e) if len(e) == 2 else e
        raw = name.encode()
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, csize, size,
                                 len(raw), 0, 0, 0, 0, 0, len(body)) + raw
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, csize, size,
                            len(raw), 0) + raw + payload
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    path.write_bytes(bytes(body + directory + end))
    return path


def _checkpoint_error(path):
    with pytest.raises(mg.CheckpointError) as info:
        mg.load(path)
    assert str(path) in str(info.value)
    return str(info.value)


def _child(script, *args):
    """Run a Python snippet in a fresh process; its stdout's last line is JSON."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


# ----------------------------------------------------------------------------- what save writes still loads
def test_every_layout_save_writes_still_loads(tmp_path):
    """Fortran order, big-endian, larger than one read chunk, empty, 0-d, and the deepest nesting."""
    deep_list, deep_tuple = np.arange(3), np.ones(2)
    for _ in range(serialization.MAX_DEPTH - 1):
        deep_list, deep_tuple = [deep_list], (deep_tuple,)
    obj = {"f": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "be": np.arange(4, dtype=">i4"),
           "big": np.arange(3 * (1 << 20) // 8, dtype=np.float64), "empty": np.zeros((0, 3), np.int8),
           "scalar": np.array(1 + 2j, np.complex64), "flags": np.array([True, False]),
           "huge_int": 10 ** serialization.MAX_INT_DIGITS - 1}
    path = tmp_path / "ok.ckpt"
    for value in (obj, [deep_list], (deep_tuple,)):  # the outer list/tuple is the 100th level
        mg.save(value, path)
        assert _same(value, mg.load(path))


def _same(a, b):
    """Equal values of the same types, arrays of the same dtype, shape and contents."""
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and b.flags.writeable and np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_corruption_deep_inside_a_large_array_fails_the_checksum(tmp_path):
    """load reads every entry to its end, so zipfile checks every CRC-32 (there is no testzip pass)."""
    path = tmp_path / "large.ckpt"
    mg.save({"w": np.zeros(3 << 20, np.uint8)}, path)
    raw = bytearray(path.read_bytes())
    for offset in (len(raw) // 2, raw.index(b"__minigrad__") - 100):  # the middle; the array's last bytes
        damaged = bytearray(raw)
        damaged[offset] ^= 0x01
        path.write_bytes(bytes(damaged))
        assert "Bad CRC-32 for file 'a0.npy'" in _checkpoint_error(path)


# ----------------------------------------------------------------------------- 5: stale temporaries
def _age(path, seconds=3600):
    old = time.time() - seconds
    os.utime(path, (old, old), follow_symlinks=False)


def test_save_removes_only_its_own_stale_temporaries(tmp_path):
    target = tmp_path / "model.ckpt"
    stale = tmp_path / ".model.ckpt.k2x9_q0a.tmp"
    fresh = tmp_path / ".model.ckpt.b7c1d2e3.tmp"  # maybe a writer between creating and locking it
    others = [tmp_path / ".model.ckpt.extra.k2x9_q0a.tmp",   # the temporary of model.ckpt.extra
              tmp_path / ".model.ckpt.short.tmp", tmp_path / "model.ckpt.k2x9_q0a.tmp",
              tmp_path / ".model.ckpt.k2x9_q0a.tmp.bak", tmp_path / ".other.ckpt.k2x9_q0a.tmp"]
    for path in [stale, fresh, *others]:
        path.write_bytes(b"x" * 1000)
        if path is not fresh:
            _age(path)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    link = tmp_path / ".model.ckpt.zzzzzzzz.tmp"  # named like a temporary, but a symlink
    link.symlink_to(precious)
    _age(link)
    mg.save({"v": 1}, target)
    assert not stale.exists()
    assert fresh.exists() and all(path.exists() for path in others)
    assert link.is_symlink() and precious.read_text() == "keep me"
    _age(fresh)
    assert serialization.remove_stale_temporaries(target) == [str(fresh)]
    assert mg.load(target) == {"v": 1}


_SLOW_WRITER = """
    import json, sys
    import numpy as np
    import minigrad as mg
    real_savez = np.savez

    def savez_then_wait(file, **arrays):  # the whole archive written, not yet renamed
        real_savez(file, **arrays)
        file.flush()
        print("written", flush=True)
        sys.stdin.readline()

    np.savez = savez_then_wait
    mg.save({"who": "child", "w": np.ones(100_000)}, sys.argv[1])
    print(json.dumps("saved"), flush=True)
"""


def _start_slow_writer(target):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_SLOW_WRITER), str(target)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout.readline().strip() == "written"
    [tmp] = _temporaries(target.parent)
    return child, target.parent / tmp


def test_temporary_of_a_killed_save_is_removed_by_the_next_save(tmp_path):
    target = tmp_path / "model.ckpt"
    mg.save({"who": "first"}, target)
    child, tmp = _start_slow_writer(target)
    child.kill()  # kill -9 between writing and renaming
    child.wait()
    assert tmp.exists() and mg.load(target) == {"who": "first"}
    _age(tmp, 60)  # a minute later
    mg.save({"who": "parent"}, target)
    assert _temporaries(tmp_path) == [] and mg.load(target) == {"who": "parent"}


def test_a_live_writers_temporary_is_never_removed(tmp_path):
    """However old its file looks, a writer still saving holds a lock on it, and finishes."""
    target = tmp_path / "model.ckpt"
    child, tmp = _start_slow_writer(target)
    try:
        _age(tmp)
        mg.save({"who": "parent"}, target)  # a second writer, with its clean-up, meanwhile
        assert serialization.remove_stale_temporaries(target) == []
        assert tmp.exists() and mg.load(target) == {"who": "parent"}
        out, _ = child.communicate("\n", timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0 and out.strip() == '"saved"'
    assert mg.load(target)["who"] == "child" and _temporaries(tmp_path) == []


def test_two_writers_and_a_reader_always_see_a_whole_file(tmp_path):
    target = tmp_path / "model.ckpt"
    objects = {tag: {"tag": tag, "w": np.full(20_000, float(i))} for i, tag in enumerate("AB")}
    mg.save(objects["A"], target)
    seen, errors, writing = [], [], [True, True]

    def write(i, tag):
        try:
            for _ in range(15):
                mg.save(objects[tag], target)
        except Exception as exc:  # reported below: a thread's exception would be lost
            errors.append(exc)
        writing[i] = False

    def read():
        while any(writing):
            got = mg.load(target)
            seen.append((got["tag"], set(got["w"].tolist())))

    threads = [threading.Thread(target=write, args=(i, tag)) for i, tag in enumerate("AB")]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and seen
    assert all(values == {float("AB".index(tag))} for tag, values in seen)
    assert os.listdir(tmp_path) == ["model.ckpt"]


# ----------------------------------------------------------------------------- 6: symlinks, permissions
def test_save_through_a_symlink_replaces_the_file_it_points_to(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    mg.save({"step": 1}, runs / "run42.ckpt")
    latest = tmp_path / "latest.ckpt"
    latest.symlink_to("runs/run42.ckpt")
    mg.save({"step": 2}, latest)
    assert latest.is_symlink() and os.readlink(latest) == "runs/run42.ckpt"
    assert mg.load(runs / "run42.ckpt") == {"step": 2}
    assert sorted(os.listdir(tmp_path)) == ["latest.ckpt", "runs"]  # the temporary went beside the target
    dangling = tmp_path / "next.ckpt"
    dangling.symlink_to("runs/run43.ckpt")
    mg.save({"step": 3}, dangling)
    assert dangling.is_symlink() and mg.load(runs / "run43.ckpt") == {"step": 3}


def test_symlink_loop_is_refused(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match=f"{tmp_path / 'a'}: it is a loop of symbolic links"):
        mg.save({"v": 1}, tmp_path / "a")
    assert (tmp_path / "a").is_symlink()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_resave_keeps_the_files_permissions(tmp_path, mode):
    path = tmp_path / "private.ckpt"
    mg.save({"v": 1}, path)
    os.chmod(path, mode)
    mg.save({"v": 2}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode and mg.load(path) == {"v": 2}


def test_new_file_gets_0666_minus_umask(tmp_path):
    old = os.umask(0o027)
    try:
        mg.save({"v": 1}, tmp_path / "new.ckpt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.ckpt").st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give files away")
def test_resave_by_root_keeps_the_files_owner(tmp_path):
    path = tmp_path / "users.ckpt"
    mg.save({"v": 1}, path)
    os.chown(path, 12345, 23456)
    mg.save({"v": 2}, path)
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == (12345, 23456)


# ----------------------------------------------------------------------------- 9: memory
_LOAD_UNDER_LIMIT = """
    import json, resource, sys
    import minigrad as mg
    status = open("/proc/self/status").read()  # the limit is on top of what the interpreter holds
    limit = int(status.split("VmSize:")[1].split()[0]) * 1024 + int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        got = mg.load(sys.argv[1])
        print(json.dumps({"loaded": float(got["w"].sum())}))
    except mg.CheckpointError as exc:
        print(json.dumps({"error": str(exc)}))
"""
_GB = 1 << 30


def _load_under_limit(path, limit=_GB):
    """mg.load(path) in a child that may allocate at most `limit` more bytes: its error or the sum."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux's /proc to measure the interpreter's own size")
    return _child(_LOAD_UNDER_LIMIT, path, limit)


def _zeros_deflated(header, mib):
    """`header` and `mib` MiB of zeros as raw deflate data (about 1 KB per MiB) and its CRC."""
    zeros = bytes(1 << 20)
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = block.compress(zeros) + block.flush(zlib.Z_FULL_FLUSH)  # needs no earlier data
    data = first.compress(header) + first.flush(zlib.Z_FULL_FLUSH) + block * mib + b"\x03\x00"  # final block
    crc = zlib.crc32(header)
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return data, crc


def test_zip_bomb_is_refused_before_decompressing(tmp_path):
    """A 2 MB file whose one deflated entry would be a 1.9 GB array."""
    mib = 1900
    header = _npy_header("|u1", (mib << 20,))
    data, crc = _zeros_deflated(header, mib)
    path = _zip(tmp_path / "bomb.npz", [("__minigrad__.npy", _meta_npy({"w": {"__array__": "a0"}})),
                                        _entry("a0.npy", data, method=8, crc=crc, size=len(header) + (mib << 20))])
    assert os.path.getsize(path) < 3 << 20
    error = _load_under_limit(path)["error"]
    assert str(path) in error and "'a0.npy' is compressed" in error


def test_entry_declaring_more_than_the_file_is_refused(tmp_path):
    payload = _npy(np.zeros(10))
    path = _zip(tmp_path / "claims.npz", [("__minigrad__.npy", _meta_npy({"w": {"__array__": "a0"}})),
                                          _entry("a0.npy", payload, size=3 * _GB, compressed_size=3 * _GB)])
    error = _load_under_limit(path)["error"]
    assert str(path) in error and f"'a0.npy' declares {3 * _GB} bytes" in error


@pytest.mark.parametrize("shape", [(10 ** 9,), (10 ** 10, 10 ** 10), (3,)])
def test_npy_header_must_claim_exactly_the_entrys_data(tmp_path, shape):
    """8 GB (or an overflowing product) claimed by 80 bytes of data; and 24 bytes claimed with 80."""
    payload = _npy_header("<f8", shape) + np.zeros(10).tobytes()
    path = _zip(tmp_path / "header.npz", [("__minigrad__.npy", _meta_npy({"w": {"__array__": "a0"}})),
                                          ("a0.npy", payload)])
    error = _load_under_limit(path)["error"]
    assert str(path) in error and f"claims shape {shape}" in error and "holds 80 bytes" in error


def test_load_does_not_hold_the_whole_file_in_memory(tmp_path):
    """A 64 MB checkpoint loads with 100 MB to spare: room for the array, not for a copy of the file too."""
    path = tmp_path / "big.ckpt"
    mg.save({"w": np.ones(8 << 20)}, path)
    assert _load_under_limit(path, 100 << 20) == {"loaded": float(8 << 20)}


# ----------------------------------------------------------------------------- 11: deep and huge JSON
def _file_with_meta(path, text):
    return _zip(path, [("__minigrad__.npy", _npy(np.frombuffer(text.encode(), dtype=np.uint8)))])


def _meta_text(obj_text):
    return '{"format": "minigrad-checkpoint", "version": 1, "object": ' + obj_text + "}"


@pytest.mark.parametrize("depth", [150, 990, 100_000])
def test_deeply_nested_metadata_is_a_checkpoint_error(tmp_path, depth):
    path = _file_with_meta(tmp_path / "deep.ckpt", _meta_text("[" * depth + "]" * depth))
    error = _checkpoint_error(path)
    assert "nest" in error and str(serialization.MAX_DEPTH) in error


def test_too_deep_metadata_names_the_field(tmp_path):
    too_deep = "[" * (serialization.MAX_DEPTH + 1) + "]" * (serialization.MAX_DEPTH + 1)
    path = _file_with_meta(tmp_path / "d.ckpt", _meta_text(json.dumps({"a": {"b": json.loads(too_deep)}})))
    assert "obj.a.b[0][0]" in _checkpoint_error(path)


def test_huge_integer_in_metadata_is_a_checkpoint_error(tmp_path):
    path = _file_with_meta(tmp_path / "int.ckpt", _meta_text('{"n": ' + "7" * 5000 + "}"))
    assert "an integer of 5000 digits" in _checkpoint_error(path)


def test_duplicate_json_keys_are_refused(tmp_path):
    path = _file_with_meta(tmp_path / "dup.ckpt", _meta_text('{"lr": 0.1, "lr": 10.0}'))
    assert "'lr' appears twice" in _checkpoint_error(path)


@pytest.mark.parametrize("make, where", [
    (lambda: {"a": _nested(serialization.MAX_DEPTH)}, "obj.a[0]"),
    (lambda: _nested_tuple(serialization.MAX_DEPTH + 1), "obj[0][0]"),
    (lambda: _self_containing(), "obj[0][0]"),
])
def test_save_refuses_nesting_beyond_max_depth(tmp_path, make, where):
    with pytest.raises(ValueError, match=rf"save: {re.escape(where)}.*nested more than 100 levels deep"):
        mg.save(make(), tmp_path / "deep.ckpt")
    assert os.listdir(tmp_path) == []


def _nested(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _nested_tuple(depth):
    value = ()
    for _ in range(depth - 1):
        value = (value,)
    return value


def _self_containing():
    value = []
    value.append(value)
    return value


def test_save_refuses_integers_load_could_not_read_and_names_them(tmp_path):
    with pytest.raises(ValueError, match=r"save: obj\.seed: integers of more than 4000 digits"):
        mg.save({"seed": 2 ** 20000}, tmp_path / "int.ckpt")
    with pytest.raises(TypeError, match=r"save: obj\.z: cannot save a complex"):
        mg.save({"z": np.complex128(1 + 2j)}, tmp_path / "int.ckpt")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- 12: exactly what save writes
_META_A0 = ("__minigrad__.npy", _meta_npy({"w": {"__array__": "a0"}}))
_A0 = ("a0.npy", _npy(np.arange(3.0)))


@pytest.mark.parametrize("entries, match", [
    ([_META_A0, _A0, ("a0.xyz", _npy(np.ones(2)))], "unexpected entry 'a0.xyz'"),
    ([_META_A0, _A0, ("b.npy", _npy(np.ones(2)))], "unexpected entry 'b.npy'"),
    ([_META_A0, ("a00.npy", _npy(np.ones(2)))], "unexpected entry 'a00.npy'"),
    ([_META_A0, ("dir/a0.npy", _npy(np.ones(2)))], "unexpected entry 'dir/a0.npy'"),
    ([_META_A0, _A0, ("a0.npy", _npy(np.ones(2)))], "two entries named 'a0.npy'"),
    ([_META_A0, _A0, _META_A0], "two entries named '__minigrad__.npy'"),
])
def test_entry_names_are_exactly_what_save_writes(tmp_path, entries, match):
    assert match in _checkpoint_error(_zip(tmp_path / "names.npz", entries))


@pytest.mark.parametrize("payload, match", [
    (_npy(np.array(["abc"], dtype="<U10")), "dtype <U10"),
    (_npy(np.array(["2024-01-01"], dtype="datetime64[D]")), "dtype datetime64[D]"),
    (_npy_header("|V0", (10 ** 18,)), "dtype |V0"),
    (_npy(np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")])), "dtype [('x', '<f4'), ('y', '<i4')]"),
    (_npy_header("|O", (1,)) + b"\x80\x04N.", "dtype object"),
    (b"\x93NUMPY\x03\x00" + _npy(np.ones(1))[8:], "version (3, 0)"),
    (b"not an npy file at all", "no readable .npy header"),
])
def test_only_dtypes_save_writes_are_loaded(tmp_path, payload, match):
    path = _zip(tmp_path / "dtype.npz", [_META_A0, ("a0.npy", payload)])
    assert match in _checkpoint_error(path)


@pytest.mark.parametrize("meta", [
    np.frombuffer(json.dumps({"format": "minigrad-checkpoint", "version": 1, "object": 1}).encode(),
                  np.uint8).reshape(1, -1),
    np.frombuffer(json.dumps({"format": "minigrad-checkpoint", "version": 1, "object": 1}).encode(), np.int8),
])
def test_metadata_entry_is_1d_uint8(tmp_path, meta):
    path = _zip(tmp_path / "meta.npz", [("__minigrad__.npy", _npy(meta))])
    assert "not the 1-d uint8 metadata" in _checkpoint_error(path)


@pytest.mark.parametrize("obj, arrays, match", [
    ({"w": {"__array__": "a0"}, "v": {"__array__": "a0"}}, 2, "obj.v: refers to array 'a0' where"),
    ({"w": {"__array__": "a1"}, "v": {"__array__": "a0"}}, 2, "obj.w: refers to array 'a1' where"),
    ({"w": {"__array__": "a0"}}, 2, "arrays nothing refers to: a1.npy"),
    ({"w": {"__array__": "a0", "x": 1}}, 1, "obj.w: malformed array reference"),
    ({"w": {"__array__": 0}}, 1, "obj.w: malformed array reference"),
    ({"w": {"__array__": "a0"}, "t": {"__tuple__": [1], "x": 2}}, 1, "obj.t: malformed tuple"),
    ({"w": {"__array__": "a0"}, "t": {"__tuple__": 3}}, 1, "obj.t: malformed tuple"),
])
def test_every_array_is_referenced_exactly_as_saved(tmp_path, obj, arrays, match):
    entries = [("__minigrad__.npy", _meta_npy(obj))] + [(f"a{i}.npy", _npy(np.ones(2))) for i in range(arrays)]
    assert match in _checkpoint_error(_zip(tmp_path / "refs.npz", entries))


@pytest.mark.parametrize("fields, match", [
    ({"extra": 1}, "metadata fields"),
    ({"version": True}, "no valid format version"),
    ({"version": 0}, "no valid format version"),
])
def test_metadata_fields_are_exactly_what_save_writes(tmp_path, fields, match):
    path = _zip(tmp_path / "fields.npz", [("__minigrad__.npy", _meta_npy(1, **fields))])
    assert match in _checkpoint_error(path)


def test_archive_read_by_hand_loads(tmp_path):
    """The hand-made archives above differ from np.savez's only where each test says."""
    assert mg.load(_zip(tmp_path / "plain.npz", [_META_A0, _A0]))["w"].tolist() == [0.0, 1.0, 2.0]


def test_a_directory_or_a_pipe_is_not_a_checkpoint(tmp_path):
    assert "is not a regular file" in _checkpoint_error(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        assert "is not a regular file" in _checkpoint_error(tmp_path / "pipe")  # and does not block


# ----------------------------------------------------------------------------- 17: save errors
def _assert_clean_failure(path, before, error, words):
    message = str(error)
    assert message == f"save: cannot write {path}: {words} (the old file, if any, is kept)"
    assert path.read_bytes() == before
    assert _temporaries(path.parent) == []


def test_full_disk_names_the_target_in_words(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    mg.save({"step": 1}, path)
    before = path.read_bytes()

    def fsync_on_a_full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync_on_a_full_disk)
    with pytest.raises(OSError) as info:
        mg.save({"step": 2, "w": np.ones(1000)}, path)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    _assert_clean_failure(path, before, info.value, "No space left on device")


def test_permission_denied_names_the_target(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    mg.save({"step": 1}, path)
    before = path.read_bytes()
    real_open = os.open

    def open_in_a_read_only_folder(file, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", file)
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_in_a_read_only_folder)
    with pytest.raises(PermissionError) as info:
        mg.save({"step": 2}, path)
    monkeypatch.undo()
    _assert_clean_failure(path, before, info.value, "Permission denied")


def test_missing_folder_is_named(tmp_path):
    path = tmp_path / "no" / "such" / "model.ckpt"
    with pytest.raises(FileNotFoundError) as info:
        mg.save({"step": 1}, path)
    assert str(info.value) == f"save: cannot write {path}: the folder {os.path.realpath(path.parent)} does not exist"


def test_error_through_a_symlink_names_both(tmp_path):
    link = tmp_path / "latest.ckpt"
    link.symlink_to(tmp_path / "gone" / "run.ckpt")
    with pytest.raises(FileNotFoundError) as info:
        mg.save({"step": 1}, link)
    assert f"{link} (a link to {os.path.realpath(tmp_path / 'gone' / 'run.ckpt')})" in str(info.value)


_ON_A_TMPFS = """
    import json, os, subprocess, sys
    import numpy as np
    import minigrad as mg
    folder = sys.argv[1]
    path = os.path.join(folder, "model.ckpt")
    mg.save({"step": 1}, path)
    if sys.argv[2] == "ro":
        subprocess.run(["mount", "-o", "remount,ro", folder], check=True)
    try:
        mg.save({"step": 2, "w": np.ones(100_000)}, path)  # 800 KB on a 256 KB file system
        error = None
    except OSError as exc:
        error = [type(exc).__name__, exc.errno, str(exc)]
    print(json.dumps({"error": error, "step": mg.load(path)["step"], "files": os.listdir(folder)}))
"""


def _run_on_a_tmpfs(folder, how):
    """Run _ON_A_TMPFS in a private mount namespace with a 256 KB tmpfs at `folder`, or skip."""
    unshare = shutil.which("unshare")
    if unshare is None or not hasattr(os, "geteuid"):
        pytest.skip("needs util-linux unshare")
    namespace = [unshare, "--mount"] if os.geteuid() == 0 else [unshare, "--user", "--map-root-user", "--mount"]
    mount = namespace + ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs in a private mount namespace here")
    shell = 'mount -t tmpfs -o size=256k tmpfs "$1" && exec "$2" -c "$3" "$1" "$4"'
    done = subprocess.run(namespace + ["sh", "-c", shell, "sh", str(folder), sys.executable,
                                       textwrap.dedent(_ON_A_TMPFS), how], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("how, name, code, words", [
    ("full", "OSError", errno.ENOSPC, "No space left on device"),
    ("ro", "OSError", errno.EROFS, "Read-only file system"),
])
def test_real_full_or_read_only_file_system(tmp_path, how, name, code, words):
    folder = tmp_path / "small"
    folder.mkdir()
    got = _run_on_a_tmpfs(folder, how)
    path = os.path.join(folder, "model.ckpt")
    assert got == {"error": [name, code, f"save: cannot write {path}: {words} (the old file, if any, is kept)"],
                   "step": 1, "files": ["model.ckpt"]}
