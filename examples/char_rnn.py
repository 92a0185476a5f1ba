"""A character-level language model, trained end to end on real text with minigrad.

    python examples/char_rnn.py train                  # offline corpus: Python's own stdlib source
                                                       # (`demo` is another name for `train`)
    python examples/char_rnn.py train --text anna.txt --minutes 10
    python examples/char_rnn.py train --optimizer rmsprop --lr-schedule cosine --steps 3000
    python examples/char_rnn.py sample --checkpoint runs/char_rnn/char_rnn.ckpt --prime "Anna"

Training follows the lecture's truncated backpropagation through time: the text is cut into
`batch_size` contiguous streams, each stream is read in windows of `seq_len` characters, and
the hidden state is carried from one window to the next but detached between them, so the
gradient flows back at most `seq_len` steps while the memory spans the whole stream.

Each step's forward, loss, zero_grad, backward and gradient clipping (`forward_backward`) run
through `mg.compile`: traced on the first windows, replayed as a planned numpy program after,
with the same numbers bit for bit; the optimizer step, the lr schedule, reading the loss and
detaching the state follow it eagerly (`train_step`; both in minigrad.models.char_rnn, with
`evaluate`). `--no-compile` runs it all eagerly.
Evaluation, sampling and the pictures are always eager.
"""
import argparse
import contextlib
import hashlib
import itertools
import math
import os
import signal
import sys
import tempfile
import time

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad.models import char_rnn_checkpoint as checkpoints
from minigrad.models.batching import count_windows, sequence_windows
from minigrad.models.char_rnn import (
    CELLS, CharRNN, default_prime, evaluate, forward_backward, generate, train_step)
from minigrad.models.char_rnn_checkpoint import (
    CONFIG, NON_NEGATIVE, NON_NEGATIVE_INT, OPTIMIZERS, POSITIVE, POSITIVE_INT, SCHEDULE,
    CheckpointMismatch)
from minigrad.models.text import TextError, Vocab, read_text, split, stdlib_corpus
from minigrad.threads import use_one_blas_thread

DEFAULT_CHECKPOINT = os.path.join("runs", "char_rnn", "char_rnn.ckpt")
STDLIB_MAX_CHARS = 2_000_000
LN2 = math.log(2.0)

# What a run is; a resumed run takes these from its checkpoint, and a flag that contradicts
# the checkpoint is an error (the model's shape, the data's layout, the optimizer, the lr
# schedule and the seed fix the run).
MODEL_DEFAULTS = dict(cell="lstm", hidden_size=256, num_layers=1, embedding_dim=None, dropout=0.0)
DATA_DEFAULTS = dict(text=None, max_chars=None, val_fraction=0.1, batch_size=32, seq_len=64, seed=0)
OPTIMIZER_DEFAULTS = dict(optimizer="adam", lr_schedule="none")
# How a run proceeds; these may change on resume (lr only without a schedule, which sets it).
TRAIN_DEFAULTS = dict(lr=None, clip=5.0)  # lr: DEFAULT_LR of the optimizer
DEFAULT_LR = dict(adam=3e-3, rmsprop=2e-3, sgd=1.0)
DEFAULT_STEPS = 1000


class UsageError(Exception):
    """A problem the user can fix (bad text, mismatched checkpoint): printed without a traceback."""


# ----------------------------------------------------------------------------- the command line
def flag(kind):
    """An argparse `type=` reading a value of `kind` (checkpoints.POSITIVE_INT, ...):
    a bad value is argparse's one-line usage error, before anything runs."""
    def convert(text):
        try:
            value = kind.parse(text)
        except ValueError:
            value = None
        if value is None or not kind.test(value):
            raise argparse.ArgumentTypeError(f"expected {kind.description}, got {text!r}")
        return value
    return convert


def prime_text(text):
    """--prime: non-empty text (a byte that is not UTF-8 arrives as a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(f"not valid UTF-8 text: {text!r}") from None
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def build_parser():
    parser = argparse.ArgumentParser(
        prog="char_rnn.py",
        description="Train a character-level recurrent language model on a text, then sample from it.",
        epilog="Run 'char_rnn.py train --help' or 'char_rnn.py sample --help' for each command's options.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{train,demo,sample}")

    train = commands.add_parser(
        "train", aliases=["demo"],
        help="train a model (or continue one with --resume); 'demo' is another name for it: with no "
             "options, a short run on the offline corpus that samples and draws the trained model",
        description="Train a stacked LSTM/GRU/RNN on a text by truncated backpropagation through time.\n"
                    "The text is split into a training part and a validation part (its end), cut into\n"
                    "contiguous streams and read in windows, carrying the hidden state between them.\n"
                    "Each step's forward and backward run through mg.compile (--no-compile: eagerly; the\n"
                    "same losses, bit for bit). Ctrl-C saves a checkpoint before exiting; --resume\n"
                    "continues exactly.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  char_rnn.py train                                   # a short run on the offline corpus\n"
               "  char_rnn.py train --text anna.txt --minutes 10      # 10 minutes on your own text\n"
               "  char_rnn.py train --resume runs/char_rnn/char_rnn.ckpt --steps 3000")
    data = train.add_argument_group("text")
    data.add_argument("--text", metavar="PATH",
                      help="a UTF-8 text file (default: the offline corpus, this Python's standard-library "
                           f"source, first {STDLIB_MAX_CHARS:,} characters)")
    data.add_argument("--max-chars", type=flag(POSITIVE_INT), metavar="N",
                      help="use only the first N characters of the text")
    data.add_argument("--val-fraction", type=flag(CONFIG["val_fraction"]), metavar="F",
                      help=f"the last F of the text is for validation (default {DATA_DEFAULTS['val_fraction']})")
    model = train.add_argument_group("model")
    model.add_argument("--cell", choices=sorted(CELLS), help=f"recurrent cell (default {MODEL_DEFAULTS['cell']})")
    model.add_argument("--hidden-size", type=flag(POSITIVE_INT), metavar="H",
                       help=f"hidden units per layer (default {MODEL_DEFAULTS['hidden_size']})")
    model.add_argument("--num-layers", type=flag(POSITIVE_INT), metavar="L",
                       help=f"stacked recurrent layers (default {MODEL_DEFAULTS['num_layers']})")
    model.add_argument("--embedding-dim", type=flag(POSITIVE_INT), metavar="E",
                       help="learn an E-dimensional character embedding (default: one-hot input)")
    model.add_argument("--dropout", type=flag(CONFIG["dropout"]), metavar="P",
                       help=f"dropout between recurrent layers (default {MODEL_DEFAULTS['dropout']})")
    opt = train.add_argument_group("training")
    opt.add_argument("--batch-size", type=flag(POSITIVE_INT), metavar="B",
                     help=f"parallel streams of text (default {DATA_DEFAULTS['batch_size']})")
    opt.add_argument("--seq-len", type=flag(POSITIVE_INT), metavar="T",
                     help=f"window length = steps of backpropagation through time "
                          f"(default {DATA_DEFAULTS['seq_len']})")
    opt.add_argument("--optimizer", choices=list(OPTIMIZERS),
                     help="adam (default): Adam, betas 0.9, 0.999; rmsprop: RMSprop, as the original char-rnn, "
                          "alpha 0.99, eps 1e-8; sgd: plain SGD, no momentum; PyTorch's defaults but the lr. "
                          "A resumed run keeps its optimizer")
    opt.add_argument("--lr", type=flag(POSITIVE),
                     help="learning rate (default " + ", ".join(f"{v} for {k}" for k, v in DEFAULT_LR.items())
                          + "); the starting one with --lr-schedule")
    opt.add_argument("--lr-schedule", type=flag(SCHEDULE), metavar="SPEC",
                     help="none (default); step:N:G: multiply the lr by G every N steps; exp:G: by G every "
                          "step; cosine: from --lr down to 0 over the run's --steps (these three step after "
                          "every training step); plateau: halve it when the validation loss has not improved "
                          "at 3 evaluations in a row (every --eval-every steps, on the --val-chars; "
                          "ReduceLROnPlateau, factor 0.5, patience 2). 0 < G <= 1. A resumed run keeps its "
                          "schedule, and its --lr")
    opt.add_argument("--clip", type=flag(NON_NEGATIVE), metavar="NORM",
                     help=f"clip the gradient's global norm to NORM (default {TRAIN_DEFAULTS['clip']}; "
                          f"0: no clipping)")
    opt.add_argument("--steps", type=flag(POSITIVE_INT), metavar="N",
                     help=f"train until step N, counting steps before a resume (default {DEFAULT_STEPS}, "
                          f"or no limit when --minutes is given; a resumed cosine schedule: its last step)")
    opt.add_argument("--minutes", type=flag(POSITIVE), metavar="M", help="stop after M minutes of this run")
    opt.add_argument("--seed", type=flag(NON_NEGATIVE_INT),
                     help=f"random seed: same seed, same losses (default {DATA_DEFAULTS['seed']})")
    opt.add_argument("--no-compile", action="store_true",
                     help="train eagerly: by default each step's forward, loss, backward and clipping run "
                          "through mg.compile (traced on the first window of each shape, replayed after: the "
                          "same losses, bit for bit, faster); the optimizer step runs eagerly either way")
    out = train.add_argument_group("progress and output")
    out.add_argument("--eval-every", type=flag(NON_NEGATIVE_INT), default=250, metavar="N",
                     help="validate and print a sample every N steps (default 250; 0: only at the end)")
    out.add_argument("--val-chars", type=flag(POSITIVE_INT), default=100_000, metavar="N",
                     help="characters of the validation text scored at those intervals (default 100000; "
                          "the final validation scores all of it)")
    out.add_argument("--sample-length", type=flag(NON_NEGATIVE_INT), default=200, metavar="N",
                     help="length of the samples printed while training (default 200)")
    out.add_argument("--save-every", type=flag(NON_NEGATIVE_INT), default=500, metavar="N",
                     help="also save a checkpoint every N steps (default 500; 0: only at the end)")
    out.add_argument("--checkpoint", metavar="PATH",
                     help=f"where to save (default {DEFAULT_CHECKPOINT}, or the --resume file)")
    out.add_argument("--resume", metavar="PATH", help="continue training from this checkpoint")
    out.add_argument("--overwrite", action="store_true",
                     help="replace the file at the checkpoint path if there is one (by default a new run "
                          "refuses to, so as not to lose that run's training)")
    out.add_argument("--no-pictures", action="store_true",
                     help="skip the unrolled-graph picture and gradient-flow plot written at the end")
    train.set_defaults(run=cmd_train)

    sample = commands.add_parser(
        "sample", help="generate text from a trained model",
        description="Generate text one character at a time, feeding each sampled character back in.")
    sample.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, metavar="PATH",
                        help=f"a checkpoint written by train (default {DEFAULT_CHECKPOINT})")
    sample.add_argument("--prime", type=prime_text, default=None,
                        help="text to start from (default: a newline, or the first character of the vocabulary)")
    sample.add_argument("--length", type=flag(NON_NEGATIVE_INT), default=500,
                        help="characters to generate (default 500)")
    sample.add_argument("--temperature", type=flag(NON_NEGATIVE), default=0.8,
                        help="below 1: safer and more repetitive; above 1: wilder; 0: always the most "
                             "likely character (default 0.8)")
    sample.add_argument("--top-k", type=flag(POSITIVE_INT), metavar="K",
                        help="sample only among the K most likely characters")
    sample.add_argument("--seed", type=flag(NON_NEGATIVE_INT),
                        help="random seed for reproducible samples (default: random)")
    sample.set_defaults(run=cmd_sample)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, TextError, CheckpointMismatch, mg.CheckpointError) as exc:
        print(f"char_rnn.py {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside the training loop, which saves first
        print("interrupted", file=sys.stderr)
        return 130


# ----------------------------------------------------------------------------- training
def cmd_train(args):
    path = args.checkpoint or args.resume or DEFAULT_CHECKPOINT
    check_not_replacing(path, args)
    checkpoint = checkpoints.load(args.resume) if args.resume else None
    cfg = run_config(args, checkpoint)
    steps, schedule_steps = step_limits(args, cfg, checkpoint)
    text, source = load_corpus(cfg)
    vocab = Vocab.from_text(text)
    if checkpoint is not None:
        checkpoints.check_vocab(checkpoint, vocab, args.resume)
    ids = vocab.encode(text)
    train_ids, val_ids = split(ids, cfg["val_fraction"])
    check_sizes(len(text), train_ids, val_ids, cfg)
    check_writable(path)

    mg.manual_seed(cfg["seed"])
    model = CharRNN(len(vocab), **{k: cfg[k] for k in MODEL_DEFAULTS})
    optimizer = checkpoints.make_optimizer(cfg["optimizer"], model.parameters(), cfg["lr"])
    scheduler = checkpoints.make_scheduler(cfg["lr_schedule"], optimizer, schedule_steps)
    run = dict(step=0, epoch=0, window=0, losses=[], val=[], text_sha256=text_digest(text))
    state = None
    if checkpoint is not None:
        state = checkpoints.restore(checkpoint, model, optimizer, run, args.resume, scheduler)
        check_window(run, train_ids, cfg, args.resume)
        if scheduler is None:
            for group in optimizer.param_groups:
                group["lr"] = cfg["lr"]  # without a schedule, a resume may change it (with --lr)

    n_params = sum(p.numel() for p in model.parameters())
    print(f"text: {source}: {len(text):,} characters, {len(vocab)} distinct; "
          f"{len(train_ids):,} for training, {len(val_ids):,} for validation")
    print(f"model: {cfg['num_layers']} x {cfg['cell'].upper()} {cfg['hidden_size']}, "
          f"{'one-hot' if not cfg['embedding_dim'] else 'embedding ' + str(cfg['embedding_dim'])} input, "
          f"{n_params:,} parameters; batch {cfg['batch_size']} streams x "
          f"seq_len {cfg['seq_len']}, {OPTIMIZERS[cfg['optimizer']].__name__} lr {cfg['lr']}"
          f"{'' if scheduler is None else ' (schedule ' + cfg['lr_schedule'] + ')'}, "
          f"clip {cfg['clip'] or 'off'}, seed {cfg['seed']}")
    if run["step"]:
        print(f"resuming from {args.resume} at step {run['step']} (epoch {run['epoch']}, window {run['window']})"
              f"{lr_note(optimizer, scheduler)}")
    if steps is not None and run["step"] >= steps:
        further = ("its cosine schedule ends there: start a new run to train longer" if steps == schedule_steps
                   else "pass a larger --steps to train further")
        print(f"the checkpoint is already at step {run['step']} >= --steps {steps}; {further}")
        return 0

    def save(state):
        try:
            checkpoints.save(path, model, optimizer, vocab, cfg, run, state, scheduler)
        except OSError as exc:
            raise UsageError(f"could not save the checkpoint {path}: {exc}") from None

    # From here to the final save, Ctrl-C saves: during a step, an evaluation or the final one.
    with StopOnCtrlC() as stop:
        state = train_loop(model, optimizer, scheduler, state, vocab, train_ids, val_ids, cfg, run, args,
                           steps, stop, save)
        final = None if stop.requested else evaluate(model, val_ids, cfg["batch_size"], cfg["seq_len"],
                                                     should_stop=lambda: stop.requested)
        if final is not None:
            run["val"].append([run["step"], final[0]])
        with stop.saving():
            save(state)
    if stop.requested:
        print(f"interrupted at step {run['step']}: checkpoint saved to {path}\n"
              f"continue with: python {sys.argv[0]} train --resume {path}")
        return 130

    nats, n = final
    print(f"\nstep {run['step']}: validation loss {nats:.4f} nats/char = {nats / LN2:.4f} bits/char "
          f"(all {n:,} validation characters)")
    print("sample (temperature 0.8):\n" + sample_text(model, vocab, 500, cfg["seed"], run["step"]))
    print(f"\ncheckpoint: {path}")
    if not args.no_pictures:
        from minigrad.viz.char_rnn_pictures import write_pictures  # needs graphviz and matplotlib
        for what, where in write_pictures(model, val_ids, os.path.dirname(path) or ".", cfg["seed"]):
            print(f"{what}: {where}")
    print(f"sample more: python {sys.argv[0]} sample --checkpoint {path} --length 1000")
    return 0


def train_loop(model, optimizer, scheduler, state, vocab, train_ids, val_ids, cfg, run, args, steps, stop,
               save):
    """Train until `steps`, the time limit or Ctrl-C (`stop.requested`), updating `run` and calling
    `save(state)` at intervals. Returns the hidden state carried into the next window.

    The evaluation at each multiple of --eval-every opens the next step's turn, and a turn whose
    evaluation completed always trains its step. So a run stopped at such a step (by --steps, the
    time limit or Ctrl-C) has not evaluated it yet, and the plateau schedule's resumed run
    evaluates it first, seeing the same losses as an uninterrupted run. (Without that schedule a
    resumed run does not repeat the evaluation of the step it starts from.)"""
    B, T = cfg["batch_size"], cfg["seq_len"]
    windows_per_epoch = count_windows(len(train_ids), B, T)
    deadline = None if args.minutes is None else time.monotonic() + 60 * args.minutes
    plateau = cfg["lr_schedule"] == "plateau"
    train_time, trained_steps, batches = 0.0, 0, None
    step = forward_backward if args.no_compile else mg.compile(forward_backward)
    bar = tqdm(total=steps, initial=run["step"], unit="step", dynamic_ncols=True, mininterval=0.5,
               desc="train")
    while (steps is None or run["step"] < steps) and not stop.requested:
        if deadline is not None and time.monotonic() >= deadline:
            break
        due = args.eval_every and run["step"] and run["step"] % args.eval_every == 0
        if due and (trained_steps or plateau):  # (a resumed run starts with it only for plateau)
            scored = evaluate(model, val_ids[:args.val_chars + 1], B, T, should_stop=lambda: stop.requested)
            if scored is None:
                break  # Ctrl-C during the evaluation: a resumed run takes it again
            nats, n = scored
            run["val"].append([run["step"], nats])
            if plateau:
                scheduler.step(nats)
            sample = sample_text(model, vocab, args.sample_length, cfg["seed"], run["step"])
            bar.write(f"\nstep {run['step']}: validation {nats:.4f} nats/char = {nats / LN2:.4f} bits/char "
                      f"({n:,} chars), training {np.mean(run['losses'][-50:]):.4f}"
                      f"{lr_note(optimizer, scheduler)}; sample:\n{sample}\n")

        started = time.perf_counter()
        if batches is None:  # the epoch's windows, from where the run stands in it
            batches = itertools.islice(sequence_windows(train_ids, B, T), run["window"], None)
        if run["window"] == 0:
            state = None  # each epoch starts the streams over, from a zero state
        x, y = next(batches)
        lr = lr_note(optimizer, scheduler)  # the lr of this step, before the schedule sets the next one's
        loss, state = train_step(model, optimizer, x, y, state, cfg["clip"], step)
        if scheduler is not None and not plateau:
            scheduler.step()
        run["step"] += 1
        run["window"] += 1
        if run["window"] == windows_per_epoch:
            run["window"], run["epoch"], batches = 0, run["epoch"] + 1, None
        run["losses"].append(loss)
        train_time += time.perf_counter() - started
        trained_steps += 1
        recent = float(np.mean(run["losses"][-50:]))
        bar.set_postfix_str(f"loss {recent:.3f}, {recent / LN2:.3f} bits/char, "
                            f"{trained_steps * B * T / train_time:,.0f} chars/s{lr}", refresh=False)
        bar.update(1)
        if args.save_every and run["step"] % args.save_every == 0 and not stop.requested:
            with stop.saving():
                save(state)
    bar.close()
    return state


def lr_note(optimizer, scheduler):
    """", lr 0.00123" while a schedule sets the lr; nothing without one."""
    return "" if scheduler is None else f", lr {optimizer.param_groups[0]['lr']:.3g}"


class StopOnCtrlC:
    """While active, the first Ctrl-C asks the run to stop (after the current step, or at once
    from an evaluation) and save a checkpoint; a second one raises KeyboardInterrupt at once,
    unless a checkpoint is being written (`with stop.saving():`), which is finished first."""

    def __enter__(self):
        self.requested, self._saving = False, False
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested and not self._saving:
            raise KeyboardInterrupt
        if not self.requested:
            tqdm.write("\nCtrl-C: stopping and saving a checkpoint (Ctrl-C again quits at once)")
        self.requested = True

    @contextlib.contextmanager
    def saving(self):
        self._saving = True
        try:
            yield
        finally:
            self._saving = False

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self._previous)
        return False


def sample_text(model, vocab, length, seed, step):
    """A sample at temperature 0.8 from the default prime, the same whenever run at this step
    (its own random numbers: training's are not touched)."""
    prime = default_prime(vocab)
    rng = np.random.default_rng([seed, step])
    return prime + vocab.decode(generate(model, vocab.encode(prime), length, 0.8, rng=rng))


# ----------------------------------------------------------------------------- configuration and text
def run_config(args, checkpoint):
    """The run's settings: defaults, overridden by the checkpoint, overridden by the flags given.

    On resume a flag that contradicts the checkpoint's model, data layout or seed is an error.
    The flags' values were checked by argparse, the checkpoint's by checkpoints.load. The text's
    path is made absolute, so that a run can be resumed from another folder.
    """
    cfg = {**MODEL_DEFAULTS, **DATA_DEFAULTS, **OPTIMIZER_DEFAULTS, **TRAIN_DEFAULTS}
    given = {k: getattr(args, k) for k in cfg if getattr(args, k) is not None}
    if checkpoint is not None:
        saved = checkpoint["config"]
        fixed = [*MODEL_DEFAULTS, *DATA_DEFAULTS, *OPTIMIZER_DEFAULTS]
        if saved["lr_schedule"] != "none":
            fixed.append("lr")  # the schedule sets the lr, starting from the saved one
        clashes = [f"--{k.replace('_', '-')} {given[k]} (the checkpoint has {saved[k]}"
                   f"{', which its lr schedule starts from' if k == 'lr' else ''})"
                   for k in fixed if k in given and k != "text" and given[k] != saved.get(k)]
        if clashes:
            raise UsageError(f"{args.resume} was trained with different settings: " + "; ".join(clashes)
                             + ". Leave these flags out to continue that run, or start a new one "
                               "without --resume.")
        cfg.update(saved)
    cfg.update(given)
    if cfg["lr"] is None:
        cfg["lr"] = DEFAULT_LR[cfg["optimizer"]]
    if cfg["text"] is not None:
        cfg["text"] = os.path.abspath(cfg["text"])
    return cfg


def step_limits(args, cfg, checkpoint):
    """(the step to train until, or None for no limit; cosine's T_max, or None), checking what
    the schedule needs: plateau needs evaluations; cosine anneals over a run's steps, so a new
    run needs a step count, and a resumed one goes on to its end but not past it."""
    schedule = cfg["lr_schedule"]
    if schedule == "plateau" and not args.eval_every:
        raise UsageError("--lr-schedule plateau lowers the lr when the validation loss stops improving, "
                         "so it needs --eval-every N > 0")
    steps = args.steps if args.steps is not None else (None if args.minutes else DEFAULT_STEPS)
    if schedule != "cosine":
        return steps, None
    if checkpoint is None:
        if steps is None:
            raise UsageError("--lr-schedule cosine anneals the lr over the run's steps: give --steps "
                             "with --minutes")
        return steps, steps
    end = checkpoint["scheduler"]["T_max"]
    if args.steps is not None and args.steps > end:
        raise UsageError(f"{args.resume} anneals its lr to 0 at step {end} (--lr-schedule cosine); --steps "
                         f"{args.steps} would go past it: start a new run to train longer")
    return (end if args.steps is None else args.steps), end


def check_not_replacing(path, args):
    """Refuse to write over a file at the checkpoint path, unless it is the run being resumed or
    --overwrite says so: a new run must not silently replace another run's training. The one
    exception is `demo` with no --checkpoint: it replaces the last demo's file, said aloud."""
    if os.path.isdir(path):
        raise UsageError(f"the checkpoint path {path} is a directory; give a file name, e.g. "
                         f"--checkpoint {os.path.join(path, 'char_rnn.ckpt')}")
    if args.overwrite or not os.path.lexists(path):
        return
    if args.command == "demo" and args.checkpoint is None and args.resume is None:
        print(f"replacing the previous demo run's checkpoint {path} (train --checkpoint PATH keeps a run)")
        return  # the demo's own default file: running the demo again starts it afresh
    if args.resume is None:
        raise UsageError(f"{path} already exists: continue its run with --resume {path}, or pass "
                         f"--overwrite to replace it (or choose another --checkpoint)")
    if not (os.path.exists(args.resume) and os.path.samefile(path, args.resume)):
        raise UsageError(f"{path} already exists and is not the --resume file {args.resume}: pass "
                         f"--overwrite to replace it, or choose another --checkpoint")


def check_writable(path):
    """Make the checkpoint's folder and write (and remove) a probe file in it, so that a path
    that cannot be saved to fails now, not after the training."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        problem = ("cannot be written to" if os.path.isdir(folder) else
                   "is a file, not a folder" if os.path.exists(folder) else "cannot be created")
        raise UsageError(f"cannot save the checkpoint {path}: its folder {folder} {problem} "
                         f"({exc.strerror or exc}); choose another --checkpoint") from None


def check_window(run, train_ids, cfg, path):
    """The resumed position must lie in an epoch of this text (checkpoints.load checked its type)."""
    windows = count_windows(len(train_ids), cfg["batch_size"], cfg["seq_len"])
    if run["window"] >= windows:
        raise CheckpointMismatch(f"{path}: malformed char-RNN checkpoint: 'run.window' is {run['window']} but "
                                 f"an epoch of this text has only {windows} windows")


def load_corpus(cfg):
    """(text, description) of the configured text, cut to max_chars."""
    if cfg["text"] is None:
        text, source = stdlib_corpus(cfg["max_chars"] or STDLIB_MAX_CHARS)
    else:
        text, source = read_text(cfg["text"]), cfg["text"]
        if cfg["max_chars"]:
            text = text[:cfg["max_chars"]]
    return text, source


def check_sizes(n_chars, train_ids, val_ids, cfg):
    B, T = cfg["batch_size"], cfg["seq_len"]
    if count_windows(len(train_ids), B, T) == 0:
        raise TextError(f"the text is too short: {n_chars:,} characters, of which {len(train_ids):,} are "
                        f"for training, but one batch of {B} streams x {T} characters needs "
                        f"{B * T + 1:,}; use a longer text or a smaller --batch-size / --seq-len")
    if len(val_ids) < 2:
        raise TextError(f"the validation part ({len(val_ids)} characters) is too short to score; use a "
                        f"longer text or a larger --val-fraction")


def text_digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------- sampling
def cmd_sample(args):
    checkpoint = checkpoints.load(args.checkpoint)
    vocab = Vocab(checkpoint["vocab"])
    prime = default_prime(vocab) if args.prime is None else args.prime
    try:
        prime_ids = vocab.encode(prime)
    except TextError as exc:
        raise UsageError(f"--prime: {exc} of {args.checkpoint}") from None
    model, vocab = checkpoints.load_model(checkpoint, args.checkpoint)
    ids = generate(model, prime_ids, args.length, args.temperature, args.top_k,
                   np.random.default_rng(args.seed))
    sys.stdout.write(prime + vocab.decode(ids) + "\n")
    return 0


if __name__ == "__main__":
    # One BLAS thread unless the user chose: this model's matrices are small, and on a shared machine
    # a second OpenBLAS thread that must wait for a core slows training down many times over.
    use_one_blas_thread()
    sys.exit(main())
