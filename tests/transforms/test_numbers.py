"""Numbering core: exact examples for every input form, and phonenumbers as the oracle.

The oracle comparisons never skip a disagreement silently: every deliberate difference between the
config-driven normaliser and phonenumbers' metadata is a named entry of ``DIFFERENCES`` that says on which
of our rows it applies and what phonenumbers must say there, and every disagreement must be one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import phonenumbers
import polars as pl
import pytest
from hypothesis import strategies as st
from phonenumbers import carrier as pn_carrier

from tests.fuzzing import run_fuzz
from transforms.numbers import (
    KINDS,
    SUFFIXES,
    NumberingTables,
    NumberKind,
    e164_int_to_national,
    normalise_number,
    normalise_numbers,
    oracle,
    output_schema,
)



@pytest.fixture(scope="module")
def tables(settings) -> NumberingTables:
    return NumberingTables.from_settings(settings)


# ---------------------------------------------------------------------------------------------------------
# Exact examples: every input form the brief names.


def _vn(e164: str, kind: str, carrier: str | None = None, *, legacy: bool = False, protected: bool = False) -> dict:
    national = "0" + e164[3:]
    return {
        "e164": e164,
        "e164_int": int(e164[1:]),
        "national": national,
        "kind": kind,
        "prefix3": national[:3],
        "prefix5": national[:5],
        "carrier": carrier,
        "legacy": legacy,
        "protected": protected,
    }


def _other(kind: str, national: str | None = None, e164: str | None = None, *, protected: bool = False) -> dict:
    return {
        "e164": e164,
        "e164_int": int(e164[1:]) if e164 else None,
        "national": national,
        "kind": kind,
        "prefix3": None,
        "prefix5": None,
        "carrier": None,
        "legacy": False,
        "protected": protected,
    }


VINA = _vn("+84912345678", "mobile", "vinaphone")
EXAMPLES: list[tuple[str | None, dict]] = [
    # mobile, every way it is written
    ("0912345678", VINA),
    ("84912345678", VINA),
    ("+84912345678", VINA),
    ("0084912345678", VINA),
    ("912345678", VINA),
    ("0912.345.678", VINA),
    ("0912-345-678", VINA),
    ("0912 345 678", VINA),
    ("(+84) 912-345-678", VINA),
    ("(+84)912345678", VINA),
    ("+84 91 234 5678", VINA),
    ("  0912345678\t", VINA),
    ("0912\u00a0345\u00a0678", VINA),
    ("０９１２３４５６７８", VINA),
    ("＋８４９１２３４５６７８", VINA),
    ("0812341213", _vn("+84812341213", "mobile", "vinaphone")),
    ("0871234567", _vn("+84871234567", "mobile", "itel")),  # phonenumbers: Vinaphone; config wins
    ("0521234567", _vn("+84521234567", "mobile", "vietnamobile")),
    ("0551234567", _vn("+84551234567", "mobile", "reddi")),
    ("0891234567", _vn("+84891234567", "mobile", "mobifone")),
    ("0991234567", _vn("+84991234567", "mobile", "gmobile")),
    ("0362222222", _vn("+84362222222", "mobile", "viettel")),
    ("0701234567", _vn("+84701234567", "mobile", "mobifone")),
    # legacy 11-digit mobiles, decided by length
    ("01681234567", _vn("+84381234567", "mobile", "viettel", legacy=True)),
    ("+84 168 123 4567", _vn("+84381234567", "mobile", "viettel", legacy=True)),
    ("841681234567", _vn("+84381234567", "mobile", "viettel", legacy=True)),
    ("0168.123.4567", _vn("+84381234567", "mobile", "viettel", legacy=True)),
    ("01201234567", _vn("+84701234567", "mobile", "mobifone", legacy=True)),
    ("01211234567", _vn("+84791234567", "mobile", "mobifone", legacy=True)),
    ("01231234567", _vn("+84831234567", "mobile", "vinaphone", legacy=True)),
    ("01271234567", _vn("+84811234567", "mobile", "vinaphone", legacy=True)),
    ("01861234567", _vn("+84561234567", "mobile", "vietnamobile", legacy=True)),
    ("01991234567", _vn("+84591234567", "mobile", "gmobile", legacy=True)),
    ("0168123456", _other("invalid")),  # 10 digits starting 0168: neither old (11) nor a new prefix
    ("01301234567", _other("invalid")),  # 11 digits, 0130 was never a mobile prefix
    # landlines with area codes
    ("02923899588", _vn("+842923899588", "landline", protected=True)),
    ("0292 3811 502", _vn("+842923811502", "landline", protected=True)),
    ("02923811503", _vn("+842923811503", "landline")),
    ("+842923899589", _vn("+842923899589", "landline")),
    ("024 3826 1234", _vn("+842438261234", "landline")),
    ("028 3822 1234", _vn("+842838221234", "landline")),
    ("0259 3822 123", _vn("+842593822123", "landline")),
    ("2923899589", _vn("+842923899589", "landline")),
    ("02173822123", _other("invalid")),  # 217 is no area code
    # police / defence 069 range
    ("0692348560", _vn("+84692348560", "landline", protected=True)),
    ("069 234 8561", _vn("+84692348561", "landline", protected=True)),
    ("+84692348562", _vn("+84692348562", "landline", protected=True)),
    # short codes
    ("113", _other("short_code", "113", protected=True)),
    ("115", _other("short_code", "115", protected=True)),
    ("156", _other("short_code", "156", protected=True)),
    ("5656", _other("short_code", "5656", protected=True)),
    ("1414", _other("short_code", "1414", protected=True)),
    ("9029", _other("short_code", "9029")),
    ("56 56", _other("short_code", "5656", protected=True)),
    ("123456", _other("short_code", "123456")),
    ("0113", _other("invalid")),
    ("+84113", _other("invalid")),
    # toll-free and premium
    ("18001091", _other("toll_free", "18001091")),
    ("1800 1091", _other("toll_free", "18001091")),
    ("1800123456", _other("toll_free", "1800123456")),
    ("+8418001091", _other("toll_free", "18001091")),
    ("018001091", _other("toll_free", "18001091")),
    ("19001234", _other("premium", "19001234")),
    ("1900.1234", _other("premium", "19001234")),
    ("1900123456", _other("premium", "1900123456")),
    ("180012345", _other("invalid")),  # 9 digits: not a configured length
    # international
    ("+1 650 253 0000", _other("international", e164="+16502530000")),
    ("+16502530000", _other("international", e164="+16502530000")),
    ("0065 6123 4567", _other("international", e164="+6561234567")),
    ("+44 20 7946 0958", _other("international", e164="+442079460958")),
    ("+442079460958", _other("international", e164="+442079460958")),
    ("00861012345678", _other("international", e164="+861012345678")),
    ("+999123456789", _other("invalid")),  # no such country code
    ("+1234", _other("invalid")),  # too short
    ("+4412345678901234", _other("invalid")),  # longer than E.164 allows
    # brandnames (sender IDs)
    ("VIETCOMBANK", _other("brandname", "VIETCOMBANK")),
    ("Vietcombank", _other("brandname", "VIETCOMBANK")),
    (" VNPT-Media ", _other("brandname", "VNPT-MEDIA")),
    ("FPT.Shop", _other("brandname", "FPT.SHOP")),
    ("Viettel_KM", _other("brandname", "VIETTEL_KM")),
    ("ＶＩＥＴＴＥＬ", _other("brandname", "VIETTEL")),
    ("V", _other("invalid")),  # too short for a sender ID
    ("VIETCOMBANK12", _other("invalid")),  # too long
    ("Ngân hàng", _other("invalid")),  # letters outside the sender-ID alphabet
    ("0912345678 gui 5656", _other("invalid")),
    # invalid
    ("", _other("invalid")),
    (None, _other("invalid")),
    ("   ", _other("invalid")),
    ("12", _other("invalid")),
    ("0101234567", _other("invalid")),  # unknown mobile prefix
    ("0951234567", _other("invalid")),  # 095 is not in carriers.toml
    ("+840912345678", _other("invalid")),  # trunk 0 after the country code
    ("840912345678", _other("invalid")),
    ("00840912345678", _other("invalid")),
    ("+0912345678", _other("invalid")),
    ("000912345678", _other("invalid")),
    ("09123456789", _other("invalid")),  # 11 digits, not a legacy prefix
    ("091234567", _other("invalid")),  # too short
    ("-0912345678", VINA),  # separators anywhere are separators (phonenumbers agrees)
    ("0912345678-", VINA),  # a stray trailing separator is a separator
    ("091234567a", _other("brandname", "091234567A")),  # letters make it a sender ID by the rule
    ("0912/345/678", VINA),
    ("+", _other("invalid")),
    ("++84912345678", _other("invalid")),
    ("84+912345678", _other("invalid")),
    ("١٢٣٤٥", _other("invalid")),  # Arabic-Indic digits are not normalised by NFKC
    ("09¹2345678", _other("invalid")),  # NFKC would fold superscripts, circled and styled digits: not typed numbers
    (" 842596540¹⁸³", _other("invalid")),
    ("⓪⑨①②③④⑤⑥⑦⑧", _other("invalid")),
    ("𝟎𝟗𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", _other("invalid")),
    ("ＶＣＢ²", _other("invalid")),
    ("9" * 25, _other("invalid")),
    ("0" * 12, _other("invalid")),
]


def test_examples_every_input_form(tables):
    raws = [raw for raw, _ in EXAMPLES]
    out = normalise_numbers(pl.DataFrame({"raw": raws}, schema={"raw": pl.String}), "raw", tables, prefix="")
    got = out.with_columns(pl.col("kind").cast(pl.String)).select(SUFFIXES).to_dicts()
    wrong = [(raw, want, have) for (raw, want), have in zip(EXAMPLES, got) if want != have]
    assert not wrong, "\n".join(f"{raw!r}:\n  want {want}\n  got  {have}" for raw, want, have in wrong)


@pytest.mark.parametrize("raw, want", EXAMPLES[::7], ids=lambda v: repr(v)[:30] if isinstance(v, str) else None)
def test_single_value_uses_the_same_path(tables, raw, want):
    assert normalise_number(raw, tables) == want


def test_columns_types_and_prefix(tables):
    frame = pl.DataFrame({"a_number": ["0912345678"], "other": [1]})
    out = normalise_numbers(frame, "a_number", tables)
    assert out.columns == ["a_number", "other", *[f"a_number_{s}" for s in SUFFIXES]]
    assert dict(out.schema) == {"a_number": pl.String, "other": pl.Int64, **output_schema("a_number_")}
    assert out.schema["a_number_kind"] == NumberKind == pl.Enum(KINDS)
    custom = normalise_numbers(frame, "a_number", tables, prefix="a_")
    assert custom.columns[2:] == [f"a_{s}" for s in SUFFIXES]


def test_lazyframe_gives_the_same_rows(tables):
    raws = [raw for raw, _ in EXAMPLES]
    frame = pl.DataFrame({"raw": raws}, schema={"raw": pl.String})
    lazy = normalise_numbers(frame.lazy(), "raw", tables)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(normalise_numbers(frame, "raw", tables))
    assert lazy.collect(engine="streaming").equals(normalise_numbers(frame, "raw", tables))


def test_integer_column_and_empty_and_bad_type(tables):
    ints = normalise_numbers(pl.DataFrame({"n": [84912345678, 5656, None]}), "n", tables, prefix="")
    assert ints["e164"].to_list() == ["+84912345678", None, None]
    assert ints["kind"].cast(pl.String).to_list() == ["mobile", "short_code", "invalid"]
    empty = normalise_numbers(pl.DataFrame({"n": []}, schema={"n": pl.String}), "n", tables, prefix="")
    assert empty.height == 0 and dict(empty.schema) == {"n": pl.String, **output_schema("")}
    with pytest.raises(TypeError, match="column 'n'.*expected phone numbers"):
        normalise_numbers(pl.DataFrame({"n": [1.5]}), "n", tables)
    with pytest.raises(KeyError, match="no column 'x'"):
        normalise_numbers(pl.DataFrame({"n": ["1"]}), "x", tables)


def test_row_order_across_chunks(tables):
    """Large frames are cut into chunks processed on several threads: rows must come back in place."""
    rng = np.random.default_rng(5)
    nsn = rng.integers(320_000_000, 399_999_999, 300_000)
    raw = pl.Series("raw", nsn).cast(pl.String)
    messy = rng.random(len(raw)) < 0.05
    spaced = "0" + raw.str.slice(0, 3) + " " + raw.str.slice(3)
    text = pl.select(pl.when(pl.lit(messy)).then(spaced).otherwise("84" + raw)).to_series()
    out = normalise_numbers(text.to_frame("raw"), "raw", tables, prefix="")
    assert out["e164_int"].to_list() == (nsn + 84 * 10**9).tolist()
    assert out["national"].to_list() == ("0" + raw).to_list()


def test_sliced_and_multi_chunk_input(tables):
    raws = [raw for raw, _ in EXAMPLES]
    frame = pl.DataFrame({"raw": raws}, schema={"raw": pl.String})
    whole = normalise_numbers(frame, "raw", tables)
    assert normalise_numbers(frame.slice(7, 40), "raw", tables).equals(whole.slice(7, 40))
    two_chunks = pl.concat([frame.slice(0, 30), frame.slice(30)], rechunk=False)
    assert two_chunks["raw"].n_chunks() == 2
    assert normalise_numbers(two_chunks, "raw", tables).equals(whole)


def test_common_shapes_shortcut_matches_the_general_path(settings, tables):
    """Clean "84…"/"+84…"/"0…" mobiles take a shortcut; it must give exactly what the general path gives."""
    from transforms.numbers import _classify

    raws = pl.concat([generate_sample(settings, 40_000, seed=11), pl.Series([raw for raw, _ in EXAMPLES])])
    assert _classify(raws, tables, "").equals(_classify(raws, tables, "", common_shapes=False))


def test_e164_int_to_national(tables):
    frame = pl.DataFrame({"x": [84912345678, 842923899588, 84692348560, 16502530000, 8418001091, 840912345678, None]})
    want = ["0912345678", "02923899588", "0692348560", None, None, None, None]
    assert frame.select(e164_int_to_national(pl.col("x")))["x"].to_list() == want
    assert frame.select(e164_int_to_national(pl.col("x"), tables))["x"].to_list() == want


def test_national_round_trips_through_e164_int(tables):
    frame = pl.DataFrame({"raw": [raw for raw, _ in EXAMPLES]}, schema={"raw": pl.String})
    out = normalise_numbers(frame, "raw", tables, prefix="")
    vn = out.filter(pl.col("kind").is_in(["mobile", "landline"]))
    assert vn.height > 20
    assert vn.select(e164_int_to_national(pl.col("e164_int")))["e164_int"].to_list() == vn["national"].to_list()


def test_oracle_function():
    assert oracle("0912345678") == (True, "+84912345678", "mobile")
    assert oracle("02923899588") == (True, "+842923899588", "landline")
    assert oracle("18001091") == (True, "+8418001091", "toll_free")
    assert oracle("19001234") == (True, "+8419001234", "premium")
    assert oracle("+1 650 253 0000") == (True, "+16502530000", "international")
    assert oracle("113") == (True, None, "short_code")
    assert oracle("5656") == (False, None, "invalid")
    assert oracle("01681234567") == (False, None, "invalid")
    assert oracle("VIETCOMBANK") == (False, None, "invalid")


# ---------------------------------------------------------------------------------------------------------
# A seeded sample of every kind, built vectorised.

VN_FORMS = ["0", "84", "+84", "0084", "", "+840", "840"]
VN_FORM_WEIGHTS = [0.35, 0.2, 0.2, 0.08, 0.1, 0.035, 0.035]
SENDER_ALPHABET = list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._-") + ["Đ", "ư", "@"]
FULL_WIDTH = [chr(0xFF10 + d) for d in range(10)]


def _random_digits(rng: np.random.Generator, lengths: np.ndarray) -> pl.Series:
    """Uniform random digit strings of the given lengths (leading zeros kept)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    hi = rng.integers(0, 10 ** np.minimum(lengths, 9), dtype=np.int64)
    lo_len = np.maximum(lengths - 9, 0)
    lo = rng.integers(0, 10**lo_len, dtype=np.int64)
    frame = pl.DataFrame({"hi": hi, "lo": lo, "hl": np.minimum(lengths, 9), "ll": lo_len})
    return frame.select(
        pl.col("hi").cast(pl.String).str.zfill(pl.col("hl")).str.slice(0, pl.col("hl"))
        + pl.when(pl.col("ll") > 0).then(pl.col("lo").cast(pl.String).str.zfill(pl.col("ll"))).otherwise(pl.lit(""))
    ).to_series()


def _heads_plus_digits(rng: np.random.Generator, heads: list[str], total: np.ndarray | int, size: int) -> pl.Series:
    head = pl.Series(heads).gather(rng.integers(0, len(heads), size))
    total = np.broadcast_to(np.asarray(total), (size,))
    rest = np.maximum(total - head.str.len_chars().to_numpy(), 0)
    return head + _random_digits(rng, rest)


def generate_sample(settings, size: int, seed: int) -> pl.Series:
    """``size`` raw strings covering every kind and input form, valid and not, clean and messy."""
    rng = np.random.default_rng(seed)
    part = size // 16
    nsn_parts = [
        _heads_plus_digits(rng, [p[1:] for c in settings.carriers for p in c.prefixes], 9, 4 * part),
        _heads_plus_digits(rng, [str(h) for h in range(10, 100)], 9, 2 * part),
        _heads_plus_digits(rng, [o[1:] for o in settings.numbering.legacy], 10, part),
        _heads_plus_digits(rng, [str(h) for h in range(100, 200)], 10, part // 2),
        _heads_plus_digits(rng, settings.numbering.landline.area_codes, 10, part),
        _heads_plus_digits(rng, [str(h) for h in range(200, 300)], 10, part // 2),
        _heads_plus_digits(rng, ["1800", "1900"], rng.choice([8, 9, 10], part), part),
        _heads_plus_digits(rng, [str(h) for h in range(1000, 2000)], 8, part // 2),
        _heads_plus_digits(rng, ["69", "672", "1199", "7199"], rng.integers(7, 11, part // 2), part // 2),
        _heads_plus_digits(rng, [str(h) for h in range(1, 10)], rng.integers(6, 12, part), part),
    ]
    nsn = pl.concat(nsn_parts)
    form = pl.Series(VN_FORMS).gather(rng.choice(len(VN_FORMS), len(nsn), p=VN_FORM_WEIGHTS))
    vn = form + nsn

    short = _heads_plus_digits(rng, [str(d) for d in range(1, 10)], rng.integers(3, 7, part), part)
    codes = sorted({str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE} - {"84"})
    foreign_body = _heads_plus_digits(rng, codes, rng.integers(6, 17, part), part)
    foreign = pl.Series(["+", "00", "+", "00 "]).gather(rng.integers(0, 4, part)) + foreign_body
    examples = [
        phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.E164)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS - {"VN"})
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
        if (ex := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    real_foreign = pl.Series(examples).gather(rng.integers(0, len(examples), part))
    real_foreign = real_foreign.str.slice(0, real_foreign.str.len_chars() - 2) + _random_digits(rng, np.full(part, 2))
    letters = pl.Series(SENDER_ALPHABET).gather(rng.integers(0, len(SENDER_ALPHABET), (part, 13)).ravel())
    sender = (
        pl.DataFrame({"c": letters, "row": np.repeat(np.arange(part), 13)})
        .group_by("row", maintain_order=True)
        .agg(pl.col("c").str.join(""))
        .select(pl.col("c").str.slice(0, pl.Series(rng.integers(1, 14, part))))
        .to_series()
    )
    junk = _random_digits(rng, rng.integers(0, 18, part))
    # Vanity-style text (letters for some digits, too long for a sender ID): phonenumbers reads keypad digits.
    few = part // 8
    word = pl.Series(["CALL", "VIET", "BANK", "SIM"]).gather(rng.integers(0, 4, few))
    vanity = "09" + _random_digits(rng, np.full(few, 2)) + " " + word + " " + _random_digits(rng, np.full(few, 3))
    stray_plus = vn.head(few) + "+"
    # Tabs, line breaks, typographic spaces and zero-width joiners inside a copied number.
    odd = pl.Series(list(ODD_SEPARATORS)).gather(rng.integers(0, len(ODD_SEPARATORS), few))
    odd_spaced = vn.slice(few, few).str.slice(0, 4) + odd + vn.slice(few, few).str.slice(4)
    raw = pl.concat([vn, short, foreign, real_foreign, sender, junk, vanity, stray_plus, odd_spaced]).alias("raw")
    return _decorate(rng, raw)


def _decorate(rng: np.random.Generator, raw: pl.Series) -> pl.Series:
    """Messy renderings for a share of rows: separators, brackets, full-width digits, padding."""
    style = rng.choice(7, len(raw), p=[0.6, 0.08, 0.08, 0.08, 0.06, 0.05, 0.05])
    frame = pl.DataFrame({"raw": raw, "style": style})
    r = pl.col("raw")
    return frame.select(
        pl.when(pl.col("style") == 1)
        .then(r.str.replace(r"^(\+?\d{3,4})(\d{3})(\d+)$", "$1 $2 $3"))
        .when(pl.col("style") == 2)
        .then(r.str.replace(r"^(\+?\d{3,4})(\d{3})(\d+)$", "$1.$2.$3"))
        .when(pl.col("style") == 3)
        .then(r.str.replace(r"^(\+?\d{2,3})(\d{3})(\d{3})(\d+)$", "($1) $2-$3-$4"))
        .when(pl.col("style") == 4)
        .then(r.str.replace_many([str(d) for d in range(10)], FULL_WIDTH))
        .when(pl.col("style") == 5)
        .then(" " + r + " ")
        .otherwise(r)
    ).to_series()


# ---------------------------------------------------------------------------------------------------------
# phonenumbers as the oracle, with every deliberate difference named.


@dataclass(frozen=True)
class Difference:
    name: str
    why: str
    ours: pl.Expr  # the rows of ours where this difference is allowed
    theirs: pl.Expr  # what phonenumbers says there instead


_DIGITS = pl.col("digits")
# Characters the normaliser drops as separators (Unicode spaces and invisibles, and what NFKC folds into
# . - ( )) that phonenumbers does not accept inside a number.
ODD_SEPARATORS = (
    "\t\n\x0b\x0c\r\x85\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200c\u200d"
    "\u2024\u2025\u2026\u2028\u2029\u202f\u205f\u207d\u207e\u208d\u208e\ufe19\ufe30\ufe35\ufe36\ufe47\ufe48"
    "\ufe52\ufe59\ufe5a\ufe63\ufeff"
)
_PN_NATIONAL = pl.col("pn_national")
_TRUNK_AFTER_CC = r"^(\+840|00840|840)"

DIFFERENCES = [
    Difference(
        "legacy_11_digit_mobiles",
        "Old 11-digit mobiles are converted by numbering.toml [legacy]; phonenumbers does not convert them.",
        ours=pl.col("legacy"),
        theirs=pl.col("pn_kind") == "invalid",
    ),
    Difference(
        "config_prefixes_wider_than_metadata",
        "carriers.toml gives whole prefixes 052, 055, 089, 099; phonenumbers knows only 052[238], 0559, "
        "089[6-9], 099[013-9].",
        ours=(pl.col("kind") == "mobile") & ~pl.col("legacy") & pl.col("prefix3").is_in(["052", "055", "089", "099"]),
        theirs=pl.col("pn_kind") == "invalid",
    ),
    Difference(
        "metadata_ranges_not_in_config",
        "phonenumbers knows ranges the config does not assign: mobiles 030, 031, 051, 095, 0121, 0140, 0160, "
        "VoIP 0672, UAN 1x99xxxx, toll-free 120[13]/1228; config decides.",
        ours=pl.col("kind") == "invalid",
        theirs=(pl.col("pn_kind") == "mobile")
        & _PN_NATIONAL.str.contains(r"^0(30|31|51|95|121[0-3]|1[46]0)")
        | (pl.col("pn_kind") == "landline") & _PN_NATIONAL.str.contains(r"^0(672|199|799)")
        | (pl.col("pn_kind") == "toll_free") & _PN_NATIONAL.str.contains(r"^0(120[13]|1228)"),
    ),
    Difference(
        "uan_069_short_forms",
        "phonenumbers has 069 + 5 or 6 digits as UAN numbers; the config's 069 range has 10-digit numbers.",
        ours=pl.col("kind") == "invalid",
        theirs=(pl.col("pn_kind") == "landline") & _PN_NATIONAL.str.contains(r"^069\d{5,6}$"),
    ),
    Difference(
        "police_069_range",
        "069 + 7 digits is the police/defence network (numbering.toml special_ranges); phonenumbers calls it invalid.",
        ours=(pl.col("kind") == "landline") & (pl.col("prefix3") == "069"),
        theirs=pl.col("pn_kind") == "invalid",
    ),
    Difference(
        "area_24_28_any_subscriber_number",
        "Area codes 24 and 28 take any 8-digit subscriber number by config; phonenumbers only 24[2-8], 28[2-9].",
        ours=(pl.col("kind") == "landline") & pl.col("prefix3").is_in(["024", "028"]),
        theirs=pl.col("pn_kind") == "invalid",
    ),
    Difference(
        "service_number_lengths",
        "1800/1900 numbers have 8 or 10 digits (service.number_lengths); phonenumbers also accepts 9.",
        ours=pl.col("kind") == "invalid",
        theirs=pl.col("pn_kind").is_in(["toll_free", "premium"]) & _PN_NATIONAL.str.contains(r"^01[89]00\d{5}$"),
    ),
    Difference(
        "trunk_zero_after_country_code",
        "'+840…', '840…', '00840…' are invalid by the brief; phonenumbers drops the 0.",
        ours=(pl.col("kind") == "invalid") & _DIGITS.str.contains(_TRUNK_AFTER_CC),
        theirs=pl.col("pn_e164") == "+84" + _DIGITS.str.replace(_TRUNK_AFTER_CC, ""),
    ),
    Difference(
        "separators_phonenumbers_does_not_know",
        "Tabs, line breaks, typographic and zero-width spaces, and characters NFKC folds into . - ( ) are "
        "separators to the normaliser (copy-paste artefacts); phonenumbers refuses the number.",
        ours=(pl.col("kind") != "invalid") & pl.col("raw").str.contains("[" + ODD_SEPARATORS + "]"),
        theirs=pl.col("pn_kind") == "invalid",
    ),
    Difference(
        "short_codes_by_length",
        "Any 3-6 digit string not starting with 0 is a short code by config; phonenumbers knows only 113-115.",
        ours=pl.col("kind") == "short_code",
        theirs=pl.col("pn_kind") == "invalid",
    ),
    Difference(
        "sender_ids",
        "Sender names are no numbers; phonenumbers refuses them or reads letters as keypad digits.",
        ours=pl.col("kind") == "brandname",
        theirs=pl.lit(True),
    ),
    Difference(
        "letters_read_as_keypad_digits",
        "A string with letters outside the sender-ID rule is invalid; phonenumbers may read letters as keypad digits.",
        ours=(pl.col("kind") == "invalid") & pl.col("raw").str.contains("[A-Za-z]"),
        theirs=pl.col("pn_kind") != "invalid",
    ),
    Difference(
        "plus_not_in_front",
        "A '+' anywhere but in front makes the value invalid; phonenumbers drops trailing junk such as '…678+'.",
        ours=(pl.col("kind") == "invalid") & _DIGITS.str.contains(r".\+"),
        theirs=pl.lit(True),
    ),
    Difference(
        "foreign_numbers_as_written",
        "Foreign numbers are kept as written (known country code, 7-15 digits); their own plans are not checked, "
        "so phonenumbers may call them invalid, drop a trunk 0 or add an area prefix.",
        ours=pl.col("kind") == "international",
        theirs=pl.col("pn_kind").is_in(["international", "invalid"]),
    ),
    Difference(
        "longer_than_e164",
        "More than 15 digits is no E.164 number; phonenumbers accepts some longer German numbers.",
        ours=(pl.col("kind") == "invalid") & (_DIGITS.str.replace(r"^(\+|00)", "").str.len_chars() > 15),
        theirs=pl.col("pn_kind") == "international",
    ),
]


def compare_with_oracle(raws: list[str | None], tables: NumberingTables) -> pl.DataFrame:
    """Ours and phonenumbers side by side, with ``agree`` and ``explained_by`` per row."""
    frame = normalise_numbers(pl.DataFrame({"raw": raws}, schema={"raw": pl.String}), "raw", tables, prefix="")
    views = [oracle(raw) for raw in raws]
    frame = frame.with_columns(
        kind=pl.col("kind").cast(pl.String),
        pn_valid=pl.Series([v[0] for v in views], dtype=pl.Boolean),
        pn_e164=pl.Series([v[1] for v in views], dtype=pl.String),
        pn_kind=pl.Series([v[2] for v in views], dtype=pl.String),
        digits=pl.col("raw").str.normalize("NFKC").str.replace_all(r"[^0-9+]", ""),
    ).with_columns(
        pn_national=pl.when(pl.col("pn_e164").str.starts_with("+84")).then("0" + pl.col("pn_e164").str.slice(3)),
    )
    same_number = (
        pl.when(pl.col("kind").is_in(["mobile", "landline", "international"]))
        .then(pl.col("e164") == pl.col("pn_e164"))
        .when(pl.col("kind").is_in(["toll_free", "premium"]))
        .then("0" + pl.col("national") == pl.col("pn_national"))
        .otherwise(pl.lit(True))
    )
    agree = ((pl.col("kind") == pl.col("pn_kind")) & same_number).fill_null(False)
    explained = [
        pl.when(~agree & (d.ours & d.theirs).fill_null(False)).then(pl.lit(d.name)) for d in DIFFERENCES
    ]
    return frame.with_columns(agree=agree, explained_by=pl.concat_list(explained).list.drop_nulls())


def _unexplained(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(~pl.col("agree") & (pl.col("explained_by").list.len() == 0)).select(
        "raw", "kind", "e164", "national", "pn_kind", "pn_e164"
    )


def test_seeded_sample_agrees_with_phonenumbers(settings, tables):
    raws = generate_sample(settings, 214_000, seed=20240305).unique(maintain_order=True).to_list()
    assert len(raws) >= 200_000
    frame = compare_with_oracle(raws, tables)

    bad = _unexplained(frame)
    assert bad.is_empty(), f"{bad.height} disagreements no named difference explains:\n{bad.head(30)}"
    fired = frame.select(pl.col("explained_by").explode().drop_nulls().value_counts())
    fired_names = {row["explained_by"] for row in fired.unnest("explained_by").to_dicts()}
    unused = sorted({d.name for d in DIFFERENCES} - fired_names)
    assert not unused, f"named differences the sample never needed (stale?): {unused}"

    agreed = dict(frame.filter("agree").group_by("kind").len().iter_rows())
    for kind, at_least in {"mobile": 40_000, "landline": 10_000, "international": 8_000, "toll_free": 2_000,
                           "premium": 2_000, "invalid": 40_000, "short_code": 1}.items():
        assert agreed.get(kind, 0) >= at_least, (kind, agreed)
    assert set(frame["kind"].unique()) == set(KINDS)


_NSN_HEADS = st.sampled_from(
    ["32", "33", "39", "52", "55", "56", "59", "70", "77", "81", "84", "86", "87", "88", "89", "90", "91", "92",
     "94", "95", "96", "99", "30", "51", "69", "10", "20", "12"]
)


@st.composite
def raw_numbers(draw) -> str:
    """Numbers of every kind in every written form, with separators, brackets and full-width digits."""
    shape = draw(st.sampled_from(["mobile", "legacy", "landline", "service", "short", "foreign", "sender", "junk"]))
    rest = lambda k: draw(st.text("0123456789", min_size=k, max_size=k))  # noqa: E731
    if shape == "mobile":
        nsn = draw(_NSN_HEADS) + rest(7) + draw(st.sampled_from(["", "", "", "5"]))
    elif shape == "legacy":
        nsn = draw(st.sampled_from(["162", "169", "120", "123", "129", "186", "199", "130", "160"])) + rest(7)
    elif shape == "landline":
        nsn = draw(st.sampled_from(["24", "28", "292", "259", "217", "236", "299"]))
        nsn += rest(10 - len(nsn))
    elif shape == "service":
        nsn = draw(st.sampled_from(["1800", "1900", "1201", "1228"])) + rest(draw(st.integers(4, 6)))
    if shape in ("mobile", "legacy", "landline", "service"):
        raw = draw(st.sampled_from(VN_FORMS)) + nsn
    elif shape == "short":
        raw = draw(st.sampled_from("123456789")) + rest(draw(st.integers(2, 5)))
    elif shape == "foreign":
        cc = draw(st.sampled_from(sorted(str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)))
        raw = draw(st.sampled_from(["+", "00"])) + cc + rest(draw(st.integers(4, 13)))
    elif shape == "sender":
        raw = draw(st.text(SENDER_ALPHABET, min_size=1, max_size=13))
    else:
        raw = draw(st.text("0123456789+", max_size=18))
    if draw(st.booleans()):
        sep = draw(st.sampled_from([" ", ".", "-", "\u00a0"]))
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + sep + raw[cut:]
    if draw(st.integers(0, 9)) == 0:
        raw = raw.translate(str.maketrans("0123456789+", "".join(FULL_WIDTH) + "＋"))
    if draw(st.integers(0, 9)) == 0:
        raw = f" {raw} "
    return raw


def check_agrees_with_phonenumbers(raws: list[str], tables: NumberingTables) -> int:
    frame = compare_with_oracle(raws, tables)
    bad = _unexplained(frame)
    assert bad.is_empty(), bad
    for row in frame.to_dicts():
        assert row["kind"] in KINDS
        if row["kind"] in ("mobile", "landline"):
            assert row["e164"] == "+84" + row["national"][1:] and row["e164_int"] == int(row["e164"][1:])
            assert row["prefix3"] == row["national"][:3] and row["prefix5"] == row["national"][:5]
        else:
            assert row["prefix3"] is row["prefix5"] is row["carrier"] is None
        assert (row["carrier"] is not None) == (row["kind"] == "mobile")
    return len(raws)


@pytest.mark.fuzz
def test_property_agrees_with_phonenumbers(tables):
    # Rows are classified independently, so 25 examples share one call (tests/fuzzing.py).
    run_fuzz(
        "numbers: written forms vs phonenumbers",
        st.lists(raw_numbers(), min_size=1, max_size=20),
        lambda batch: check_agrees_with_phonenumbers([raw for raws in batch for raw in raws], tables),
        default=300,
        batch=25,
    )


def check_separators_and_width(examples: list[tuple[str, str, int]], tables: NumberingTables) -> int:
    """A separator anywhere inside the digits, or full-width digits, give the same number as the plain digits."""
    plain, spaced, wide = [], [], []
    for raw, sep, cut in examples:
        digits = "".join(ch for ch in raw if ch.isascii() and (ch.isdigit() or ch == "+"))
        if not digits or any(ch.isalpha() for ch in raw):
            continue
        cut = max(1, min(cut, len(digits) - 1))
        plain.append(digits)
        spaced.append(digits[:cut] + sep + digits[cut:])
        wide.append(digits.translate(str.maketrans("0123456789+", "".join(FULL_WIDTH) + "＋")))

    def out(raws: list[str]) -> pl.DataFrame:
        return normalise_numbers(pl.DataFrame({"raw": raws}, schema={"raw": pl.String}), "raw", tables, prefix="").drop("raw")

    want = out(plain)
    for variant in (spaced, wide):
        got = out(variant)
        differ = pl.Series(variant).filter(~pl.Series([a == b for a, b in zip(got.rows(), want.rows())]))
        assert differ.is_empty(), differ.to_list()
    return len(plain)


@pytest.mark.fuzz
def test_property_separators_and_width_do_not_change_the_number(tables):
    run_fuzz(
        "numbers: separators and width",
        st.tuples(raw_numbers(), st.sampled_from([" ", ".", "-", "  "]), st.integers(1, 30)),
        lambda batch: check_separators_and_width(batch, tables),
        default=300,
        batch=200,
    )


# Arbitrary strings: what a CDR export, a complaint form or a JSON request can put in a number field.
OTHER_DIGITS = ["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "⁰¹²³⁴⁵⁶⁷⁸⁹", "⓪①②③④⑤⑥⑦⑧⑨"]
EDGE_STRINGS = ["", " ", "+", "++", "00", "0", "+0", "+84", "84", "0084", "840", "+840", "＋", "-1", "0x1F", "1e9",
                "9" * 19, "9" * 20, "1" * 40, "+" + "1" * 18, "00" + "9" * 17, "084", "+84 ", "\x00", "\ufeff0912345678",
                "0912345678\x00", "09\u200b12345678", "NaN", "None", "null", "+84-(0)-912-345-678", "(+84) 912 345 678"]


@st.composite
def hostile_number_strings(draw) -> str:
    """Arbitrary text, junk around real numbers, digits of other scripts, over-long digit runs, edge strings."""
    shape = draw(st.integers(0, 5))
    if shape == 0:
        return draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
    if shape == 1:
        return draw(st.text("0123456789+ .-()/[]*#,;\u00a0\u200b\u3000\ufeff\t\n", max_size=30))
    if shape == 2:
        return draw(st.sampled_from(EDGE_STRINGS))
    if shape == 3:
        return draw(st.text("0123456789", min_size=13, max_size=40))
    raw = draw(raw_numbers())
    if shape == 4:
        table = str.maketrans("0123456789", draw(st.sampled_from(OTHER_DIGITS)))
        cut = draw(st.integers(0, len(raw)))
        return raw[:cut] + raw[cut:].translate(table)
    junk = draw(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=3))
    cut = draw(st.integers(0, len(raw)))
    return raw[:cut] + junk + raw[cut:]


VALUED = ("mobile", "landline", "international")


def check_number_strings(raws: list[str], tables: NumberingTables) -> int:
    """Never raises; every row a kind; an E.164 int exactly for the kinds that have one; phonenumbers agrees
    on every string we accept (or a named difference says why not); rows do not depend on their neighbours."""
    frame = compare_with_oracle(raws, tables)
    assert frame["kind"].is_in(list(KINDS)).all()
    valued = frame.filter(pl.col("kind").is_in(VALUED))
    assert valued["e164_int"].null_count() == 0 and valued["e164"].null_count() == 0
    assert (valued["e164"] == "+" + valued["e164_int"].cast(pl.String)).all(), valued
    assert (valued["e164_int"] < 10**15).all() and (valued["e164_int"] >= 10**6).all(), valued
    vn = valued.filter(pl.col("kind") != "international")
    assert (vn["e164"].str.starts_with("+84") & (vn["national"] == "0" + vn["e164"].str.slice(3))).all(), vn
    unvalued = frame.filter(~pl.col("kind").is_in(VALUED))
    assert unvalued["e164_int"].null_count() == unvalued.height and unvalued["e164"].null_count() == unvalued.height
    bad = _unexplained(frame.filter(pl.col("kind") != "invalid"))
    assert bad.is_empty(), f"accepted strings phonenumbers disagrees with, no named difference:\n{bad}"
    backwards = normalise_numbers(pl.DataFrame({"raw": raws[::-1]}, schema={"raw": pl.String}), "raw", tables, prefix="")
    assert backwards.reverse().equals(frame.select(backwards.columns).with_columns(pl.col("kind").cast(NumberKind)))
    return len(raws)


@pytest.mark.fuzz
def test_fuzz_phone_number_strings(tables):
    run_fuzz(
        "phone-number strings",
        st.lists(hostile_number_strings(), min_size=1, max_size=30),
        lambda batch: check_number_strings([raw for raws in batch for raw in raws], tables),
        default=300,
        batch=25,
    )


# ---------------------------------------------------------------------------------------------------------
# Carrier: config wins over phonenumbers' carrier metadata.

PN_CARRIER_SLUG = {
    "Viettel": "viettel",
    "Vinaphone": "vinaphone",
    "MobiFone": "mobifone",
    "Vietnamobile": "vietnamobile",
    "G-Mobile": "gmobile",
    "Reddi": "reddi",
    "Indochina Telecom": "itel",
}
# 4-digit national prefix -> (phonenumbers' carrier, carriers.toml's original carrier), where they differ.
KNOWN_CARRIER_DISAGREEMENTS = {
    **{f"087{d}": ("Vinaphone", "itel") for d in range(10)},  # iTel's 087 is VinaPhone's in the metadata
    "0998": ("Indochina Telecom", "gmobile"),  # 0998/0999: Gmobile's 099 by config
    "0999": ("Indochina Telecom", "gmobile"),
}


def test_carrier_metadata_disagreements_are_known_and_config_wins(settings, tables):
    prefixes = sorted(p + str(d) for c in settings.carriers for p in c.prefixes for d in range(10))
    samples = [p + "234567"[: 10 - len(p)] for p in prefixes]
    out = normalise_numbers(pl.DataFrame({"raw": samples}), "raw", tables, prefix="")
    config_carrier = dict(zip(prefixes, out["carrier"].to_list()))
    disagreements, unknown_to_metadata = {}, []
    for prefix, sample in zip(prefixes, samples):
        name = pn_carrier.name_for_number(phonenumbers.parse(sample, "VN"), "en")
        if not name:
            unknown_to_metadata.append(prefix)
        elif PN_CARRIER_SLUG[name] != config_carrier[prefix]:
            disagreements[prefix] = (name, config_carrier[prefix])
    assert disagreements == KNOWN_CARRIER_DISAGREEMENTS
    assert normalise_number("0871234567", tables)["carrier"] == "itel"
    assert normalise_number("+84 999 123 456", tables)["carrier"] == "gmobile"
    # Ranges the metadata has no carrier for are the ones config_prefixes_wider_than_metadata names.
    assert {p[:3] for p in unknown_to_metadata} <= {"052", "055", "089", "099"}
    assert all(config_carrier[p] for p in unknown_to_metadata)
