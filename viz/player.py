"""player: an animation's frames as an animated GIF (for slides) and as an HTML player.

The GIF has one palette for all frames (so a colour never flickers from frame to frame) and
stores each frame as its difference from the one before (Pillow does that).

The HTML player is one self-contained page, or a fragment Jupyter shows inline: the frames as
SVG (crisp at any zoom), a play/pause button, a slider and a "fit to width" switch. Nothing is
fetched (no script, font or picture from elsewhere), so it works offline and from a file. The
frames share almost all of their SVG, so each frame is split into the parts Graphviz writes (a
comment, then one node, edge or cluster), and each part is stored once for every frame where it
changes; the page joins the parts of frame k to show it.
"""
import io
import itertools
import json
import math
import re
from html import escape

import numpy as np

_ids = itertools.count()


def gif_bytes(pngs, durations, loop=True):
    """An animated GIF of the PNG frames, `durations[k]` ms each (loop=False: played once)."""
    from PIL import Image

    frames = [np.asarray(Image.open(io.BytesIO(png)).convert("RGB")) for png in pngs]
    height, width = max(f.shape[0] for f in frames), max(f.shape[1] for f in frames)
    packed = [_packed(_padded(f, height, width)) for f in frames]
    palette, index = _palette(packed)
    images = []
    for frame in packed:
        image = Image.fromarray(index[frame], "P")
        image.putpalette(palette.ravel().tolist())
        images.append(image)
    out = io.BytesIO()
    extra = {"loop": 0} if loop else {}
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=list(durations),
                   disposal=1, optimize=False, **extra)
    return out.getvalue()


def _packed(frame):
    """Each pixel's colour as one integer 0xRRGGBB."""
    rgb = frame.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _palette(packed):
    """One palette of 256 colours for all frames (given as packed colours), and the index of
    every colour into it (an array over all 2**24 colours: `index[frame]` maps a frame).

    The palette holds the 128 commonest colours of every fourth frame and the last, exactly
    (white, the fills, the lines), and 128 spread by Pillow's median cut over all the other
    colours of all frames, each counted once, so the anti-aliased shades of every hue (the
    orange borders' too) have their share. Every colour maps to the nearest palette colour
    (Pillow's own mapping goes through a cache of 5-bit cells, which turns white grey)."""
    from PIL import Image

    present = np.zeros(1 << 24, bool)
    for frame in packed:
        present[frame] = True
    everywhere = np.flatnonzero(present).astype(np.uint32)
    sample = np.concatenate([f.ravel() for f in packed[:: max(1, len(packed) // 4)] + [packed[-1]]])
    colours, counts = np.unique(sample, return_counts=True)
    common = colours[np.argsort(-counts, kind="stable")[:128]]
    rest = np.setdiff1d(everywhere, common)
    palette = _rgb(common)
    if len(rest):
        side = math.ceil(math.sqrt(len(rest)))
        square = np.concatenate([_rgb(rest), np.repeat(_rgb(rest[-1:]), side * side - len(rest), axis=0)])
        sheet = Image.fromarray(square.reshape(side, side, 3).astype(np.uint8))
        shades = sheet.quantize(colors=256 - len(palette), method=Image.Quantize.MEDIANCUT).getpalette()
        palette = np.concatenate([palette, np.array(shades).reshape(-1, 3)])[:256]
    palette = np.concatenate([palette, np.repeat(palette[-1:], 256 - len(palette), axis=0)])
    index = np.zeros(1 << 24, np.uint8)
    for start in range(0, len(everywhere), 4096):   # nearest by squared distance, in blocks
        block = everywhere[start:start + 4096]
        distance = ((_rgb(block)[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
        index[block] = distance.argmin(axis=1)
    return palette.astype(np.uint8), index


def _rgb(packed):
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=1).astype(np.int32)


def _padded(frame, height, width):
    if frame.shape[:2] == (height, width):
        return frame
    canvas = np.full((height, width, 3), 255, np.uint8)
    canvas[:frame.shape[0], :frame.shape[1]] = frame
    return canvas


def split_svg(svg):
    """The parts of one of Graphviz's SVG documents: the head (the legend), each cluster, and
    each node and edge (cut before the "<!-- name -->" comment that precedes it). Left out: the
    XML prolog and the namespace declarations (an SVG inside HTML needs neither) and the ids of
    the groups (Graphviz numbers them anew for each picture of a batch, and they would clash
    between two players on one page). The clusters, which Graphviz writes in no fixed order,
    are sorted by name (a layer before its steps)."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg, count=2)
    svg = re.sub(r'<g id="[^"]*" class="', '<g class="', svg)
    parts = re.split(r'(?=\n(?:<!-- |<g class="cluster">))', svg)
    clusters = [k for k, part in enumerate(parts) if part.startswith('\n<g class="cluster">')]
    for k, part in zip(clusters, sorted(parts[k] for k in clusters)):
        parts[k] = part
    return parts


def frame_parts(svgs):
    """[[frame, text], ...] for every part index: the part's text from that frame on."""
    split = [split_svg(s) for s in svgs]
    if len({len(parts) for parts in split}) != 1:
        raise ValueError("player: the frames were not drawn from one layout (their SVG parts differ in number)")
    parts = []
    for i in range(len(split[0])):
        versions = [[0, split[0][i]]]
        for k in range(1, len(split)):
            if split[k][i] != versions[-1][1]:
                versions.append([k, split[k][i]])
        parts.append(versions)
    return parts


def html_player(svgs, captions, durations, loop=True, page=True):
    """The player of the SVG frames, a full page (page=True) or a fragment for Jupyter."""
    player_id = f"mg-anim-{next(_ids)}"
    data = {"frames": len(svgs), "durations": list(durations), "loop": bool(loop),
            "captions": list(captions), "parts": frame_parts(svgs)}
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")   # no "</script>" inside
    first = "".join(split_svg(svgs[0]))
    fragment = f"""<div class="mg-anim mg-fit" id="{player_id}">
<style>
#{player_id} {{ font-family: Helvetica, Arial, sans-serif; }}
#{player_id} .mg-stage {{ overflow: auto; border: 1px solid #ddd; background: white; }}
#{player_id}.mg-fit .mg-stage svg {{ width: 100%; height: auto; }}
#{player_id} .mg-controls {{ display: flex; align-items: center; gap: 0.8em; margin: 0.5em 0; }}
#{player_id} .mg-slider {{ flex: 1; }}
#{player_id} button {{ min-width: 6.5em; font-size: 1em; }}
</style>
<div class="mg-controls">
<button type="button" class="mg-play" aria-label="play">&#9654; play</button>
<input type="range" class="mg-slider" min="0" max="{len(svgs) - 1}" value="0" step="1" aria-label="frame">
<span class="mg-count">1 / {len(svgs)}</span>
<label><input type="checkbox" class="mg-fit-switch" checked> fit to width</label>
</div>
<div class="mg-stage" role="img" aria-label="{escape(captions[0])}">{first}</div>
<script type="application/json" class="mg-frames">{payload}</script>
<script>{_SCRIPT.replace("PLAYER_ID", player_id)}</script>
</div>"""
    if not page:
        return fragment
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>minigrad: backpropagation through time, {len(svgs)} frames</title>
</head>
<body>
{fragment}
</body>
</html>
"""


_SCRIPT = """
(function () {
  var root = document.getElementById("PLAYER_ID");
  var data = JSON.parse(root.querySelector("script.mg-frames").textContent);
  var stage = root.querySelector(".mg-stage");
  var button = root.querySelector(".mg-play"), slider = root.querySelector(".mg-slider");
  var count = root.querySelector(".mg-count"), fit = root.querySelector(".mg-fit-switch");
  var current = 0, timer = null;
  function svgOf(k) {
    var out = [];
    data.parts.forEach(function (versions) {
      var text = versions[0][1];
      for (var i = 1; i < versions.length && versions[i][0] <= k; i++) text = versions[i][1];
      out.push(text);
    });
    return out.join("");
  }
  function show(k) {
    current = k;
    stage.innerHTML = svgOf(k);
    slider.value = k;
    count.textContent = (k + 1) + " / " + data.frames;
    stage.setAttribute("aria-label", data.captions[k]);
  }
  function pause() {
    clearTimeout(timer);
    timer = null;
    button.innerHTML = "&#9654; play";
  }
  function tick() {
    var next = current + 1;
    if (next >= data.frames) {
      if (!data.loop) { pause(); return; }
      next = 0;
    }
    show(next);
    timer = setTimeout(tick, data.durations[next]);
  }
  button.addEventListener("click", function () {
    if (timer) { pause(); return; }
    if (current + 1 >= data.frames && !data.loop) show(0);
    button.innerHTML = "&#10074;&#10074; pause";
    timer = setTimeout(tick, data.durations[current]);
  });
  slider.addEventListener("input", function () { pause(); show(+slider.value); });
  fit.addEventListener("change", function () { root.classList.toggle("mg-fit", fit.checked); });
})();
"""
