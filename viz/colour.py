"""colour: gradient norms to colours, on a logarithmic scale, colour-blind safe.

The palette is viridis (perceptually uniform, readable with every common colour-vision
deficiency and in greyscale), run so that the largest gradient is darkest:

    largest ‖dL/dx‖  #440154 dark purple -> blue -> green -> #fde725 pale yellow  smallest

so a gradient that vanishes back through time *fades* towards the page. Gradients of
exactly zero take the palest colour; tensors with no gradient are drawn white / grey.
"""
import math

VIRIDIS = ("#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
           "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725")
NO_GRADIENT_FILL = "#ffffff"
NO_GRADIENT_LINE = "#9e9e9e"


def palette(x):
    """The viridis colour at x in [0, 1] (0 dark purple, 1 pale yellow), as "#rrggbb"."""
    x = min(max(float(x), 0.0), 1.0) * (len(VIRIDIS) - 1)
    k = min(int(x), len(VIRIDIS) - 2)
    a, b = _rgb(VIRIDIS[k]), _rgb(VIRIDIS[k + 1])
    f = x - k
    return "#" + "".join(f"{round(u + (v - u) * f):02x}" for u, v in zip(a, b, strict=True))


def text_colour(fill):
    """Black or white, whichever reads better on `fill`."""
    r, g, b = (c / 255 for c in _rgb(fill))
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


class LogScale:
    """Maps a gradient norm in [lo, hi] to a colour by its logarithm.

    Args:
        lo, hi: the norms at the two ends of the scale (hi >= lo > 0).
    """

    def __init__(self, lo, hi):
        if not 0 < lo <= hi:
            raise ValueError(f"LogScale: need 0 < lo <= hi, got lo={lo}, hi={hi}")
        self.lo, self.hi = float(lo), float(hi)
        if self.hi == self.lo:   # one value: give it a decade each side
            self.lo, self.hi = self.lo / 10, self.hi * 10

    @classmethod
    def from_values(cls, values, min_decades=3):
        """The scale from the largest positive finite value down to the smallest, but at
        least `min_decades` decades down (so a gradient that barely changes stays one colour
        instead of being stretched over the whole palette); None when there are no values."""
        finite = [v for v in values if v is not None and math.isfinite(v) and v > 0]
        if not finite:
            return None
        hi = max(finite)
        return cls(min(min(finite), hi / 10 ** min_decades), hi)

    def position(self, norm):
        """0 for the largest norm (hi), 1 for the smallest (lo) and for zero."""
        if norm <= 0:
            return 1.0
        x = (math.log10(self.hi) - math.log10(norm)) / (math.log10(self.hi) - math.log10(self.lo))
        return min(max(x, 0.0), 1.0)

    def colour(self, norm):
        """The colour of a gradient norm: None or NaN give None (no gradient)."""
        if norm is None or math.isnan(norm):
            return None
        return palette(self.position(norm))

    def ticks(self, n=6):
        """n norms evenly spaced in log from hi down to lo (for the legend)."""
        a, b = math.log10(self.hi), math.log10(self.lo)
        return [10 ** (a + (b - a) * k / (n - 1)) for k in range(n)]


def _rgb(hex_colour):
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
