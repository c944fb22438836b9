"""Which rows go into which package: holders by portability + registry, period, minimisation, tracking.

A simulated world (2 000 subscribers, 3 days) is landed once through the ingest transforms (no Prefect);
each test packages on its own copy of that warehouse. Expected values come from the simulator's ground
truth and from the lake and staging tables read independently with polars.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest

from transforms.config import Settings, load_config
from transforms.ingest import IngestContext, land_delivery, plan_ingest
from transforms.landing import LANDERS
from transforms.numbers import NumberingTables
from transforms.package_data import Period, RequestNotAnswerable, answer_request_file, package_requests, plan_holders
from transforms.readers import InputError
from transforms.requests import slugify_request_id
from transforms.signing import init_keys
from transforms.simulate import SimulationSpec, simulate_inbox
from transforms.verify import verify_package
from transforms.warehouse import connect, run_folder

RUN_DATE = date(2024, 3, 5)
RUN_ID = "20240305-landedbytest"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REQUEST_432 = "432/STTTT-TTra"
REQUEST_127 = "127/PA05-CATP"


@dataclass(frozen=True)
class World:
    root: Path
    inbox: Path
    lake: Path
    warehouse: Path
    keys: Path
    public_key: Path
    truth: dict
    settings: Settings

    def e164(self, loose: str) -> str:
        digits = "".join(ch for ch in loose if ch.isdigit())
        return "+84" + (digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits.lstrip("0"))

    def held_by(self, request_id: str) -> dict[str, str | None]:
        (req,) = [r for r in self.truth["requests"] if r["request_id"] == request_id]
        return {self.e164(n): c for n, c in req["held_by"].items()}


@dataclass
class Copy:
    """A private warehouse copy plus an output folder: tests may package, re-package and tamper freely."""

    world: World
    warehouse: Path
    out: Path

    def connect(self) -> duckdb.DuckDBPyConnection:
        return connect(self.warehouse, self.world.settings.run.duckdb)

    def package(self, **kw) -> object:
        with self.connect() as con:
            return package_requests(con, self.world.settings, kw.pop("run_date", RUN_DATE), kw.pop("run_id", RUN_ID),
                                    self.out, self.world.lake, keys_dir=self.world.keys, **kw)

    def answer(self, request_file: Path, **kw) -> object:
        return answer_request_file(self.world.settings, request_file, run_date=kw.pop("run_date", RUN_DATE),
                                   warehouse=self.warehouse, lake=self.world.lake, out=self.out,
                                   keys_dir=self.world.keys, **kw)

    def table(self, name: str) -> pl.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.table(name).pl()

    def zips(self) -> dict[str, Path]:
        return {str(p.relative_to(self.out)): p for p in sorted(self.out.rglob("*.zip"))}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("pkgdata")
    settings = load_config()
    simulate_inbox(SimulationSpec(subscribers=2000, days=3, end_date=RUN_DATE, seed=3), settings, root / "inbox", root / "truth")
    warehouse = root / "warehouse.duckdb"
    with connect(warehouse, settings.run.duckdb) as con:
        run_folder(con, "schema")
        run_folder(con, "views")
        plan = plan_ingest(con, root / "inbox", settings.carrier_slugs())
        ctx = IngestContext(settings, NumberingTables.from_settings(settings), RUN_ID, root / "lake")
        statuses = {land_delivery(con, d, ctx, LANDERS).status for d in plan.new}
    assert statuses == {"loaded"}
    _, public = init_keys(root / "keys")
    truth = json.loads((root / "truth" / "summary.json").read_text(encoding="utf-8"))
    return World(root, root / "inbox", root / "lake", warehouse, root / "keys", public, truth, settings)


@pytest.fixture()
def copy(world: World, tmp_path: Path) -> Copy:
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(world.warehouse, target)
    return Copy(world, target, tmp_path / "out")


def write_request(folder: Path, request_id: str, numbers: list[str], fields: list[str], **extra) -> Path:
    body = {
        "request_id": request_id, "authority": "Công an TP. Cần Thơ (PA05)",
        "received_at": "2024-03-05T08:00:00+07:00", "due_at": "2024-03-06T17:00:00+07:00",
        "legal_basis": "Nghị định 49/2017/NĐ-CP", "requested_action": "information",
        "numbers": numbers, "fields": fields, "period": {"from": "2024-03-04", "to": "2024-03-05"}, **extra,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(request_id.encode()).hexdigest()[:16] + ".json")
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def manifest(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def member(path: Path, name: str) -> pl.DataFrame:
    with zipfile.ZipFile(path) as zf:
        return pl.read_csv(zf.read(name), infer_schema=False)


def all_bytes(path: Path) -> bytes:
    """Every member's bytes, and the XML inside the .docx too (it is itself a compressed zip)."""
    chunks = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            chunks.append(data)
            if name.endswith(".docx"):
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    chunks += [inner.read(n) for n in inner.namelist()]
    return b"\n".join(chunks)


def scammers(world: World) -> tuple[str, str, str]:
    """(ported scammer now at MobiFone, scammer at Viettel, unassigned number) of request 432."""
    held = world.held_by(REQUEST_432)
    ported = next(n for n, c in held.items() if c == "mobifone")
    viettel = next(n for n, c in held.items() if c == "viettel")
    return ported, viettel, world.truth["unassigned_number"]


# ------------------------------------------------------------------------------------------------ holders


def test_holders_follow_portability_and_the_registry(copy: Copy):
    world = copy.world
    ported, viettel, unassigned = scammers(world)
    assert world.truth["ported"]["ported_scammers"].count(ported) == 1
    requests = copy.table("stg_requests").filter(pl.col("request_id") == REQUEST_432)
    with copy.connect() as con:
        plan = plan_holders(con, REQUEST_432, requests["source_sha256"][0], RUN_DATE, Period(date(2024, 3, 4), RUN_DATE))
    got = {r["number"]: (r["prefix_carrier"], r["current_carrier"], r["holder"]) for r in plan.iter_rows(named=True)}
    assert got == {
        ported: ("viettel", "mobifone", "mobifone"),
        viettel: ("viettel", "viettel", "viettel"),
        unassigned: ("viettel", "viettel", None),  # a real Viettel range, but nobody's registry lists it
    }


def test_one_package_per_holding_carrier_naming_the_others(copy: Copy):
    world = copy.world
    ported, viettel, unassigned = scammers(world)
    result = copy.package()
    assert result.failures == [] and result.not_held == []
    assert sorted(result.answered) == sorted([REQUEST_432, REQUEST_127])
    zips = copy.zips()
    assert sorted(zips) == [
        "2024-03-05/mobifone/packages/432-STTTT-TTra.zip",
        "2024-03-05/viettel/packages/432-STTTT-TTra.zip",
        f"2024-03-05/{world.held_by(REQUEST_127).popitem()[1]}/packages/127-PA05-CATP.zip",
    ]
    mobifone, viettel_zip = manifest(zips[sorted(zips)[0]]), manifest(zips[sorted(zips)[1]])
    assert (mobifone["numbers_elsewhere"], mobifone["numbers_not_found"]) == ({viettel: "viettel"}, [unassigned])
    assert (viettel_zip["numbers_elsewhere"], viettel_zip["numbers_not_found"]) == ({ported: "mobifone"}, [unassigned])
    assert member(zips[sorted(zips)[0]], "subscribers.csv")["msisdn"].to_list() == [ported]
    assert member(zips[sorted(zips)[1]], "subscribers.csv")["msisdn"].to_list() == [viettel]
    for path in zips.values():
        report = verify_package(path, world.public_key)
        assert report.ok, report.problems


def test_subscribers_csv_is_the_registry_record_on_the_run_date(copy: Copy):
    ported, _, _ = scammers(copy.world)
    copy.package()
    got = member(copy.zips()["2024-03-05/mobifone/packages/432-STTTT-TTra.zip"], "subscribers.csv")
    reg = copy.table("registry_subscribers").filter(pl.col("msisdn") == ported)
    assert reg.height == 1
    row = reg.row(0, named=True)
    assert got.to_dicts() == [{
        "msisdn": ported, "msisdn_national": row["msisdn_national"], "carrier": "mobifone",
        "valid_from": str(row["valid_from"]), "valid_to": None, "subscriber_id": row["subscriber_id"],
        "full_name": row["full_name"], "date_of_birth": str(row["date_of_birth"]), "id_type": row["id_type"],
        "id_number": row["id_number"], "id_issued_on": str(row["id_issued_on"]), "id_issued_place": row["id_issued_place"],
        "activated_on": str(row["activated_on"]), "plan": row["plan"], "status": row["status"],
        "registration_point": row["registration_point"], "kyc_verified": str(row["kyc_verified"]).lower(),
    }]


def test_complaints_csv_holds_every_complaint_in_the_period_and_no_other(copy: Copy):
    _, viettel, _ = scammers(copy.world)
    copy.package()
    got = member(copy.zips()["2024-03-05/viettel/packages/432-STTTT-TTra.zip"], "complaints.csv")
    staged = copy.table("stg_complaints").filter(
        (pl.col("reported_e164") == viettel)
        & pl.col("received_at").dt.convert_time_zone("Asia/Ho_Chi_Minh").dt.date().is_between(date(2024, 3, 4), RUN_DATE)
    ).sort("received_at", "complaint_id")
    assert staged.height >= 2
    assert got["complaint_id"].to_list() == staged["complaint_id"].to_list()
    assert set(got["reported_number"]) == {viettel}
    assert got["reporter"].to_list() == staged["reporter_e164"].to_list()
    assert all(t.endswith("+07:00") for t in got["received_at"])


def lake_rows(world: World, tree: str, carrier: str) -> pl.DataFrame:
    return pl.read_parquet(world.lake / tree / f"carrier={carrier}" / "**" / "*.parquet", hive_partitioning=True)


def test_cdr_summary_counts_match_the_lake(copy: Copy):
    world = copy.world
    _, viettel, _ = scammers(world)
    number = int(viettel[1:])
    copy.package()
    got = member(copy.zips()["2024-03-05/viettel/packages/432-STTTT-TTra.zip"], "cdr_summary.csv")
    c = world.settings.run.cdr
    out = lake_rows(world, "cdr", "viettel").filter(
        (pl.col("a_number") == number) & pl.col("day").is_between(date(2024, 3, 4), RUN_DATE))
    voice = pl.col("event_type") == "voice"
    expected = out.group_by("day").agg(
        voice.sum().alias("calls_out"),
        (~voice).sum().alias("sms_out"),
        pl.col("b_number").drop_nulls().n_unique().alias("distinct_callees"),
        (voice & (pl.col("duration_s") > 0)).sum().alias("calls_answered"),
        (voice & (pl.col("duration_s") > 0) & (pl.col("duration_s") < c.short_call_seconds)).sum().alias("calls_short"),
        pl.col("duration_s").filter(voice).sum().alias("out_duration_s"),
    )
    inbound = lake_rows(world, "cdr_inbound", "viettel").filter(
        (pl.col("b_number") == number) & pl.col("day").is_between(date(2024, 3, 4), RUN_DATE)).group_by("day").agg(
        (pl.col("event_type") == "voice").sum().alias("calls_in"))
    expected = expected.join(inbound, on="day", how="full", coalesce=True).fill_null(0).sort("day")
    cols = ["calls_out", "sms_out", "distinct_callees", "calls_answered", "calls_short", "out_duration_s", "calls_in"]
    assert got["day"].to_list() == [str(d) for d in expected["day"]] == ["2024-03-04", "2024-03-05"]
    assert got.select(pl.col(cols).cast(pl.Int64)).to_dicts() == expected.select(pl.col(cols).cast(pl.Int64)).to_dicts()
    assert int(got["calls_out"].cast(pl.Int64).sum()) > 100  # the scammer's volume, so the comparison is not vacuous


def test_cdr_records_hold_both_directions_on_the_days_the_carrier_held_the_number(copy: Copy, tmp_path: Path):
    world = copy.world
    _, viettel, _ = scammers(world)
    number = int(viettel[1:])
    copy.answer(write_request(tmp_path / "req", "CDR/1", [viettel], ["cdr_records"]))
    got = member(copy.zips()["2024-03-05/viettel/packages/CDR-1.zip"], "cdr_records.csv")
    lake = lake_rows(world, "cdr", "viettel").filter(pl.col("day").is_between(date(2024, 3, 4), RUN_DATE))
    out_ids = sorted(lake.filter(pl.col("a_number") == number)["record_id"].to_list())
    in_ids = sorted(lake.filter(pl.col("b_number") == number)["record_id"].to_list())
    assert out_ids and in_ids
    assert sorted(got.filter(pl.col("direction") == "out")["record_id"].to_list()) == out_ids
    assert sorted(got.filter(pl.col("direction") == "in")["record_id"].to_list()) == in_ids
    assert got.columns == ["record_id", "direction", "day", "start_time", "a_number", "b_number", "event_type",
                           "duration_s", "cell_id", "imei"]
    assert set(member(copy.zips()["2024-03-05/viettel/packages/CDR-1.zip"], "cdr_records.csv")["day"]) <= {"2024-03-04", "2024-03-05"}


def test_days_before_a_port_in_are_not_the_new_carriers_records(copy: Copy):
    ported, _, _ = scammers(copy.world)
    with duckdb.connect(str(copy.warehouse)) as con:  # the number now ported at 00:30 local on the run date
        con.table("stg_ported").update(
            {"ported_at": datetime(2024, 3, 5, 0, 30, tzinfo=TZ), "ported_on": date(2024, 3, 5)},
            condition=duckdb.ColumnExpression("msisdn") == duckdb.ConstantExpression(ported),
        )
    copy.package()
    path = copy.zips()["2024-03-05/mobifone/packages/432-STTTT-TTra.zip"]
    assert member(path, "cdr_summary.csv")["day"].to_list() == ["2024-03-05"]
    assert manifest(path)["numbers_elsewhere"] == {scammers(copy.world)[1]: "viettel"}


def test_a_request_without_a_period_covers_the_feature_window(copy: Copy, tmp_path: Path):
    _, viettel, _ = scammers(copy.world)
    path = write_request(tmp_path / "req", "NOPERIOD/1", [viettel], ["cdr_summary"])
    body = json.loads(path.read_text(encoding="utf-8"))
    del body["period"]
    path.write_text(json.dumps(body), encoding="utf-8")
    copy.answer(path)
    days = member(copy.zips()["2024-03-05/viettel/packages/NOPERIOD-1.zip"], "cdr_summary.csv")["day"].to_list()
    first = RUN_DATE - timedelta(days=copy.world.settings.run.windows.feature_days - 1)
    assert days == ["2024-03-03", "2024-03-04", "2024-03-05"] and first <= date(2024, 3, 3)


# -------------------------------------------------------------------------------------------- minimisation


def test_a_complaints_only_request_carries_no_identity_data(copy: Copy, tmp_path: Path):
    ported, viettel, _ = scammers(copy.world)
    copy.answer(write_request(tmp_path / "req", "MIN/1", [ported, viettel], ["complaints"]))
    zips = {k: v for k, v in copy.zips().items() if k.endswith("MIN-1.zip")}
    assert sorted(zips) == ["2024-03-05/mobifone/packages/MIN-1.zip", "2024-03-05/viettel/packages/MIN-1.zip"]
    registry = copy.table("registry_subscribers").filter(pl.col("msisdn").is_in([ported, viettel]))
    needles = [v for v in registry["full_name"].to_list() + registry["id_number"].to_list() if v]
    needles += [d.isoformat() for d in registry["date_of_birth"].drop_nulls()]
    needles += [d.strftime("%d/%m/%Y") for d in registry["date_of_birth"].drop_nulls()]
    assert len(needles) >= 6
    for path in zips.values():
        with zipfile.ZipFile(path) as zf:
            assert sorted(zf.namelist()) == ["complaints.csv", "cover_letter.docx", "cover_letter.txt", "manifest.json",
                                             "manifest.sig"]
        blob = all_bytes(path)
        leaked = [n for n in needles if n.encode("utf-8") in blob]
        assert leaked == [], f"{path.name} carries identity data {leaked}"
        assert verify_package(path, copy.world.public_key).ok
    # control: the same search finds them when the request does ask for subscriber information
    copy.answer(write_request(tmp_path / "req2", "MIN/2", [ported, viettel], ["subscriber", "complaints"]))
    blob = b"".join(all_bytes(p) for k, p in copy.zips().items() if k.endswith("MIN-2.zip"))
    assert {n for n in needles if n.encode("utf-8") in blob} >= set(registry["full_name"].drop_nulls()) | set(registry["id_number"])


# ---------------------------------------------------------------------------------------------- tracking


def test_packaging_is_logged_and_a_rebuild_adds_no_rows_and_the_same_bytes(copy: Copy):
    copy.package()
    first = {k: p.read_bytes() for k, p in copy.zips().items()}
    log = copy.table("request_packages")
    assert sorted(log["carrier"].to_list()) == sorted(["mobifone", "viettel", copy.world.held_by(REQUEST_127).popitem()[1]])
    copy.package()
    assert {k: p.read_bytes() for k, p in copy.zips().items()} == first
    again = copy.table("request_packages")
    assert again.height == log.height
    assert again.sort("carrier")["first_built_at"].to_list() == log.sort("carrier")["first_built_at"].to_list()
    assert again.sort("carrier")["package_sha256"].to_list() == [
        hashlib.sha256(first[k]).hexdigest() for k in sorted(first, key=lambda k: k.split("/")[1])]


def test_subflag_package_rebuild_of_a_packaged_request_is_byte_identical(copy: Copy):
    copy.package()
    before = {k: p.read_bytes() for k, p in copy.zips().items()}
    result = copy.answer(copy.world.inbox / "requests" / "432-STTTT-TTra.json")
    assert len(result.paths) == 2
    assert {k: p.read_bytes() for k, p in copy.zips().items()} == before


def test_the_first_package_without_a_configured_key_creates_one_and_says_so(copy: Copy, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("SUBFLAG_SIGNING_KEY", raising=False)
    with copy.connect() as con:
        result = package_requests(con, copy.world.settings, RUN_DATE, RUN_ID, copy.out, copy.world.lake,
                                  keys_dir=tmp_path / "fresh-keys")
    assert result.key_created and str(tmp_path / "fresh-keys" / "signing_ed25519.pem") in result.key_message
    assert len(result.paths) == 3
    assert all(verify_package(p, tmp_path / "fresh-keys" / "signing_ed25519.pub.pem").ok for p in result.paths)
    with copy.connect() as con:  # a second pass finds it and creates nothing
        again = package_requests(con, copy.world.settings, RUN_DATE, RUN_ID, copy.out, copy.world.lake,
                                 keys_dir=tmp_path / "fresh-keys")
    assert not again.key_created and again.key_message.startswith("signing with")


def test_the_next_run_does_not_repackage_answered_requests_from_an_earlier_run(copy: Copy):
    copy.package()
    result = copy.package(run_id="20240305-anotherrun00")
    assert result.paths == [] and result.answered == []


def test_requests_past_due_without_a_package_are_listed_as_overdue(copy: Copy):
    views = lambda: copy.table("v_requests").sort("request_id", "carrier")  # noqa: E731
    before = views()
    assert before.select("request_id", "carrier", "has_package", "status", "overdue").rows() == [
        (REQUEST_127, None, False, "overdue", True), (REQUEST_432, None, False, "overdue", True)]
    copy.package()
    after = views()
    assert after.select("request_id", "has_package", "status", "overdue").rows() == [
        (REQUEST_127, True, "packaged", False), (REQUEST_432, True, "packaged", False), (REQUEST_432, True, "packaged", False)]
    assert set(after["first_packaged_at"]) == {datetime(2024, 3, 5, 23, 59, 58, tzinfo=TZ)}

    def as_of(instant: str) -> list[tuple]:
        with duckdb.connect(str(copy.warehouse), read_only=True) as con:
            return con.sql("SELECT DISTINCT request_id, status, overdue FROM requests_as_of(CAST($t AS TIMESTAMPTZ)) "
                           "ORDER BY request_id", params={"t": instant}).fetchall()

    assert as_of("2024-03-05 12:00:00+07") == [(REQUEST_127, "pending", False), (REQUEST_432, "pending", False)]
    assert as_of("2024-03-06 00:00:00+07") == [(REQUEST_127, "packaged", False), (REQUEST_432, "packaged", False)]


def test_a_package_generated_after_its_deadline_is_marked_late_in_the_view_and_the_manifest(copy: Copy, tmp_path: Path):
    _, viettel, _ = scammers(copy.world)
    path = write_request(tmp_path / "req", "LATE/1", [viettel], ["complaints"], due_at="2024-03-05T12:00:00+07:00")
    (zip_path,) = copy.answer(path).paths
    assert manifest(zip_path)["deadline"] == {"due_at": "2024-03-05T12:00:00+07:00",
                                              "generated_at": "2024-03-05T23:59:58+07:00", "overdue": True}
    row = copy.table("v_requests").filter(pl.col("request_id") == "LATE/1")
    assert row.select("carrier", "has_package", "status", "overdue").rows() == [("viettel", True, "packaged_late", False)]


def test_a_request_nobody_holds_is_recorded_without_a_package(copy: Copy, tmp_path: Path):
    unassigned = copy.world.truth["unassigned_number"]
    result = copy.answer(write_request(tmp_path / "req", "NONE/1", [unassigned, "0692348560"], ["subscriber"]))
    assert (result.paths, result.not_held) == ([], ["NONE/1"])
    assert not [k for k in copy.zips() if "NONE" in k]
    row = copy.table("v_requests").filter(pl.col("request_id") == "NONE/1")
    assert row.select("carrier", "has_package", "status", "numbers").rows() == [(None, False, "no_holder", 2)]


def test_a_package_answered_during_the_day_states_its_time_and_cuts_complaints_there(copy: Copy, tmp_path: Path):
    _, viettel, _ = scammers(copy.world)
    staged = copy.table("stg_complaints").filter(pl.col("reported_e164") == viettel)
    local = staged["received_at"].dt.convert_time_zone("Asia/Ho_Chi_Minh")
    cut = max(t for t in local.to_list() if t.date() == RUN_DATE)  # received exactly then: after the cut-off
    expected = int(((local.dt.date() >= date(2024, 3, 4)) & (local < cut)).sum())
    copy.answer(write_request(tmp_path / "req", "NOON/1", [viettel], ["complaints"]), default_generated_at=cut)
    path = copy.zips()["2024-03-05/viettel/packages/NOON-1.zip"]
    m = manifest(path)
    assert m["generated_at"] == cut.isoformat() and m["deadline"]["overdue"] is False
    assert member(path, "complaints.csv").height == expected < int((local.dt.date() >= date(2024, 3, 4)).sum())


# --------------------------------------------------------------------------------------------- path safety


@pytest.mark.parametrize("request_id", ["../../etc/x", "..\\x", "/abs", "a/" * 150])
def test_hostile_request_ids_are_slugged_inside_the_packages_folder(copy: Copy, tmp_path: Path, request_id: str):
    _, viettel, _ = scammers(copy.world)
    copy.answer(write_request(tmp_path / "req", request_id, [viettel], ["complaints"]))
    (path,) = [p for k, p in copy.zips().items()]
    folder = (copy.out / "2024-03-05" / "viettel" / "packages").resolve()
    assert path.resolve().parent == folder
    assert path.name == slugify_request_id(request_id) + ".zip" and len(path.name) <= 104
    assert {p.name for p in tmp_path.rglob("*.zip")} == {path.name}


@pytest.mark.parametrize("request_id", ["../..", "/", "x" * 301])
def test_request_ids_with_nothing_safe_or_too_long_are_refused(copy: Copy, tmp_path: Path, request_id: str):
    with pytest.raises(InputError, match="request_id"):
        copy.answer(write_request(tmp_path / "req", request_id, ["0979116747"], ["complaints"]))
    assert copy.zips() == {}


def test_a_package_may_not_predate_its_request(copy: Copy, tmp_path: Path):
    with pytest.raises(RequestNotAnswerable, match="received on 2024-03-05; a package dated 2024-03-04"):
        copy.answer(write_request(tmp_path / "req", "EARLY/1", ["0979116747"], ["complaints"]), run_date=date(2024, 3, 4))
    assert copy.zips() == {}
    assert copy.table("stg_requests").filter(pl.col("request_id") == "EARLY/1").height == 0


def test_two_request_ids_sharing_a_slug_never_overwrite_each_other(copy: Copy, tmp_path: Path):
    _, viettel, _ = scammers(copy.world)
    copy.answer(write_request(tmp_path / "a", "432/A", [viettel], ["complaints"]))
    (path,) = copy.zips().values()
    before = path.read_bytes()
    result = copy.answer(write_request(tmp_path / "b", "432-A", [viettel], ["complaints"]))
    assert result.paths == [] and len(result.failures) == 1 and "432/A" in result.failures[0]
    assert path.read_bytes() == before
    assert manifest(path)["request"]["request_id"] == "432/A"


def test_the_selection_lives_in_sql_models_not_python_strings():
    source = (Path(__file__).parents[2] / "transforms" / "package_data.py").read_text(encoding="utf-8")
    assert not [s for s in ('"SELECT', '"INSERT INTO', '"CREATE TABLE', '"WITH ') if s in source]
