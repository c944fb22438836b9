"""The synthetic inbox honours the §4 contract and its truth tells the exact story of what was written."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from transforms.simulate import SimulationSpec, SimulationSummary, simulate_inbox
from transforms.simulate_people import BAD_ACTORS, POPULATIONS

END = date(2024, 3, 5)
DAYS = 3
SUBSCRIBERS = 800

# DESIGN.md §4 required columns (optional ones the simulator also writes are checked separately).
REQUIRED = {
    "reports_5656": ["received_at", "reporter", "message"],
    "complaints": ["complaint_id", "received_at", "channel", "reported_number", "category"],
    "cdr": ["record_id", "a_number", "b_number", "start_time", "duration_s", "event_type"],
    "subscribers": ["msisdn", "subscriber_id", "activated_on", "plan", "status", "full_name", "date_of_birth",
                    "id_type", "id_number", "registration_point", "kyc_verified"],
    "ported": ["msisdn", "carrier", "ported_at"],
    "decisions": ["msisdn", "decided_at", "decision"],
}
OPTIONAL = {
    "reports_5656": ["report_id"],
    "complaints": ["reporter", "description", "occurred_at"],
    "cdr": ["cell_id", "imei"],
    "subscribers": ["id_issued_on", "id_issued_place", "photo_ref"],
    "decisions": ["case_ref", "note"],
}
REQUEST_KEYS = {"request_id", "authority", "received_at", "due_at", "legal_basis", "requested_action", "numbers",
                "fields", "period"}


@dataclass
class Run:
    inbox: Path
    truth: Path
    summary: SimulationSummary

    @property
    def facts(self) -> dict:
        return json.loads((self.truth / "summary.json").read_text(encoding="utf-8"))

    def labels(self) -> pl.DataFrame:
        return pl.read_csv(self.truth / "labels.csv", infer_schema=False)

    def truth_reports(self) -> pl.DataFrame:
        return pl.read_csv(self.truth / "reports.csv", infer_schema=False)


def _simulate(root: Path, settings, seed: int = 11, fmt: str = "parquet") -> Run:
    spec = SimulationSpec(subscribers=SUBSCRIBERS, days=DAYS, end_date=END, seed=seed, cdr_format=fmt)
    summary = simulate_inbox(spec, settings, root / "inbox", root / "truth")
    return Run(root / "inbox", root / "truth", summary)


@pytest.fixture(scope="module")
def run(tmp_path_factory, settings) -> Run:
    return _simulate(tmp_path_factory.mktemp("sim_a"), settings)


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory, settings) -> Run:
    return _simulate(tmp_path_factory.mktemp("sim_csv"), settings, fmt="csv.gz")


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _nsn(col: str) -> pl.Expr:
    """National significant number from any vendor spelling (84…, +84…, 0…, bare)."""
    digits = pl.col(col).str.replace(r"^\+", "")
    return (pl.when((digits.str.len_chars() >= 11) & digits.str.starts_with("84")).then(digits.str.slice(2))
            .when(digits.str.starts_with("0")).then(digits.str.slice(1)).otherwise(digits))


def _read_cdr(path: Path) -> pl.DataFrame:
    if path.name.endswith(".parquet"):
        return pl.read_parquet(path)
    return pl.read_csv(path, infer_schema=False)


def _all_cdr(run: Run) -> pl.DataFrame:
    frames = [_read_cdr(p).with_columns(pl.lit(p.parent.name).alias("carrier"), pl.lit(p.name).alias("file"))
              for p in sorted((run.inbox / "cdr").rglob("cdr_*"))]
    return pl.concat(frames).unique("record_id", keep="first", maintain_order=True).with_columns(
        _nsn("a_number").alias("a"), _nsn("b_number").alias("b"))


# --- determinism and layout -----------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(run, tmp_path, settings):
    again = _simulate(tmp_path, settings)
    assert _digests(again.inbox) == _digests(run.inbox)
    assert _digests(again.truth) == _digests(run.truth)


def test_different_seed_gives_different_files(run, tmp_path, settings):
    other = _simulate(tmp_path, settings, seed=12)
    a, b = _digests(run.inbox), _digests(other.inbox)
    assert a.keys() == b.keys()
    changed = [k for k in a if a[k] != b[k]]
    assert len(changed) > len(a) * 0.9
    assert _digests(run.truth)["labels.csv"] != _digests(other.truth)["labels.csv"]


def test_truth_is_written_beside_the_inbox_not_inside(run):
    assert sorted(p.name for p in run.truth.iterdir()) == ["labels.csv", "reports.csv", "summary.json"]
    assert run.truth.resolve() not in run.inbox.resolve().parents
    assert not list(run.inbox.rglob("labels.csv")) and not list(run.inbox.rglob("summary.json"))


def test_truth_inside_inbox_is_refused(tmp_path, settings):
    spec = SimulationSpec(subscribers=SUBSCRIBERS, days=DAYS, end_date=END)
    with pytest.raises(ValueError, match="outside the inbox"):
        simulate_inbox(spec, settings, tmp_path / "inbox", tmp_path / "inbox" / "truth")


def test_existing_inbox_needs_overwrite(run, settings):
    spec = SimulationSpec(subscribers=SUBSCRIBERS, days=DAYS, end_date=END, seed=11)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        simulate_inbox(spec, settings, run.inbox, run.truth)


def test_overwrite_replaces_a_previous_inbox(tmp_path, settings):
    first = _simulate(tmp_path, settings, seed=3)
    spec = SimulationSpec(subscribers=SUBSCRIBERS, days=2, end_date=END + timedelta(days=10), seed=4)
    simulate_inbox(spec, settings, first.inbox, first.truth, overwrite=True)
    dates = {re.search(r"_(\d{8})\.", p.name).group(1) for p in (first.inbox / "cdr").rglob("cdr_*")}
    assert dates == {"20240314", "20240315"}


@pytest.mark.parametrize("bad, message", [
    (dict(subscribers=100), "subscribers"), (dict(days=0), "days"), (dict(cdr_format="xlsx"), "cdr_format"),
])
def test_spec_is_validated(bad, message):
    with pytest.raises(ValueError, match=message):
        SimulationSpec(**{"end_date": END, **bad})


def test_files_per_kind(run, settings):
    slugs = settings.carrier_slugs()
    days = [f"{END - timedelta(days=d):%Y%m%d}" for d in range(DAYS)]
    cdr = sorted(str(p.relative_to(run.inbox)) for p in (run.inbox / "cdr").rglob("*") if p.is_file())
    assert cdr == sorted(f"cdr/{s}/cdr_{s}_{d}.parquet" for s in slugs for d in days)
    subs = sorted(p.name for p in (run.inbox / "subscribers").rglob("*.csv"))
    assert subs == sorted(f"subscribers_{s}_{d}.csv" for s in slugs for d in (days[0], days[-1]))
    assert sorted(p.name for p in (run.inbox / "requests").iterdir()) == ["127-PA05-CATP.json", "432-STTTT-TTra.json"]
    assert [p.name for p in (run.inbox / "ported").iterdir()] == ["ported_20240305.csv"]
    assert run.summary.files == {"cdr": len(slugs) * DAYS, "subscribers": 2 * len(slugs), "ported": 1,
                                 "reports_5656": DAYS, "complaints": DAYS + 1, "requests": 2, "decisions": 1}
    assert not [p for p in run.inbox.rglob("*") if p.name.startswith(".")]


# --- §4 columns and values --------------------------------------------------------------------------


def _read_any(path: Path) -> pl.DataFrame:
    if path.name.endswith(".jsonl"):
        return pl.read_ndjson(path)
    if path.name.endswith(".parquet"):
        return pl.read_parquet(path)
    return pl.read_csv(path, infer_schema=False)


@pytest.mark.parametrize("fixture", ["run", "csv_run"])
def test_every_file_has_the_required_columns(fixture, request):
    r: Run = request.getfixturevalue(fixture)
    seen = set()
    for kind, required in REQUIRED.items():
        for path in sorted((r.inbox / kind).rglob("*")):
            if path.is_dir():
                continue
            cols = _read_any(path).columns
            assert set(required + OPTIONAL.get(kind, [])) <= set(cols), (path, cols)
            seen.add(kind)
    assert seen == set(REQUIRED)
    for path in (r.inbox / "requests").iterdir():
        req = json.loads(path.read_text(encoding="utf-8"))
        assert set(req) == REQUEST_KEYS
        assert req["requested_action"] in ("information", "suspend")
        assert set(req["fields"]) <= {"subscriber", "complaints", "cdr_summary"}


def test_parquet_cdr_types(run):
    df = pl.read_parquet(next((run.inbox / "cdr" / "viettel").iterdir()))
    assert df.schema["start_time"] == pl.Datetime("us", "Asia/Ho_Chi_Minh")
    assert df.schema["duration_s"] == pl.Int32
    assert set(df["event_type"].unique()) == {"voice", "sms"}
    assert (df["duration_s"] >= 0).all()


def test_cdr_times_fall_on_the_file_day(run, csv_run):
    for path in sorted((run.inbox / "cdr").rglob("*.parquet")):
        day = datetime.strptime(path.stem.split("_")[-1], "%Y%m%d").date()
        days = pl.read_parquet(path)["start_time"].dt.date().unique().to_list()
        assert days in ([day], [])
    for path in sorted((csv_run.inbox / "cdr").rglob("*.csv.gz")):
        day = path.name.split("_")[-1][:8]
        times = pl.read_csv(path, infer_schema=False)["start_time"]
        ok = times.str.contains(rf"^{day[:4]}-{day[4:6]}-{day[6:]} ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
        assert int((~ok).sum()) == 1, path  # the one planted bad_start_time row


def test_number_styles_differ_by_carrier(run):
    a = {p.parent.name: pl.read_parquet(p)["a_number"] for p in sorted((run.inbox / "cdr").rglob("*20240305*"))}
    assert a["viettel"].str.contains(r"^84\d{9}$").all()
    assert a["vinaphone"].str.contains(r"^0\d{9}$").all()
    assert a["mobifone"].str.contains(r"^\+84\d{9}$").all()
    assert a["vietnamobile"].str.contains(r"^\d{9}$").all()


def test_cross_carrier_calls_appear_in_both_carriers_files(run):
    cdr = _all_cdr(run)
    labels = run.labels().select(pl.col("msisdn").str.slice(3).alias("nsn"), "current_carrier")
    cdr = cdr.join(labels.rename({"nsn": "a", "current_carrier": "a_carrier"}), on="a", how="left") \
             .join(labels.rename({"nsn": "b", "current_carrier": "b_carrier"}), on="b", how="left")
    key = ["a", "b", "start_time", "duration_s", "event_type"]
    vt_to_mf = (pl.col("a_carrier") == "viettel") & (pl.col("b_carrier") == "mobifone")
    in_viettel = cdr.filter(vt_to_mf & (pl.col("carrier") == "viettel")).select(key).sort(key)
    in_mobifone = cdr.filter(vt_to_mf & (pl.col("carrier") == "mobifone")).select(key).sort(key)
    assert in_viettel.height > 20
    assert in_viettel.equals(in_mobifone)
    on_net = cdr.filter((pl.col("a_carrier") == "viettel") & (pl.col("b_carrier") == "viettel"))
    assert set(on_net["carrier"].unique()) == {"viettel"}
    assert on_net.select(key).is_duplicated().sum() == 0


def test_duplicates_and_malformed_rows_match_the_truth(run, csv_run):
    for r, fmt in ((run, "parquet"), (csv_run, "csv.gz")):
        files = r.facts["cdr"]["files"]
        total_dups = 0
        for rel, fact in files.items():
            df = _read_cdr(r.inbox / rel)
            assert df.height == fact["rows"]
            dups = df.height - df["record_id"].n_unique()
            assert dups == fact["duplicate_rows"] >= 1
            assert df.filter(pl.col("record_id").is_duplicated()).unique().height == dups  # exact copies
            total_dups += dups
            if fmt == "parquet":
                assert sum(fact["malformed_rows"].values()) == 0
                continue
            d = df.unique("record_id", keep="first", maintain_order=True)
            bad = {
                "negative_duration": int(d["duration_s"].str.starts_with("-").sum()),
                "bad_start_time": int((~d["start_time"].str.contains(r"^\d{4}-\d\d-\d\d ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")).sum()),
                "unknown_event_type": int((~d["event_type"].is_in(["voice", "sms"])).sum()),
                "empty_a_number": int(d["a_number"].fill_null("").eq("").sum()),
            }
            assert bad == fact["malformed_rows"] == {k: 1 for k in bad}
            assert d.height - 4 == fact["originating"] + fact["terminating"]
        assert total_dups == r.facts["cdr"]["duplicate_rows"]
    assert csv_run.facts["cdr"]["malformed_rows"] == {k: 7 * DAYS for k in
                                                      ("bad_start_time", "empty_a_number", "negative_duration",
                                                       "unknown_event_type")}


def test_subscriber_snapshots(run):
    labels = run.labels().filter(pl.col("current_carrier").is_not_null())
    last = pl.concat([pl.read_csv(p, infer_schema=False).with_columns(pl.lit(p.parent.name).alias("carrier"))
                      for p in sorted((run.inbox / "subscribers").rglob("*_20240305.csv"))])
    first = pl.concat([pl.read_csv(p, infer_schema=False) for p in (run.inbox / "subscribers").rglob("*_20240303.csv")])
    assert last.height == labels.height
    assert last["subscriber_id"].n_unique() == last.height
    assert first.height < last.height  # scam SIMs activated during the window are not in the first snapshot
    assert set(last["id_type"].drop_nulls()) == {"cccd", "cmnd", "passport"}
    assert set(last["plan"]) == {"prepaid", "postpaid"}
    assert set(last["registration_point"]) == {"own_store", "agent", "online", "ekyc"}
    assert set(last["kyc_verified"]) == {"true", "false"}
    assert {"active", "one_way_blocked", "two_way_blocked", "terminated"} == set(last["status"])
    cccd = last.filter(pl.col("id_type") == "cccd")["id_number"].drop_nulls()
    assert cccd.str.contains(r"^\d{12}$").all()
    names = last["full_name"].drop_nulls()
    assert names.str.contains("[ăâđêôơưàáảãạềếểễệ]").mean() > 0.5
    assert unicodedata.is_normalized("NFC", "".join(names.to_list()))
    future = last.filter(pl.col("date_of_birth") > "2024-03-05")
    assert future.height == run.facts["subscribers"]["kyc_defects"]["future_date_of_birth"] == 2
    per_id = last.drop_nulls("id_number").group_by("carrier", "id_number").agg(
        pl.len().alias("lines"), pl.col("full_name").n_unique().alias("names"),
        (pl.col("registration_point") == "agent").any().alias("agent"))
    assert per_id.filter((pl.col("lines") >= 4) & pl.col("agent")).height >= 1
    assert per_id.filter(pl.col("names") >= 2).height >= 1
    blanks = last.select(pl.col("full_name", "date_of_birth", "id_number").is_null().sum())
    assert all(v >= 1 for v in blanks.row(0))


def test_first_snapshot_has_status_history(run):
    first = pl.read_csv(next((run.inbox / "subscribers" / "viettel").glob("*_20240303.csv")), infer_schema=False)
    assert "terminated" not in set(first["status"])


# --- populations and truth ---------------------------------------------------------------------------


def test_every_population_is_present_and_expected_is_consistent(run):
    labels = run.labels()
    assert set(POPULATIONS) | {"protected_spoofed", "unassigned"} == set(labels["population"])
    assert labels["msisdn"].str.contains(r"^\+84\d{9,10}$").all()
    assert labels["msisdn"].n_unique() == labels.height
    block = labels.filter(pl.col("expected") == "block")
    assert set(block["population"]) == set(BAD_ACTORS)
    assert labels.filter(pl.col("population").is_in(BAD_ACTORS)).height == block.height
    assert run.facts["populations"] == {k: v for k, v in sorted(
        labels.group_by("population").len().iter_rows())}


def test_ported_scammer_lives_at_mobifone(run):
    labels = run.labels()
    ported = labels.filter(pl.col("population") == "ported_scammer")
    assert ported.height >= 1
    assert set(ported["original_carrier"]) == {"viettel"} and set(ported["current_carrier"]) == {"mobifone"}
    nsn = ported["msisdn"][0][3:]
    assert nsn[:2] in {"32", "33", "34", "35", "36", "37", "38", "39", "86", "97"}
    ported_file = pl.read_csv(run.inbox / "ported" / "ported_20240305.csv", infer_schema=False)
    assert ported_file.filter(pl.col("msisdn") == "0" + nsn)["carrier"].to_list() == ["mobifone"]
    registry = {p.parent.name: set(pl.read_csv(p, infer_schema=False)["msisdn"])
                for p in (run.inbox / "subscribers").rglob("*_20240305.csv")}
    assert "+84" + nsn in registry["mobifone"]
    assert not any(nsn in m for m in registry["viettel"])
    cdr = _all_cdr(run).filter(pl.col("a") == nsn)
    own = cdr.filter(pl.col("carrier") == "mobifone")
    assert own.height > 20 and own["cell_id"].str.starts_with("452-01-").all()
    assert own["imei"].n_unique() >= 1


def test_scam_ring_shares_handsets_and_benign_heavy_callers_do_not(run):
    labels = run.labels()
    cdr = _all_cdr(run)
    own = cdr.join(labels.select(pl.col("msisdn").str.slice(3).alias("a"), "population", "current_carrier"),
                   on="a").filter(pl.col("carrier") == pl.col("current_carrier"))
    lines_per_imei = own.group_by("population", "imei").agg(pl.col("a").n_unique().alias("lines"))
    shared = lines_per_imei.group_by("population").agg((pl.col("lines") > 1).sum().alias("shared"))
    shared = dict(shared.iter_rows())
    assert shared["scammer"] >= 1
    assert shared.get("shipper", 0) == shared.get("call_centre", 0) == shared.get("taxi_dispatch", 0) == 0


def test_reports_are_corroborated_by_the_cdrs_exactly_when_the_truth_says_so(run):
    cdr = _all_cdr(run).select("a", "b", pl.col("start_time").dt.replace_time_zone(None).alias("t"))
    reports = run.truth_reports().filter(pl.col("target").str.starts_with("+84") & (pl.col("target_population") != "protected_spoofed"))
    reports = reports.with_columns(pl.col("target").str.slice(3).alias("a"), pl.col("reporter_msisdn").str.slice(3).alias("b"),
                                   pl.col("received_at").str.to_datetime("%Y-%m-%d %H:%M:%S").alias("r"))
    calls = reports.join(cdr, on=["a", "b"], how="left").with_columns(
        ((pl.col("t") <= pl.col("r")) & (pl.col("r") - pl.col("t") <= pl.duration(hours=13))).fill_null(False).alias("ok"))
    per_report = calls.group_by("row_id", "corroborated").agg(pl.col("ok").any(), pl.col("t").is_not_null().any().alias("contact"))
    corroborated = per_report.filter(pl.col("corroborated") == "true")
    assert corroborated.height > 20 and corroborated["ok"].all()
    hearsay = per_report.filter(pl.col("corroborated") == "false")
    assert hearsay.height >= 3 and not hearsay["contact"].any()
    reverse = reports.filter(pl.col("corroborated") == "false").join(cdr, left_on=["a", "b"], right_on=["b", "a"])
    assert reverse.height == 0


def test_scammers_have_several_distinct_reporters_and_revenge_targets_few(run):
    labels = run.labels().with_columns(pl.col("distinct_reporters", "corroborated_reporters").cast(pl.Int64))
    scam = labels.filter(pl.col("population") == "scammer")
    assert scam["distinct_reporters"].median() >= 3
    assert (scam["corroborated_reporters"] >= 1).mean() > 0.8
    revenge = labels.filter(pl.col("population") == "revenge_target")
    assert revenge["distinct_reporters"].is_between(1, 2).all()
    assert (revenge["corroborated_reporters"] == 0).all()
    heavy = labels.filter(pl.col("population").is_in(["shipper", "taxi_dispatch", "call_centre"]))
    assert heavy["distinct_reporters"].max() <= 2


def test_5656_messages_use_every_real_form(run):
    msgs = pl.concat([pl.read_csv(p, infer_schema=False, empty_string_is_null=False)
                      for p in sorted((run.inbox / "reports_5656").glob("*.csv"))])["message"]
    truth = run.truth_reports().filter(pl.col("channel") == "5656")
    assert truth.height == msgs.len() == run.facts["reports_5656"]["rows"]
    from transforms.simulate_reports import NUMBER_FORMS, TEMPLATES

    assert set(truth["number_form"].drop_nulls()) == set(NUMBER_FORMS)
    assert set(truth["template"].drop_nulls()) == set(TEMPLATES)
    patterns = {
        "brackets": r"^[Vv] \[[^\]]+\]\[", "parens": r"^[VvSs] \([^)]+\)\(", "lowercase": r"^v ",
        "no_space": r"^[VS][0-9+０-９]", "many_spaces": r"^[VvSs]   \S", "fullwidth": "[０-９]",
        "gui": r" gui 5656$", "gửi": r" gửi 5656$", "plus84": r"\+84", "idd": r"0084", "dots": r"\d{4}\.\d{3}\.\d{3}",
        "brandname": r"^[Ss] .{0,2}(VIETCOMBANK|VCB|BIDV|TECHCOMBANK|SHOPEE|VNPOST)", "dnc": r"^(?i)dk\s+dnc",
        "huy": r"^(?i)huy dnc",
        "ascii": r"(?i)lua dao|gia danh|mao danh|goi|tai khoan|vay tien|quy khach",
    }
    missing = [k for k, pat in patterns.items() if not msgs.str.contains(pat).any()]
    assert missing == []
    digits = {re.sub(r"\D", "", unicodedata.normalize("NFKC", m)) for m in msgs}
    assert any("692348560" in d for d in digits) and any("2923899588" in d for d in digits)
    assert any(not unicodedata.is_normalized("NFC", m) for m in msgs)
    assert {"", "hello", "V"} <= set(msgs)
    assert int(truth["intent"].is_in(["dnc_register", "dnc_cancel"]).sum()) == run.facts["reports_5656"]["dnc"] >= 7
    assert int((truth["intent"] == "garbage").sum()) == run.facts["reports_5656"]["garbage"] >= 10
    legacy = truth.filter(pl.col("number_form") == "legacy11")
    assert legacy.height >= 1 and msgs.str.contains(r"01[2-9]\d{8}").any()


def test_complaints(run):
    csvs = pl.concat([pl.read_csv(p, infer_schema=False) for p in sorted((run.inbox / "complaints").glob("*.csv"))])
    app = pl.read_ndjson(next((run.inbox / "complaints").glob("*.jsonl")))
    assert set(app["channel"]) <= {"app"} and "app" not in set(csvs["channel"])
    every = pl.concat([csvs, app.cast(pl.String)], how="vertical_relaxed")
    assert every.height == run.facts["complaints"]["rows"]
    assert set(every["channel"]) <= {"hotline", "web", "app", "police"}
    canonical = {"impersonation", "fraud", "spam_call", "spam_sms", "harassment", "other"}
    odd = every.filter(~pl.col("category").is_in(list(canonical)))["category"].to_list()
    assert odd.count("khiếu nại cước") == run.facts["complaints"]["unknown_category"] == 1
    assert len(odd) - 1 == run.facts["complaints"]["synonym_category"]
    assert every["complaint_id"].n_unique() == every.height


def test_requests_name_scammers_on_two_carriers_and_an_unheld_number(run):
    labels = run.labels()
    info = json.loads((run.inbox / "requests" / "432-STTTT-TTra.json").read_text(encoding="utf-8"))
    assert info["requested_action"] == "information"
    assert info["authority"] == "Sở Thông tin và Truyền thông TP. Cần Thơ"
    assert info["fields"] == ["subscriber", "complaints", "cdr_summary"]
    assert str(END - timedelta(days=DAYS - 1)) <= info["period"]["from"] <= info["period"]["to"] <= str(END)
    held = [h for h in run.facts["requests"] if h["request_id"] == "432/STTTT-TTra"][0]["held_by"]
    assert set(held) == set(info["numbers"])
    carriers = [c for c in held.values() if c]
    assert len(set(carriers)) == 2 and list(held.values()).count(None) == 1
    e164 = ["+84" + re.sub(r"\D", "", n).removeprefix("84").lstrip("0") for n in info["numbers"]]
    pops = dict(labels.select("msisdn", "population").iter_rows())
    assert [pops[n] for n in e164] == ["ported_scammer", "scammer", "unassigned"]
    suspend = json.loads((run.inbox / "requests" / "127-PA05-CATP.json").read_text(encoding="utf-8"))
    assert suspend["requested_action"] == "suspend" and len(suspend["numbers"]) == 1
    assert pops["+" + suspend["numbers"][0]] == "scammer"


def test_decisions(run):
    labels = run.labels()
    decisions = pl.read_csv(run.inbox / "decisions" / "decisions_20240303.csv", infer_schema=False)
    pops = dict(labels.select(pl.col("msisdn").str.slice(3), "population").iter_rows())
    status = dict(labels.select(pl.col("msisdn").str.slice(3), "status").iter_rows())
    by = {d: [m[1:] for m in decisions.filter(pl.col("decision") == d)["msisdn"]] for d in set(decisions["decision"])}
    assert [pops[m] for m in by["cleared"]] == ["call_centre"]
    assert by["two_way_blocked"] and all(pops[m] == "blocked_scammer" and status[m] == "two_way_blocked"
                                         for m in by["two_way_blocked"])
    assert set(decisions["decision"]) == {"cleared", "two_way_blocked", "one_way_blocked", "restored"}
    assert (decisions["decided_at"] < "2024-03-03").all()


def test_summary_counts_rows(run):
    rows = run.summary.rows
    assert rows["cdr"] == sum(f["rows"] for f in run.facts["cdr"]["files"].values())
    assert rows["reports_5656"] == run.facts["reports_5656"]["rows"]
    assert [k for k, _, _ in run.summary.table()] == list(run.summary.files)


# --- building blocks ------------------------------------------------------------------------------


def test_loose_number_spells_every_form(settings):
    from transforms.simulate_reports import NUMBER_FORMS, loose_number

    legacy = {new[1:]: old[1:] for old, new in settings.numbering.legacy.items()}
    frame = pl.DataFrame({"d": ["812341213"] * len(NUMBER_FORMS), "f": list(range(len(NUMBER_FORMS)))})
    got = dict(zip(NUMBER_FORMS, frame.select(loose_number(pl.col("d"), pl.col("f"), legacy)).to_series()))
    assert got == {
        "national": "0812341213", "dots": "0812.341.213", "spaces": "0812 341 213", "dashes": "0812-341-213",
        "plus84": "+84812341213", "cc84": "84812341213", "idd0084": "0084812341213",
        "plus84_spaced": "+84 812 341 213", "legacy11": "01272341213", "fullwidth": "０８１２３４１２１３",
        "bare": "812341213",
    }
    landline = pl.DataFrame({"d": ["2923899588"], "f": [2]}).select(loose_number(pl.col("d"), pl.col("f"), legacy))
    assert landline.item() == "02923 899 588"


def test_calls_of_one_line_never_overlap():
    import numpy as np

    from transforms.simulate_cdr import _burst_offsets, _one_call_at_a_time

    key = np.array([0, 0, 0, 1, 1])
    tod = np.array([100, 90, 300, 100, 100])
    step = np.array([50, 20, 10, 30, 30])
    # line 0: 90 (+20) -> 110 (+50) -> 300; line 1: 100 (+30) -> 130
    assert _one_call_at_a_time(key, tod, step).tolist() == [110, 90, 300, 100, 130]
    assert _burst_offsets(np.array([5, 3, 5, 5]), np.array([10, 7, 20, 1])).tolist() == [0, 0, 10, 30]


def test_imeis_carry_a_valid_luhn_digit(run):
    imeis = pl.read_parquet(next((run.inbox / "cdr" / "viettel").iterdir()))["imei"].unique()
    assert imeis.str.contains(r"^\d{15}$").all()
    for imei in imeis.head(200).to_list():
        digits = [int(c) for c in imei]
        total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits))
        assert total % 10 == 0, imei
