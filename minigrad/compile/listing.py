"""The printed plan: names of its buffers and other roots, its counts, one line per call."""
import collections

import numpy as np

from minigrad.compile.trace import Ref


def root_names(rec, checks):
    """Names of the roots that are not buffers: in0.. inputs, p0.. parameters (and g0.. their
    .grad), x0.. other external arrays, c0.. constants."""
    names, counts = {}, collections.Counter()
    for k, v in enumerate(rec.inputs):
        names[v.root.id] = f"in{k}"
    for k, (_, data, *_, grad_data) in enumerate(checks):
        names.setdefault(rec.value_of(data).root.id, f"p{k}")
        if grad_data is not None:
            names.setdefault(rec.value_of(grad_data).root.id, f"g{k}")
    for root in rec.roots:
        if root.id not in names:
            prefix = {"external": "x", "const": "c", "temp": "t", "input": "in"}[root.kind]
            names[root.id] = f"{prefix}{counts[prefix]}"
            counts[prefix] += 1
    return names


def size_text(nbytes):
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024


def plan_stats(rec, program, blocks):
    temps = [r for r in rec.roots if r.kind == "temp"]
    externals = [r for r in rec.roots if r.kind == "external"]
    return {
        "steps": len(program), "guards": sum(i.kind == "guard" for i in program),
        "random": sum(i.kind == "random" for i in program), "refills": sum(i.kind == "refill" for i in program),
        "buffers": len(blocks), "buffer_bytes": sum(b[3] for b in blocks),
        "temps": len(temps), "temp_bytes": sum(r.nbytes for r in temps),
        "input_bytes": sum(v.root.nbytes for v in rec.inputs),
        "externals": len(externals), "external_bytes": sum(r.nbytes for r in externals),
        "consts": sum(r.kind == "const" for r in rec.roots),
        "ops": rec.ops, "calls": rec.calls,
        "allocations": sum(r.kind in ("temp", "const") for r in rec.roots),
        "allocated_bytes": sum(r.nbytes for r in rec.roots if r.kind in ("temp", "const")),
    }


_DTYPES = {"float32": "f32", "float64": "f64", "float16": "f16", "int64": "i64", "int32": "i32", "bool": "bool"}


def _typed(v, name):
    dtype = _DTYPES.get(v.dtype.name, v.dtype.name)
    return f"{name(v)} {dtype}{list(v.shape)}".replace(" ", "", 0)


def _fmt(obj, name):
    if type(obj) is Ref:
        return name(obj.value)
    if type(obj) is slice:
        parts = ["" if p is None else str(p) for p in (obj.start, obj.stop, obj.step)]
        return ":".join(parts[:2] if obj.step is None else parts)
    if type(obj) in (tuple, list):
        left, right = "()" if type(obj) is tuple else "[]"
        if len(obj) > 6:
            return left + ", ".join(_fmt(o, name) for o in obj[:3]) + f", ... {len(obj)} items{right}"
        return left + ", ".join(_fmt(o, name) for o in obj) + ("," if len(obj) == 1 and left == "(" else "") + right
    if obj is Ellipsis:
        return "..."
    if isinstance(obj, np.ndarray):
        return f"array{list(obj.shape)}"
    text = getattr(obj, "__name__", None) or repr(obj)
    return text if len(text) <= 24 else text[:21] + "..."


def _short(where):
    """A file:line with the file's path cut to its last two parts (minigrad/nn/functional.py:59)."""
    path, _, line = where.rpartition(":")
    return "/".join(path.replace("\\", "/").split("/")[-2:]) + ":" + line


def describe(instr, name):
    """One line of the printed program."""
    kind = instr.kind
    if kind == "guard":
        what = instr.label[len("guard "):-len("()")]
        return f"guard {what}({_fmt(Ref(instr.reads[0]), name)}) == {instr.expected!r}   ({_short(instr.where)})"
    if kind == "refill":
        return f"{_typed(instr.writes[0], name)} = refill (a constant the step writes into)"
    dst = ", ".join(_typed(v, name) for _, v in instr.fresh)
    args = list(instr.args) if isinstance(instr.args, (tuple, list)) else [instr.args]
    kwargs = {k: v for k, v in (instr.kwargs or {}).items()}
    label = instr.label
    if label == "[]":
        call = f"{_fmt(args[0], name)}[{_fmt(args[1], name)[1:-1] if type(args[1]) is tuple else _fmt(args[1], name)}]"
    elif label == "[]=":
        index = _fmt(args[1], name)[1:-1] if type(args[1]) is tuple else _fmt(args[1], name)
        return f"{_fmt(args[0], name)}[{index}] = {_fmt(args[2], name)}"
    else:
        text = ", ".join([_fmt(a, name) for a in (args[1:] if label.startswith(".") else args)]
                         + [f"{k}={_fmt(v, name)}" for k, v in kwargs.items()])
        call = f"{_fmt(args[0], name)}{label}({text})" if label.startswith(".") else f"{label}({text})"
    if kind == "call":
        written = ", ".join(_typed(v, name) for v in instr.writes)
        note = f"   ({instr.note})" if instr.note else ""
        return (f"{call}    -> {written}" if written else call) + note
    return f"{dst} = {call}" + ("   (copied)" if kind == "copy" else "") + (f"   ({instr.note})" if instr.note else "")
