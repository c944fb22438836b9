"""The run report: one self-contained HTML file with inline SVG charts, readable offline.

Everything that came from input (file names, reasons, complaint-derived labels) is HTML-escaped: complaint
text is attacker-controlled. The report carries no wall-clock time so a re-run is byte-identical.
"""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

import duckdb
import polars as pl

from transforms.config import Settings
from transforms.export import run_folder
from transforms.warehouse import query_model
from transforms.writers import atomic_path

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem;color:#1c2430;max-width:1100px}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0} th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left}
th{background:#f3f5f8} td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#57606a;font-size:.9rem} svg text{font-size:11px;fill:#1c2430}
"""
_PALETTE = ("#2f6fb0", "#d2691e", "#3a9d5d", "#b03a48", "#7a5cb0", "#8c8c2f", "#2f9aa0", "#a0522d")


def table_html(frame: pl.DataFrame, caption: str = "") -> str:
    if frame.height == 0:
        return f"<p class='meta'>{escape(caption)}: none.</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    body = "".join(
        "<tr>" + "".join(
            f"<td class='num'>{escape(str(v))}</td>" if c in numeric else f"<td>{escape('' if v is None else str(v))}</td>"
            for c, v in zip(frame.columns, row)
        ) + "</tr>"
        for row in frame.iter_rows()
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart_svg(labels: list[str], values: list[int], *, chart_id: str, title: str) -> str:
    """Horizontal bars: simple, legible, no script."""
    if not labels:
        return f"<p class='meta'>{escape(title)}: no data.</p>"
    width, bar_h, left = 640, 18, 220
    peak = max(values) or 1
    rows = []
    for i, (lab, val) in enumerate(zip(labels, values)):
        y = 24 + i * (bar_h + 6)
        w = int((width - left - 60) * val / peak)
        rows.append(
            f"<text x='{left - 6}' y='{y + 13}' text-anchor='end'>{escape(lab)}</text>"
            f"<rect x='{left}' y='{y}' width='{w}' height='{bar_h}' fill='{_PALETTE[i % len(_PALETTE)]}'/>"
            f"<text x='{left + w + 4}' y='{y + 13}'>{val}</text>"
        )
    height = 30 + len(labels) * (bar_h + 6)
    return (
        f"<svg id='{escape(chart_id)}' class='chart' role='img' aria-label='{escape(title)}' "
        f"xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"
        f"<text x='0' y='14' font-weight='bold'>{escape(title)}</text>{''.join(rows)}</svg>"
    )


def render_report(sections: dict[str, pl.DataFrame], settings: Settings, run_date: date, run_id: str) -> str:
    cand = sections["candidates"]
    hits = sections["rule_hits"]
    per_day = sections["complaints_per_day"]
    daily = per_day.group_by("day").agg(pl.col("complaints").sum()).sort("day") if per_day.height else per_day
    parts = [
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>",
        f"<title>subflag — báo cáo {run_date.isoformat()}</title><style>{_CSS}</style></head><body>",
        f"<h1>subflag — run report {run_date.isoformat()}</h1>",
        f"<p class='meta'>run id <code>{escape(run_id)}</code> · profile {escape(settings.run.regulation_profile)} · "
        f"time zone {escape(settings.run.timezone)} · window {settings.run.windows.feature_days} days. "
        "Candidates are for review by the carrier's compliance team, not automatic suspensions.</p>",
        "<h2>Complaints per day</h2>",
        bar_chart_svg([str(d) for d in daily["day"].to_list()] if daily.height else [],
                      daily["complaints"].to_list() if daily.height else [],
                      chart_id="chart-complaints-per-day", title="Complaints per local day"),
        table_html(per_day, "Complaints per day and carrier"),
        "<h2>Candidates</h2>",
        bar_chart_svg([f"{c} · {a}" for c, a in zip(cand["carrier"], cand["action"])], cand["candidates"].to_list(),
                      chart_id="chart-candidates", title="Candidates by carrier and action"),
        "<h2>Rule hits</h2>",
        bar_chart_svg(hits["rule_id"].to_list(), hits["hits"].to_list(), chart_id="chart-rule-hits", title="Hits per rule"),
        "<h2>Spoofing alerts</h2>",
        table_html(sections["spoofing"], "Complaints naming protected numbers"),
        "<h2>Ingest ledger</h2>",
        bar_chart_svg(sections["rejects"]["reason"].to_list(), sections["rejects"]["rows"].to_list(),
                      chart_id="chart-rejects", title="Rejected rows by reason"),
        table_html(sections["ledger"], "Files landed"),
        "</body></html>",
    ]
    return "\n".join(parts)


def collect_sections(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date) -> dict[str, pl.DataFrame]:
    window = {"run_date": run_date, "tz": settings.run.timezone, "window_days": settings.run.windows.feature_days}
    return {
        "ledger": query_model(con, "report/ledger"),
        "rejects": query_model(con, "report/rejects_by_reason"),
        "candidates": query_model(con, "report/candidates_by_carrier_action", {"run_date": run_date}),
        "rule_hits": query_model(con, "report/rule_hits", {"run_date": run_date}),
        "complaints_per_day": query_model(con, "report/complaints_per_day", window),
        "spoofing": query_model(con, "flags/spoofing_alerts", window),
    }


def write_report(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, run_id: str, out: Path) -> Path:
    html = render_report(collect_sections(con, settings, run_date), settings, run_date, run_id)
    target = run_folder(out, run_date, settings) / "report.html"
    with atomic_path(target, int(settings.run.output.file_mode, 8)) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return target
