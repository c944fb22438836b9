"""Fuzz target "5656 texts": the parser never raises, every text lands once, well-formed reports parse back.

Three kinds of message are drawn: arbitrary Unicode, near-syntax texts glued from the grammar's pieces
(command letters, brackets, separators, +84/0084, trailers, control and bidi characters), and
well-formed reports built from a known number in one of the written forms citizens use. The first two
must each end up as a complaint, a DNC row or a reject with a reason; a well-formed one must be a
complaint whose reported number is the number it was built from.

``parse_5656`` costs ~20 ms a call whatever its size (it opens DuckDB for the ids), so examples are
checked 200 at a time (tests/fuzzing.py); the reporter and time columns are fuzzed too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
import pytest
from hypothesis import strategies as st

from tests.fuzzing import run_fuzz
from transforms.numbers import NumberingTables
from transforms.readers import REJECT_REASONS
from transforms.sms5656 import parse_5656

SHA = "cd" * 32
VALID_TIME = "<valid time>"
VALID_REPORTER = "0912345678"
CATEGORIES = {"impersonation", "fraud", "spam_call", "spam_sms", "harassment", "other"}
# What clean_text promises never survives into stored content (controls other than tab/newline, bidi, invisibles).
HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
VI_LETTERS = "abcdeghiklmnopqrstuvxyăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
CONTENT_ALPHABET = VI_LETTERS + VI_LETTERS.upper() + " 0123456789.,:;!?%()[]\"'=<>/-_@#\n\t😡🙏"

PIECES = [
    "V", "S", "v", "s", "Ｖ", "ｓ", "DK", "ĐK", "HUY", "HỦY", "DNC", "dnc", " ", "  ", "\u3000", "\u00a0", "(", ")", "[",
    "]", "【", "】", "（", "）", "{", "0", "08", "0812341213", "0812 341 213", "+84", "＋84", "84", "0084", "9", "1900",
    "(028)", "0162", "０８", "٠٨", ".", "-", ",", ":", ";", "gửi", "gui", "5656", "gửi 5656", "send 5656", "lừa đảo",
    "VCB", "VIETCOMBANK", "\n", "\r\n", "\r", "\t", "\x00", "\x1b", "\u202e", "\u2066", "\u200b", "\ufeff", "😡",
    "=", '"', "'", "ư\u0300", "\u0301", "\ufffd", "1" * 25,
]


@dataclass(frozen=True)
class Row:
    received_at: str | None
    reporter: str | None
    message: str | None
    expected: tuple[str, str] | None = None  # (reported_national, kind) for a well-formed report


@pytest.fixture(scope="module")
def tables(settings) -> NumberingTables:
    return NumberingTables.from_settings(settings)


def _national_numbers(settings) -> st.SearchStrategy[tuple[str, str]]:
    """(digits as typed, national number they must parse to): mobiles, legacy 11-digit mobiles, landlines."""
    mobile_prefixes = sorted(p for c in settings.carriers for p in c.prefixes)
    legacy = sorted((old, new) for old, new in settings.numbering.legacy.items() if new in mobile_prefixes)
    areas = sorted(settings.numbering.landline.area_codes)
    rest = lambda k: st.text("0123456789", min_size=k, max_size=k)  # noqa: E731
    mobile = st.tuples(st.sampled_from(mobile_prefixes), rest(7)).map(lambda t: (t[0] + t[1], t[0] + t[1]))
    old = st.tuples(st.sampled_from(legacy), rest(7)).map(lambda t: (t[0][0] + t[1], t[0][1] + t[1]))
    landline = st.sampled_from(areas).flatmap(lambda a: rest(10 - len(a)).map(lambda r: ("0" + a + r, "0" + a + r)))
    return st.one_of(mobile, old, landline)


@st.composite
def _written(draw, number: tuple[str, str]) -> str:
    """A national number as people type it: +84/84/0084/bare, grouped by spaces, dots or dashes, full-width."""
    typed, national = number
    is_mobile = len(typed) == 10
    form = draw(st.sampled_from(["0", "+84", "84", "0084", "＋84"] + (["bare"] if is_mobile else []) + (["(area)"] if not is_mobile and national == typed else [])))
    digits = typed[1:] if form != "0" else typed
    if form == "(area)":
        area_len = 3 if typed[1:3] in ("24", "28") else 4
        text = "(" + typed[:area_len] + ")" + draw(st.sampled_from([" ", "", "-", ".", "  "])) + typed[area_len:]
    else:
        cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
        parts = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)])]
        seps = [draw(st.sampled_from([" ", ".", "-", "  ", "\u3000"])) for _ in parts[1:]]
        body = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:]))
        prefix = {"0": "", "bare": "", "+84": "+84", "84": "84", "0084": "0084", "＋84": "＋84"}[form]
        if prefix and draw(st.booleans()) and len(parts) < 6:
            prefix += draw(st.sampled_from([" ", "-", "."]))
        text = prefix + body
    if draw(st.integers(0, 7)) == 0:
        text = text.translate(FULL_WIDTH)
    return text


@st.composite
def _well_formed(draw, numbers: st.SearchStrategy[tuple[str, str]]) -> Row:
    number = draw(numbers)
    written = draw(_written(number))
    letter = draw(st.sampled_from(["V", "S", "v", "s", "Ｖ", "Ｓ"]))
    kind = "call" if letter in "VvＶ" else "sms"
    first = draw(st.sampled_from(VI_LETTERS + VI_LETTERS.upper()))
    content = first + draw(st.text(CONTENT_ALPHABET, max_size=60))
    if draw(st.integers(0, 5)) == 0:
        content = ""
    trailer = draw(st.sampled_from(["", "", "", " gửi 5656", " gui 5656", " gửi đến 5656."]))
    shape = draw(st.sampled_from(["plain", "glued", "colon", "dash", "square", "square-both", "round", "round-both"]))
    opener, closer = draw(st.sampled_from([("[", "]"), ("(", ")"), ("（", "）"), ("【", "】"), ("［", "］")]))
    brackets = shape.startswith(("square", "round")) and "(" not in written
    if shape.startswith("round") and brackets:
        opener, closer = "(", ")"
    if brackets:
        head = f"{opener}{written}{closer}"
        tail = f"{opener}{content}{closer}" if shape.endswith("both") and content else (" " + content if content else "")
        sep = draw(st.sampled_from([" ", "", "  "]))
        message = f"{letter}{sep}{head}{tail}"
    else:
        sep = {"plain": " ", "glued": "", "colon": ":", "dash": " - "}.get(shape, " ")
        message = f"{letter}{sep}{written}" + (" " + content if content else "")
    return Row(VALID_TIME, VALID_REPORTER, message + trailer, (number[1], kind))


_any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)
_near_syntax = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)
_cell = st.one_of(st.just(VALID_TIME), st.none(), _any_text, st.sampled_from(["2024-02-30 10:00", "05/03/2024 9:15", "", " "]))
_reporter = st.one_of(st.just(VALID_REPORTER), st.none(), _any_text, st.sampled_from(["+84 912 345 678", "5656", "VCB", "0912345678\x00"]))


def _messy_row() -> st.SearchStrategy[Row]:
    return st.builds(
        Row,
        received_at=st.one_of(st.just(VALID_TIME), _cell),
        reporter=st.one_of(st.just(VALID_REPORTER), _reporter),
        message=st.one_of(_any_text, _near_syntax, st.none()),
    )


def examples(settings) -> st.SearchStrategy[list[Row]]:
    well_formed = _well_formed(_national_numbers(settings))
    return st.lists(st.one_of(well_formed, _messy_row()), min_size=1, max_size=4)


def _frame(rows: list[Row]) -> pl.DataFrame:
    base = datetime(2024, 3, 5, 8, 0, 0)
    # A distinct valid time per row: identical (time, reporter, message) triples are duplicates by design.
    received = [(base + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S") if r.received_at == VALID_TIME else r.received_at
                for i, r in enumerate(rows)]
    n = len(rows)
    return pl.DataFrame(
        {
            "received_at": received,
            "reporter": [r.reporter for r in rows],
            "message": [r.message for r in rows],
            "source_file": ["inbox/reports_5656/fuzz.csv"] * n,
            "source_line": list(range(2, n + 2)),
        },
        schema={"received_at": pl.String, "reporter": pl.String, "message": pl.String, "source_file": pl.String, "source_line": pl.Int64},
    )


def check_batch(settings, tables: NumberingTables, examples: list[list[Row]]) -> int:
    rows = [row for example in examples for row in example]
    parsed = parse_5656(_frame(rows), tables, settings, SHA)
    lines = pl.concat([parsed.complaints["source_line"], parsed.dnc["source_line"], parsed.rejects["source_line"]])
    assert lines.sort().to_list() == list(range(2, len(rows) + 2)), "a text was lost or landed twice"

    r = parsed.rejects
    assert r["reason"].is_in(list(REJECT_REASONS)).all(), r.filter(~pl.col("reason").is_in(list(REJECT_REASONS)))
    assert r["detail"].null_count() == 0 and (r["detail"].str.len_chars() > 0).all()
    assert r["source_file"].null_count() == 0

    c = parsed.complaints
    assert c["reported_kind"].cast(pl.String).is_in(["invalid"]).sum() == 0
    assert c["reporter_kind"].cast(pl.String).eq("mobile").all()
    assert c["category"].is_in(list(CATEGORIES)).all()
    assert c["kind"].is_in(["call", "sms"]).all()
    assert c["complaint_id"].null_count() == 0 and c["complaint_id"].is_unique().all()
    assert c["received_at"].null_count() == 0
    content = c["content"].drop_nulls()
    max_chars = settings.categories.content.max_chars
    assert (content.str.len_chars() <= max_chars + 1).all()
    hidden = content.filter(content.str.contains(HIDDEN.pattern))
    assert hidden.is_empty(), f"control/bidi characters kept in content: {hidden.to_list()[:3]!r}"
    assert parsed.dnc["action"].is_in(["register", "cancel"]).all()

    got = {line: (national, kind) for line, national, kind in c.select("source_line", "reported_national", "kind").iter_rows()}
    wrong = [
        (row.message, row.expected, got.get(line, _reason_of(parsed, line)))
        for line, row in enumerate(rows, start=2)
        if row.expected is not None and got.get(line) != row.expected
    ]
    assert not wrong, "well-formed reports that did not parse back to their number:\n" + "\n".join(map(repr, wrong))
    return len(rows)


def _reason_of(parsed, line: int) -> object:
    hit = parsed.rejects.filter(pl.col("source_line") == line)
    return ("rejected", hit["reason"][0], hit["detail"][0]) if hit.height else ("dnc",)


@pytest.mark.fuzz
def test_fuzz_5656_texts(settings, tables) -> None:
    run_fuzz(
        "5656 texts",
        examples(settings),
        lambda batch: check_batch(settings, tables, batch),
        default=300,
        batch=200,
    )


def test_the_well_formed_generator_covers_every_written_form(settings, tables) -> None:
    """The generator is only as good as its reach: check a seeded sample holds each form and each kind."""
    from hypothesis import given, settings as hsettings

    seen: set[str] = set()
    rows: list[Row] = []

    @hsettings(max_examples=400, database=None, derandomize=True, deadline=None)
    @given(row=_well_formed(_national_numbers(settings)))
    def collect(row: Row) -> None:
        rows.append(row)
        m = row.message or ""
        seen.update(
            name for name, hit in {
                "+84": "+84" in m or "＋84" in m, "0084": "0084" in m, "full-width": "０" in m or "＋" in m,
                "bracket": any(b in m for b in "[（【［"), "round": "(" in m, "dot": re.search(r"\d\.\d", m) is not None,
                "trailer": "5656" in m, "sms": row.expected[1] == "sms", "legacy": len(re.sub(r"\D", "", m)) >= 11,
            }.items() if hit
        )

    collect()
    assert seen >= {"+84", "0084", "full-width", "bracket", "round", "dot", "trailer", "sms", "legacy"}, seen
    assert check_batch(settings, tables, [[r] for r in rows]) == len(rows)
