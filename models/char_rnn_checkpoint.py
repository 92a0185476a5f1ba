"""Checkpoints of a char-RNN run: all it takes to sample from it or to continue it exactly.

    from minigrad.models import char_rnn_checkpoint as checkpoints   # as examples/char_rnn.py does
    checkpoints.save(path, model, optimizer, vocab, config, run, state, scheduler)
    model, vocab = checkpoints.load_model(checkpoints.load(path), path)

A checkpoint is an `mg.save` file (arrays and JSON, never pickle) holding:

    model      CharRNN's constructor arguments      weights    its state_dict
    config     the run's settings (text, batch size, seq_len, optimizer, lr and its schedule, seed, ...)
    vocab      the characters, in index order
    optimizer  the optimizer's state_dict (Adam's moment estimates and step counts, ...)
    scheduler  the lr schedule's state_dict, or None without one
    run        step, epoch and window (where in the text), the losses so far, the text's digest
    hidden     the state carried into the next window (None at the start of an epoch)
    rng        minigrad's random generator (dropout), so a resumed run draws what it would have

`load` checks every field's type and shape against the others (`validate`) before anything is
built from them, so a damaged or edited file gives one error naming the file and the field.
A version-1 file (from before `--optimizer` and `--lr-schedule`) is read as Adam without a schedule.
"""
import math
import os
import sys
from typing import Callable, NamedTuple

import numpy as np

import minigrad as mg
from minigrad.models.char_rnn import CELLS, CharRNN
from minigrad.models.text import Vocab

FORMAT = "minigrad-char-rnn"
VERSION = 2  # 1: before config.optimizer, config.lr_schedule and scheduler


class CheckpointMismatch(mg.CheckpointError):
    """A char-RNN checkpoint that cannot be used: missing, not a char-RNN's, malformed (a field of
    the wrong type or shape), or for another vocabulary or model shape."""


# ----------------------------------------------------------------------------- kinds of setting
def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v):
    return _is_int(v) or isinstance(v, (float, np.floating))


class Kind(NamedTuple):
    """A kind of value a setting holds: `test(value)` says whether it is one, `description` says
    what it must be, `parse` reads it from the command line (whose flags use the same kinds)."""
    test: Callable
    description: str
    parse: Callable = str


POSITIVE_INT = Kind(lambda v: _is_int(v) and v >= 1, "an integer >= 1", int)
NON_NEGATIVE_INT = Kind(lambda v: _is_int(v) and v >= 0, "an integer >= 0", int)
POSITIVE = Kind(lambda v: _is_number(v) and math.isfinite(v) and v > 0, "a finite number > 0", float)
NON_NEGATIVE = Kind(lambda v: _is_number(v) and math.isfinite(v) and v >= 0, "a finite number >= 0", float)
FRACTION = Kind(lambda v: _is_number(v) and 0 < v < 1, "a number between 0 and 1 (both excluded)", float)
DROPOUT = Kind(lambda v: _is_number(v) and 0 <= v < 1, "a number >= 0 and < 1", float)
CELL = Kind(lambda v: isinstance(v, str) and v in CELLS, f"one of {', '.join(CELLS)}")
PATH = Kind(lambda v: isinstance(v, str) and v != "", "a file path")


def optional(kind):
    """`kind`, or None."""
    return Kind(lambda v: v is None or kind.test(v), f"None or {kind.description}", kind.parse)


# ----------------------------------------------------------------------------- optimizers and schedules
# The CLI's optimizers, each with its class's defaults but the lr (RMSprop's: alpha 0.99, eps 1e-8).
OPTIMIZERS = {"adam": mg.optim.Adam, "rmsprop": mg.optim.RMSprop, "sgd": mg.optim.SGD}
# What each keeps per parameter with those defaults (plain SGD keeps nothing).
OPTIMIZER_STATE = {"adam": ("step", "exp_avg", "exp_avg_sq"), "rmsprop": ("step", "square_avg"), "sgd": ()}
PLATEAU = dict(factor=0.5, patience=2)
PER_STEP = ("step", "exp", "cosine")  # schedules stepped after every training step; plateau: every evaluation


def parse_schedule(text):
    """--lr-schedule's spec as a tuple: ("none",), ("step", N, G), ("exp", G),
    ("cosine",) or ("plateau",); ValueError if it is none of these."""
    name, *values = text.split(":")
    if name in ("none", "cosine", "plateau") and not values:
        return (name,)
    if name == "step" and len(values) == 2:
        step_size, gamma = int(values[0]), float(values[1])
    elif name == "exp" and len(values) == 1:
        step_size, gamma = 1, float(values[0])
    else:
        raise ValueError(f"not an lr schedule: {text!r}")
    if step_size < 1 or not 0 < gamma <= 1:
        raise ValueError(f"N or G out of range: {text!r}")
    return ("step", step_size, gamma) if name == "step" else ("exp", gamma)


def schedule_text(text):
    """A spec written the one way the checkpoint keeps it ("step:100:0.5", "exp:1.0", ...)."""
    return ":".join(str(v) for v in parse_schedule(text))


def _is_schedule(v):
    try:
        return isinstance(v, str) and schedule_text(v) == v
    except ValueError:
        return False


OPTIMIZER = Kind(lambda v: isinstance(v, str) and v in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}")
SCHEDULE = Kind(_is_schedule, "none, step:N:G, exp:G, cosine or plateau "
                              "(N an integer >= 1, 0 < G <= 1)", schedule_text)


def make_optimizer(kind, params, lr):
    """OPTIMIZERS[kind] on `params`, with its defaults but the lr."""
    return OPTIMIZERS[kind](params, lr=lr)


def make_scheduler(spec, optimizer, total_steps):
    """The lr scheduler of a spec (None for "none"); `total_steps` is cosine's T_max."""
    name, *values = parse_schedule(spec)
    schedulers = mg.optim.lr_scheduler
    if name == "step":
        return schedulers.StepLR(optimizer, step_size=values[0], gamma=values[1])
    if name == "exp":
        return schedulers.ExponentialLR(optimizer, gamma=values[0])
    if name == "cosine":
        return schedulers.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "plateau":
        return schedulers.ReduceLROnPlateau(optimizer, **PLATEAU)
    return None


def _reference(kind, spec):
    """A fresh optimizer of `kind` and scheduler of `spec` on one number: what a saved one should
    look like (but its lr, and cosine's T_max: the run's)."""
    optimizer = make_optimizer(kind, [mg.tensor(0.0, requires_grad=True)], lr=1.0)
    return optimizer, make_scheduler(spec, optimizer, total_steps=1)


# What `model` and `config` hold (examples/char_rnn.py's MODEL_DEFAULTS, DATA_DEFAULTS, OPTIMIZER_DEFAULTS and
# TRAIN_DEFAULTS).
MODEL = dict(vocab_size=POSITIVE_INT, hidden_size=POSITIVE_INT, num_layers=POSITIVE_INT, cell=CELL,
             embedding_dim=optional(POSITIVE_INT), dropout=DROPOUT)
CONFIG = dict(cell=CELL, hidden_size=POSITIVE_INT, num_layers=POSITIVE_INT, embedding_dim=optional(POSITIVE_INT),
              dropout=DROPOUT, text=optional(PATH), max_chars=optional(POSITIVE_INT), val_fraction=FRACTION,
              batch_size=POSITIVE_INT, seq_len=POSITIVE_INT, seed=NON_NEGATIVE_INT, optimizer=OPTIMIZER,
              lr_schedule=SCHEDULE, lr=POSITIVE, clip=NON_NEGATIVE)
FIELDS = ("version", "model", "config", "vocab", "weights", "optimizer", "scheduler", "run", "hidden", "rng")


# ----------------------------------------------------------------------------- saving and loading
def save(path, model, optimizer, vocab, config, run, state, scheduler=None):
    """Write the run to `path` (atomically: an interrupted save leaves the old file)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    mg.save({
        "format": FORMAT, "version": VERSION,
        "model": model.config(),
        "config": config,
        "vocab": vocab.chars,
        "weights": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "run": run,
        "hidden": None if state is None else [s.data for s in _parts(state)],
        "rng": mg.generator().bit_generator.state,
    }, path)


def load(path):
    """The checkpoint at `path`, validated; CheckpointMismatch (or mg.CheckpointError) otherwise."""
    try:
        checkpoint = mg.load(path)
    except FileNotFoundError:
        raise CheckpointMismatch(f"no such checkpoint: {path}") from None
    except OSError as exc:  # a directory, no permission, ...
        raise CheckpointMismatch(f"cannot read the checkpoint {path}: {exc.strerror or exc}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointMismatch(f"{path} is a minigrad checkpoint but not a char-RNN one (no '{FORMAT}' "
                                 f"format tag)")
    _upgrade(checkpoint)
    validate(checkpoint, path)
    return checkpoint


def _upgrade(checkpoint):
    """A version-1 checkpoint, from before --optimizer and --lr-schedule: Adam without a schedule."""
    if checkpoint.get("version") == 1 and isinstance(checkpoint.get("config"), dict):
        checkpoint["config"] = {"optimizer": "adam", "lr_schedule": "none", **checkpoint["config"]}
        checkpoint.setdefault("scheduler", None)
        checkpoint["version"] = VERSION


# ----------------------------------------------------------------------------- validation
def validate(checkpoint, path):
    """Check the whole structure of a loaded checkpoint: every field's type, every array's shape
    against the stored configuration, and the fields against each other. Nothing is built or
    allocated first, so an edited `hidden_size` cannot make the model allocate gigabytes.
    Raises CheckpointMismatch naming `path` and the field."""
    check = _Checker(path)
    check.fields(checkpoint, "", FIELDS, allow_more=True)
    if checkpoint["version"] != VERSION:
        check.fail("version", f"is {checkpoint['version']!r}; this program reads versions 1 and {VERSION}")
    model = check.settings(checkpoint["model"], "model", MODEL)
    vocab = checkpoint["vocab"]
    check.that(isinstance(vocab, str) and vocab != "" and len(set(vocab)) == len(vocab), "vocab",
               f"is {_show(vocab)}, expected a string of distinct characters")
    check.that(len(vocab) == model["vocab_size"], "vocab",
               f"has {len(vocab)} characters but 'model.vocab_size' is {model['vocab_size']}")
    shapes = CharRNN.parameter_shapes(**model)
    described = "'model' (" + ", ".join(f"{k} {v!r}" for k, v in model.items()) + ")"
    check.arrays(checkpoint["weights"], "weights", shapes, described)
    config = check.settings(checkpoint["config"], "config", CONFIG)
    for k in [k for k in CONFIG if k in MODEL]:
        check.that(config[k] == model[k], f"config.{k}", f"is {config[k]!r} but 'model.{k}' is {model[k]!r}")
    _validate_optimizer(check, checkpoint["optimizer"], list(shapes.values()))
    _validate_run(check, checkpoint["run"])
    _validate_optimizer_kind(check, checkpoint["optimizer"], config)
    _validate_scheduler(check, checkpoint["scheduler"], config, checkpoint["optimizer"], checkpoint["run"])
    _validate_hidden(check, checkpoint["hidden"], model, config["batch_size"])
    _validate_rng(check, checkpoint["rng"])


class _Checker:
    """The checks' vocabulary: each failure names the file and the field (dotted, as 'run.step')."""

    def __init__(self, path):
        self.path = path

    def fail(self, where, problem):
        raise CheckpointMismatch(f"{self.path}: malformed char-RNN checkpoint: '{where}' {problem}")

    def that(self, ok, where, problem):
        if not ok:
            self.fail(where, problem)

    def fields(self, d, where, names, allow_more=False):
        """`d` is a dict holding exactly the fields `names` (or more of them, if allow_more)."""
        self.that(isinstance(d, dict), where or "(top level)", f"is {_show(d)}, expected a dict")
        missing = [k for k in names if k not in d]
        self.that(not missing, _join(where, missing[0]) if missing else where, "is missing")
        extra = [k for k in d if k not in names]
        self.that(allow_more or not extra, _join(where, extra[0]) if extra else where, "is not a field of it")

    def settings(self, d, where, kinds):
        """`d` holds exactly the settings of `kinds`, each of its kind."""
        self.fields(d, where, kinds)
        for k, kind in kinds.items():
            self.that(kind.test(d[k]), f"{where}.{k}", f"is {_show(d[k])}, expected {kind.description}")
        return d

    def array(self, a, where, shape, described="the stored settings"):
        """A finite float array of this shape, which `described` (where it comes from) needs."""
        self.that(isinstance(a, np.ndarray) and a.dtype.kind == "f", where,
                  f"is {_show(a)}, expected a float array of shape {shape}")
        self.that(a.shape == tuple(shape), where, f"has shape {a.shape}, but {described} needs {shape}")
        self.that(np.isfinite(a).all(), where, "holds NaN or infinite values (did the training diverge?)")

    def arrays(self, d, where, shapes, described):
        """`d` is a dict of float arrays with exactly the names and shapes of `shapes`."""
        self.fields(d, where, shapes)
        for name, shape in shapes.items():
            self.array(d[name], f"{where}.{name}", shape, described)


def _validate_optimizer(check, optimizer, shapes):
    """An optimizer's state_dict for parameters of these shapes, in order: one parameter group of
    numbers (and tuples of them, as Adam's betas); per parameter, numbers and arrays of its shape.
    (The optimizer's own load_state_dict then checks what its settings mean.)"""
    check.fields(optimizer, "optimizer", ("state", "param_groups"))
    groups = optimizer["param_groups"]
    check.that(isinstance(groups, list) and len(groups) == 1, "optimizer.param_groups",
               f"is {_show(groups)}, expected a list of one parameter group")
    group, where = groups[0], "optimizer.param_groups[0]"
    check.that(isinstance(group, dict) and "params" in group, where,
               f"is {_show(group)}, expected a dict with 'params'")
    check.that(group["params"] == list(range(len(shapes))), f"{where}.params",
               f"is {_show(group['params'])}, expected the indices 0 to {len(shapes) - 1}")
    for k, v in group.items():
        values = v if isinstance(v, (list, tuple)) else [v]
        check.that(k == "params" or all(x is None or isinstance(x, bool) or NON_NEGATIVE.test(x) for x in values),
                   f"{where}.{k}", f"is {_show(v)}, expected {NON_NEGATIVE.description} (or a flag)")
    states = optimizer["state"]
    check.that(isinstance(states, dict), "optimizer.state", f"is {_show(states)}, expected a dict")
    for key, state in states.items():
        where = f"optimizer.state.{key}"
        check.that(key.isascii() and key.isdigit() and int(key) < len(shapes), where,
                   f"is not a parameter index (there are {len(shapes)} parameters)")
        check.that(isinstance(state, dict), where, f"is {_show(state)}, expected a dict")
        for k, v in state.items():
            if isinstance(v, np.ndarray) and v.ndim > 0:
                check.array(v, f"{where}.{k}", shapes[int(key)], f"parameter {key}")
            else:
                v = v.item() if isinstance(v, np.ndarray) else v
                check.that(NON_NEGATIVE.test(v), f"{where}.{k}", f"is {_show(v)}, expected {NON_NEGATIVE.description}")


def _validate_optimizer_kind(check, optimizer, config):
    """The optimizer's state is that of config.optimizer with the CLI's settings: its parameter
    group holds that optimizer's hyper-parameters at their defaults (any lr; one missing takes its
    default, as in checkpoints from before Adam had amsgrad), and each parameter's state exactly
    what that optimizer keeps (so Adam is never handed RMSprop's state)."""
    kind, spec = config["optimizer"], config["lr_schedule"]
    reference = _reference(kind, spec)[0].param_groups[0]
    group, where = optimizer["param_groups"][0], "optimizer.param_groups[0]"
    name = f"{OPTIMIZERS[kind].__name__} (config.optimizer {kind!r})"
    extra = [k for k in group if k not in reference]
    check.that(not extra, f"{where}.{extra[0]}" if extra else where, f"is not a setting of {name}")
    needed = [k for k in ("lr", "initial_lr") if k in reference and k not in group]
    check.that(not needed, f"{where}.{needed[0]}" if needed else where,
               f"is missing (config.lr_schedule is {spec!r})")
    for k, v in group.items():
        check.that(k in ("params", "lr", "initial_lr") or v == reference[k], f"{where}.{k}",
                   f"is {_show(v)}, but {name} has {reference[k]!r}")
    for key, state in optimizer["state"].items():
        check.fields(state, f"optimizer.state.{key}", OPTIMIZER_STATE[kind])


# A schedule's state: what changes as it runs; the rest must be what the spec builds.
_SCHEDULE_STATE = dict(last_epoch=NON_NEGATIVE_INT, T_max=POSITIVE_INT, num_bad_epochs=NON_NEGATIVE_INT,
                       cooldown_counter=NON_NEGATIVE_INT,
                       best=Kind(lambda v: _is_number(v) and not math.isnan(v), "a number"))
_LRS = Kind(lambda v: isinstance(v, list) and len(v) == 1 and NON_NEGATIVE.test(v[0]),
            "a list of one number >= 0 (one parameter group)")


def _validate_scheduler(check, scheduler, config, optimizer, run):
    """None without a schedule; else the state_dict of config.lr_schedule's scheduler, at the
    run's step (step, exp, cosine) and the optimizer's lr."""
    spec = config["lr_schedule"]
    if spec == "none":
        check.that(scheduler is None, "scheduler", f"is {_show(scheduler)}, but config.lr_schedule is 'none'")
        return
    check.that(isinstance(scheduler, dict), "scheduler", f"is {_show(scheduler)}, expected a dict "
                                                         f"(config.lr_schedule is {spec!r})")
    reference = _reference(config["optimizer"], spec)[1].state_dict()
    check.fields(scheduler, "scheduler", reference)
    for k, v in reference.items():
        kind = _SCHEDULE_STATE.get(k, _LRS if k in ("base_lrs", "_last_lr") else None)
        if kind is not None:
            check.that(kind.test(scheduler[k]), f"scheduler.{k}", f"is {_show(scheduler[k])}, "
                                                                  f"expected {kind.description}")
        else:
            check.that(scheduler[k] == v, f"scheduler.{k}", f"is {_show(scheduler[k])}, but --lr-schedule "
                                                            f"{spec} has {v!r}")
    if parse_schedule(spec)[0] in PER_STEP:
        check.that(scheduler["last_epoch"] == run["step"], "scheduler.last_epoch",
                   f"is {scheduler['last_epoch']}, but the schedule steps with the run ('run.step' "
                   f"{run['step']})")
    lr = optimizer["param_groups"][0]["lr"]
    check.that(scheduler["_last_lr"] == [lr], "scheduler._last_lr",
               f"is {_show(scheduler['_last_lr'])}, but the optimizer's lr is {lr!r}")


def _validate_run(check, run):
    check.fields(run, "run", ("step", "epoch", "window", "losses", "val", "text_sha256"))
    for k in ("step", "epoch", "window"):
        check.that(NON_NEGATIVE_INT.test(run[k]), f"run.{k}", f"is {_show(run[k])}, expected an integer >= 0")
    check.that(isinstance(run["losses"], list) and all(_is_number(v) for v in run["losses"]), "run.losses",
               f"is {_show(run['losses'])}, expected a list of numbers")
    check.that(isinstance(run["val"], list) and all(
        isinstance(v, (list, tuple)) and len(v) == 2 and _is_int(v[0]) and _is_number(v[1]) for v in run["val"]),
        "run.val", f"is {_show(run['val'])}, expected a list of [step, loss] pairs")
    digest = run["text_sha256"]
    check.that(isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest),
               "run.text_sha256", f"is {_show(digest)}, expected a SHA-256 digest (64 hex digits)")


def _validate_hidden(check, hidden, model, batch_size):
    """None, or the recurrent state's parts ((h, c) for an LSTM), each (num_layers, batch, hidden)."""
    if hidden is None:
        return
    n_parts = 2 if model["cell"] == "lstm" else 1
    check.that(isinstance(hidden, list) and len(hidden) == n_parts, "hidden",
               f"is {_show(hidden)}, expected None or a list of {n_parts} arrays")
    for i, part in enumerate(hidden):
        check.array(part, f"hidden[{i}]", (model["num_layers"], batch_size, model["hidden_size"]),
                    "(num_layers, config.batch_size, hidden_size)")


def _validate_rng(check, state):
    """A state numpy accepts for minigrad's bit generator (tried on a fresh generator, not minigrad's)."""
    try:
        type(mg.generator().bit_generator)().state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        check.fail("rng", f"is not a random generator state ({exc})")


def _join(where, name):
    return f"{where}.{name}" if where else str(name)


def _show(value, width=40):
    """A short description of a value for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


# ----------------------------------------------------------------------------- using a checkpoint
def check_vocab(checkpoint, vocab, path):
    """A clear error when the text's characters are not those the checkpoint was trained on."""
    saved = checkpoint["vocab"]
    if saved != vocab.chars:
        differences = [f"{what}: {''.join(sorted(chars))!r}" for what, chars in
                       (("only in the checkpoint", set(saved) - set(vocab.chars)),
                        ("only in this text", set(vocab.chars) - set(saved))) if chars]
        raise CheckpointMismatch(f"{path} was trained on a different vocabulary: {len(saved)} characters, "
                                 f"this text has {len(vocab)} ({'; '.join(differences)}). Resume with the "
                                 f"text it was trained on.")


def load_model(checkpoint, path):
    """The trained CharRNN and its Vocab (of a checkpoint `load` has validated)."""
    model = CharRNN(**checkpoint["model"])
    load_weights(model, checkpoint, path)
    return model, Vocab(checkpoint["vocab"])


def load_weights(model, checkpoint, path):
    if model.vocab_size != len(checkpoint["vocab"]):
        raise CheckpointMismatch(f"{path}: the model has {model.vocab_size} outputs but the vocabulary "
                                 f"{len(checkpoint['vocab'])} characters")
    try:
        model.load_state_dict(checkpoint["weights"])
    except ValueError as exc:
        lines = "; ".join(line.strip() for line in str(exc).splitlines())
        raise CheckpointMismatch(f"{path} does not fit this model: {lines}") from None


def restore(checkpoint, model, optimizer, run, path, scheduler=None):
    """Load weights, optimizer and scheduler state, the run's position and the RNG into a freshly
    built run; returns the hidden state to continue with."""
    load_weights(model, checkpoint, path)
    try:
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(checkpoint["scheduler"])
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointMismatch(f"{path}: the optimizer's or lr schedule's state does not fit: {exc}") from None
    mg.generator().bit_generator.state = checkpoint["rng"]
    saved = checkpoint["run"]
    digest = run["text_sha256"]
    run.update(saved, losses=list(saved["losses"]), val=[list(v) for v in saved["val"]])
    if saved["text_sha256"] != digest:
        print(f"warning: the text differs from the one {path} was trained on (same vocabulary); "
              f"training continues from the start of this text", file=sys.stderr)
        run.update(window=0, text_sha256=digest)
        return None
    if checkpoint["hidden"] is None:
        return None
    parts = tuple(mg.tensor(a) for a in checkpoint["hidden"])
    return parts if len(parts) > 1 else parts[0]


def _parts(state):
    return state if isinstance(state, tuple) else (state,)
