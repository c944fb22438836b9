import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.transforms.test_packaging import build, keys, make_request, members  # noqa: F401 - fixture
from transforms.packaging import encode_manifest
from transforms.signing import SigningKeyError, init_keys, sign
from transforms.verify import PackageInvalid, count_csv_rows, verify_package

MEMBERS = [
    "cdr_records.csv",
    "cdr_summary.csv",
    "complaints.csv",
    "cover_letter.docx",
    "cover_letter.txt",
    "manifest.json",
    "manifest.sig",
    "subscribers.csv",
]


def flip_byte_in(zip_path: Path, name: str) -> None:
    """Flip one bit in the middle of a member's stored (compressed) bytes, leaving headers and CRC alone."""
    raw = bytearray(zip_path.read_bytes())
    with zipfile.ZipFile(zip_path) as zf:
        info = zf.getinfo(name)
    off = info.header_offset
    name_len = int.from_bytes(raw[off + 26 : off + 28], "little")
    extra_len = int.from_bytes(raw[off + 28 : off + 30], "little")
    raw[off + 30 + name_len + extra_len + info.compress_size // 2] ^= 0x01
    zip_path.write_bytes(bytes(raw))


def rewrite(zip_path: Path, *, replace: dict[str, bytes] | None = None, add: list[tuple[str, bytes]] | None = None,
            drop: tuple[str, ...] = ()) -> None:
    """What a careful forger does: a well-formed zip with correct CRCs, different content."""
    old = members(zip_path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in old.items():
            if name not in drop:
                zf.writestr(name, (replace or {}).get(name, data))
        for name, data in add or []:
            zf.writestr(name, data)
    zip_path.write_bytes(out.getvalue())


@pytest.fixture()
def package(tmp_path: Path, keys) -> Path:  # noqa: F811
    return build(tmp_path / "out", keys[0])


def test_round_trip_verifies(package: Path, keys):  # noqa: F811
    report = verify_package(package, keys[1])
    assert report.ok, report.problems
    assert report.signature_ok
    assert sorted(report.checked) == [m for m in MEMBERS if m not in {"manifest.json", "manifest.sig"}]
    assert report.summary().endswith("OK — signature valid, 6 members match the manifest")
    report.raise_for_problems()


@pytest.mark.parametrize("name", MEMBERS)
def test_a_flipped_byte_in_any_member_is_caught_and_named(package: Path, keys, name: str):  # noqa: F811
    flip_byte_in(package, name)
    report = verify_package(package, keys[1])
    assert len(report.problems) == 1, report.problems
    assert report.problems[0].startswith(f"{name}: its bytes were changed after packaging (cannot be read: ")
    with pytest.raises(PackageInvalid, match=name.replace(".", r"\.")):
        report.raise_for_problems()


def test_an_edited_member_with_a_valid_crc_fails_on_its_hash(package: Path, keys):  # noqa: F811
    csv = members(package)["complaints.csv"]
    rewrite(package, replace={"complaints.csv": csv.replace("lừa đảo".encode(), "lua dao".encode())})
    report = verify_package(package, keys[1])
    assert report.signature_ok
    assert len(report.problems) == 1
    assert report.problems[0].startswith("complaints.csv: SHA-256 ")
    assert report.problems[0].endswith("the file was changed after signing")


def test_a_dropped_row_is_named_with_both_counts(package: Path, keys):  # noqa: F811
    csv = members(package)["cdr_summary.csv"]
    rewrite(package, replace={"cdr_summary.csv": b"\n".join(csv.split(b"\n")[:-2]) + b"\n"})
    problems = verify_package(package, keys[1]).problems
    assert problems[0].startswith("cdr_summary.csv: SHA-256")
    assert problems[1] == "cdr_summary.csv: the manifest says 3 rows, the file has 2"


def test_an_added_member_is_caught(package: Path, keys):  # noqa: F811
    rewrite(package, add=[("extra.csv", b"msisdn\n+84321234567\n")])
    assert verify_package(package, keys[1]).problems == [
        "unexpected member 'extra.csv': not listed in the manifest, it was added after signing"
    ]


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_second_copy_of_a_member_is_caught(package: Path, keys):  # noqa: F811
    rewrite(package, add=[("subscribers.csv", b"msisdn,full_name\n+84321234567,Someone Else\n")])
    problems = verify_package(package, keys[1]).problems
    assert "member 'subscribers.csv' appears 2 times: a second copy was added to the zip" in problems


def test_a_removed_member_is_caught(package: Path, keys):  # noqa: F811
    rewrite(package, drop=("cover_letter.txt",))
    assert verify_package(package, keys[1]).problems == [
        "cover_letter.txt is listed in the manifest but missing from the zip: it was removed"
    ]


def test_a_swapped_manifest_fails_the_signature(tmp_path: Path, package: Path, keys):  # noqa: F811
    other = build(tmp_path / "other", keys[0], make_request(request_id="439/STTTT-CNTT", fields=["complaints"]))
    rewrite(package, replace={"manifest.json": members(other)["manifest.json"]})
    report = verify_package(package, keys[1])
    assert not report.signature_ok
    assert report.problems[0] == (
        "manifest.sig does not match manifest.json: the manifest was edited or swapped after signing, "
        "or the signature was changed"
    )
    assert any(p.startswith("unexpected member 'subscribers.csv'") for p in report.problems)


def test_a_swapped_manifest_with_its_own_signature_fails_on_the_files(tmp_path: Path, package: Path, keys):  # noqa: F811
    other = build(tmp_path / "other", keys[0], make_request(numbers=["0321234567"], fields=["complaints"]))
    theirs = members(other)
    rewrite(package, replace={"manifest.json": theirs["manifest.json"], "manifest.sig": theirs["manifest.sig"]})
    report = verify_package(package, keys[1])
    assert report.signature_ok
    assert any(p.startswith("cover_letter.txt: SHA-256") for p in report.problems)
    assert any(p.startswith("unexpected member 'subscribers.csv'") for p in report.problems)


def test_an_edited_manifest_fails_even_if_the_change_is_small(package: Path, keys):  # noqa: F811
    manifest = members(package)["manifest.json"]
    rewrite(package, replace={"manifest.json": manifest.replace(b'"overdue": false', b'"overdue": true')})
    report = verify_package(package, keys[1])
    assert report.problems == [
        "manifest.sig does not match manifest.json: the manifest was edited or swapped after signing, "
        "or the signature was changed"
    ]


def test_a_re_signed_manifest_with_a_wrong_row_count_is_caught(package: Path, keys):  # noqa: F811
    manifest = json.loads(members(package)["manifest.json"])
    for f in manifest["files"]:
        if f["name"] == "complaints.csv":
            f["rows"] = 5
    data = encode_manifest(manifest)
    rewrite(package, replace={"manifest.json": data, "manifest.sig": sign(data, keys[0])})
    assert verify_package(package, keys[1]).problems == ["complaints.csv: the manifest says 5 rows, the file has 4"]


def test_over_disclosure_is_flagged_even_when_signed(package: Path, keys):  # noqa: F811
    manifest = json.loads(members(package)["manifest.json"])
    manifest["request"]["fields"] = ["complaints", "cdr_summary", "cdr_records"]
    data = encode_manifest(manifest)
    rewrite(package, replace={"manifest.json": data, "manifest.sig": sign(data, keys[0])})
    assert verify_package(package, keys[1]).problems == [
        "subscribers.csv is in the package but the request did not ask for 'subscriber'"
    ]


def test_the_wrong_public_key_is_named(tmp_path: Path, package: Path):
    _, stranger = init_keys(tmp_path / "stranger")
    problems = verify_package(package, stranger).problems
    assert len(problems) == 1
    assert problems[0].startswith("manifest.sig: the manifest names signing key ")
    assert "wrong public key, or the manifest was swapped" in problems[0]


def test_a_truncated_signature_is_named(package: Path, keys):  # noqa: F811
    rewrite(package, replace={"manifest.sig": members(package)["manifest.sig"][:40]})
    assert verify_package(package, keys[1]).problems == [
        "manifest.sig is 40 bytes, an Ed25519 signature is 64: it was changed"
    ]


def test_not_a_zip_and_no_manifest(tmp_path: Path, package: Path, keys):  # noqa: F811
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 nope")
    problems = verify_package(junk, keys[1]).problems
    assert len(problems) == 1 and "is not a readable zip archive" in problems[0]
    rewrite(package, drop=("manifest.json",))
    assert verify_package(package, keys[1]).problems == [
        "manifest.json is missing: nothing can be checked"
    ]


def test_an_unusable_public_key_raises(package: Path, tmp_path: Path):
    with pytest.raises(SigningKeyError, match="does not exist"):
        verify_package(package, tmp_path / "nope.pub.pem")


def test_row_counting_respects_quoted_line_breaks():
    data = b'\xef\xbb\xbfid,content\n1,"a\nb"\n2,"c\rd"\n3,plain\n'
    assert count_csv_rows(data) == 3
    assert count_csv_rows(b"\xef\xbb\xbfid,content\n") == 0
