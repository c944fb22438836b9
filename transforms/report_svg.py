"""Inline SVG charts for the run report: no script, no fonts or images to fetch, readable offline.

Every label is HTML-escaped here, because labels come from input (file names, complaint-derived prefixes,
request ids) and the report is opened by regulators. Each chart is one ``<svg>`` with a stable ``id`` and
is drawn even without data (saying so), so a reader — or a test — always finds it in the same place.
Output depends only on the arguments: no clock, no randomness, fixed number formatting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2f6fb0", "#d2691e", "#3a9d5d", "#b03a48", "#7a5cb0", "#8c8c2f", "#2f9aa0", "#a0522d",
           "#5b7083", "#c2185b")
NEUTRAL = "#8c959f"
_CHAR_PX = 6.6      # rough width of one 11 px glyph, for sizing label columns
_MAX_LABEL = 38     # longer labels are shortened on the chart; the full text is in the tooltip


def attr(value: object) -> str:
    return escape(str(value), quote=True)


def colour_map(keys: Sequence[str], fixed: Mapping[str, str] | None = None) -> dict[str, str]:
    """Fixed colours where given, else the palette in key order: the same keys always get the same colours."""
    fixed = fixed or {}
    free = iter(PALETTE * (len(keys) // len(PALETTE) + 1))
    return {k: fixed[k] if k in fixed else next(free) for k in keys}


def _short(label: str) -> str:
    return label if len(label) <= _MAX_LABEL else label[: _MAX_LABEL - 1] + "…"


def _open(chart_id: str, title: str, width: int, height: int) -> str:
    return (f'<svg id="{attr(chart_id)}" class="chart" role="img" aria-label="{attr(title)}" '
            f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<title>{escape(title)}</title>'
            f'<text x="0" y="14" class="chart-title">{escape(title)}</text>')


def empty_chart(chart_id: str, title: str, note: str = "no data for this run") -> str:
    return _open(chart_id, title, 640, 48) + f'<text x="0" y="38" class="chart-note">{escape(note)}</text></svg>'


def _legend(series: Sequence[str], colours: Mapping[str, str], x: int, y: int) -> str:
    parts, cx = [], x
    for name in series:
        parts.append(f'<rect x="{cx}" y="{y}" width="10" height="10" fill="{colours[name]}"/>'
                     f'<text x="{cx + 14}" y="{y + 9}">{escape(_short(name))}</text>')
        cx += 24 + int(len(_short(name)) * _CHAR_PX)
    return "".join(parts)


def _legend_width(series: Sequence[str]) -> int:
    return sum(24 + int(len(_short(s)) * _CHAR_PX) for s in series)


def stacked_bars(chart_id: str, title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]],
                 colours: Mapping[str, str]) -> str:
    """Horizontal bars, one per label, stacked by series (e.g. candidates per carrier by action)."""
    if not labels or not any(any(v) for v in series.values()):
        return empty_chart(chart_id, title)
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(labels))]
    left = min(12 + int(max(len(_short(lab)) for lab in labels) * _CHAR_PX), 280)
    plot, bar_h, gap, top = 400, 16, 6, 26
    width = max(left + plot + 70, _legend_width(list(series)) + 10)
    height = top + len(labels) * (bar_h + gap) + 28
    peak = max(totals) or 1
    parts = [_open(chart_id, title, width, height)]
    for i, lab in enumerate(labels):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end"><title>{escape(lab)}</title>'
                     f'{escape(_short(lab))}</text>')
        x = float(left)
        for name, vals in series.items():
            v = vals[i]
            if not v:
                continue
            w = plot * v / peak
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colours[name]}">'
                         f'<title>{escape(lab)} · {escape(name)}: {v:,}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 12}">{totals[i]:,}</text>')
    if len(series) > 1:
        parts.append(_legend(list(series), colours, 0, height - 14))
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns(chart_id: str, title: str, categories: Sequence[str], series: Mapping[str, Sequence[int]],
                    colours: Mapping[str, str]) -> str:
    """Vertical columns per category (a day), stacked by series (carrier, kind …), with a legend."""
    if not categories or not any(any(v) for v in series.values()):
        return empty_chart(chart_id, title)
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(categories))]
    left, top, plot_h, slot = 44, 30, 170, max(28, min(72, 560 // len(categories)))
    width = max(left + slot * len(categories) + 20, _legend_width(list(series)) + 10)
    height = top + plot_h + 24 + 22
    peak = max(totals) or 1
    base = top + plot_h
    parts = [_open(chart_id, title, width, height),
             f'<line x1="{left}" y1="{base}" x2="{left + slot * len(categories)}" y2="{base}" class="axis"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak:,}</text>',
             f'<text x="{left - 6}" y="{base}" text-anchor="end">0</text>']
    bar_w = slot * 0.7
    for i, cat in enumerate(categories):
        x = left + i * slot + (slot - bar_w) / 2
        y = float(base)
        for name, vals in series.items():
            v = vals[i]
            if not v:
                continue
            h = plot_h * v / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colours[name]}">'
                         f'<title>{escape(cat)} · {escape(name)}: {v:,}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{totals[i]:,}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" text-anchor="middle">{escape(cat)}</text>')
    parts.append(_legend(list(series), colours, 0, height - 12))
    parts.append("</svg>")
    return "".join(parts)


def heat_map(chart_id: str, title: str, rows: Sequence[str], columns: Sequence[str],
             values: Mapping[tuple[str, str], int], marked: set[str], row_notes: Mapping[str, str]) -> str:
    """A grid of rows (prefixes) × columns (days); darker = more. Marked rows (hot-spots) get a ▲."""
    if not rows or not columns:
        return empty_chart(chart_id, title)
    label_w, cell_w, cell_h, top = 150, 80, 18, 40
    width = label_w + cell_w * len(columns) + 10
    height = top + cell_h * len(rows) + 24
    peak = max(values.values(), default=0) or 1
    parts = [_open(chart_id, title, width, height)]
    for j, col in enumerate(columns):
        parts.append(f'<text x="{label_w + j * cell_w + cell_w / 2:.1f}" y="{top - 6}" text-anchor="middle">{escape(col)}</text>')
    for i, row in enumerate(rows):
        y = top + i * cell_h
        mark = " ▲" if row in marked else ""
        note = row_notes.get(row, "")
        label = f"{row}{mark}" + (f" {note}" if note else "")
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(_short(label))}</text>')
        for j, col in enumerate(columns):
            v = values.get((row, col), 0)
            parts.append(f'<rect x="{label_w + j * cell_w}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                         f'fill="{_heat(v / peak if v else 0.0)}"><title>{escape(row)} · {escape(col)}: {v:,}</title></rect>')
            if v:
                ink = "#ffffff" if v / peak > 0.55 else "#1c2430"
                parts.append(f'<text x="{label_w + j * cell_w + (cell_w - 2) / 2:.1f}" y="{y + 12}" '
                             f'text-anchor="middle" fill="{ink}">{v:,}</text>')
    parts.append(f'<text x="0" y="{height - 6}" class="chart-note">▲ hot-spot on the run date · darker = more complaints '
                 f'(max {peak:,} per cell)</text></svg>')
    return "".join(parts)


def _heat(share: float) -> str:
    """From a pale background (0) to deep red (1), linear in RGB."""
    lo, hi = (0xF3, 0xF5, 0xF8), (0xB0, 0x3A, 0x48)
    if share <= 0:
        return "#f3f5f8"
    share = 0.15 + 0.85 * min(share, 1.0)
    r, g, b = (round(a + (z - a) * share) for a, z in zip(lo, hi))
    return f"#{r:02x}{g:02x}{b:02x}"
