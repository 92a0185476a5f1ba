"""legend: the key printed under every picture, as a Graphviz HTML-like label.

    ‖dL/dx‖ (log scale)  [dark ... pale]  with the norm at each colour
    bold: recurrent path · double border: parameter · ⊙ Hadamard product · white: no gradient
"""
from html import escape

from minigrad.viz.colour import text_colour


def legend_label(scale, title=None, recurrent=False, hint=None, shared=False):
    """The HTML-like label (a string "<...>") of the legend for `scale` (a LogScale or None)."""
    rows = []
    if title:
        rows.append(f'<tr><td colspan="6"><font point-size="20"><b>{escape(title)}</b></font></td></tr>')
    if scale is not None:
        rows.append('<tr><td colspan="6"><b>gradient norm ‖dL/dx‖, log scale</b> '
                    '(dark: large, pale: vanishing)</td></tr>')
        cells = []
        for tick in scale.ticks(6):
            fill = scale.colour(tick)
            cells.append(f'<td bgcolor="{fill}" width="130" height="32">'
                         f'<font color="{text_colour(fill)}">{tick:.1e}</font></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")   # the widest row: cells stay together
    keys = []
    if recurrent:
        keys.append("<b>bold</b>: recurrent path (h, c)")
    keys.append("double border: parameter")
    if shared:
        keys.append("dashed: shared by all steps (gradient not shown)")
    keys.append("⊙ Hadamard product")
    if scale is not None:
        keys.append("white node, grey edge: no gradient kept")
    for k in range(0, len(keys), 3):
        rows.append(f'<tr><td colspan="6">{" · ".join(keys[k:k + 3])}</td></tr>')
    if hint:
        rows.append(f'<tr><td colspan="6"><i>{escape(hint)}</i></td></tr>')
    return ('<<table border="0" cellborder="0" cellspacing="0" cellpadding="4">'
            + "".join(rows) + "</table>>")
