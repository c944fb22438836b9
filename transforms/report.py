"""The run report: one self-contained HTML file with inline SVG charts that opens offline.

Regulators and the compliance team read it; attackers write part of what it shows (complaint text, file
names, request ids), so every value is HTML-escaped and a Content-Security-Policy forbids scripts anyway.
It carries no wall-clock time — requests are judged at the end of the run date, not "now" — so a
re-run of the same inputs writes the same bytes. The same figures go to the terminal at the end of
``subflag run`` (:func:`summary_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from pathlib import Path

import duckdb
import polars as pl

from transforms.config import Settings
from transforms.faults import kill_point
from transforms.export import run_folder
from transforms.report_svg import NEUTRAL, colour_map, heat_map, stacked_bars, stacked_columns
from transforms.warehouse import query_model
from transforms.writers import atomic_path, show_invisible

TOP_CANDIDATES = 25      # candidate rows shown in the report (the full list is the per-carrier CSV)
EXCERPT_CHARS = 160      # characters of complaint text shown next to a candidate or alert
ACTION_COLOURS = {"two_way_block": "#b03a48", "one_way_block": "#d2691e", "reverify": "#2f6fb0", "monitor": NEUTRAL}
KIND_COLOURS = {"call": "#2f6fb0", "sms": "#d2691e", "unknown": NEUTRAL}
OUTCOME_COLOURS = {"not excluded": "#3a9d5d"}

# Every chart in the report, by id (a test checks each renders): id → what it shows.
CHARTS: dict[str, str] = {
    "chart-complaints-by-carrier": "Complaints per local day by the reported number's carrier",
    "chart-complaints-by-kind": "Complaints per local day by kind (call / SMS)",
    "chart-prefix-heatmap": "Complaints per 3-digit prefix and local day",
    "chart-candidates": "Candidates per carrier by action",
    "chart-candidates-by-rule": "Candidates per rule that put them forward, by action",
    "chart-rule-hits": "Rule hits: candidates vs. stopped by an exclusion",
    "chart-ingest": "Rows landed per source kind: accepted, rejected, duplicate",
    "chart-rejects": "Rejected rows by reason (this run)",
    "chart-requests": "Authority requests by status at the end of the run date",
    "chart-spoofing": "Spoofing alerts: complaints per number",
}

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;color:#1c2430;max-width:1100px;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0} th,td{border:1px solid #d0d7de;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f5f8} td.num{text-align:right;font-variant-numeric:tabular-nums} caption{text-align:left;font-weight:600;padding:.3rem 0}
td.text{max-width:28rem;overflow-wrap:break-word}
.meta{color:#57606a;font-size:.9rem} .cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:8.5rem}
.card b{display:block;font-size:1.35rem} .card.alert b{color:#b03a48}
svg.chart{display:block;margin:.6rem 0;max-width:100%;height:auto} svg text{font-size:11px;fill:#1c2430}
svg .chart-title{font-weight:600;font-size:12px} svg .chart-note{fill:#57606a} svg .axis{stroke:#8c959f}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class ReportData:
    """Everything the report and the terminal summary show, read once from the warehouse."""

    run_date: date
    run_id: str
    profile: str
    timezone: str
    window_days: int
    config_sha256: str
    complaints: pl.DataFrame          # day, carrier, kind, category, complaints
    heatmap: pl.DataFrame             # prefix, carrier, day, complaints, is_hotspot, watched
    hotspots: pl.DataFrame
    candidates: pl.DataFrame          # carrier, action, candidates
    candidates_by_rule: pl.DataFrame  # rule_id, action, candidates
    top_candidates: pl.DataFrame
    rule_hits: pl.DataFrame           # rule_id, action, outcome, hits
    ledger: pl.DataFrame
    ledger_problems: pl.DataFrame
    rejects: pl.DataFrame             # reason, rows_this_run, rows_all_runs
    requests: pl.DataFrame
    spoofing: pl.DataFrame

    @property
    def days(self) -> list[str]:
        first = self.run_date - timedelta(days=self.window_days - 1)
        return [(first + timedelta(days=i)).isoformat() for i in range(self.window_days)]

    def headline(self) -> dict[str, int]:
        exported = self.candidates.filter(pl.col("action") != "monitor")
        return {
            "complaints in window": int(self.complaints["complaints"].sum() or 0),
            "complaints on run date": int(self.complaints.filter(pl.col("day") == self.run_date)["complaints"].sum() or 0),
            "candidates exported": int(exported["candidates"].sum() or 0),
            "two-way block": _action_total(self.candidates, "two_way_block"),
            "one-way block": _action_total(self.candidates, "one_way_block"),
            "reverify": _action_total(self.candidates, "reverify"),
            "monitor (not exported)": _action_total(self.candidates, "monitor"),
            "hits stopped by exclusions": int(self.rule_hits.filter(pl.col("outcome") != "not excluded")["hits"].sum() or 0),
            "spoofing alerts": self.spoofing.height,
            "prefix hot-spots": self.hotspots.height,
            "overdue requests": self.requests.filter(pl.col("overdue"))["request_id"].n_unique(),
            "files landed this run": int(self.ledger["files_this_run"].sum() or 0),
            "rows rejected this run": int(self.rejects["rows_this_run"].sum() or 0),
        }


def _action_total(frame: pl.DataFrame, action: str) -> int:
    return int(frame.filter(pl.col("action") == action)["candidates"].sum() or 0)


def collect_report_data(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, run_id: str) -> ReportData:
    window = {"run_date": run_date, "tz": settings.run.timezone, "window_days": settings.run.windows.feature_days}
    alerts = query_model(con, "flags/spoofing_alerts", window)
    texts = query_model(con, "report/spoofing_texts", {**window, "numbers": alerts["number"].to_list(),
                                                         "excerpt_chars": EXCERPT_CHARS})
    spoofing = (alerts.select("alert_kind", "number", "complaints", "distinct_reporters", "reporter_carriers")
                .join(texts, on="number", how="left")
                .with_columns(pl.col("latest_complaint").fill_null("")))
    return ReportData(
        run_date=run_date,
        run_id=run_id,
        profile=settings.run.regulation_profile,
        timezone=settings.run.timezone,
        window_days=settings.run.windows.feature_days,
        config_sha256=settings.digest,
        complaints=query_model(con, "report/complaints_per_day", window),
        heatmap=query_model(con, "report/prefix_heatmap", window),
        hotspots=query_model(con, "report/hotspots", {"run_date": run_date}),
        candidates=query_model(con, "report/candidates_by_carrier_action", {"run_date": run_date}),
        candidates_by_rule=query_model(con, "report/candidates_by_rule", {"run_date": run_date}),
        top_candidates=query_model(con, "report/top_candidates",
                                   {**window, "max_rows": TOP_CANDIDATES, "excerpt_chars": EXCERPT_CHARS}),
        rule_hits=query_model(con, "report/rule_hits", {"run_date": run_date}),
        ledger=query_model(con, "report/ledger", {"run_id": run_id}),
        ledger_problems=query_model(con, "report/ledger_problems", {"run_id": run_id}),
        rejects=query_model(con, "report/rejects_by_reason", {"run_id": run_id}),
        requests=query_model(con, "report/requests", {"run_date": run_date, "tz": settings.run.timezone}),
        spoofing=spoofing,
    )


# ---------------------------------------------------------------------------------------------------
# HTML

def _cell(value: object, numeric: bool) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if numeric:
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
        return f"<td class='num'>{shown}</td>"
    return f"<td class='text'>{escape(show_invisible(str(value)))}</td>"


def table_html(frame: pl.DataFrame, caption: str, table_id: str, empty: str = "none") -> str:
    """An escaped HTML table; the frames are aggregates or capped lists, so rows are few."""
    if frame.height == 0:
        return f"<p class='meta' id='{escape(table_id)}'>{escape(caption)}: {escape(empty)}.</p>"
    numeric = [t.is_numeric() and t != pl.Boolean for t in frame.dtypes]
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(_cell(v, n) for v, n in zip(row, numeric)) + "</tr>" for row in frame.iter_rows())
    return (f"<table id='{escape(table_id)}'><caption>{escape(caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _pivot(frame: pl.DataFrame, index: str, column: str, value: str, index_order: list[str],
           column_order: list[str]) -> dict[str, list[int]]:
    """series (column value) → counts aligned with index_order; absent combinations are 0."""
    sums = frame.group_by(index, column).agg(pl.col(value).sum())
    lookup = {(str(i), str(c)): int(v) for i, c, v in sums.iter_rows()}
    return {c: [lookup.get((i, c), 0) for i in index_order] for c in column_order}


def _complaint_charts(data: ReportData) -> str:
    frame = data.complaints.with_columns(pl.col("day").cast(pl.String))
    carriers = sorted(frame["carrier"].unique().to_list())
    kinds = sorted(frame["kind"].unique().to_list())
    by_carrier = _pivot(frame, "day", "carrier", "complaints", data.days, carriers)
    by_kind = _pivot(frame, "day", "kind", "complaints", data.days, kinds)
    by_category = (data.complaints.group_by("carrier", "category").agg(pl.col("complaints").sum())
                   .sort("category").pivot("category", index="carrier", values="complaints")
                   .fill_null(0).sort("carrier")) if data.complaints.height else data.complaints
    return "".join([
        stacked_columns("chart-complaints-by-carrier", CHARTS["chart-complaints-by-carrier"], data.days, by_carrier,
                        colour_map(carriers, {"protected": "#b03a48"})),
        stacked_columns("chart-complaints-by-kind", CHARTS["chart-complaints-by-kind"], data.days, by_kind,
                        colour_map(kinds, KIND_COLOURS)),
        table_html(by_category, "Complaints in the window by carrier and category", "table-complaints-by-category"),
    ])


def _heatmap_chart(data: ReportData) -> str:
    frame = data.heatmap.with_columns(pl.col("day").cast(pl.String))
    per_prefix = frame.group_by("prefix", "carrier", "is_hotspot").agg(pl.col("complaints").sum()).sort("prefix")
    values = {(p, d): int(v) for p, d, v in frame.select("prefix", "day", "complaints").iter_rows()}
    marked = set(per_prefix.filter(pl.col("is_hotspot"))["prefix"].to_list())
    notes = dict(zip(per_prefix["prefix"].to_list(), per_prefix["carrier"].to_list()))
    return heat_map("chart-prefix-heatmap", CHARTS["chart-prefix-heatmap"], per_prefix["prefix"].to_list(),
                    data.days, values, marked, notes)


def _candidate_charts(data: ReportData) -> str:
    actions = [a for a in ACTION_COLOURS if a in set(data.candidates["action"].to_list())]
    carriers = sorted(data.candidates["carrier"].unique().to_list())
    rules = list(dict.fromkeys(data.candidates_by_rule["rule_id"].to_list()))
    rule_actions = [a for a in ACTION_COLOURS if a in set(data.candidates_by_rule["action"].to_list())]
    return "".join([
        stacked_bars("chart-candidates", CHARTS["chart-candidates"], carriers,
                     _pivot(data.candidates, "carrier", "action", "candidates", carriers, actions), ACTION_COLOURS),
        stacked_bars("chart-candidates-by-rule", CHARTS["chart-candidates-by-rule"], rules,
                     _pivot(data.candidates_by_rule, "rule_id", "action", "candidates", rules, rule_actions),
                     ACTION_COLOURS),
    ])


def _rule_hit_chart(data: ReportData) -> str:
    rules = list(dict.fromkeys(data.rule_hits["rule_id"].to_list()))
    outcomes = sorted(data.rule_hits["outcome"].unique().to_list(), key=lambda o: (o != "not excluded", o))
    return stacked_bars("chart-rule-hits", CHARTS["chart-rule-hits"], rules,
                        _pivot(data.rule_hits, "rule_id", "outcome", "hits", rules, outcomes),
                        colour_map(outcomes, OUTCOME_COLOURS))


def _ingest_charts(data: ReportData) -> str:
    kinds = data.ledger.group_by("source_kind").agg(pl.col("rows_accepted", "rows_rejected", "rows_duplicate").sum()).sort("source_kind")
    labels = kinds["source_kind"].to_list()
    series = {"accepted": kinds["rows_accepted"].to_list(), "rejected": kinds["rows_rejected"].to_list(),
              "duplicate": kinds["rows_duplicate"].to_list()}
    rejects = data.rejects.filter(pl.col("rows_this_run") > 0)
    return "".join([
        stacked_bars("chart-ingest", CHARTS["chart-ingest"], labels, series,
                     {"accepted": "#3a9d5d", "rejected": "#b03a48", "duplicate": NEUTRAL}),
        stacked_bars("chart-rejects", CHARTS["chart-rejects"], rejects["reason"].to_list(),
                     {"rows": rejects["rows_this_run"].to_list()}, {"rows": "#b03a48"}),
    ])


def _request_chart(data: ReportData) -> str:
    per_request = data.requests.group_by("request_id").agg(pl.col("status").first(), pl.col("overdue").any())
    counts = per_request.group_by("status").agg(pl.len().alias("requests")).sort("status")
    return stacked_bars("chart-requests", CHARTS["chart-requests"], counts["status"].to_list(),
                        {"requests": counts["requests"].to_list()}, {"requests": "#2f6fb0"})


def _spoofing_chart(data: ReportData) -> str:
    kinds = sorted(data.spoofing["alert_kind"].unique().to_list())
    numbers = data.spoofing["number"].to_list()
    series = {k: [int(c) if a == k else 0 for a, c in zip(data.spoofing["alert_kind"].to_list(),
                                                          data.spoofing["complaints"].to_list())] for k in kinds}
    return stacked_bars("chart-spoofing", CHARTS["chart-spoofing"], numbers, series,
                        colour_map(kinds, {"protected_number": "#b03a48"}))


def _cards(data: ReportData) -> str:
    alerting = {"spoofing alerts", "overdue requests", "two-way block"}
    cards = "".join(f"<div class='card{' alert' if k in alerting and v else ''}'><b>{v:,}</b>{escape(k)}</div>"
                    for k, v in data.headline().items())
    return f"<div class='cards' id='headline'>{cards}</div>"


def render_report(data: ReportData) -> str:
    day = data.run_date.isoformat()
    overdue = data.requests.filter(pl.col("overdue"))
    parts = [
        "<!doctype html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>subflag run report {day}</title><style>{_CSS}</style></head><body>",
        f"<h1>subflag — run report for {day}</h1>",
        f"<p class='meta'>run id <code>{escape(data.run_id)}</code> · regulation profile {escape(data.profile)} · "
        f"time zone {escape(data.timezone)} · feature window {data.window_days} days ({data.days[0]} to {day}) · "
        f"config sha256 <code>{escape(data.config_sha256[:16])}…</code></p>",
        "<p class='meta'>Candidates are for review by the carrier's compliance team, not automatic suspensions. "
        "Complaint text below is quoted as citizens sent it.</p>",
        _cards(data),
        "<h2 id='complaints'>Complaints</h2>",
        _complaint_charts(data),
        "<h2 id='hotspots'>Prefix hot-spots</h2>",
        _heatmap_chart(data),
        table_html(data.hotspots, "Hot-spots on the run date (3- and 5-digit prefixes)", "table-hotspots"),
        "<h2 id='candidates'>Candidates</h2>",
        _candidate_charts(data),
        table_html(data.candidates, "Candidates by carrier and action", "table-candidates"),
        table_html(data.top_candidates, f"Strongest exported candidates (up to {TOP_CANDIDATES}; "
                   "full lists in the per-carrier files)", "table-top-candidates"),
        "<h2 id='rules'>Rule hits and exclusions</h2>",
        _rule_hit_chart(data),
        table_html(data.rule_hits, "Rule hits by outcome (an excluded hit never becomes a candidate)", "table-rule-hits"),
        "<h2 id='requests'>Authority requests</h2>",
        _request_chart(data),
        table_html(overdue, "Overdue: past due at the end of the run date without a package", "table-overdue",
                   empty="none overdue"),
        table_html(data.requests, "Every request received by the end of the run date", "table-requests"),
        "<h2 id='spoofing'>Spoofing alerts</h2>",
        _spoofing_chart(data),
        table_html(data.spoofing, "Numbers whose caller ID was probably forged (protected numbers, "
                   "uncorroborated on-net numbers), with the latest complaint text", "table-spoofing"),
        "<h2 id='ingest'>Ingest ledger</h2>",
        _ingest_charts(data),
        table_html(data.ledger, "Files landed, by source kind and carrier (all runs; this run's share)", "table-ledger"),
        table_html(data.rejects, "Rejected rows by reason", "table-rejects"),
        table_html(data.ledger_problems, "Files this run landed with rejected rows or that failed", "table-ledger-problems"),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, run_id: str, out: Path) -> Path:
    html = render_report(collect_report_data(con, settings, run_date, run_id))
    target = run_folder(out, run_date, settings) / "report.html"
    with atomic_path(target, int(settings.run.output.file_mode, 8)) as tmp:
        tmp.write_text(html, encoding="utf-8")
        kill_point("report.write")
    return target


# ---------------------------------------------------------------------------------------------------
# Terminal

@dataclass(frozen=True)
class SummaryTable:
    title: str
    columns: list[str]
    rows: list[list[str]]


def _rows(frame: pl.DataFrame) -> list[list[str]]:
    """Cells as terminal text: request ids and authorities are input, so bidi/invisible controls are shown."""
    return [["" if v is None else f"{v:,}" if isinstance(v, int) and not isinstance(v, bool)
             else show_invisible(str(v)) for v in row]
            for row in frame.iter_rows()]


def summary_tables(data: ReportData) -> list[SummaryTable]:
    """The report's figures as plain tables (the CLI draws them); complaint text is left out of the terminal."""
    headline = data.headline()
    per_carrier_kind = (data.complaints.group_by("carrier", "kind").agg(pl.col("complaints").sum())
                        .sort("carrier", "kind"))
    overdue = data.requests.filter(pl.col("overdue")).select("request_id", "authority", "due_local", "hours_overdue")
    return [
        SummaryTable("run figures", ["figure", "count"],
                     [[k, f"{v:,}"] for k, v in headline.items()]),
        SummaryTable(f"complaints in the {data.window_days}-day window", ["carrier", "kind", "complaints"],
                     _rows(per_carrier_kind)),
        SummaryTable("candidates", ["carrier", "action", "candidates"], _rows(data.candidates)),
        SummaryTable("rule hits", ["rule", "action", "outcome", "hits"], _rows(data.rule_hits)),
        SummaryTable("rejected rows", ["reason", "this run", "all runs"], _rows(data.rejects)),
        SummaryTable("overdue requests", ["request", "authority", "due (local)", "hours overdue"], _rows(overdue)),
        SummaryTable("spoofing alerts", ["kind", "number", "complaints"],
                     _rows(data.spoofing.select("alert_kind", "number", "complaints"))),
    ]
