"""What the lecture examples share: the command-line flags, the figure style, and writing files.

    from minigrad.viz import lecture_plots as lp
    parser = lp.parser("dinner", __doc__)       # --out, --seed, --quick (and --help)
    args = parser.parse_args(argv)
    fig, axes = lp.figure(2, 1)                 # a matplotlib Figure, no display needed
    lp.save(fig, args.out, "predictions.png")   # writes and prints the path
    lp.save_graph(digraph, args.out, "unrolled")  # .svg and .png through Graphviz

Importing it sets matplotlib's rcParams to STYLE (large fonts for slides, the palette below).

Colours: the Okabe-Ito palette for lines and bars (distinguishable with every common colour-vision
deficiency and in greyscale), viridis for heatmaps of non-negative values (probabilities,
activations) and ColorBrewer's PuOr, also colour-blind safe, for signed values (weights).

`MINIGRAD_QUICK=1` in the environment makes `--quick` the default (the tests and notebooks use
it), and `MINIGRAD_OUT=DIR` puts every story's files in DIR/<story> instead of runs/<story>
(relative to the current directory, or to the folder a notebook passes as `default_out`'s root).
"""
import argparse
import json
import os

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73", "orange": "#E69F00",
             "sky": "#56B4E9", "purple": "#CC79A7", "yellow": "#F0E442", "black": "#000000"}
# one colour, marker and dash per model, the same in every story
MODEL_STYLE = {   # the same order and styles as viz.plot_gradient_flow's lines, for dicts in this order
    "RNN": dict(color=OKABE_ITO["blue"], marker="o", linestyle="-"),
    "LSTM": dict(color=OKABE_ITO["vermillion"], marker="s", linestyle="--"),
    "GRU": dict(color=OKABE_ITO["green"], marker="^", linestyle="-."),
}
SEQUENTIAL = "viridis"
DIVERGING = "PuOr"

STYLE = {
    "font.size": 13, "axes.titlesize": 15, "axes.labelsize": 13, "xtick.labelsize": 12,
    "ytick.labelsize": 12, "legend.fontsize": 12, "figure.titlesize": 16, "axes.grid": False,
    "axes.spines.top": False, "axes.spines.right": False, "savefig.bbox": "tight",
    "axes.prop_cycle": matplotlib.cycler(color=[OKABE_ITO[c] for c in
                                                ("blue", "vermillion", "green", "orange", "sky", "purple",
                                                 "black")]),
}
matplotlib.rcParams.update(STYLE)


def quick_from_env():
    """True when MINIGRAD_QUICK is set to something other than 0 / false / empty."""
    return os.environ.get("MINIGRAD_QUICK", "").strip().lower() not in ("", "0", "false", "no")


def default_out(story, root=None):
    """Where a story writes its files: $MINIGRAD_OUT/<story>, or runs/<story> under `root` (the
    current directory when not given; the notebooks, which run in examples/notebooks, pass the
    project's folder, so their files land where the scripts' do)."""
    out = os.environ.get("MINIGRAD_OUT")
    if out:
        return os.path.join(out, story)
    return os.path.join(root or "", "runs", story)


def show(path, width=None):
    """Show a PNG inline in a notebook (a list of paths from save_graph: its .png)."""
    from IPython.display import Image, display

    if isinstance(path, (list, tuple)):
        path = next((p for p in path if str(p).endswith(".png")), path[0])
        if not str(path).endswith(".png"):
            print(f"(no picture: {path})")
            return
    display(Image(filename=str(path), width=width))


def parser(story, doc, seed=0):
    """An ArgumentParser with the flags every story has: --out, --seed, --quick."""
    p = argparse.ArgumentParser(prog=f"{story}.py", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=default_out(story), metavar="DIR",
                   help="directory for the figures and results.json (default: %(default)s)")
    p.add_argument("--seed", type=int, default=seed, help="random seed (default: %(default)s)")
    p.add_argument("--quick", action="store_true", default=quick_from_env(),
                   help="a smaller run that still shows the point (the tests use it; "
                        "also on when MINIGRAD_QUICK=1)")
    return p


def out_dir(path):
    os.makedirs(path, exist_ok=True)
    return path


def figure(nrows=1, ncols=1, width=8.0, height=4.8, **kw):
    """(fig, axes) with constrained layout, drawn on an Agg canvas (no display, no pyplot state)."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def save(fig, out, name, dpi=150, quiet=False):
    """Write a matplotlib figure to out/name and print where; returns the path."""
    path = os.path.join(out_dir(out), name)
    fig.savefig(path, dpi=dpi)
    if not quiet:
        print(f"  wrote {path}")
    return path


def save_graph(graph, out, stem, formats=("svg", "png"), quiet=False):
    """Render a graphviz Digraph (from viz.draw_graph / viz.draw_unrolled) as out/stem.svg and
    .png; without Graphviz's `dot`, write out/stem.dot and say so. Returns the paths written."""
    from minigrad import viz

    paths = []
    try:
        for fmt in formats:
            paths.append(str(viz.render(graph, os.path.join(out_dir(out), f"{stem}.{fmt}"))))
    except viz.DotNotFoundError:
        paths = [str(viz.render(graph, os.path.join(out, f"{stem}.dot")))]
        print(f"  Graphviz's dot is not installed: wrote the DOT source {paths[0]} instead")
        return paths
    if not quiet:
        print(f"  wrote {', '.join(paths)}")
    return paths


def write_results(out, results):
    """Write the numbers a story shows to out/results.json (the tests read them)."""
    path = os.path.join(out_dir(out), "results.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, default=_plain)
    return path


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def heatmap(ax, values, row_labels, col_labels, title, cmap=SEQUENTIAL, vmin=None, vmax=None,
            annotate=True, fmt="{:.2f}", colorbar=True, cbar_label=None):
    """A labelled heatmap with the value written in each cell (readable on a slide)."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    if cmap == DIVERGING and vmin is None and vmax is None:
        vmax = float(np.abs(values).max()) or 1.0
        vmin = -vmax
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(col_labels)), labels=col_labels)
    ax.set_yticks(range(len(row_labels)), labels=row_labels)
    ax.set_title(title)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if annotate:
        lo, hi = image.get_clim()
        for (r, c), v in np.ndenumerate(values):
            shade = (v - lo) / (hi - lo) if hi > lo else 0.5
            dark = shade < 0.5 if cmap == SEQUENTIAL else abs(shade - 0.5) > 0.3
            ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=11,
                    color="white" if dark else "black")
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
        if cbar_label:
            bar.set_label(cbar_label)
    return image
