"""Story 1, what's for dinner: a vanilla RNN learns the cook's cycle pizza -> sushi -> waffles.

Each evening the RNN is shown yesterday's dinner and predicts tonight's. On days you were away
and did not see yesterday's dinner its input is all zeros, so the only thing it can go on is its
own hidden state: its belief about yesterday. Trained on fortnights with many days away, it
predicts a whole week ahead from one dinner seen on Sunday.

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)     x_t: yesterday's dinner, one-hot, or 0 if away
    p_t = softmax(W_out h_t + b_out)                      tonight's dinner

Pictures (in --out): the week's predictions as probabilities, beside the same RNN with its
recurrent weights W_hh set to zero (no memory: lost after the first day); the learned weights;
and the graph unrolled over three days, coloured by gradient norm.

    python examples/dinner.py              # about 5 s
    python examples/dinner.py --quick      # the tests' version
"""
import sys

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.models import RNN
from minigrad.threads import use_one_blas_thread
from minigrad.viz import lecture_plots as lp

DINNERS = ("pizza", "sushi", "waffles")
WEEK = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class DinnerRNN(nn.Module):
    """A one-layer tanh RNN (models.RNN) and a linear read-out to the three dinners."""

    def __init__(self, hidden_size=3):
        super().__init__()
        self.rnn = RNN(len(DINNERS), hidden_size)
        self.head = nn.Linear(hidden_size, len(DINNERS))

    def forward(self, x, h0=None):
        """x (days, batch, 3) -> logits (days, batch, 3): tonight's dinner, each day."""
        out, _ = self.rnn(x, h0)
        days, batch, hidden = out.shape
        return self.head(out.reshape(days * batch, hidden)).reshape(days, batch, len(DINNERS))


def make_days(rng, batch, days, p_seen):
    """Random stretches of the cook's cycle: (x, targets, seen).

    Stream b starts at a random dinner; x[t, b] is day t-1's dinner one-hot if you saw it
    (always on the first day, else with probability p_seen) and zeros if you were away;
    targets[t, b] is day t's dinner.
    """
    start = rng.integers(0, len(DINNERS), batch)
    dinner = (start[None, :] + np.arange(days + 1)[:, None]) % len(DINNERS)   # day -1 .. days-1
    seen = rng.random((days, batch)) < p_seen
    seen[0] = True
    x = np.eye(len(DINNERS), dtype=np.float32)[dinner[:-1]] * seen[..., None]
    return x, dinner[1:], seen


def train(steps=300, hidden_size=3, p_seen=0.3, days=10, batch=32, lr=0.05, seed=0, log_every=0):
    """Train a DinnerRNN to predict every day's dinner of random fortnights with days away.

    Returns (model, losses)."""
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = DinnerRNN(hidden_size)
    optimizer = mg.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(1, steps + 1):
        x, targets, _ = make_days(rng, batch, days, p_seen)
        logits = model(mg.tensor(x))
        loss = F.cross_entropy(logits.reshape(days * batch, len(DINNERS)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log_every and step % log_every == 0:
            print(f"  step {step:4d}: loss {loss.item():.4f}")
    return model, losses


def inputs_for(seen):
    """The inputs for a list of what you saw each evening: a dinner's name, or None when away."""
    x = np.zeros((len(seen), 1, len(DINNERS)), dtype=np.float32)
    for t, dinner in enumerate(seen):
        if dinner is not None:
            x[t, 0, DINNERS.index(dinner)] = 1.0
    return x


def predict(model, seen):
    """Probabilities (days, 3) of each day's dinner, given what you saw the evening before
    (a dinner's name, or None on a day away)."""
    with mg.no_grad():
        logits = model(mg.tensor(inputs_for(seen)))
    return logits.softmax(-1).data[:, 0, :]


def predict_week(model, sunday, days=7):
    """You saw Sunday's dinner, then were away: the predictions for Monday .. Sunday, (days, 3)."""
    return predict(model, [sunday] + [None] * (days - 1))


def true_week(sunday, days=7):
    """The dinners the cook really makes on the days after `sunday`."""
    k = DINNERS.index(sunday)
    return [DINNERS[(k + 1 + t) % len(DINNERS)] for t in range(days)]


def without_memory(model):
    """A copy of the model with W_hh = 0: it sees yesterday's dinner but remembers nothing."""
    copy = DinnerRNN(model.rnn.hidden_size)
    copy.load_state_dict(model.state_dict())
    copy.rnn.weight_hh_l0.data[...] = 0.0
    return copy


def names(probabilities):
    return [DINNERS[k] for k in np.asarray(probabilities).argmax(-1)]


# ----------------------------------------------------------------------------- pictures
def plot_week(model, days=7):
    """Heatmaps of the predicted probabilities for the week after each possible Sunday dinner, for
    the trained RNN (top) and the same RNN without its recurrent weights (bottom)."""
    fig, axes = lp.figure(2, len(DINNERS), width=16, height=6.6, sharey=True)
    labels = [WEEK[t % 7] for t in range(days)]
    for row, (who, m) in enumerate((("RNN", model), ("RNN with W_hh = 0", without_memory(model)))):
        for col, sunday in enumerate(DINNERS):
            ax = axes[row, col]
            p = predict_week(m, sunday, days)
            lp.heatmap(ax, p.T, DINNERS, labels, f"{who}: saw {sunday} on Sunday", vmin=0, vmax=1,
                       fmt="{:.2f}", colorbar=False)
            truth = [DINNERS.index(d) for d in true_week(sunday, days)]
            ax.plot(range(days), truth, linestyle="none", marker="s", markersize=30, markerfacecolor="none",
                    markeredgecolor=lp.OKABE_ITO["vermillion"], markeredgewidth=2.5,
                    label="what the cook made" if (row, col) == (0, 0) else None)
            ax.set_xlabel("day (away all week)")
    fig.legend(loc="outside lower center", frameon=False)
    image = axes[0, 0].images[0]
    fig.colorbar(image, ax=axes, shrink=0.8, label="predicted probability")
    fig.suptitle("What's for dinner? Predictions for a week away, from Sunday's dinner alone")
    return fig


def plot_weights(model):
    """The learned weights as heatmaps: input, recurrent and read-out matrices and the bias."""
    rnn, head = model.rnn, model.head
    H = rnn.hidden_size
    units = [f"h{k}" for k in range(H)]
    limit = max(float(np.abs(p.data).max()) for p in model.parameters())
    signed = dict(cmap=lp.DIVERGING, vmin=-limit, vmax=limit, colorbar=False)
    fig, axes = lp.figure(1, 4, width=17, height=4.4, gridspec_kw={"width_ratios": [3, H, 1, H]})
    lp.heatmap(axes[0], rnn.weight_ih_l0.data, units, DINNERS, "W_ih: yesterday's dinner → h", **signed)
    lp.heatmap(axes[1], rnn.weight_hh_l0.data, units, units, "W_hh: yesterday's h → h", **signed)
    bias = (rnn.bias_ih_l0.data + rnn.bias_hh_l0.data)[:, None]
    lp.heatmap(axes[2], bias, units, ["b"], "b_ih + b_hh", **signed)
    lp.heatmap(axes[3], head.weight.data, DINNERS, units, "W_out: h → tonight", **signed)
    axes[1].set_xlabel("from unit")
    axes[1].set_ylabel("to unit")
    fig.colorbar(axes[0].images[0], ax=list(axes), shrink=0.85, label="weight (orange < 0 < purple)")
    fig.suptitle("The learned weights of the dinner RNN")
    return fig


def plot_losses(losses):
    fig, ax = lp.figure(width=7, height=4)
    ax.plot(np.arange(1, len(losses) + 1), losses, color=lp.OKABE_ITO["blue"], linewidth=2)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (log scale)")
    ax.set_title("Training the dinner RNN")
    ax.grid(True, which="both", alpha=0.3)
    return fig


def draw_three_days(model, sunday="pizza", level="op"):
    """The graph unrolled over three days (saw Sunday's dinner, then away two days), with the loss
    on all three predictions, coloured by gradient norm. Returns (digraph, loss)."""
    from minigrad import viz

    seen = [sunday, None, None]
    targets = np.array([DINNERS.index(d) for d in true_week(sunday, 3)])
    x = mg.tensor(inputs_for(seen))
    x.requires_grad_(True)    # so the inputs are drawn too, with their name
    x.name = "x (yesterday)"
    with viz.record():
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(3, len(DINNERS)), targets)
        loss.name = "L"
        loss.backward()
    model.zero_grad()
    graph = viz.draw_unrolled(loss, params=model, level=level, cell_title="RNN",
                              title=f"Three days of the dinner RNN: saw {sunday}, then away twice; L = cross-entropy")
    return graph, loss


# ----------------------------------------------------------------------------- the story
def main(argv=None):
    args = lp.parser("dinner", __doc__.split("\n\n")[0]).parse_args(argv)
    steps = 150 if args.quick else 300
    print(f"Training a tanh RNN (3 hidden units) for {steps} steps on fortnights of the cycle "
          f"{' -> '.join(DINNERS)}, away on 70% of the days ...")
    model, losses = train(steps=steps, seed=args.seed, log_every=steps // 3)

    results = {"steps": steps, "final_loss": losses[-1], "weeks": {}, "weeks_without_memory": {}}
    print("\nA week away, from Sunday's dinner alone (predicted / what the cook made):")
    for sunday in DINNERS:
        p = predict_week(model, sunday)
        predicted, truth = names(p), true_week(sunday)
        blind = names(predict_week(without_memory(model), sunday))
        p_truth = p[np.arange(7), [DINNERS.index(d) for d in truth]]
        results["weeks"][sunday] = {"predicted": predicted, "truth": truth,
                                    "min_probability_of_truth": float(p_truth.min())}
        results["weeks_without_memory"][sunday] = blind
        mark = "all right" if predicted == truth else "WRONG"
        print(f"  Sunday {sunday:8s}: {' '.join(f'{d:8s}' for d in predicted)}  ({mark})")
    print("The same RNN with W_hh = 0 has no memory of its prediction for yesterday:")
    for sunday in DINNERS:
        print(f"  Sunday {sunday:8s}: {' '.join(f'{d:8s}' for d in results['weeks_without_memory'][sunday])}")
    mixed = ["pizza", None, None, "pizza", None, None, None]
    results["mixed"] = {"seen": mixed, "predicted": names(predict(model, mixed)), "truth": true_week("pizza")}
    print(f"Seen on Sunday and Wednesday, away otherwise: {' '.join(results['mixed']['predicted'])}")

    print(f"\nFigures in {args.out}:")
    lp.save(plot_week(model), args.out, "week.png")
    lp.save(plot_weights(model), args.out, "weights.png")
    lp.save(plot_losses(losses), args.out, "training.png")
    graph, _ = draw_three_days(model, level="op")
    lp.save_graph(graph, args.out, "unrolled_3_days")
    graph, _ = draw_three_days(model, level="cell")
    lp.save_graph(graph, args.out, "unrolled_3_days_cells")
    results["weights"] = {name: p.data for name, p in model.named_parameters()}
    lp.write_results(args.out, results)
    ok = all(w["predicted"] == w["truth"] for w in results["weeks"].values())
    print(f"\nThe RNN predicts the whole week {'correctly' if ok else 'INCORRECTLY'} from every Sunday dinner.")
    return 0


if __name__ == "__main__":
    use_one_blas_thread()  # small matrices: one BLAS thread is fastest (OPENBLAS_NUM_THREADS=N overrides it)
    sys.exit(main())
