"""Every console chart is built here, as a plotly.js figure (data + layout, plain JSON), so all reports share one
charting library and one look: a Sankey for the flow map, bars and lines for the rest.

plotly.js is the file the PyPI `plotly` package ships (`plotly/package_data/plotly.min.js`), served by Seamline
itself from `PLOTLY_JS` (no CDN). Where no browser draws (the CLI's steering-meeting files) `sankey_svg` draws the
same flow map as SVG from its own layout, so no headless renderer is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from seamline.assessment.flowmap import FlowMap
from seamline.assessment.scope import STAGE_LABELS, STAGES
from seamline.reports.tiles import LINES, Chart

_PLOTLY = find_spec("plotly")  # found, not imported: its Python side is not used
PLOTLY_JS = Path(_PLOTLY.origin if _PLOTLY and _PLOTLY.origin else "plotly").parent / "package_data" / "plotly.min.js"
Figure = dict[str, Any]

# One colour per flow-map stage, and for failure the console's "bad" red.
STAGE_COLOURS = {
    "source_system": "#1f5fbf",
    "platform": "#7a4fbf",
    "communication": "#1d7a46",
    "channel": "#b26b00",
}
BAD = "#b42318"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13, "color": "#1d2430"}


def _link_colour(share: float) -> str:
    """Grey for a clean edge, reddening with its failure share (a quarter failed is fully red)."""
    weight = min(share * 4.0, 1.0)
    grey, red = (150, 160, 175), (180, 35, 24)
    r, g, b = (round(a + (c - a) * weight) for a, c in zip(grey, red, strict=True))
    return f"rgba({r},{g},{b},{0.35 + 0.35 * weight:.2f})"


def sankey(flow: FlowMap, *, title: str = "Data sources → platforms → communications → channels") -> Figure:
    """The flow map as a plotly Sankey: node and edge hovers give volumes and failure shares; each node and
    edge carries its stage and name (customdata) for the page's click-to-filter."""
    nodes = flow.nodes
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "fixed",
                "valueformat": ",d",
                "node": {
                    "label": [n.name for n in nodes],
                    "color": [STAGE_COLOURS[n.stage] for n in nodes],
                    "customdata": [[n.stage, n.name, STAGE_LABELS[n.stage]] for n in nodes],
                    "hovertemplate": "%{customdata[2]}: %{customdata[1]}<br>%{value:,d} messages<extra></extra>",
                    "pad": 14,
                    "thickness": 16,
                },
                "link": {
                    "source": [e.source for e in flow.edges],
                    "target": [e.target for e in flow.edges],
                    "value": [e.volume for e in flow.edges],
                    "color": [_link_colour(e.failure_share) for e in flow.edges],
                    "customdata": [
                        [
                            nodes[e.source].stage,
                            nodes[e.source].name,
                            nodes[e.target].stage,
                            nodes[e.target].name,
                            e.failed,
                            f"{e.failure_share:.1%}",
                        ]
                        for e in flow.edges
                    ],
                    "hovertemplate": (
                        "%{customdata[1]} → %{customdata[3]}<br>%{value:,d} messages, %{customdata[4]:,d} failed "
                        "(%{customdata[5]})<extra></extra>"
                    ),
                },
            }
        ],
        "layout": {
            "title": {"text": title},
            "font": FONT,
            "height": 560,
            "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        },
    }


def bars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    percent: bool = False,
    horizontal: bool = False,
    stacked: bool = False,
) -> Figure:
    """Grouped (or `stacked`) bars, one trace per series (rates shown as percentages when `percent`)."""
    data = []
    for name, values in series.items():
        trace: dict[str, Any] = {"type": "bar", "name": name}
        if horizontal:
            trace.update(y=list(categories), x=list(values), orientation="h")
        else:
            trace.update(x=list(categories), y=list(values))
        data.append(trace)
    axis = {"tickformat": ".0%"} if percent else {}
    layout: dict[str, Any] = {
        "title": {"text": title}, "font": FONT, "barmode": "stack" if stacked else "group", "height": 420,
        "margin": {"l": 60, "r": 10, "t": 50, "b": 90},
    }  # fmt: skip
    layout["xaxis" if horizontal else "yaxis"] = axis
    if horizontal:
        layout["yaxis"] = {"automargin": True}
    return {"data": data, "layout": layout}


def funnel(steps: Sequence[str], series: Mapping[str, Sequence[int]], *, title: str) -> Figure:
    """A funnel: one trace per series (everyone, or each group of a breakdown), people reaching each step."""
    data = [
        {"type": "funnel", "name": name, "y": list(steps), "x": list(values), "textinfo": "value+percent initial"}
        for name, values in series.items()
    ]
    layout = {"title": {"text": title}, "font": FONT, "height": 420, "margin": {"l": 220, "r": 10, "t": 50, "b": 40},
              "funnelmode": "group"}  # fmt: skip
    return {"data": data, "layout": layout}


def lines(
    x: Sequence[str], series: Mapping[str, Sequence[float | None]], *, title: str, percent: bool = False
) -> Figure:
    """Lines over time, one trace per series (shares shown as percentages when `percent`)."""
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": n, "x": list(x), "y": list(v)} for n, v in series.items()
    ]
    layout: dict[str, Any] = {"title": {"text": title}, "font": FONT, "height": 380}
    if percent:
        layout["yaxis"] = {"tickformat": ".0%", "range": [0, 1.05]}
    return {"data": data, "layout": layout}


def sankey_svg(flow: FlowMap, *, width: int = 1200, height: int = 640, title: str = "Communications flow map") -> str:
    """The flow map as a standalone SVG, laid out here (columns per stage, bands as wide as their volume)."""
    top, bottom, side, bar, pad = 60, 20, 170, 14, 10
    usable = height - top - bottom
    columns = {s: [n for n in flow.nodes if n.stage == s] for s in STAGES}
    scale = min(
        ((usable - pad * (len(ns) - 1)) / max(sum(n.volume for n in ns), 1) for ns in columns.values() if ns),
        default=1.0,
    )
    step = (width - 2 * side - bar) / (len(STAGES) - 1)
    place: dict[int, tuple[float, float, float]] = {}  # node index → x, y, height
    for i, stage in enumerate(STAGES):
        y = float(top)
        for n in columns[stage]:
            h = max(n.volume * scale, 1.0)
            place[n.index] = (side + i * step, y, h)
            y += h + pad
    out_at = {k: v[1] for k, v in place.items()}
    in_at = dict(out_at)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="{FONT["family"]}" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2}" y="28" text-anchor="middle" font-size="17" fill="#1d2430">{escape(title)}</text>',
    ]
    for i, stage in enumerate(STAGES):
        parts.append(
            f'<text x="{side + i * step + bar / 2}" y="48" text-anchor="middle" fill="#5b6575">'
            f"{escape(STAGE_LABELS[stage])}</text>"
        )
    for e in flow.edges:
        (x0, _, _), (x1, _, _) = place[e.source], place[e.target]
        h = max(e.volume * scale, 0.5)
        y0, y1 = out_at[e.source], in_at[e.target]
        out_at[e.source] += h
        in_at[e.target] += h
        a, b, m = x0 + bar, x1, (x0 + bar + x1) / 2
        parts.append(
            f'<path class="edge" d="M{a:.1f},{y0:.1f} C{m:.1f},{y0:.1f} {m:.1f},{y1:.1f} {b:.1f},{y1:.1f} '
            f'L{b:.1f},{y1 + h:.1f} C{m:.1f},{y1 + h:.1f} {m:.1f},{y0 + h:.1f} {a:.1f},{y0 + h:.1f} Z" '
            f'fill="{_link_colour(e.failure_share)}"><title>{escape(flow.nodes[e.source].name)} → '
            f"{escape(flow.nodes[e.target].name)}: {e.volume:,} messages, {e.failed:,} failed "
            f"({e.failure_share:.1%})</title></path>"
        )
    for n in flow.nodes:
        x, y, h = place[n.index]
        last = n.stage == STAGES[-1]
        tx, anchor = (x - 6, "end") if last else (x + bar + 6, "start")
        parts.append(
            f'<rect class="node" x="{x:.1f}" y="{y:.1f}" width="{bar}" height="{h:.1f}" '
            f'fill="{STAGE_COLOURS[n.stage]}"><title>{escape(n.name)}: {n.volume:,}</title></rect>'
            f'<text x="{tx:.1f}" y="{y + h / 2 + 4:.1f}" text-anchor="{anchor}" fill="#1d2430">'
            f"{escape(n.name)} ({n.volume:,})</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def figure_of(chart: Chart) -> Figure:
    """A report tile's chart (seamline.reports.tiles.Chart) as a figure of this module."""
    if chart.kind == LINES:
        return lines(chart.categories, chart.series, title=chart.title)
    return bars(chart.categories, chart.series, title=chart.title, percent=chart.percent, horizontal=chart.horizontal)
