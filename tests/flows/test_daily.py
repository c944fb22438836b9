"""The daily flow end to end on a simulated world: outputs, idempotency, quality against ground truth."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from transforms.config import load_config
from transforms.simulate import SimulationSpec, simulate_inbox

RUN_DATE = date(2024, 3, 5)
BLOCKS = ("two_way_block", "one_way_block")
DATA_TABLES = (
    "ingest_log", "rejects", "stg_complaints", "stg_dnc", "stg_requests", "stg_request_numbers", "stg_decisions",
    "stg_ported", "registry_subscribers", "registry_snapshots", "cdr_subscriber_features",
    "complaint_subscriber_features", "complaint_corroboration", "prefix_hotspots", "registry_check_hits",
    "rule_hits", "candidates",
)


@dataclass(frozen=True)
class World:
    root: Path
    inbox: Path
    truth: Path
    warehouse: Path
    lake: Path
    out: Path

    def run(self, **kw):
        from flows.daily import daily_run

        return daily_run(run_date=RUN_DATE, inbox=self.inbox, warehouse=self.warehouse, lake=self.lake, out=self.out, **kw)


def output_digests(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*")) if p.is_file()}


def table_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DATA_TABLES}


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_harness) -> World:
    root = tmp_path_factory.mktemp("world")
    w = World(root, root / "inbox", root / "truth", root / "warehouse.duckdb", root / "lake", root / "out")
    simulate_inbox(SimulationSpec(subscribers=20_000, days=7, end_date=RUN_DATE, seed=11), load_config(), w.inbox, w.truth)
    w.run()
    return w


def candidates(world: World) -> pl.DataFrame:
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        return con.sql("SELECT * FROM candidates WHERE run_date = $d", params={"d": RUN_DATE}).pl()


def test_outputs_exist_for_each_carrier_with_candidates(world: World):
    cands = candidates(world).filter(pl.col("action") != "monitor")
    assert cands.height > 0
    for carrier in cands["carrier"].unique().to_list():
        folder = world.out / RUN_DATE.isoformat() / carrier
        for suffix in ("csv", "xlsx", "parquet"):
            assert (folder / f"suspension_candidates.{suffix}").is_file()
        exported = pl.read_parquet(folder / "suspension_candidates.parquet")
        assert exported.height == cands.filter(pl.col("carrier") == carrier).height
        assert (folder / "suspension_candidates.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    for name in ("spoofing_alerts.csv", "brandname_report.csv", "prefix_hotspots.csv", "report.html"):
        assert (world.out / RUN_DATE.isoformat() / name).is_file()


def test_warehouse_holds_ledger_and_staging_and_balances(world: World):
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        ledger = con.sql("SELECT source_kind, status, rows_read, rows_accepted, rows_rejected, rows_duplicate FROM ingest_log").pl()
        assert set(ledger["source_kind"]) >= {"reports_5656", "complaints", "requests", "cdr", "subscribers", "ported", "decisions"}
        assert ledger.filter(pl.col("status") != "loaded").height == 0
        assert (ledger["rows_read"] == ledger["rows_accepted"] + ledger["rows_rejected"] + ledger["rows_duplicate"]).all()
        assert con.execute("SELECT count(*) FROM stg_complaints").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM v_complaints").fetchone()[0] > 0


def test_rerun_same_date_adds_no_rows_and_rewrites_identical_bytes(world: World):
    before_rows = table_counts(world.warehouse)
    before_out = output_digests(world.out)
    summary = world.run()
    assert summary.files_new == 0
    assert table_counts(world.warehouse) == before_rows
    assert output_digests(world.out) == before_out


def test_redelivered_files_are_a_no_op(world: World):
    before_rows = table_counts(world.warehouse)
    before_out = output_digests(world.out)
    for src in sorted((world.inbox / "reports_5656").iterdir())[:2]:
        shutil.copy(src, src.with_name("redelivered_" + src.name))
    summary = world.run()
    assert summary.files_new == 0
    assert table_counts(world.warehouse) == before_rows
    assert output_digests(world.out) == before_out


def test_spoofed_protected_numbers_are_alerts_never_candidates(world: World):
    alerts = pl.read_csv(world.out / RUN_DATE.isoformat() / "spoofing_alerts.csv", infer_schema=False)
    protected = alerts.filter(pl.col("alert_kind") == "protected_number")
    assert "0692348560" in protected["number"].to_list()
    nationals = set(candidates(world)["msisdn_national"].to_list())
    assert not nationals & {"0692348560", "02923899588", "02923811502"}


def test_ported_scammer_lands_with_its_current_carrier(world: World):
    truth = pl.read_csv(world.truth / "labels.csv", infer_schema=False)
    ported = truth.filter(pl.col("population") == "ported_scammer")
    assert ported.height >= 1
    cands = candidates(world)
    for row in ported.iter_rows(named=True):
        assert row["current_carrier"] != row["original_carrier"]
        got = cands.filter(pl.col("msisdn") == row["msisdn"])
        assert got["carrier"].to_list() == [row["current_carrier"]]
        exported = pl.read_csv(world.out / RUN_DATE.isoformat() / row["current_carrier"] / "suspension_candidates.csv",
                               infer_schema=False)
        assert row["msisdn"] in exported["msisdn"].to_list()


def test_block_quality_against_ground_truth(world: World):
    truth = pl.read_csv(world.truth / "labels.csv", infer_schema=False)
    blocked = candidates(world).filter(pl.col("action").is_in(BLOCKS)).select("msisdn", pl.lit(True).alias("blocked"))
    scored = truth.join(blocked, on="msisdn", how="left").with_columns(pl.col("blocked").fill_null(False))
    rows = []
    for carrier, part in sorted(scored.group_by("current_carrier"), key=lambda kv: str(kv[0][0])):
        tp = part.filter(pl.col("blocked") & (pl.col("expected") == "block")).height
        fp = part.filter(pl.col("blocked") & (pl.col("expected") != "block")).height
        fn = part.filter(~pl.col("blocked") & (pl.col("expected") == "block")).height
        rows.append((carrier[0], tp, fp, fn))
    tp, fp, fn = (sum(r[i] for r in rows) for i in (1, 2, 3))
    print("\ncarrier        tp  fp  fn  precision  recall")
    for c, a, b, d in rows + [("ALL", tp, fp, fn)]:
        prec = a / (a + b) if a + b else 1.0
        rec = a / (a + d) if a + d else 1.0
        print(f"{str(c):<14}{a:>4}{b:>4}{d:>4}{prec:>11.3f}{rec:>8.3f}")
        assert prec >= 0.98, f"block precision for {c}: {prec:.3f}"
        assert rec >= 0.90, f"block recall for {c}: {rec:.3f}"
    innocent = ("shipper", "taxi_dispatch", "call_centre", "revenge_target", "protected_spoofed", "normal")
    wrongly = scored.filter(pl.col("blocked") & pl.col("population").is_in(innocent))
    assert wrongly.height == 0, wrongly.select("msisdn", "population")


def _registry_pii(inbox: Path) -> tuple[set[str], set[str], set[str]]:
    frames = [pl.read_csv(p, infer_schema=False) for p in sorted((inbox / "subscribers").rglob("*.csv"))]
    reg = pl.concat([f.select("full_name", "date_of_birth", "id_number") for f in frames]).unique()
    pick = lambda c: {v for v in reg[c].drop_nulls().to_list() if len(v) >= 6}  # noqa: E731
    return pick("full_name"), pick("date_of_birth"), pick("id_number")


def _texts_under(out: Path) -> dict[str, str]:
    """Every file's text; zip members (xlsx, packages) decompressed. Packages whose request asked for
    subscriber information are the one place personal data may appear, so they are left out."""
    import json
    import zipfile

    texts: dict[str, str] = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix in (".zip", ".xlsx"):
            with zipfile.ZipFile(p) as z:
                if p.suffix == ".zip" and "subscriber" in json.loads(z.read("manifest.json"))["request"]["fields"]:
                    continue
                for name in z.namelist():
                    if name.startswith("docProps/"):
                        continue  # metadata we write (a fixed creation date), no data
                    texts[f"{p}!{name}"] = z.read(name).decode("utf-8", "replace")
        elif p.suffix == ".parquet":
            texts[str(p)] = pl.read_parquet(p).write_csv()
        else:
            texts[str(p)] = p.read_bytes().decode("utf-8", "replace")
    return texts


def _as_text(rows: list[tuple]) -> str:
    return "\n".join(",".join(map(str, row)) for row in rows)


def _leaks(texts: dict[str, str], names: set[str], dobs: set[str], ids: set[str]) -> list[tuple[str, str]]:
    import re

    found = []
    for where, text in texts.items():
        tokens = set(re.findall(r"[0-9A-Z]?[0-9]{6,12}|[0-9]{4}-[0-9]{2}-[0-9]{2}", text))
        found += [(where, t) for t in tokens & (dobs | ids)]
        found += [(where, n) for n in names if n in text]
    return found


def test_no_personal_data_outside_requested_packages_or_in_analyst_views(world: World):
    names, dobs, ids = _registry_pii(world.inbox)
    assert len(names) > 1000 and len(ids) > 1000
    texts = _texts_under(world.out)
    assert _leaks(texts, names, dobs, ids) == []
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        views = [r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name LIKE 'v\\_%' ESCAPE '\\'").fetchall()]
        assert {"v_complaints", "v_candidates", "v_subscribers_pseudo", "v_subscriber_features"} <= set(views)
        view_texts = {v: _as_text(con.sql(f"SELECT * FROM {v}").fetchall()) for v in views}
    assert _leaks(view_texts, names, dobs, ids) == []
    # the test can see personal data where it is allowed: the package-building view
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        pkg = _as_text(con.sql("SELECT * FROM pkg_subscribers").fetchall())
    assert _leaks({"pkg_subscribers": pkg}, names, dobs, ids)
