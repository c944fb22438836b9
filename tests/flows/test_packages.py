"""Information-request packages end to end: the daily flow answers the simulated requests, `subflag verify`
checks what it wrote, and `subflag package` answers new requests safely and reproducibly.

The simulated inbox holds request 432/STTTT-TTra naming a ported scammer (Viettel prefix, now MobiFone),
a scammer on a second carrier and a well-formed number nobody handed out, and the denunciation
127/PA05-CATP asking to suspend one scammer.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.flows.conftest import copy_config
from transforms.config import load_config
from transforms.requests import slugify_request_id
from transforms.simulate import SimulationSpec, simulate_inbox

RUN_DATE = date(2024, 3, 5)
runner = CliRunner()


@dataclass(frozen=True)
class World:
    root: Path
    config: Path
    inbox: Path
    warehouse: Path
    lake: Path
    out: Path
    keys: Path
    truth: dict
    outputs: tuple[Path, ...]

    def packages(self, out: Path | None = None) -> dict[str, Path]:
        base = out or self.out
        return {str(p.relative_to(base)): p for p in sorted(base.rglob("packages/*.zip"))}

    def held_by(self, request_id: str) -> dict[str, str | None]:
        (req,) = [r for r in self.truth["requests"] if r["request_id"] == request_id]
        return {e164(n): c for n, c in req["held_by"].items()}

    def run(self):
        from flows.daily import daily_run

        return daily_run(run_date=RUN_DATE, inbox=self.inbox, warehouse=self.warehouse, lake=self.lake, out=self.out,
                         config_dir=self.config)


def e164(loose: str) -> str:
    digits = re.sub(r"\D", "", loose)
    return "+84" + (digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits.lstrip("0"))


def private_config(dest: Path, keys: Path) -> Path:
    """The project's config with the signing and pseudonym keys under the test's folder, not data/keys."""
    config = copy_config(dest)
    run = config / "run.toml"
    text = run.read_text(encoding="utf-8")
    text, n = re.subn(r'^signing_keys = .*$', f'signing_keys = "{keys}"', text, flags=re.MULTILINE)
    text, m = re.subn(r'^pseudonym_key = .*$', f'pseudonym_key = "{keys / "pseudonym.key"}"', text, flags=re.MULTILINE)
    assert (n, m) == (1, 1), "run.toml has no signing_keys / pseudonym_key line"
    run.write_text(text, encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_harness) -> World:
    root = tmp_path_factory.mktemp("packages")
    keys = root / "keys"
    config = private_config(root / "config", keys)
    simulate_inbox(SimulationSpec(subscribers=2000, days=3, end_date=RUN_DATE, seed=3), load_config(config),
                   root / "inbox", root / "truth")
    truth = json.loads((root / "truth" / "summary.json").read_text(encoding="utf-8"))
    w = World(root, config, root / "inbox", root / "warehouse.duckdb", root / "lake", root / "out", keys, truth, ())
    summary = w.run()
    return World(**{**w.__dict__, "outputs": tuple(summary.outputs)})


def cli(*args: str | Path) -> object:
    return runner.invoke(app, [str(a) for a in args])


def manifest(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def rewrite(src: Path, dest: Path, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> Path:
    """A well-formed zip (valid CRCs) with some members changed or added: what a forger would send."""
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members.update(replace or {})
    members.update(add or {})
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dest


def request_file(folder: Path, request_id: str, numbers: list[str], fields: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(request_id.encode()).hexdigest()[:12] + ".json")
    path.write_text(json.dumps({
        "request_id": request_id, "authority": "Công an TP. Cần Thơ", "received_at": "2024-03-05T08:00:00+07:00",
        "due_at": "2024-03-06T17:00:00+07:00", "legal_basis": "Nghị định 49/2017/NĐ-CP",
        "requested_action": "information", "numbers": numbers, "fields": fields,
        "period": {"from": "2024-03-04", "to": "2024-03-05"},
    }, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture()
def side(world: World, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the run's warehouse and an empty output folder for `subflag package` experiments."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(world.warehouse, warehouse)
    return warehouse, tmp_path / "out"


def package_cli(world: World, side: tuple[Path, Path], request: Path, *extra: str) -> object:
    warehouse, out = side
    return cli("package", "--request", request, "--date", RUN_DATE.isoformat(), "--warehouse", warehouse,
               "--lake", world.lake, "--out", out, "--config", world.config, *extra)


# ------------------------------------------------------------------------------------------ the daily run


def test_daily_run_writes_one_package_per_holding_carrier(world: World):
    held = world.held_by("432/STTTT-TTra")
    ported = next(n for n, c in held.items() if c == "mobifone")
    other = next(n for n, c in held.items() if c not in (None, "mobifone"))
    (unknown,) = [n for n, c in held.items() if c is None]
    assert unknown == world.truth["unassigned_number"]
    (suspend_number, suspend_carrier), = world.held_by("127/PA05-CATP").items()
    zips = world.packages()
    assert sorted(zips) == sorted([
        "2024-03-05/mobifone/packages/432-STTTT-TTra.zip",
        f"2024-03-05/{held[other]}/packages/432-STTTT-TTra.zip",
        f"2024-03-05/{suspend_carrier}/packages/127-PA05-CATP.zip",
    ])
    assert {p.resolve() for p in zips.values()} <= {Path(p).resolve() for p in world.outputs}
    m = manifest(zips["2024-03-05/mobifone/packages/432-STTTT-TTra.zip"])
    assert (m["numbers_elsewhere"], m["numbers_not_found"]) == ({other: held[other]}, [unknown])
    m = manifest(zips[f"2024-03-05/{held[other]}/packages/432-STTTT-TTra.zip"])
    assert (m["numbers_elsewhere"], m["numbers_not_found"]) == ({ported: "mobifone"}, [unknown])
    assert m["run_id"].startswith("20240305-") and m["deadline"]["overdue"] is False
    # no key was configured: the first run created one in the configured folder, private to its owner
    private = world.keys / "signing_ed25519.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and stat.S_IMODE(world.keys.stat().st_mode) == 0o700


def test_subflag_verify_passes_on_every_package(world: World):
    zips = world.packages()
    assert len(zips) == 3
    for path in zips.values():
        result = cli("verify", path, "--config", world.config)
        assert result.exit_code == 0, result.output
        assert "OK — signature valid" in result.output
    result = cli("verify", next(iter(zips.values())), "--public-key", world.keys / "signing_ed25519.pub.pem")
    assert result.exit_code == 0, result.output


def test_subflag_verify_fails_naming_what_changed(world: World, tmp_path: Path):
    mobifone = world.packages()["2024-03-05/mobifone/packages/432-STTTT-TTra.zip"]
    other = next(p for k, p in world.packages().items() if "432" in k and "mobifone" not in k)
    with zipfile.ZipFile(mobifone) as zf:
        complaints = zf.read("complaints.csv")
    cases = {
        "edited": (rewrite(mobifone, tmp_path / "edited.zip", replace={"complaints.csv": complaints.replace(b"call", b"sms!", 1)}),
                   "complaints.csv: SHA-256"),
        "added": (rewrite(mobifone, tmp_path / "added.zip", add={"notes.txt": b"hello"}), "unexpected member 'notes.txt'"),
        "swapped": (rewrite(mobifone, tmp_path / "swapped.zip", replace={"manifest.json": zipfile.ZipFile(other).read("manifest.json")}),
                    "manifest.sig does not match manifest.json"),
    }
    for name, (path, message) in cases.items():
        result = cli("verify", path, "--config", world.config)
        assert result.exit_code == 1, (name, result.output)
        assert message in result.output, (name, result.output)


def test_the_cover_letter_opens_in_python_docx(world: World):
    import docx

    path = world.packages()["2024-03-05/mobifone/packages/432-STTTT-TTra.zip"]
    with zipfile.ZipFile(path) as zf:
        document = docx.Document(io.BytesIO(zf.read("cover_letter.docx")))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    assert "432/STTTT-TTra" in text
    assert "Sở Thông tin và Truyền thông TP. Cần Thơ" in text
    assert "V/v cung cấp thông tin thuê bao" in text


def test_the_denounced_number_is_a_two_way_block_candidate_and_is_packaged(world: World):
    (number, carrier), = world.held_by("127/PA05-CATP").items()
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        cands = con.table("candidates").filter(f"run_date = DATE '{RUN_DATE}' AND msisdn = '{number}'").pl()
    assert cands.select("carrier", "action").rows() == [(carrier, "two_way_block")]
    assert "R01_authority_suspend" in cands["reasons"][0]
    assert f"2024-03-05/{carrier}/packages/127-PA05-CATP.zip" in world.packages()


def test_v_requests_lists_every_request_as_packaged_and_none_overdue(world: World):
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        rows = con.table("v_requests").pl().sort("request_id", "carrier")
    assert rows.select("request_id", "has_package", "overdue").rows() == [
        ("127/PA05-CATP", True, False), ("432/STTTT-TTra", True, False), ("432/STTTT-TTra", True, False)]
    assert sorted(rows["carrier"].to_list()) == sorted(
        ["mobifone", *(c for c in world.held_by("432/STTTT-TTra").values() if c not in (None, "mobifone")),
         *world.held_by("127/PA05-CATP").values()])


def test_a_rerun_and_a_subflag_package_rebuild_are_byte_identical(world: World, side: tuple[Path, Path]):
    before = {k: p.read_bytes() for k, p in world.packages().items()}
    summary = world.run()
    assert summary.files_new == 0
    assert {k: p.read_bytes() for k, p in world.packages().items()} == before
    warehouse, out = side
    shutil.copy(world.warehouse, warehouse)
    result = package_cli(world, side, world.inbox / "requests" / "432-STTTT-TTra.json")
    assert result.exit_code == 0, result.output
    rebuilt = {k: p.read_bytes() for k, p in world.packages(out).items()}
    assert sorted(rebuilt) == sorted(k for k in before if "432" in k)
    assert all(rebuilt[k] == before[k] for k in rebuilt)


# ------------------------------------------------------------------------------------------ subflag package


def test_a_complaints_only_request_has_no_identity_data_in_any_byte(world: World, side: tuple[Path, Path], tmp_path: Path):
    held = world.held_by("432/STTTT-TTra")
    numbers = [n for n, c in held.items() if c]
    result = package_cli(world, side, request_file(tmp_path / "req", "MIN/7", numbers, ["complaints"]))
    assert result.exit_code == 0, result.output
    zips = world.packages(side[1])
    assert len(zips) == 2
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        registry = con.table("registry_subscribers").pl().filter(pl.col("msisdn").is_in(numbers))
    needles = [*registry["full_name"].drop_nulls(), *registry["id_number"].drop_nulls(),
               *(d.isoformat() for d in registry["date_of_birth"].drop_nulls())]
    assert len(needles) >= 4
    for path in zips.values():
        blob = [path.read_bytes()]
        with zipfile.ZipFile(path) as zf:
            assert "subscribers.csv" not in zf.namelist()
            for name in zf.namelist():
                blob.append(zf.read(name))
                if name.endswith(".docx"):
                    inner = zipfile.ZipFile(io.BytesIO(zf.read(name)))
                    blob += [inner.read(n) for n in inner.namelist()]
        data = b"".join(blob)
        assert [n for n in needles if n.encode("utf-8") in data] == []
        assert cli("verify", path, "--config", world.config).exit_code == 0


@pytest.mark.parametrize("request_id", ["../../etc/x", "..\\x", "/abs", "9/" * 150])
def test_path_traversal_ids_are_safely_slugged(world: World, side: tuple[Path, Path], tmp_path: Path, request_id: str):
    number = next(n for n, c in world.held_by("432/STTTT-TTra").items() if c == "mobifone")
    result = package_cli(world, side, request_file(tmp_path / "req", request_id, [number], ["complaints"]))
    assert result.exit_code == 0, result.output
    (path,) = world.packages(side[1]).values()
    assert path.resolve().parent == (side[1] / "2024-03-05" / "mobifone" / "packages").resolve()
    assert path.name == slugify_request_id(request_id) + ".zip"
    assert [p for p in tmp_path.rglob("*.zip")] == [path]


@pytest.mark.parametrize("request_id", ["../..", "x" * 301])
def test_unusable_request_ids_are_refused_with_a_message(world: World, side: tuple[Path, Path], tmp_path: Path, request_id: str):
    result = package_cli(world, side, request_file(tmp_path / "req", request_id, ["0912345678"], ["complaints"]))
    assert result.exit_code == 2
    assert "request_id" in result.output
    assert not list(tmp_path.rglob("*.zip"))


def test_keys_init_creates_a_private_key_pair_and_never_replaces_it(tmp_path: Path):
    folder = tmp_path / "k"
    result = cli("keys", "init", "--dir", folder)
    assert result.exit_code == 0, result.output
    private, public = folder / "signing_ed25519.pem", folder / "signing_ed25519.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert public.is_file() and "fingerprint:" in result.output
    before = private.read_bytes()
    again = cli("keys", "init", "--dir", folder)
    assert again.exit_code == 1 and "refusing to replace" in again.output
    assert private.read_bytes() == before
