"""The command line: the standard lecture pictures, from a fresh seeded model of a chosen cell.

    python -m minigrad.viz unrolled --cell lstm --steps 4 --level cell -o lstm.svg [--flow lstm_flow.png]
    python -m minigrad.viz unrolled --cell rnn --steps 3 --level op -o rnn_ops.png
    python -m minigrad.viz flow --cells rnn lstm gru --steps 30 -o flow.png
    python -m minigrad.viz animate --cell lstm --steps 6 --level cell -o bptt.gif   (or bptt.html)

The model is a layer of the cell (models.Recurrent) on a random sequence x; the loss is
the sum of h at the last step, so the gradient at every earlier step came back through time.
LSTM-type cells get `--forget-bias` (default 2, so the forget gates start near σ(2) = 0.88,
the regime where the cell state carries the gradient) added to their forget gates' bias;
1 is the common initialisation trick, 0 PyTorch's initialisation, where an untrained LSTM
fades too.
"""
import argparse
import sys

from minigrad.viz.animate import FORMATS as ANIMATION_FORMATS
from minigrad.viz.animate import animate_backward
from minigrad.viz.demo import CELLS, FORGET_ROWS, TITLES, make_model, run
from minigrad.viz.draw import DEFAULT_MAX_NODES, GraphTooLargeError, draw_unrolled
from minigrad.viz.flow import gradient_norms, plot_gradient_flow
from minigrad.viz.output import OutputPathError, check_output, make_folder
from minigrad.viz.render import DOT_TIMEOUT, DotNotFoundError, RenderError, RenderTimeoutError, \
    picture_format, render


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except (DotNotFoundError, GraphTooLargeError, RenderError, OutputPathError, ValueError) as exc:
        print(f"viz: {exc}", file=sys.stderr)
        return 2


def unrolled(args):
    out = check_output(args.output, "-o")          # every output is checked before any work
    picture_format(out)
    if args.flow:
        check_output(args.flow, "--flow")
    model = _model(args, args.cell)
    loss, _ = run(model, args.steps, args.batch, args.seed)
    try:
        graph = draw_unrolled(loss, params=model, level=args.level, values=args.values,
                              max_nodes=args.max_nodes, cell_title=TITLES[args.cell],
                              title=f"{TITLES[args.cell]} unrolled over {args.steps} steps, "
                                    f"L = sum(h_{args.steps - 1})")
    except GraphTooLargeError as exc:
        raise GraphTooLargeError(
            f"unrolled: the {args.level}-level picture of {args.steps} steps would have {exc.nodes} "
            f"nodes, more than --max-nodes {args.max_nodes} (too many to read, and dot's layout time "
            f"grows steeply with size); use {_smaller(args)}, or raise --max-nodes") from None
    try:
        render(graph, out, timeout=args.timeout or None)
        print(f"wrote {out}")
    except DotNotFoundError:
        source = render(graph, out.with_suffix(".dot"))
        print(f"viz: wrote the DOT source to {source} instead", file=sys.stderr)
        raise
    except RenderTimeoutError:
        raise RenderTimeoutError(
            f"unrolled: dot did not finish drawing {out} within {args.timeout:g} s and was stopped "
            f"(nothing was written); use {_smaller(args)}, or allow more time with --timeout "
            f"(0: no limit)") from None
    if args.flow:
        norms = gradient_norms(loss)
        _save_plot({TITLES[args.cell]: norms}, args.flow, args.steps, "--flow")
    return 0


def animate(args):
    out = check_output(args.output, "-o")          # every output is checked before any work
    if out.suffix.lower() not in ANIMATION_FORMATS:
        raise ValueError(f"animate: cannot tell the format of {str(out)!r} from its suffix; "
                         f"use one of {', '.join(ANIMATION_FORMATS)}")
    model = _model(args, args.cell)
    loss, _ = run(model, args.steps, args.batch, args.seed, backward=False)
    try:
        anim = animate_backward(loss, params=model, level=args.level, max_frames=args.max_frames,
                                max_nodes=args.max_nodes, timeout=args.timeout or None,
                                cell_title=TITLES[args.cell],
                                title=f"{TITLES[args.cell]} unrolled over {args.steps} steps, "
                                      f"L = sum(h_{args.steps - 1}): backward, step by step")
        anim.save(out, frame_ms=args.frame_ms, last_ms=args.last_ms, dpi=args.dpi, max_width=args.width)
    except GraphTooLargeError as exc:
        raise GraphTooLargeError(
            f"animate: the {args.level}-level picture of {args.steps} steps would have {exc.nodes} "
            f"nodes, more than --max-nodes {args.max_nodes}; use {_smaller(args)}, or raise --max-nodes") from None
    except RenderTimeoutError:
        raise RenderTimeoutError(
            f"animate: dot did not finish drawing {out} within {args.timeout:g} s and was stopped "
            f"(nothing was written); use {_smaller(args)}, or allow more time with --timeout "
            f"(0: no limit)") from None
    print(f"wrote {out} ({len(anim)} frames)")
    return 0


def _smaller(args):
    fewer = "fewer --steps"
    return fewer if args.level == "cell" else f"--level cell (one box per step) or {fewer}"


def flow(args):
    check_output(args.output, "-o")
    norms = {}
    for cell in args.cells:
        model = _model(args, cell)
        loss, _ = run(model, args.steps, args.batch, args.seed)
        norms[TITLES[cell]] = gradient_norms(loss)
    _save_plot(norms, args.output, args.steps, "-o")
    return 0


def _model(args, cell):
    bias = args.forget_bias if cell in FORGET_ROWS and args.forget_bias else None
    return make_model(cell, args.input_size, args.hidden, args.layers, bias, args.seed)


def _save_plot(norms, path, steps, flag):
    fig = plot_gradient_flow(norms, title=f"‖dL/dh_t‖ back through time, loss at t = {steps - 1}")
    make_folder(path, flag)
    try:
        fig.savefig(path, dpi=150)
    except OSError as exc:
        raise OutputPathError(f"{flag}: cannot write {str(path)!r}: {exc.strerror or exc}") from None
    print(f"wrote {path}")


def _parser():
    parser = argparse.ArgumentParser(prog="python -m minigrad.viz", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True, metavar="{unrolled,flow,animate}")

    p = sub.add_parser("unrolled", help="the unrolled graph of one cell")
    p.add_argument("--cell", choices=list(CELLS), default="lstm", help="(default: %(default)s)")
    _model_options(p, steps=4, hidden=8, input_size=4, batch=2)
    p.add_argument("--level", choices=["op", "cell"], default="cell",
                   help="op: every gate and ⊙; cell: one box per step (default: %(default)s)")
    p.add_argument("--values", choices=["named", "all"], default="named",
                   help="op level: draw only named values, or every value (default: %(default)s)")
    p.add_argument("--max-nodes", type=int, default=DEFAULT_MAX_NODES,
                   help="refuse larger pictures, which dot takes minutes to lay out (default: %(default)s)")
    p.add_argument("--timeout", type=_seconds, default=DOT_TIMEOUT, metavar="SECONDS",
                   help="stop dot after this long (default: %(default)s; 0: no limit)")
    p.add_argument("-o", "--output", required=True,
                   help="picture: .svg .png .pdf, or .dot/.gv source (missing folders are created)")
    p.add_argument("--flow", metavar="PNG", help="also write the gradient-flow plot of this cell")
    p.set_defaults(command=unrolled)

    p = sub.add_parser("flow", help="‖dL/dh_t‖ against t for several cells")
    p.add_argument("--cells", nargs="+", choices=list(CELLS), default=["rnn", "lstm", "gru"],
                   help="(default: rnn lstm gru)")
    _model_options(p, steps=30, hidden=16, input_size=8, batch=4)
    p.add_argument("-o", "--output", required=True,
                   help="plot file (.png, .svg, .pdf; missing folders are created)")
    p.set_defaults(command=flow)

    p = sub.add_parser("animate", help="backpropagation through time, moving: a GIF or an HTML player")
    p.add_argument("--cell", choices=list(CELLS), default="lstm", help="(default: %(default)s)")
    _model_options(p, steps=6, hidden=8, input_size=4, batch=2)
    p.add_argument("--level", choices=["op", "cell"], default="cell",
                   help="cell: one frame per time step; op: every op, its visits in groups "
                        "(default: %(default)s)")
    p.add_argument("--max-frames", type=int, default=60,
                   help="op level: group the visits into about this many frames (default: %(default)s)")
    p.add_argument("--frame-ms", type=_positive, default=None, metavar="MS",
                   help="milliseconds per frame (default: the walk takes about 8 s)")
    p.add_argument("--last-ms", type=_positive, default=2500, metavar="MS",
                   help="pause on the last frame (default: %(default)s)")
    p.add_argument("--dpi", type=_positive, default=None,
                   help="GIF resolution (default: up to 96, at most --width pixels wide)")
    p.add_argument("--width", type=int, default=1920, help="GIF: at most this many pixels wide (default: %(default)s)")
    p.add_argument("--max-nodes", type=int, default=DEFAULT_MAX_NODES,
                   help="refuse larger pictures (default: %(default)s)")
    p.add_argument("--timeout", type=_seconds, default=DOT_TIMEOUT, metavar="SECONDS",
                   help="stop dot after this long, for the layout and again for the frames "
                        "(default: %(default)s; 0: no limit)")
    p.add_argument("-o", "--output", required=True,
                   help=".gif (slides) or .html (a page with play/pause and a slider; missing folders are created)")
    p.set_defaults(command=animate)
    return parser


def _number(check, what):
    """An argparse type: a float that passes `check` (NaN never does), else an error saying `what`."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not check(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value
    return parse


_positive = _number(lambda v: v > 0, "a number > 0")
_seconds = _number(lambda v: v >= 0, "a number of seconds >= 0")


def _model_options(p, steps, hidden, input_size, batch):
    p.add_argument("--steps", type=int, default=steps, help="time steps T (default: %(default)s)")
    p.add_argument("--hidden", type=int, default=hidden, help="hidden size H (default: %(default)s)")
    p.add_argument("--input-size", type=int, default=input_size,
                   help="input size D (default: %(default)s)")
    p.add_argument("--layers", type=int, default=1, help="stacked layers (default: %(default)s)")
    p.add_argument("--batch", type=int, default=batch, help="batch size (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--forget-bias", type=float, default=2.0,
                   help="added to the LSTMs' forget-gate bias (default: %(default)s; 0: PyTorch's init)")
