"""`subflag simulate`: a deterministic synthetic inbox (DESIGN.md §4) plus the ground truth to score it.

The generator exists so the pipeline can be judged against known answers, which only works if the
populations are *honest*: no single CDR feature separates the people who must be blocked from those
who must not. Measured on the default 20 000-subscriber, 7-day inbox (10th–90th percentile per line;
"short" = under 10 s or unanswered; "new" = distinct callees / calls; in/out = inbound / outbound calls):

| population | calls/day | short | new | gaps < 30 s | night | in/out | line, device, KYC | reports |
|---|---|---|---|---|---|---|---|---|
| normal | 1–5 | 6–45 % | 0.26–0.71 | 0–3 % | 0–15 % | 0.7–4.4 | old, one phone, KYC ok | none |
| revenge_target | 1–5 | 6–30 % | 0.3–1.0 | 0–3 % | 0–12 % | 0.7–4.5 | old, one phone, KYC ok | 1–2 reporters, never in contact |
| shipper | 19–66 | 46–73 % | 0.91–0.96 | 1–7 % | 0 | 0.18–0.63 | years old, verified, one phone, many cells | rare, corroborated |
| taxi_dispatch | 39–152 | 41–76 % | 0.54–0.58 | 3–9 % | 16–20 % | 0.23–0.55 | postpaid enterprise, 4+ lines per ID (own store) | rare |
| call_centre | 85–258 | 64–84 % | 0.94–0.97 | 35–50 % | 0 | 0.05–0.17 | postpaid enterprise, 4+ lines per ID (own store) | rare; one cleared earlier |
| scammer | 27–117 | 63–89 % | 0.98–1.0 | 40–63 % | 0–14 % | 0.01–0.10 | days old, prepaid, agent, often unverified, ring SIMs share 1–3 phones | 2–10 reporters, mostly corroborated |
| spam_sms | ~280 SMS | — | 1.0 | — | ~0 | ~0 | days old, prepaid | several `S` reports |

Every CDR column overlaps: call volume (taxi, call centres), short share and new-callee share (call
centres, shippers), short gaps and low inbound ratio (call centres), night share (taxi), "4+ lines per
ID" (enterprises). Only the combination with line age, plan, registration point, KYC, shared handsets
and corroborated reports from distinct victims separates scammers. ``expected = block`` in the truth
marks scammers (the ported one included) and spam senders; scammers already two-way-blocked are
``none`` (an exclusion, not a new candidate), as are benign heavy callers and revenge targets.

The truth lives beside the inbox, never inside it: ``labels.csv`` (one row per number), ``reports.csv``
(what every 5656 message and complaint really means) and ``summary.json`` (counts derived from what was
written: duplicates, malformed rows, DNC and garbage messages, KYC defects, request targets, ...).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Literal
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from transforms.config import Settings
from transforms.simulate_cdr import (NUMBER_STYLE, CdrFileTruth, build_network, format_number, generate_events,
                                     local_time, record_code, write_cdr)
from transforms.simulate_people import (BAD_ACTORS, MIN_SUBSCRIBERS, POPULATIONS, STATUSES, People,
                                        Registry, build_people, build_registry)
from transforms.simulate_reports import (CHANNELS, CONTENT_VARIANTS, NUMBER_FORMS, TEMPLATES, Reports,
                                         build_decisions, build_reports,
                                         build_requests)

INBOX_FOLDERS = ("cdr", "subscribers", "ported", "reports_5656", "complaints", "requests", "decisions")
TRUTH_FILES = ("labels.csv", "summary.json", "reports.csv")
SUBSCRIBER_COLUMNS = ("msisdn", "subscriber_id", "activated_on", "plan", "status", "full_name", "date_of_birth",
                      "id_type", "id_number", "registration_point", "kyc_verified", "id_issued_on",
                      "id_issued_place", "photo_ref")
COMPLAINT_COLUMNS = ("complaint_id", "received_at", "channel", "reported_number", "category", "reporter",
                     "description", "occurred_at")
_BOM_SUBSCRIBER_EXPORTS = {"vinaphone"}


@dataclass(frozen=True, kw_only=True)
class SimulationSpec:
    subscribers: int = 20_000
    days: int = 7
    end_date: date
    seed: int = 7
    cdr_format: Literal["parquet", "csv.gz"] = "parquet"

    def __post_init__(self) -> None:
        if self.subscribers < MIN_SUBSCRIBERS:
            raise ValueError(f"subscribers: expected at least {MIN_SUBSCRIBERS} (every population needs members), "
                             f"got {self.subscribers}")
        if not 1 <= self.days <= 62:
            raise ValueError(f"days: expected 1..62, got {self.days}")
        if self.cdr_format not in ("parquet", "csv.gz"):
            raise ValueError(f"cdr_format: expected 'parquet' or 'csv.gz', got {self.cdr_format!r}")

    @property
    def first_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)


@dataclass(frozen=True)
class SimulationSummary:
    """What was written, for the CLI table; ``seconds`` is wall time and is NOT part of the truth files."""

    inbox: Path
    truth: Path
    files: dict[str, int]
    rows: dict[str, int]
    populations: dict[str, int]
    seconds: float = field(compare=False)

    def table(self) -> list[tuple[str, int, int]]:
        return [(kind, self.files[kind], self.rows.get(kind, 0)) for kind in self.files]


def yesterday_local(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date() - timedelta(days=1)


def _write_atomic(path: Path, writer: Callable[[Path], None]) -> None:
    """Write to a dot-named temp file and rename, so a watcher never lands a half-written delivery."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    writer(tmp)
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    _write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _prepare_dirs(inbox: Path, truth: Path, overwrite: bool) -> None:
    i, t = inbox.resolve(), truth.resolve()
    if i == t or i in t.parents or t in i.parents:
        raise ValueError(f"truth folder {truth} must lie outside the inbox {inbox} (and not contain it): "
                         "the pipeline would ingest the answers")
    busy = [inbox / f for f in INBOX_FOLDERS if (inbox / f).exists()]
    busy += [truth / f for f in TRUTH_FILES if (truth / f).exists()]
    if busy and not overwrite:
        raise FileExistsError(f"{busy[0]} already exists; simulate into an empty folder or pass overwrite=True "
                              "(which deletes the inbox folders it writes and the truth files)")
    for path in busy:
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def _unassigned_number(rng: np.random.Generator, p: People, settings: Settings) -> int:
    """A well-formed number in a real range that no simulated carrier has handed out."""
    prefix = settings.carriers[0].prefixes[-1]
    scale = 10 ** (10 - len(prefix))
    while True:
        nsn = int(prefix[1:]) * scale + int(rng.integers(0, scale))
        if not np.isin(nsn, p.nsn):
            return nsn


def _write_subscribers(p: People, reg: Registry, spec: SimulationSpec, inbox: Path) -> dict[str, int]:
    written: dict[str, int] = {}
    snapshots = sorted({0: spec.first_date, spec.days - 1: spec.end_date}.items())
    base = reg.frame.with_columns(
        pl.Series("cur", p.cur), pl.Series("nsn", p.nsn), pl.Series("act", p.activated),
        pl.Series("status_first", STATUSES).gather(p.status_first),
        pl.Series("status_last", STATUSES).gather(p.status_last))
    for k, slug in enumerate(p.carriers):
        mine = base.filter(pl.col("cur") == k)
        for d, day in snapshots:
            snap = mine.filter(pl.col("act") <= d).with_columns(
                format_number(pl.col("nsn"), pl.lit(0), NUMBER_STYLE.get(slug, "national")).alias("msisdn"),
                pl.col("status_last" if d == spec.days - 1 else "status_first").alias("status"),
            ).sort("subscriber_id").select(SUBSCRIBER_COLUMNS)
            rel = f"subscribers/{slug}/subscribers_{slug}_{day:%Y%m%d}.csv"
            _write_atomic(inbox / rel, lambda tmp, snap=snap, bom=slug in _BOM_SUBSCRIBER_EXPORTS:
                          snap.write_csv(tmp, include_bom=bom))
            written[rel] = snap.height
    return written


def _write_ported(p: People, spec: SimulationSpec, epoch0: int, inbox: Path) -> int:
    idx = np.flatnonzero(p.orig != p.cur)
    frame = pl.DataFrame({"nsn": p.nsn[idx], "carrier": np.array(p.carriers)[p.cur[idx]], "t": p.ported_at[idx]})
    frame = frame.sort("t", "nsn").select(
        pl.concat_str(pl.lit("0"), pl.col("nsn").cast(pl.String)).alias("msisdn"), "carrier",
        local_time(pl.col("t"), epoch0).dt.strftime("%Y-%m-%d %H:%M:%S").alias("ported_at"))
    _write_atomic(inbox / "ported" / f"ported_{spec.end_date:%Y%m%d}.csv", frame.write_csv)
    return frame.height


def _write_reports(r: Reports, spec: SimulationSpec, inbox: Path) -> dict[str, int]:
    written: dict[str, int] = {}
    for d in range(spec.days):
        day = spec.first_date + timedelta(days=d)
        part = r.reports_5656.filter(pl.col("day") == d).select("received_at", "reporter", "message", "report_id")
        rel = f"reports_5656/reports_5656_{day:%Y%m%d}.csv"
        _write_atomic(inbox / rel, part.write_csv)
        written[rel] = part.height
        part = r.complaints.filter((pl.col("day") == d) & (pl.col("channel") != "app")).select(COMPLAINT_COLUMNS)
        rel = f"complaints/complaints_{day:%Y%m%d}.csv"
        _write_atomic(inbox / rel, part.write_csv)
        written[rel] = part.height
    app = r.complaints.filter(pl.col("channel") == "app").select(COMPLAINT_COLUMNS)
    rel = f"complaints/complaints_app_{spec.end_date:%Y%m%d}.jsonl"
    _write_atomic(inbox / rel, app.write_ndjson)
    written[rel] = app.height
    return written


def request_file_name(request_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", request_id).strip("-") + ".json"


def _labels(p: People, reg: Registry, r: Reports, settings: Settings, unassigned: int) -> pl.DataFrame:
    per_target = r.intents.filter(pl.col("target_idx") >= 0).group_by("target_idx").agg(
        pl.len().alias("reports"), pl.col("reporter_idx").n_unique().alias("distinct_reporters"),
        pl.col("reporter_idx").filter("corroborated").n_unique().alias("corroborated_reporters"))
    slugs = pl.Series(p.carriers)
    subs = pl.DataFrame({"idx": np.arange(p.n)}).with_columns(
        pl.concat_str(pl.lit("+84"), pl.Series(p.nsn).cast(pl.String)).alias("msisdn"),
        slugs.gather(p.cur).alias("current_carrier"), slugs.gather(p.orig).alias("original_carrier"),
        pl.Series(POPULATIONS).gather(p.pop).alias("population"),
        pl.Series(STATUSES).gather(p.status_last).alias("status"),
        reg.frame["activated_on"].cast(pl.String), reg.frame["plan"],
        pl.Series("ring_id", p.ring),
    ).join(per_target, left_on="idx", right_on="target_idx", how="left", maintain_order="left") \
     .join(reg.defects, on="idx", how="left", maintain_order="left")
    subs = subs.with_columns(
        pl.when(pl.col("population").is_in(BAD_ACTORS)).then(pl.lit("block")).otherwise(pl.lit("none"))
        .alias("expected"),
        pl.col("reports", "distinct_reporters", "corroborated_reporters").fill_null(0).cast(pl.Int64),
    )
    spoof = r.intents.filter(pl.col("cls") == "spoof").group_by("target_text").agg(
        pl.len().alias("reports"), pl.col("reporter_idx").n_unique().alias("distinct_reporters"))
    extra = pl.DataFrame({
        "target_text": [x.number[1:] for x in settings.protected.numbers] + [str(unassigned)],
        "population": ["protected_spoofed"] * len(settings.protected.numbers) + ["unassigned"],
    }).join(spoof, on="target_text", how="left", maintain_order="left").with_columns(
        pl.concat_str(pl.lit("+84"), "target_text").alias("msisdn"),
        pl.lit("none").alias("expected"), pl.lit(0, dtype=pl.Int64).alias("corroborated_reporters"),
        pl.col("reports", "distinct_reporters").fill_null(0).cast(pl.Int64),
        pl.lit(-1, dtype=pl.Int32).alias("ring_id"),
    )
    cols = ["msisdn", "current_carrier", "original_carrier", "population", "expected", "status", "activated_on",
            "plan", "ring_id", "reports", "distinct_reporters", "corroborated_reporters", "kyc_defects"]
    blank = [pl.lit(None, dtype=pl.String).alias(c) for c in
             ("current_carrier", "original_carrier", "status", "activated_on", "plan", "kyc_defects")]
    return pl.concat([subs.select(cols), extra.with_columns(blank).select(cols)], how="vertical_relaxed").sort("msisdn")


def _truth_reports(r: Reports, p: People, epoch0: int) -> pl.DataFrame:
    pop = pl.Series(POPULATIONS).gather(p.pop[np.clip(r.intents["target_idx"].to_numpy(), 0, None)])
    return r.intents.with_columns(
        pl.when(pl.col("target_idx") >= 0).then(pl.Series(pop)).when(pl.col("cls") == "spoof")
        .then(pl.lit("protected_spoofed")).otherwise(None).alias("target_population"),
        pl.when(pl.col("target_kind").is_in(["mobile", "protected"]))
        .then(pl.concat_str(pl.lit("+84"), "target_text")).otherwise("target_text").alias("target"),
        pl.concat_str(pl.lit("+84"), "reporter_nsn").alias("reporter_msisdn"),
        local_time(pl.col("t_event"), epoch0).dt.strftime("%Y-%m-%d %H:%M:%S").alias("event_at"),
        pl.when(pl.col("target_kind").is_in(["mobile", "protected"]))
        .then(pl.col("form").replace_strict(dict(enumerate(NUMBER_FORMS)), default=None)).alias("number_form"),
        pl.when((pl.col("channel") == "5656") & (pl.col("target_kind") != "none"))
        .then(pl.col("tmpl").replace_strict(dict(enumerate(TEMPLATES)), default=None)).alias("template"),
        pl.when((pl.col("target_kind") != "none") & (pl.col("channel") == "5656"))
        .then(pl.col("variant").replace_strict(dict(enumerate(CONTENT_VARIANTS)), default=None))
        .alias("content_variant"),
    ).select("row_id", "channel", "received_at", "intent", "cls", "target_kind", "target", "target_population",
             "reporter_msisdn", "corroborated", "event_at", "number_form", "template", "content_variant")


def simulate_inbox(spec: SimulationSpec, settings: Settings, inbox: Path, truth: Path, *,
                   overwrite: bool = False) -> SimulationSummary:
    """Write the inbox and the truth; the same spec and config always give byte-identical files."""
    started = time.perf_counter()
    inbox, truth = Path(inbox), Path(truth)
    _prepare_dirs(inbox, truth, overwrite)
    tz = settings.run.timezone
    day0 = spec.first_date
    epoch0 = int((day0 - date(1970, 1, 1)).total_seconds())
    seeds = np.random.SeedSequence(spec.seed).spawn(7)
    # One independent stream per stage: changing how one stage draws leaves the others' output alone.
    rng_people, rng_reg, rng_net, rng_events, rng_cdr, rng_reports, rng_admin = (
        np.random.default_rng(s) for s in seeds)

    p = build_people(rng_people, spec.subscribers, spec.days, day0, settings)
    reg = build_registry(rng_reg, p, day0, spec.end_date, {s: record_code(s) for s in p.carriers})
    events = generate_events(rng_events, p, build_network(rng_net, p, settings), spec.days, day0)
    cdr = write_cdr(rng_cdr, events, p, day0, spec.days, epoch0, tz, spec.cdr_format, inbox, _write_atomic)

    cleared = int(p.members("call_centre")[0])
    reports = build_reports(rng_reports, p, events, settings, spec.days, epoch0, cleared)
    unassigned = _unassigned_number(rng_admin, p, settings)
    subscriber_rows = _write_subscribers(p, reg, spec, inbox)
    ported_rows = _write_ported(p, spec, epoch0, inbox)
    report_rows = _write_reports(reports, spec, inbox)
    requests = build_requests(p, unassigned, spec.end_date, day0)
    for req in requests:
        _write_text(inbox / "requests" / request_file_name(req["request_id"]),
                    json.dumps(req, ensure_ascii=False, indent=2) + "\n")
    decisions = build_decisions(rng_admin, p, cleared, day0)
    _write_atomic(inbox / "decisions" / f"decisions_{day0:%Y%m%d}.csv",
                  decisions.drop("idx").write_csv)

    labels = _labels(p, reg, reports, settings, unassigned)
    truth_reports = _truth_reports(reports, p, epoch0)
    _write_atomic(truth / "labels.csv", labels.write_csv)
    _write_atomic(truth / "reports.csv", truth_reports.write_csv)
    summary = _summary(spec, p, reg, labels, cdr, subscriber_rows, ported_rows, report_rows, reports, requests,
                       decisions, unassigned)
    _write_text(truth / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n")

    files = {"cdr": len(cdr), "subscribers": len(subscriber_rows), "ported": 1,
             "reports_5656": sum(k.startswith("reports_5656/") for k in report_rows),
             "complaints": sum(k.startswith("complaints/") for k in report_rows),
             "requests": len(requests), "decisions": 1}
    rows = {"cdr": sum(c.rows for c in cdr), "subscribers": sum(subscriber_rows.values()), "ported": ported_rows,
            "reports_5656": reports.reports_5656.height, "complaints": reports.complaints.height,
            "requests": len(requests), "decisions": decisions.height}
    return SimulationSummary(inbox, truth, files, rows, summary["populations"], time.perf_counter() - started)


def _summary(spec: SimulationSpec, p: People, reg: Registry, labels: pl.DataFrame, cdr: list[CdrFileTruth],
             subscriber_rows: dict[str, int], ported_rows: int, report_rows: dict[str, int], r: Reports,
             requests: list[dict], decisions: pl.DataFrame, unassigned: int) -> dict:
    """Counts a test needs to score the pipeline (every figure is derived from what was written)."""
    i5656 = r.intents.filter(pl.col("channel") == "5656")
    msgs = r.reports_5656["message"]
    defects = (reg.defects.select(pl.col("kyc_defects").str.split(";")).explode("kyc_defects")
               .filter(pl.col("kyc_defects") != ""))
    ported = np.flatnonzero(p.orig != p.cur)
    slugs = p.carriers

    def _held_by(loose: str) -> str | None:
        hit = np.flatnonzero(p.nsn == int(_e164(loose)[3:]))
        return slugs[p.cur[hit[0]]] if hit.size else None

    def _count(frame: pl.DataFrame, col: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in frame.group_by(col).len().sort(col).iter_rows()}

    return {
        "spec": {"subscribers": spec.subscribers, "days": spec.days, "first_date": str(spec.first_date),
                 "end_date": str(spec.end_date), "seed": spec.seed, "cdr_format": spec.cdr_format},
        "carriers": slugs,
        "populations": _count(labels, "population"),
        "expected": _count(labels, "expected"),
        "cdr": {
            "files": {c.path: {"rows": c.rows, "originating": c.originating, "terminating": c.terminating,
                               "duplicate_rows": c.duplicates, "malformed_rows": c.malformed} for c in cdr},
            "rows_written": sum(c.rows for c in cdr),
            "valid_rows": sum(c.originating + c.terminating for c in cdr),
            "duplicate_rows": sum(c.duplicates for c in cdr),
            "malformed_rows": dict(sum((Counter(c.malformed) for c in cdr), Counter())),
            "number_style": {s: NUMBER_STYLE.get(s, "national") for s in slugs},
        },
        "subscribers": {"files": subscriber_rows, "kyc_defects": _count(defects, "kyc_defects")},
        "ported": {"rows": ported_rows, "numbers": _e164_sorted(p.nsn[ported]),
                   "ported_scammers": _e164_sorted(p.nsn[p.members("ported_scammer")])},
        "reports_5656": {
            "files": {k: v for k, v in report_rows.items() if k.startswith("reports_5656/")},
            "rows": r.reports_5656.height,
            "by_intent": _count(i5656, "intent"),
            "by_target_kind": _count(i5656, "target_kind"),
            "by_number_form": _count(i5656.filter(pl.col("target_kind").is_in(["mobile", "protected"])).with_columns(
                pl.col("form").replace_strict(dict(enumerate(NUMBER_FORMS)))), "form"),
            "dnc": int(i5656["intent"].is_in(["dnc_register", "dnc_cancel"]).sum()),
            "garbage": int((i5656["intent"] == "garbage").sum()),
            "protected": int((i5656["target_kind"] == "protected").sum()),
            "corroborated": int(i5656["corroborated"].sum()),
            "nfd_messages": int((msgs.str.normalize("NFC") != msgs).sum()),
            "fullwidth_messages": int(msgs.str.contains("[０-９]").sum()),
        },
        "complaints": {
            "files": {k: v for k, v in report_rows.items() if k.startswith("complaints/")},
            "rows": r.complaints.height,
            "by_channel": {c: int((r.complaints["channel"] == c).sum()) for c in CHANNELS},
            "by_canonical_category": _count(r.complaints, "canonical"),
            "synonym_category": int(r.complaints["synonym"].sum()),
            "unknown_category": int(r.complaints["unknown"].sum()),
        },
        "requests": [{"file": f"requests/{request_file_name(q['request_id'])}", "request_id": q["request_id"],
                      "requested_action": q["requested_action"],
                      "held_by": {n: _held_by(n) for n in q["numbers"]}} for q in requests],
        "unassigned_number": f"+84{unassigned}",
        "decisions": {"rows": decisions.height, "by_decision": _count(decisions, "decision"),
                      "numbers": {f"+84{p.nsn[i]}": d for i, d in decisions.select("idx", "decision").iter_rows()}},
    }


def _e164_sorted(nsn: np.ndarray) -> list[str]:
    return ("+84" + pl.Series(np.sort(nsn)).cast(pl.String)).to_list()


def _e164(loose: str) -> str:
    digits = re.sub(r"\D", "", loose)
    if len(digits) >= 11 and digits.startswith("84"):
        digits = digits[2:]
    return "+84" + digits.lstrip("0")
