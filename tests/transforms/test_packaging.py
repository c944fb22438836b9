import io
import json
import os
import stat
import time
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.config import Carrier
from transforms.packaging import (
    PackageContentError,
    PackageFrames,
    PackagePathError,
    build_package,
    package_path,
    packages_folder,
)
from transforms.requests import AuthorityRequest, slugify_request_id
from transforms.signing import init_keys, public_fingerprint

RUN_DATE = date(2024, 3, 5)
RUN_ID = "20240305-0123456789ab"
EXAMPLES = int(os.environ.get("SUBFLAG_FUZZ_EXAMPLES", "300"))

VIETTEL = Carrier(
    slug="viettel",
    name="Tập đoàn Công nghiệp - Viễn thông Quân đội (Viettel)",
    short_name="Viettel",
    prefixes=["032", "033", "086", "096", "097", "098"],
)
VINAPHONE = Carrier(
    slug="vinaphone",
    name="Tổng công ty Dịch vụ Viễn thông (VNPT-VinaPhone)",
    short_name="VinaPhone",
    prefixes=["081", "082", "088", "091", "094"],
)

NAMES = ["Nguyễn Văn Lừa", "Trần Thị Đảo"]
DOBS = [date(1990, 1, 2), date(1985, 12, 31)]
ID_NUMBERS = ["079090001234", "092185009876"]
ISSUE_PLACE = "Cục Cảnh sát QLHC về TTXH"
HOSTILE = '=HYPERLINK("http://evil.example","bấm vào")'


def request_json(**overrides: object) -> dict:
    base = {
        "request_id": "432/STTTT-TTra",
        "authority": "Sở Thông tin và Truyền thông TP. Cần Thơ",
        "received_at": "2024-03-05T09:00:00+07:00",
        "due_at": "2024-03-07T17:00:00+07:00",
        "legal_basis": "Nghị định 49/2017/NĐ-CP",
        "requested_action": "information",
        "numbers": ["0321234567", "0861112222", "0912345678", "0999000111"],
        "fields": ["subscriber", "complaints", "cdr_summary", "cdr_records"],
        "period": {"from": "2024-02-01", "to": "2024-03-05"},
    }
    base.update(overrides)
    return base


def make_request(**overrides: object) -> AuthorityRequest:
    return AuthorityRequest.model_validate(request_json(**overrides))


def subscribers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "msisdn": ["+84321234567", "+84861112222"],
            "subscriber_id": ["VT-000001", "VT-000002"],
            "full_name": NAMES,
            "date_of_birth": DOBS,
            "id_type": ["cccd", "cccd"],
            "id_number": ID_NUMBERS,
            "id_issued_on": [date(2021, 5, 6), date(2022, 7, 8)],
            "id_issued_place": [ISSUE_PLACE, ISSUE_PLACE],
            "activated_on": [date(2024, 1, 10), date(2023, 11, 1)],
            "plan": ["prepaid", "prepaid"],
            "status": ["active", "active"],
            "registration_point": ["agent", "online"],
            "kyc_verified": [False, True],
        }
    )


def complaints() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "complaint_id": ["C1", "C2", "C3", "C4"],
            "channel": ["sms_5656", "hotline", "web", "police"],
            "received_at": [datetime(2024, 3, 1, 2, 0, tzinfo=UTC)] * 4,
            "reporter": ["+84901234567", "+84901234568", "+84901234569", None],
            "reported_number": ["+84321234567", "+84321234567", "+84861112222", "+84861112222"],
            "kind": ["call", "call", "sms", "call"],
            "category": ["impersonation", "fraud", "spam_sms", "other"],
            "content": [HOSTILE, "gọi giả danh\ngiám đốc Sở", "a\rb, \"trích\"", "lừa đảo chuyển tiền"],
        }
    )


def cdr_summary() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "msisdn": ["+84321234567", "+84321234567", "+84861112222"],
            "day": [date(2024, 3, 3), date(2024, 3, 4), date(2024, 3, 4)],
            "outgoing_calls": [310, 295, 12],
            "distinct_callees": [280, 270, 9],
            "short_call_share": [0.81, 0.77, 0.1],
        }
    )


def cdr_records() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ["R1", "R2"],
            "a_number": ["+84321234567", "+84861112222"],
            "b_number": ["+84901234567", "+84901234569"],
            "start_time": [datetime(2024, 3, 4, 1, 2, 3, tzinfo=UTC), datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)],
            "duration_s": [4, 0],
            "event_type": ["voice", "sms"],
        }
    )


def all_frames() -> PackageFrames:
    return PackageFrames(subscribers(), complaints(), cdr_summary(), cdr_records())


@pytest.fixture()
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return init_keys(tmp_path / "keys")


def build(
    out: Path,
    private_key: Path,
    request: AuthorityRequest | None = None,
    frames: PackageFrames | None = None,
    carrier: Carrier = VIETTEL,
    **kw: object,
) -> Path:
    args: dict = {
        "run_id": RUN_ID,
        "run_date": RUN_DATE,
        "profile": "decree-49-2017",
        "out_dir": out,
        "private_key": private_key,
        "numbers_not_found": ["+84999000111"],
        "numbers_elsewhere": {"+84912345678": "vinaphone"},
        "other_carriers": [VIETTEL, VINAPHONE],
        "tool_version": "0.1.0+gtest",
    }
    args.update(kw)
    return build_package(request or make_request(), carrier, frames or all_frames(), **args)


def members(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def manifest_of(zip_path: Path) -> dict:
    return json.loads(members(zip_path)["manifest.json"])


def test_package_lands_at_the_contract_path_with_sorted_members(tmp_path: Path, keys):
    path = build(tmp_path / "out", keys[0])
    assert path == (tmp_path / "out" / "2024-03-05" / "viettel" / "packages" / "432-STTTT-TTra.zip").resolve()
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        infos = zf.infolist()
    assert names == [
        "cdr_records.csv",
        "cdr_summary.csv",
        "complaints.csv",
        "cover_letter.docx",
        "cover_letter.txt",
        "manifest.json",
        "manifest.sig",
        "subscribers.csv",
    ]
    assert {i.date_time for i in infos} == {(2024, 3, 5, 23, 59, 58)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert sorted(p.name for p in path.parent.iterdir()) == ["432-STTTT-TTra.zip"]  # staging cleaned up


def test_files_and_folders_are_private(tmp_path: Path, keys):
    path = build(tmp_path / "out", keys[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in [path.parent, path.parent.parent, path.parent.parent.parent, tmp_path / "out"]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_manifest_content(tmp_path: Path, keys):
    path = build(tmp_path / "out", keys[0])
    m = manifest_of(path)
    got = members(path)
    assert m["format"] == "subflag-package/1"
    assert m["request"]["request_id"] == "432/STTTT-TTra"
    assert m["request"]["period"] == {"from": "2024-02-01", "to": "2024-03-05"}
    assert m["carrier"] == {"slug": "viettel", "name": VIETTEL.name, "short_name": "Viettel"}
    assert m["generated_at"] == "2024-03-05T23:59:58+07:00"
    assert m["run_id"] == RUN_ID
    assert m["run_date"] == "2024-03-05"
    assert m["tool_version"] == "0.1.0+gtest"
    assert m["profile"] == "decree-49-2017"
    assert m["numbers_not_found"] == ["+84999000111"]
    assert m["numbers_elsewhere"] == {"+84912345678": "vinaphone"}
    assert m["deadline"] == {
        "due_at": "2024-03-07T17:00:00+07:00",
        "generated_at": "2024-03-05T23:59:58+07:00",
        "overdue": False,
    }
    assert m["signature"] == {
        "algorithm": "Ed25519",
        "file": "manifest.sig",
        "public_key_sha256": public_fingerprint(keys[1]),
    }
    rows = {f["name"]: f["rows"] for f in m["files"]}
    assert rows == {
        "cdr_records.csv": 2,
        "cdr_summary.csv": 3,
        "complaints.csv": 4,
        "cover_letter.docx": None,
        "cover_letter.txt": None,
        "subscribers.csv": 2,
    }
    import hashlib

    for f in m["files"]:
        assert f["sha256"] == hashlib.sha256(got[f["name"]]).hexdigest()
        assert f["bytes"] == len(got[f["name"]])


def test_overdue_flag_compares_due_at_with_generation_time(tmp_path: Path, keys):
    late = make_request(due_at="2024-03-05T17:00:00+07:00")
    assert manifest_of(build(tmp_path / "a", keys[0], late))["deadline"]["overdue"] is True
    on_time = make_request(due_at="2024-03-06T00:00:00+07:00")
    assert manifest_of(build(tmp_path / "b", keys[0], on_time))["deadline"]["overdue"] is False


def test_csv_members_use_the_shared_writer_bom_and_inert_text(tmp_path: Path, keys):
    got = members(build(tmp_path / "out", keys[0]))
    csv = got["complaints.csv"]
    assert csv.startswith(b"\xef\xbb\xbf")
    frame = pl.read_csv(io.BytesIO(csv[3:]), infer_schema=False)
    assert frame["content"].to_list() == ["'" + HOSTILE, "gọi giả danh\ngiám đốc Sở", "a\rb, \"trích\"", "lừa đảo chuyển tiền"]
    assert frame["received_at"].to_list() == ["2024-03-01T02:00:00+00:00"] * 4
    subs = pl.read_csv(io.BytesIO(got["subscribers.csv"][3:]), infer_schema=False)
    assert subs["full_name"].to_list() == NAMES
    assert subs["kyc_verified"].to_list() == ["false", "true"]


def _personal_needles() -> list[bytes]:
    needles: list[str] = [*NAMES, *ID_NUMBERS, ISSUE_PLACE, "VT-000001", "full_name", "id_number", "date_of_birth"]
    for d in DOBS:
        needles += [d.isoformat(), d.strftime("%d/%m/%Y")]
    return [n.encode("utf-8") for n in needles]


@pytest.mark.parametrize("fields", [["complaints"], ["complaints", "cdr_summary"], ["cdr_summary", "cdr_records"]])
def test_minimisation_no_identity_data_without_the_subscriber_field(tmp_path: Path, keys, fields):
    path = build(tmp_path / "out", keys[0], make_request(fields=fields))
    raw = path.read_bytes()
    got = members(path)
    blobs = [raw, *got.values()]
    with zipfile.ZipFile(io.BytesIO(got["cover_letter.docx"])) as docx:
        blobs += [docx.read(n) for n in docx.namelist()]
    for needle in _personal_needles():
        assert not any(needle in blob for blob in blobs), needle
    assert "subscribers.csv" not in got
    assert sorted(n for n in got if n.endswith(".csv")) == sorted(
        {"complaints": "complaints.csv", "cdr_summary": "cdr_summary.csv", "cdr_records": "cdr_records.csv"}[f]
        for f in fields
    )


def test_minimisation_control_the_needles_are_found_when_subscriber_is_requested(tmp_path: Path, keys):
    got = members(build(tmp_path / "out", keys[0], make_request(fields=["subscriber"])))
    for needle in [*NAMES, *ID_NUMBERS, ISSUE_PLACE, *(d.isoformat() for d in DOBS)]:
        assert needle.encode() in got["subscribers.csv"], needle


def test_identity_columns_outside_subscribers_are_refused(tmp_path: Path, keys):
    leaky = complaints().with_columns(pl.lit("Nguyễn Văn Lừa").alias("full_name"))
    frames = PackageFrames(complaints=leaky)
    with pytest.raises(PackageContentError, match=r"complaints.csv would carry subscriber identity columns \['full_name'\]"):
        build(tmp_path / "out", keys[0], make_request(fields=["complaints"]), frames)
    assert not list((tmp_path / "out").rglob("*.zip"))


def test_a_requested_field_without_a_frame_is_an_error(tmp_path: Path, keys):
    with pytest.raises(PackageContentError, match=r"asks for 'cdr_summary' but no frame for cdr_summary.csv"):
        build(tmp_path / "out", keys[0], make_request(fields=["cdr_summary"]), PackageFrames(complaints=complaints()))


def test_two_builds_are_byte_identical_even_when_the_clock_moves(tmp_path: Path, keys, monkeypatch):
    a = build(tmp_path / "a", keys[0]).read_bytes()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86_400 * 400 + 7)
    b = build(tmp_path / "b", keys[0]).read_bytes()
    assert a == b


def test_rebuilding_in_place_replaces_the_zip_atomically(tmp_path: Path, keys):
    first = build(tmp_path / "out", keys[0])
    before = first.read_bytes()
    second = build(tmp_path / "out", keys[0])
    assert second == first and second.read_bytes() == before
    assert sorted(p.name for p in first.parent.iterdir()) == ["432-STTTT-TTra.zip"]


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path, keys):
    bad_key = tmp_path / "bad.pem"
    bad_key.write_bytes(b"not a key")
    os.chmod(bad_key, 0o600)
    with pytest.raises(ValueError, match="bad.pem"):
        build(tmp_path / "out", bad_key)
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert leftovers == []


def test_multi_carrier_packages_name_each_other(tmp_path: Path, keys):
    req = make_request(numbers=["0321234567", "0912345678", "0999000111"])
    vt = build(
        tmp_path / "out", keys[0], req, PackageFrames(subscribers(), complaints(), cdr_summary(), cdr_records()),
        numbers_elsewhere={"+84912345678": "vinaphone"},
    )
    vn = build(
        tmp_path / "out", keys[0], req, PackageFrames(subscribers().head(0), complaints().head(0), cdr_summary().head(0), cdr_records().head(0)),
        carrier=VINAPHONE, numbers_elsewhere={"+84321234567": "viettel"},
    )
    assert vt.parent.parent.name == "viettel" and vn.parent.parent.name == "vinaphone"
    assert manifest_of(vt)["numbers_elsewhere"] == {"+84912345678": "vinaphone"}
    assert manifest_of(vn)["numbers_elsewhere"] == {"+84321234567": "viettel"}
    assert manifest_of(vn)["numbers_not_found"] == ["+84999000111"]
    vn_rows = {f["name"]: f["rows"] for f in manifest_of(vn)["files"] if f["rows"] is not None}
    assert vn_rows == {"cdr_records.csv": 0, "cdr_summary.csv": 0, "complaints.csv": 0, "subscribers.csv": 0}
    letter = members(vn)["cover_letter.txt"].decode()
    assert "+84321234567 (hiện thuộc Viettel)" in letter
    assert "không xác định được doanh nghiệp đang quản lý: +84999000111" in letter


@pytest.mark.parametrize(
    ("request_id", "zip_name"),
    [
        ("../../etc/x", "etc-x.zip"),
        ("..\\x", "x.zip"),
        ("/abs", "abs.zip"),
        ("a/../../b", "a-b.zip"),
        ("./.hidden", "hidden.zip"),
        ("x" * 300, "x" * 87 + "-0d4e2ca9e9cb.zip"),
        ("..", None),
        ("../\x00", None),
    ],
)
def test_hostile_request_ids_are_slugged_inside_the_packages_folder_or_refused(tmp_path: Path, keys, request_id, zip_name):
    out = tmp_path / "out"
    folder = (out / "2024-03-05" / "viettel" / "packages").resolve()
    if zip_name is None:
        with pytest.raises(ValueError, match="request_id"):
            build(out, keys[0], make_request(request_id=request_id))
    else:
        path = build(out, keys[0], make_request(request_id=request_id))
        assert path == folder / zip_name
        assert manifest_of(path)["request"]["request_id"] == request_id
    assert [p.resolve().parent for p in tmp_path.rglob("*.zip")] == ([folder] if zip_name else [])


def test_two_requests_sharing_a_slug_never_overwrite_each_other(tmp_path: Path, keys):
    first = build(tmp_path / "out", keys[0], make_request(request_id="432/A"))
    before = first.read_bytes()
    with pytest.raises(PackagePathError, match=r"already holds the package for request '432/A'; request '432-A'"):
        build(tmp_path / "out", keys[0], make_request(request_id="432-A"))
    assert first.read_bytes() == before
    first.write_bytes(b"garbage")
    with pytest.raises(PackagePathError, match="is not a readable package"):
        build(tmp_path / "out", keys[0], make_request(request_id="432/A"))


@pytest.mark.parametrize("name", ["../x", "..", ".", "", "a/b", "a\\b", "/etc/passwd", "x\0y", ".hidden"])
def test_containment_check_refuses_unsafe_slugs(tmp_path: Path, name):
    folder = packages_folder(tmp_path / "out", RUN_DATE, "viettel")
    with pytest.raises(PackagePathError):
        package_path(folder, name)
    assert package_path(folder, "432-STTTT-TTra") == folder / "432-STTTT-TTra.zip"


def test_symlinked_package_file_pointing_outside_is_refused(tmp_path: Path):
    folder = packages_folder(tmp_path / "out", RUN_DATE, "viettel")
    outside = tmp_path / "victim.zip"
    outside.write_bytes(b"keep")
    (folder / "evil.zip").symlink_to(outside)
    with pytest.raises(PackagePathError, match="outside"):
        package_path(folder, "evil")
    assert outside.read_bytes() == b"keep"


def test_symlinked_carrier_folder_pointing_outside_is_refused(tmp_path: Path):
    day = tmp_path / "out" / "2024-03-05"
    day.mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (day / "viettel").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PackagePathError, match="outside"):
        packages_folder(tmp_path / "out", RUN_DATE, "viettel")


def test_unsafe_carrier_slug_is_refused(tmp_path: Path):
    with pytest.raises(PackagePathError):
        packages_folder(tmp_path / "out", RUN_DATE, "../viettel")


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(min_size=1, max_size=400) | st.lists(st.sampled_from(["..", ".", "/", "\\", "a", "Đ", "CON", "~"]), min_size=1, max_size=40).map("".join))
def test_any_request_id_is_slugged_inside_the_packages_folder_or_refused(tmp_path_factory, request_id: str):
    folder = packages_folder(tmp_path_factory.getbasetemp() / "fuzz-out", RUN_DATE, "viettel")
    try:
        slug = slugify_request_id(request_id)
    except ValueError:
        return
    path = package_path(folder, slug)
    assert path.parent == folder.resolve()
    assert path.name == f"{slug}.zip" and len(path.name) <= 255 and not path.name.startswith(".")
