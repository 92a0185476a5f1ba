"""Scopes: reading "layer0/t3" as (layer 0, time step 3), and clusters from scope strings.

The models run each cell step inside `mg.scope(f"layer{l}")` and `mg.scope(f"t{t}")`, so
every tensor of that step has `tensor.scope == "layer0/t3"`. A user's own scopes may wrap
them ("encoder/layer0/t3"): a step is found wherever a "t<int>" component is, and its
*row* is everything before it (one row per layer, drawn stacked).
"""
import re
from dataclasses import dataclass

from minigrad.viz.graph import Cluster

_TIME = re.compile(r"t(\d+)")
_LAYER = re.compile(r"layer(\d+)")


@dataclass(frozen=True)
class Step:
    """One application of a cell: the scope row (e.g. "layer0") and the time step."""
    row: str
    t: int

    @property
    def cell(self):
        return f"{self.row}/t{self.t}" if self.row else f"t{self.t}"

    @property
    def layer(self):
        """The layer number of the row ("layer1" -> 1), or None."""
        found = [int(m.group(1)) for part in self.row.split("/") if (m := _LAYER.fullmatch(part))]
        return found[-1] if found else None


def parse_step(scope):
    """The Step of a scope string, or None when it has no "t<int>" component."""
    if not scope:
        return None
    parts = scope.split("/")
    for k, part in enumerate(parts):
        m = _TIME.fullmatch(part)
        if m:
            return Step("/".join(parts[:k]), int(m.group(1)))
    return None


def pretty(component):
    """A scope component as a cluster label: "t3" -> "t = 3", "layer0" -> "layer 0"."""
    if m := _TIME.fullmatch(component):
        return f"t = {m.group(1)}"
    if m := _LAYER.fullmatch(component):
        return f"layer {m.group(1)}"
    return component


def scope_clusters(graph):
    """Put every scoped node in nested clusters that follow its scope ("layer0" > "layer0/t3").

    Used by `draw_graph`; the unrolled picture groups by time instead (`viz.unroll`).
    """
    for node in graph.nodes.values():
        if not node.scope:
            continue
        parent = None
        parts = node.scope.split("/")
        for k in range(len(parts)):
            cid = "/".join(parts[:k + 1])
            if cid not in graph.clusters:
                graph.clusters[cid] = Cluster(cid, pretty(parts[k]), parent)
            parent = cid
        node.cluster = parent
    return graph
